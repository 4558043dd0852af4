"""`tearline bench audit`: appends and proofs of the audit log, against pymerkle (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tearline.bench.audit import AuditBenchConfig, AuditBenchResult, Rates, run_audit_bench
from tearline.cli.bench import bench_targets

console = Console()
TARGET_APPEND_RATIO = 10.0
TARGET_PROOF_SECONDS = 1e-3


def _per_second(value: float) -> str:
    return f"{value:,.0f}/s" if value else "—"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds else "—"


def _ratio(value: float | None, target: float | None = None) -> str:
    if value is None:
        return "—"
    colour = "" if target is None else ("[green]" if value >= target else "[red]")
    return f"{colour}{value:,.1f}×[/]" if colour else f"{value:,.1f}×"


def _proof(seconds: float) -> str:
    colour = "[green]" if seconds <= TARGET_PROOF_SECONDS else "[red]"
    return f"{colour}{_ms(seconds)}[/]"


def _durable(result: AuditBenchResult, ours: str = "batched", theirs: str = "single") -> float | None:
    """Our durable append rate (`ours`: batched commits, or group commit) over a pymerkle `append_entry` rate."""
    if result.pymerkle is None or not getattr(result.pymerkle, theirs):
        return None
    return float(getattr(result.ours, ours) / getattr(result.pymerkle, theirs))


def results_table(results: list[AuditBenchResult], config: AuditBenchConfig) -> Table:
    table = Table(title=f"tearline bench audit: {results[0].ours.size:,} entries (pymerkle rounds run beside each)")
    table.add_column("measure")
    for result in results:
        table.add_column(f"{result.where}", justify="right")

    def theirs(r: AuditBenchResult) -> Rates:
        return r.pymerkle or Rates()

    rows = [
        ("tearline: 1 entry per commit", [_per_second(r.ours.single) for r in results]),
        ("pymerkle: append_entry (1 per commit)", [_per_second(theirs(r).single) for r in results]),
        (f"tearline: 1 per commit, {config.writers} writers", [_per_second(r.ours.concurrent) for r in results]),
        (f"tearline: {config.batch} per commit", [_per_second(r.ours.batched) for r in results]),
        (
            f"tearline: group commit, {config.callers} callers, each acked after its commit",
            [_per_second(r.ours.group) for r in results],
        ),
        (f"pymerkle: append_entry, {config.callers} threads", [_per_second(theirs(r).group) for r in results]),
        (f"pymerkle: append_entries({config.batch})", [_per_second(theirs(r).batched) for r in results]),
        (f"tearline: fill, {10_000:,} per commit", [_per_second(r.ours.fill) for r in results]),
        (f"pymerkle: fill, {10_000:,} per commit", [_per_second(theirs(r).fill) for r in results]),
        ("tearline: inclusion proof (median)", [_proof(r.ours.inclusion) for r in results]),
        ("tearline: consistency proof (median)", [_proof(r.ours.consistency) for r in results]),
        ("tearline: inclusion proof, own transaction", [_ms(r.ours.inclusion_tx) for r in results]),
        ("tearline: consistency proof, own transaction", [_ms(r.ours.consistency_tx) for r in results]),
        ("pymerkle: inclusion proof (median)", [_ms(theirs(r).inclusion) for r in results]),
        ("pymerkle: consistency proof (median)", [_ms(theirs(r).consistency) for r in results]),
        ("ratio: 1 per commit", [_ratio(r.ratio("single")) for r in results]),
        (
            f"ratio: {config.batch} per commit / pymerkle's 1 per commit",
            [_ratio(_durable(r), TARGET_APPEND_RATIO) for r in results],
        ),
        (
            "ratio: group commit / pymerkle's 1 per commit",
            [_ratio(_durable(r, "group"), TARGET_APPEND_RATIO) for r in results],
        ),
        (
            f"ratio: group commit / pymerkle's append_entry, {config.callers} threads",
            [_ratio(_durable(r, "group", "group"), TARGET_APPEND_RATIO) for r in results],
        ),
        ("ratio: batched / pymerkle batched", [_ratio(r.ratio("batched")) for r in results]),
        ("ratio: inclusion proof speed", [_ratio(r.ratio("inclusion", False)) for r in results]),
        ("ratio: consistency proof speed", [_ratio(r.ratio("consistency", False)) for r in results]),
    ]
    for name, values in rows:
        table.add_row(name, *values)
    return table


def audit(
    entries: Annotated[int, typer.Option(min=2, help="Log size at which proofs are timed.")] = 1_000_000,
    single: Annotated[int, typer.Option(min=1, help="Entries appended one per commit.")] = 2_000,
    batched: Annotated[int, typer.Option(min=1, help="Entries appended in batches.")] = 50_000,
    batch: Annotated[int, typer.Option(min=1, help="Entries per commit in the batched run.")] = 100,
    writers: Annotated[int, typer.Option(min=1, help="Concurrent writers in the one-per-commit run.")] = 4,
    grouped: Annotated[int, typer.Option(min=1, help="Entries appended through group commit.")] = 20_000,
    callers: Annotated[int, typer.Option(min=1, help="Concurrent callers of group commit, one entry each.")] = 64,
    proofs: Annotated[int, typer.Option(min=1, help="Proofs of each kind timed.")] = 500,
    pymerkle: Annotated[bool, typer.Option(help="Also measure pymerkle's SqliteTree (bench extra).")] = True,
    pymerkle_proofs: Annotated[int, typer.Option(min=1, help="pymerkle proofs of each kind timed.")] = 50,
    database_url: Annotated[
        list[str] | None,
        typer.Option(help="'sqlite' or a PostgreSQL server URL (a fresh database is made and dropped); repeatable."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the proof positions.")] = 1,
) -> None:
    """Audit-log appends (durable commits) and proofs at N entries, on SQLite and PostgreSQL, against pymerkle."""
    config = AuditBenchConfig(
        entries, single, batched, batch, writers, grouped, callers, proofs, pymerkle, pymerkle_proofs, seed
    )

    def progress(step: str, done: int, total: int) -> None:
        if done == total or done % 100_000 == 0:
            console.print(f"  {step}: {done:,} of {total:,}", highlight=False)

    results = run_audit_bench(bench_targets(database_url), config, progress)
    console.print(results_table(results, config))
    if results[0].pymerkle_note:
        console.print(f"[yellow]pymerkle: {results[0].pymerkle_note}[/]")
    checked = sum(r.checked for r in results)
    console.print(f"{checked:,} timed proofs checked against the roots: all valid.")
