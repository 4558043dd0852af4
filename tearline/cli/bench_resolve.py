"""`tearline bench resolve`: entity resolution against plain Splink (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tearline.cli.bench import bench_app, console


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@bench_app.command("resolve")
def bench_resolve(
    quick: Annotated[bool, typer.Option(help="A small Spanish-name set only (a smoke run).")] = False,
    families: Annotated[int, typer.Option(min=5, help="Families in the generated Spanish-name set.")] = 600,
    seed: Annotated[int, typer.Option(help="Seed of the generated set.")] = 7,
    threshold: Annotated[float, typer.Option(min=0.5, max=1.0, help="Merge threshold for both methods.")] = 0.95,
    skip_pseudopeople: Annotated[bool, typer.Option(help="Leave out the pseudopeople set.")] = False,
    incremental_entities: Annotated[
        int, typer.Option(min=0, help="Resolved persons the incremental run scores arrivals against (0: skip).")
    ] = 100_000,
    batch_sets: Annotated[bool, typer.Option("--batch/--no-batch", help="Run the batch comparison.")] = True,
    organisations: Annotated[
        int, typer.Option(min=0, help="Stored organisations the organisation run resolves arrivals against (0: skip).")
    ] = 100_000,
) -> None:
    """Our resolver against a plain Splink configuration on FEBRL4, FEBRL3, pseudopeople and Spanish names,
    then incremental matching against N resolved persons and against N stored organisations."""
    from tearline.resolve import bench

    names = ["spanish"] if quick else ["febrl4", "febrl3", "spanish"] + ([] if skip_pseudopeople else ["pseudopeople"])
    if not batch_sets:
        names = []
    runs = []
    for name in names:
        with console.status(f"loading {name}"):
            dataset = bench.spanish(20 if quick else families, seed) if name == "spanish" else bench.DATASETS[name]()
        for method in ("tearline", "plain splink"):
            with console.status(f"{dataset.name}: {method}"):
                runs.append(bench.run_method(dataset, method, threshold))
    if runs:
        _batch_tables(runs, threshold)
    entities = min(incremental_entities, 1_000) if quick else incremental_entities
    if entities:
        _incremental(entities, 100 if quick else 1_000, 10 if quick else 200)
    firms = min(organisations, 1_000) if quick else organisations
    if firms:
        _organisations(firms, 100 if quick else 1_000, 10 if quick else 200)


def _batch_tables(runs: list[Any], threshold: float) -> None:
    table = Table(title=f"Entity resolution (merge threshold {threshold})")
    for column in (
        "dataset",
        "method",
        "precision",
        "recall",
        "pairwise F1",
        "B-cubed F1",
        "clusters (true)",
        "largest",
        "homonym merges",
        "time s",
        "peak MiB",
    ):
        table.add_column(column)
    for run in runs:
        s = run.scores
        table.add_row(
            run.dataset,
            run.method,
            _fmt(s.precision),
            _fmt(s.recall),
            _fmt(s.f1),
            _fmt(s.bcubed_f1),
            f"{s.predicted_clusters} ({s.true_clusters})",
            str(s.largest_cluster),
            _fmt(s.homonym_false_merge_rate),
            f"{run.seconds:.1f}",
            f"{run.peak_mib:.0f}",
        )
    console.print(table)
    variants = Table(title="Recall per variant class (true pairs in which either record shows it)")
    for column in ("dataset", "method", "class", "recall", "pairs"):
        variants.add_column(column)
    for run in runs:
        for variant, (recall, n) in run.scores.recall_by_variant.items():
            variants.add_row(run.dataset, run.method, variant, _fmt(recall), str(n))
    if variants.rows:
        console.print(variants)


def _incremental(entities: int, arrivals: int, singles: int) -> None:
    from tearline.cli.common import progress_bars
    from tearline.resolve.bench_incremental import run_incremental

    with progress_bars("incremental") as advance:
        result = run_incremental(entities, arrivals, singles, advance)
    table = Table(title="Incremental matching (SQLite, kept model)")
    for column in (
        "resolved persons",
        "arrivals",
        "records/s (batches of 100)",
        "single p50 ms",
        "single p95 ms",
        "merged",
        "to review",
    ):
        table.add_column(column)
    table.add_row(
        str(result.entities),
        str(result.arrivals),
        f"{result.records_per_second:.0f}",
        f"{result.p50_ms:.0f}",
        f"{result.p95_ms:.0f}",
        str(result.merges),
        str(result.reviews),
    )
    console.print(table)


def _organisations(stored: int, arrivals: int, singles: int) -> None:
    from tearline.cli.common import progress_bars
    from tearline.resolve.bench_organisations import NEAR_SAMPLE, run_organisations

    with progress_bars("organisations") as advance:
        result = run_organisations(stored, arrivals, singles, advance)
    table = Table(title="Organisations resolved as they arrive (SQLite)")
    for column in ("stored", "arrivals", "records/s (batches of 100)", "single p50 ms", "single p95 ms"):
        table.add_column(column)
    table.add_row(str(result.stored), str(result.arrivals), f"{result.records_per_second:.0f}",
                  f"{result.p50_ms:.0f}", f"{result.p95_ms:.0f}")
    console.print(table)
    outcomes = Table(title="What became of each kind of arrival")
    for column in ("arrival", "merged", "to review", "left alone"):
        outcomes.add_column(column)
    for kind, tally in sorted(result.outcomes.items()):
        outcomes.add_row(kind, str(tally["merged"]), str(tally["review"]), str(tally["none"]))
    console.print(outcomes)
    ratio = result.near_extract_s / result.near_ours_s if result.near_ours_s else float("nan")
    console.print(
        f"Near-name search for {NEAR_SAMPLE} names over {result.stored:,} stored: "
        f"ours {result.near_ours_s * 1000:.0f} ms, "
        f"rapidfuzz process.extract (token-sort) a name at a time {result.near_extract_s * 1000:.0f} ms: "
        f"{ratio:.1f}x, the same names found"
    )
