"""`tearline bench release`: tearline generation for a large report, against per-item Cedar (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tearline.bench.release import ReleaseBenchConfig, ReleaseBenchResult, run_release_bench
from tearline.cli.bench import bench_app, bench_targets

console = Console()
TARGET_SECONDS = 0.050


def _ms(seconds: float, target: float | None = None) -> str:
    text = f"{seconds * 1e3:.2f} ms"
    if target is None:
        return text
    return f"[green]{text}[/]" if seconds <= target else f"[red]{text}[/]"


def _ratio(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2g}×" if value < 10 else f"{value:,.0f}×"


def results_table(results: list[ReleaseBenchResult], config: ReleaseBenchConfig) -> Table:
    table = Table(
        title=f"tearline bench release: {config.portions} portions, {config.objects} objects, "
        f"to {config.recipient.nation}/{config.recipient.agency}, median of {config.runs}"
    )
    table.add_column("measure")
    for result in results:
        table.add_column(result.label, justify="right")
    rows = [
        ("items (title, portions, objects)", [f"{r.items}" for r in results]),
        ("kept", [f"{r.kept}" for r in results]),
        ("withheld", [f"{sum(r.withheld.values())}" for r in results]),
        ("consents used", [f"{r.consents_used}" for r in results]),
        ("tearline: load and generate (target ≤ 50 ms)", [_ms(r.ours_total, TARGET_SECONDS) for r in results]),
        ("tearline: generate only", [_ms(r.ours_generate) for r in results]),
        ("per-item Cedar: load and decide", [_ms(r.cedar_total) for r in results]),
        ("per-item Cedar: decide only", [_ms(r.cedar_decide) for r in results]),
        ("ratio, load included (Cedar / ours)", [_ratio(r.ratio(total=True)) for r in results]),
        ("ratio, deciding only (Cedar / ours)", [_ratio(r.ratio(total=False)) for r in results]),
        ("same items kept, rules agree", ["yes" if r.agree else "[red]NO[/]" for r in results]),
    ]
    for name, values in rows:
        table.add_row(name, *values)
    return table


def release(
    portions: Annotated[int, typer.Option(min=1, help="Portions of the report.")] = 200,
    objects: Annotated[int, typer.Option(min=0, help="Objects of the report (a fifth are relationships).")] = 500,
    runs: Annotated[int, typer.Option(min=1, help="Timed runs of each measure (after 2 warm-up runs).")] = 25,
    seed: Annotated[int, typer.Option(help="Seed of the random markings.")] = 1,
    database_url: Annotated[
        list[str] | None,
        typer.Option(
            help="'sqlite' or a PostgreSQL server URL (a fresh database is created there and dropped); "
            "repeat for several. Default: SQLite, then PostgreSQL at 127.0.0.1:5432 if reachable."
        ),
    ] = None,
) -> None:
    """Tearline generation for one large report version: median time, against per-item Cedar decisions."""
    config = ReleaseBenchConfig(portions=portions, objects=objects, runs=runs, seed=seed)

    def progress(step: str, done: int, total: int) -> None:
        if done == 0:
            console.print(f"{step}…")

    results = run_release_bench(bench_targets(database_url), config, progress)
    console.print(results_table(results, config))
    for result in results:
        withheld = ", ".join(f"{rule} {n}" for rule, n in result.withheld.most_common())
        console.print(f"{result.label}: withheld by rule: {withheld or 'nothing'}")
        for problem in result.disagreements[:10]:
            console.print(f"[red]{result.label}: {problem}[/]")
    if not all(r.agree for r in results):
        console.print("[red]The tearline and per-item Cedar disagree.[/]")
        raise typer.Exit(1)


bench_app.command("release")(release)
