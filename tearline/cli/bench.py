"""`tearline bench`: measure the node against the baselines it must beat (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from tearline.bench.databases import DEFAULT_POSTGRES, SQLITE, describe, postgres_reachable
from tearline.bench.ingest import ingest_unavailable, measure_ingest
from tearline.bench.load import Advance, LoadSpec
from tearline.bench.report import principals_table, summary_table
from tearline.bench.visibility import DatabaseResult, VisibilityConfig, run_visibility
from tearline.cli.common import progress_bars
from tearline.errors import TearlineError
from tearline.node import Node

bench_app = typer.Typer(
    help="Benchmarks: the SQL visibility filter against per-item Cedar, and ingest against stix2-validator.",
    no_args_is_help=True,
)
console = Console()


@bench_app.callback()
def bench() -> None:
    """Benchmarks (each builds its own throw-away node)."""


def bench_targets(urls: list[str] | None) -> list[str]:
    """Where a benchmark runs: the given URLs ('sqlite' or PostgreSQL), else SQLite and the local
    PostgreSQL when it answers."""
    if urls:
        return [SQLITE if u.lower() == SQLITE else u for u in urls]
    if postgres_reachable(DEFAULT_POSTGRES):
        return [SQLITE, DEFAULT_POSTGRES]
    console.print(f"[yellow]{describe(DEFAULT_POSTGRES)} is not reachable: running on SQLite only[/]")
    return [SQLITE]


@bench_app.command()
def visibility(
    portions: Annotated[int, typer.Option(min=1, help="Portions to load (10 to a report).")] = 1_000_000,
    principals: Annotated[int, typer.Option(min=1, help="Random principals to create.")] = 50,
    database_url: Annotated[
        list[str] | None,
        typer.Option(
            help="'sqlite' or a PostgreSQL server URL (a fresh database is created there and dropped); "
            "repeat for several. Default: SQLite, then PostgreSQL at 127.0.0.1:5432 if reachable."
        ),
    ] = None,
    samples: Annotated[int, typer.Option(min=1, help="Principals whose pages and counts are timed.")] = 10,
    pages: Annotated[int, typer.Option(min=1, help="Page positions timed per principal.")] = 5,
    cedar_counts: Annotated[
        int, typer.Option(min=0, help="Principals whose count is also computed by Cedar (~1 min each at 1M).")
    ] = 2,
    markings: Annotated[int, typer.Option(min=1, help="Distinct random markings the portions draw from.")] = 2_000,
    ingest_objects: Annotated[int, typer.Option(min=0, help="STIX objects per ingest bundle (0: skip).")] = 5_000,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 1,
) -> None:
    """Filtered page and count over N portions: SQL filter against per-item Cedar, on SQLite and PostgreSQL."""
    load = LoadSpec(portions=portions, principals=principals, markings=markings, seed=seed)
    config = VisibilityConfig(load=load, samples=samples, pages=pages, cedar_counts=cedar_counts)
    skip = ingest_unavailable() if ingest_objects else "skipped: --ingest-objects 0"
    results: list[DatabaseResult] = []
    for url in bench_targets(database_url):
        with progress_bars(describe(url)) as advance:

            def ingest(node: Node, advance: Advance = advance) -> object:
                if skip:
                    return skip
                try:
                    return measure_ingest(node, ingest_objects, seed, advance)
                except TearlineError as err:  # keep the visibility figures; say why ingest failed
                    return f"failed: {err.message}"

            results.append(run_visibility(url, config, advance, ingest))
        console.print(principals_table(results[-1]))
    console.print(summary_table(results))
    if config.cedar_counts < config.samples:
        console.print(
            f"Cedar counts decide every row, so they ran for {min(cedar_counts, samples)} of the {samples} "
            "principals measured; the count ratio compares the same principals."
        )
    if not all(r.agree for r in results):
        console.print("[red]The SQL filter and per-item Cedar disagree: see the principals marked NO.[/]")
        raise typer.Exit(1)
