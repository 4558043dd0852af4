"""`tearline bench federation`: approval-to-searchable latency at a partner (push against a TAXII
poller) and TAXII objects/s against medallion, on SQLite and PostgreSQL (docs/benchmarks.md)."""

from __future__ import annotations

import statistics
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tearline.bench.databases import describe
from tearline.bench.federation import FederationBenchConfig, LatencyResult, run_latency
from tearline.bench.taxii import TaxiiBenchConfig, run_taxii_bench
from tearline.cli.bench import bench_app, bench_targets
from tearline.cli.bench_taxii import results_table as taxii_table

console = Console()
TARGET_P99 = 1.0


def _ms(seconds: float, target: float | None = None) -> str:
    text = f"{seconds * 1e3:,.1f} ms"
    if target is None:
        return text
    return f"[green]{text}[/]" if seconds <= target else f"[red]{text}[/]"


def latency_table(results: list[LatencyResult], config: FederationBenchConfig) -> Table:
    table = Table(title=f"approval to searchable at the partner: {config.releases} releases, one at a time")
    table.add_column("measure")
    for result in results:
        table.add_column(result.label, justify="right")
    q = LatencyResult.quantile
    rows = [
        ("push: p50", [_ms(q(r.push, 0.5)) for r in results]),
        ("push: p99 (target < 1 s)", [_ms(q(r.push, 0.99), TARGET_P99) for r in results]),
        ("push: max", [_ms(max(r.push, default=float("nan"))) for r in results]),
        ("push: releases not searchable in time", [str(r.lost) for r in results]),
        (f"TAXII poll every {config.poll_seconds:g} s: p50", [_ms(q(r.poll, 0.5)) for r in results]),
        (f"TAXII poll every {config.poll_seconds:g} s: p99", [_ms(q(r.poll, 0.99)) for r in results]),
        ("ratio of medians (poll / push)", [f"{r.ratio():.0f}×" if r.ratio() else "—" for r in results]),
        ("releases measured (push + poll)", [f"{len(r.push)} + {len(r.poll)}" for r in results]),
    ]
    for name, values in rows:
        table.add_row(name, *values)
    return table


def federation(
    releases: Annotated[int, typer.Option(min=1, help="Releases measured with push, one after another.")] = 1000,
    poll_releases: Annotated[int, typer.Option(min=1, help="Releases measured with the polling baseline.")] = 30,
    poll_seconds: Annotated[float, typer.Option(min=0.05, help="The baseline poller's interval.")] = 1.0,
    objects: Annotated[int, typer.Option(min=100, help="Objects in the TAXII throughput collection.")] = 100_000,
    medallion_budget: Annotated[float, typer.Option(min=1, help="Seconds medallion may take in all.")] = 600.0,
    database_url: Annotated[
        list[str] | None,
        typer.Option(help="'sqlite' or a PostgreSQL server URL (fresh databases are created there and dropped)."),
    ] = None,
    throughput: Annotated[bool, typer.Option(help="Also measure TAXII objects/s (--no-throughput: no).")] = True,
) -> None:
    """Two nodes on loopback: push latency against a TAXII poller, and TAXII objects/s against medallion."""
    config = FederationBenchConfig(releases=releases, poll_releases=poll_releases, poll_seconds=poll_seconds)
    targets = bench_targets(database_url)
    results = []
    for url in targets:
        label = describe(url).split(" ")[0]
        results.append(run_latency(url, label, config, lambda step: console.print(f"{step}…")))
    console.print(latency_table(results, config))
    for result in results:
        if result.push:
            console.print(f"{result.label}: push mean {statistics.mean(result.push) * 1e3:.1f} ms")
    if not throughput:
        return
    taxii_config = TaxiiBenchConfig(objects=objects, medallion_budget=medallion_budget)
    served = list(run_taxii_bench(targets, taxii_config, lambda step: console.print(f"{step}…")))
    console.print(taxii_table(served, taxii_config))


bench_app.command("federation")(federation)
