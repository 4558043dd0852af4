"""`tearline bench resolve`: entity resolution against plain Splink (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Annotated

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
) -> None:
    """Our resolver against a plain Splink configuration on FEBRL4, FEBRL3, pseudopeople and Spanish names."""
    from tearline.resolve import bench

    names = ["spanish"] if quick else ["febrl4", "febrl3", "spanish"] + ([] if skip_pseudopeople else ["pseudopeople"])
    runs = []
    for name in names:
        with console.status(f"loading {name}"):
            dataset = bench.spanish(20 if quick else families, seed) if name == "spanish" else bench.DATASETS[name]()
        for method in ("tearline", "plain splink"):
            with console.status(f"{dataset.name}: {method}"):
                runs.append(bench.run_method(dataset, method, threshold))
    table = Table(title=f"Entity resolution (merge threshold {threshold})")
    for column in ("dataset", "method", "precision", "recall", "pairwise F1", "B-cubed F1", "clusters (true)",
                   "largest", "homonym merges", "time s", "peak MiB"):
        table.add_column(column)
    for run in runs:
        s = run.scores
        table.add_row(run.dataset, run.method, _fmt(s.precision), _fmt(s.recall), _fmt(s.f1), _fmt(s.bcubed_f1),
                      f"{s.predicted_clusters} ({s.true_clusters})", str(s.largest_cluster),
                      _fmt(s.homonym_false_merge_rate), f"{run.seconds:.1f}", f"{run.peak_mib:.0f}")
    console.print(table)
    variants = Table(title="Recall per variant class (true pairs in which either record shows it)")
    for column in ("dataset", "method", "class", "recall", "pairs"):
        variants.add_column(column)
    for run in runs:
        for variant, (recall, n) in run.scores.recall_by_variant.items():
            variants.add_row(run.dataset, run.method, variant, _fmt(recall), str(n))
    if variants.rows:
        console.print(variants)
