"""Rich tables of benchmark results: one summary column per database, and the principals measured."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from tearline.bench.ingest import IngestFigures
from tearline.bench.visibility import DatabaseResult

TARGET_RATIO = 100.0


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 0.01:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e3:,.1f} ms" if seconds < 1 else f"{seconds:,.1f} s"


def ratio(value: float | None) -> str:
    if value is None:
        return "—"
    mark = "[green]" if value >= TARGET_RATIO else "[yellow]"
    shown = f"{value:,.0f}" if value >= 10 else f"{value:.2g}"
    return f"{mark}{shown}×[/]"


def _ingest_rows(result: DatabaseResult) -> list[str]:
    figures = result.ingest
    if not isinstance(figures, IngestFigures):
        note = str(figures) if figures is not None else "not run"
        return [note, "—", "—", "—"]
    rejected = f"{figures.rejected} of {figures.gated_objects:,} flagged invalid"
    return [
        f"{figures.plain_rate:,.0f} objects/s ({figures.plain_objects:,} objects)",
        f"{figures.gated_rate:,.0f} objects/s ({figures.gated_objects:,} objects)",
        f"{figures.ratio:,.1f}×",
        rejected,
    ]


def summary_table(results: Sequence[DatabaseResult]) -> Table:
    table = Table(title="tearline bench visibility", show_lines=False)
    table.add_column("measure")
    for result in results:
        table.add_column(f"{result.label}\n{result.where}", justify="right")
    rows: list[tuple[str, list[str]]] = [
        ("portions / distinct markings", [f"{r.portions:,} / {r.markings:,}" for r in results]),
        ("load (set-up, not measured)", [ms(r.load_seconds) for r in results]),
        ("principals measured", [str(len(r.principals)) for r in results]),
        ("SQL filtered page of 50 (median)", [ms(r.sql_page) for r in results]),
        ("  the same, each principal's first uses", [ms(r.first_page) for r in results]),
        ("per-item Cedar page of 50 (median)", [ms(r.cedar_page) for r in results]),
        ("page: Cedar / SQL", [ratio(r.page_ratio) for r in results]),
        ("SQL filtered count (median)", [ms(r.sql_count) for r in results]),
        ("per-item Cedar count (median)", [_cedar_count(r) for r in results]),
        ("count: Cedar / SQL (same principals)", [ratio(r.count_ratio) for r in results]),
        ("Cedar decisions per second", [f"{r.cedar_decisions_per_second:,.0f}" for r in results]),
        ("SQL and Cedar answers equal", [_agreement(r) for r in results]),
    ]
    ingest = [_ingest_rows(r) for r in results]
    labels = ["ingest_bundle", "ingest gated by stix2-validator", "ingest: plain / gated", "validator verdicts"]
    rows += [(label, [column[i] for column in ingest]) for i, label in enumerate(labels)]
    for label, cells in rows:
        table.add_row(label, *cells)
    return table


def _cedar_count(result: DatabaseResult) -> str:
    counted = len(result.cedar_counted)
    return f"{ms(result.cedar_count)} ({counted} principal{'s' if counted != 1 else ''})" if counted else "—"


def _agreement(result: DatabaseResult) -> str:
    pages = sum(len(p.cedar_pages) for p in result.principals)
    counts = len(result.cedar_counted)
    verdict = "[green]yes[/]" if result.agree else "[red]NO[/]"
    return f"{verdict} ({pages} pages, {counts} counts)"


def principals_table(result: DatabaseResult) -> Table:
    table = Table(title=f"{result.label}: principals measured")
    for name in ("principal", "nation", "clearance", "visible", "SQL count", "Cedar count", "SQL page", "Cedar page"):
        table.add_column(name, justify="right" if name not in ("principal", "nation", "clearance") else "left")
    table.add_column("equal")
    for p in result.principals:
        share = f"{p.visible:,} ({p.visible / result.portions:.1%})" if result.portions else str(p.visible)
        sql_page = sorted(p.sql_pages)[len(p.sql_pages) // 2]
        cedar_page = sorted(p.cedar_pages)[len(p.cedar_pages) // 2]
        equal = p.pages_equal and p.count_equal is not False
        table.add_row(
            p.username, p.nation, p.clearance, share, ms(p.sql_count), ms(p.cedar_count), ms(sql_page),
            ms(cedar_page), "[green]yes[/]" if equal else "[red]NO[/]",
        )  # fmt: skip
    return table
