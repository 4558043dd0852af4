"""`tearline resolve`: resolve person records from several sources into entities; `tearline
resolve-train`: train and keep the node's model (docs/resolve.md).

Training is a command of its own, not `tearline resolve train`: `resolve` takes a variable number
of input files, and a click group would read a subcommand's name as one more input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from tearline.cli.common import DEFAULT_DATA, DataDir, console, open_node, reports_errors
from tearline.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tearline.node import Node

Advance = Callable[[str, int, int], None]


@contextmanager
def _progress() -> Iterator[Advance]:
    """A progress bar per step; `advance(step, done, total)` adds or moves one."""
    columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=total)
            progress.update(tasks[step], completed=done, total=total)

        yield advance


@reports_errors
def resolve(
    inputs: Annotated[list[Path], typer.Argument(help="CSV or JSON Lines files, each followed by its --mapping.")],
    mapping: Annotated[list[Path], typer.Option("--mapping", help="JSON or YAML mapping of one input (in order).")],
    out: Annotated[Path, typer.Option(help="Where to write record_id,entity_id,match_probability.")],
    threshold: Annotated[
        float, typer.Option(min=0.5, max=1.0, help="Match probability at or above which records merge.")
    ] = 0.95,
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="Run Splink on Spark at this master (local[4], spark://HOST:7077) instead of DuckDB in this "
            "process: for a batch that outgrows one machine. Needs Java 17+ and pip install 'tearline[spark]'."
        ),
    ] = None,
) -> None:
    """Resolve person records from several sources into entities, written one row per record."""
    from tearline.resolve import batch, model
    from tearline.resolve.mapping import load_mapping, load_records

    if len(inputs) != len(mapping):
        raise InvalidInput(Problem("--mapping", f"give one mapping per input: {len(inputs)} input(s), "
                                                f"{len(mapping)} mapping(s)"))
    records = []
    for path, mapping_path in zip(inputs, mapping, strict=True):
        records.extend(load_records(path, load_mapping(mapping_path)))
    records = batch.unique_record_ids(records)
    backend: model.Backend = model.DUCKDB
    if spark_master is not None:
        from tearline.resolve.spark import SparkBackend, spark_session

        backend = SparkBackend(spark_session(spark_master))
    with _progress() as advance:
        resolution = batch.resolve(records, threshold=threshold, progress=advance, backend=backend)
    batch.write_clusters(resolution, out)
    entities = len(set(resolution.entity_ids))
    console.print(f"resolved {len(records)} records into {entities} entities; wrote {out}")


@reports_errors
def resolve_train(data: DataDir = DEFAULT_DATA) -> None:
    """Train the entity-resolution model by EM on the node's persons and the analysts' decisions, and
    keep it; then resolve the arrivals that waited for a model."""
    from tearline import journal
    from tearline.node import SERVICE_ACCOUNT
    from tearline.resolve.train import train_and_keep

    node = open_node(data)

    def audit(session: Session, model_id: int) -> None:
        # Keeping a model changes every later decision: audited as the API's train is, in its transaction.
        journal.record(session, node, SERVICE_ACCOUNT, "entity.train", [f"model:{model_id}"])

    with _progress() as advance:
        trained = train_and_keep(node, advance, audit=audit)
    console.print(f"kept model {trained.model_id}: trained on {trained.persons} persons "
                  f"and {trained.labels} analysts' decisions")
    resolve_arrivals(node)


def resolve_arrivals(node: Node) -> None:
    """Resolve whatever waits in the node's arrival queue, with a progress bar, and say what is left."""
    from sqlalchemy import func, select

    from tearline.db.resolve_tables import ResolveArrival
    from tearline.resolve import arrivals

    with node.db.read() as session:
        queued = session.scalar(select(func.count()).select_from(ResolveArrival)) or 0
    if not queued:
        return
    with _progress() as advance:
        done = arrivals.drain(node, progress=lambda n: advance("resolving arrivals", n, queued))
    console.print(f"resolved {done.resolved} arrivals ({done.decisions} decisions)"
                  + (f"; {done.waiting} persons wait for a model (tearline resolve-train)" if done.waiting else ""))
