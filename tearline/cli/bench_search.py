"""`tearline bench search`: full-text search against the LIKE scan it replaced (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tearline.bench.databases import describe
from tearline.bench.load import LoadSpec
from tearline.bench.search import SearchConfig, SearchResult, run_search, summary_rows
from tearline.cli.bench import bench_app, bench_targets, console
from tearline.cli.common import progress_bars


def _table(result: SearchResult) -> Table:
    table = Table(
        title=f"{result.label} ({result.where}): {result.portions:,} portions, loaded in {result.load_seconds:.0f} s"
    )
    for heading in ("search", "hits (median)", "FTS ms", "LIKE ms", "FTS faster by", "same totals"):
        table.add_column(heading, justify="left" if heading == "search" else "right")
    for label, hits, fts, like, ratio, agree in summary_rows(result):
        table.add_row(label, f"{hits:,}", f"{fts:.2f}", f"{like:.2f}", f"{ratio:.1f}x", "yes" if agree else "NO")
    return table


@bench_app.command("search")
def bench_search(
    portions: Annotated[int, typer.Option(min=1, help="Portions to load (10 to a report).")] = 100_000,
    principals: Annotated[int, typer.Option(min=1, help="Random principals to create.")] = 20,
    samples: Annotated[int, typer.Option(min=1, help="Principals whose searches are timed.")] = 5,
    repeats: Annotated[int, typer.Option(min=1, help="Timed runs of each search (the median is kept).")] = 3,
    markings: Annotated[int, typer.Option(min=1, help="Distinct random markings the portions draw from.")] = 2_000,
    database_url: Annotated[
        list[str] | None,
        typer.Option(
            help="'sqlite' or a PostgreSQL server URL; repeat for several. Default: SQLite and local PostgreSQL."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 1,
) -> None:
    """Full-text search (FTS5 / tsvector) against the former LIKE scan, each with the visibility filter."""
    load = LoadSpec(portions=portions, principals=principals, markings=markings, seed=seed)
    config = SearchConfig(load=load, samples=samples, repeats=repeats)
    results = []
    for url in bench_targets(database_url):
        with progress_bars(describe(url)) as advance:
            results.append(run_search(url, config, advance))
        console.print(_table(results[-1]))
    if not all(r.agree for r in results):
        console.print("[red]Full-text search and the LIKE scan found different totals: see the rows marked NO.[/]")
        raise typer.Exit(1)
    console.print("Full-text search and the LIKE scan found the same totals.")
