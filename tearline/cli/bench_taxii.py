"""`tearline bench taxii`: objects served per second over TAXII pages, ours against medallion (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tearline.bench.taxii import Run, TaxiiBenchConfig, TaxiiBenchResult, run_taxii_bench
from tearline.cli.bench import bench_app, bench_targets

console = Console()
TARGET_RATIO = 3.0


def _run(run: Run) -> str:
    done = "" if run.finished else " [yellow](stopped)[/]"
    return f"{run.served:,} in {run.seconds:.1f} s, {run.pages} pages{done}"


def _ratio(result: TaxiiBenchResult) -> str:
    value, kind = result.ratio()
    if value is None:
        return "—"
    text = f"{value:,.1f}×"
    colour = "green" if value >= TARGET_RATIO else "red"
    prefix = {"measured": "", "partial": "≈ ", "bound": "≥ "}[kind]
    return f"[{colour}]{prefix}{text}[/] ({kind})"


def results_table(results: list[TaxiiBenchResult], config: TaxiiBenchConfig) -> Table:
    table = Table(
        title=f"tearline bench taxii: {config.objects:,}-object collection, pages of {config.page}, "
        f"medallion budget {config.medallion_budget:.0f} s"
    )
    table.add_column("measure")
    for result in results:
        table.add_column(result.label, justify="right")
    rows = [
        ("objects stored (a tenth hidden from the reader)", [f"{r.stored:,}" for r in results]),
        ("tearline: objects served", [_run(r.ours) for r in results]),
        ("tearline: objects/s (rules and audit on every page)", [f"{r.ours.rate:,.0f}" for r in results]),
        ("medallion 3.0.0: objects loaded", [f"{r.medallion_objects:,}" for r in results]),
        ("medallion: objects served", [_run(r.medallion) for r in results]),
        ("medallion: objects/s", [f"{r.medallion.rate:,.1f}" for r in results]),
        (f"ratio, tearline / medallion (target ≥ {TARGET_RATIO:g}×)", [_ratio(r) for r in results]),
    ]
    for name, values in rows:
        table.add_row(name, *values)
    return table


def taxii(
    objects: Annotated[int, typer.Option(min=1, help="Objects in the collection (100 a report).")] = 100_000,
    page: Annotated[int, typer.Option(min=1, max=1000, help="Objects per TAXII page.")] = 100,
    medallion_budget: Annotated[
        float, typer.Option(min=1, help="Seconds medallion may take to serve the collection before it is stopped.")
    ] = 600.0,
    seed: Annotated[int, typer.Option(help="Seed of the random data.")] = 1,
    database_url: Annotated[
        list[str] | None,
        typer.Option(
            help="'sqlite' or a PostgreSQL server URL (a fresh database is created there and dropped); "
            "repeat for several. Default: SQLite, then PostgreSQL at 127.0.0.1:5432 if reachable."
        ),
    ] = None,
) -> None:
    """Objects/s over TAXII pages from our node (HTTP, rules, audit) against medallion serving the same objects."""
    config = TaxiiBenchConfig(objects=objects, page=page, medallion_budget=medallion_budget, seed=seed)
    results = list(run_taxii_bench(bench_targets(database_url), config, lambda step: console.print(f"{step}…")))
    console.print(results_table(results, config))
    for result in results:
        for run, name in ((result.ours, "tearline"), (result.medallion, "medallion")):
            if run.note:
                console.print(f"{result.label}: {name}: {run.note}")


bench_app.command("taxii")(taxii)
