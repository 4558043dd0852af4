"""`tearline resolve`: resolve person records from several sources into entities; `tearline
resolve-train`: train and keep the node's model (docs/resolve.md).

Training is a command of its own, not `tearline resolve train`: `resolve` takes a variable number
of input files, and a click group would read a subcommand's name as one more input.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from tearline.cli.common import DEFAULT_DATA, DataDir, console, err_console, open_node, reports_errors
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
    inputs: Annotated[
        list[Path], typer.Argument(metavar="INPUT", help="CSV or JSON Lines files, each followed by its --mapping.")
    ],
    mapping: Annotated[
        list[Path],
        typer.Option("--mapping", metavar="MAPPING", help="JSON or YAML mapping of one input (in order)."),
    ],
    out: Annotated[
        Path, typer.Option(metavar="FILE", help="Where to write record_id,entity_id,match_probability (a CSV file).")
    ],
    threshold: Annotated[
        float,
        typer.Option(metavar="P", min=0.5, max=1.0, help="Match probability at or above which records merge."),
    ] = 0.95,
    spark_master: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Run Splink on Spark at this master (local\\[4], spark://HOST:7077) instead of DuckDB in this "
            "process: for a batch that outgrows one machine. Needs Java 17+ and pip install 'tearline\\[spark]'.",
        ),
    ] = None,
) -> None:
    """Resolve person records from several sources into entities, written one row per record.

    Records are named by their mapping's record_id column (a row with no value is refused), or source:LINE without.
    """
    from tearline.resolve import batch, model
    from tearline.resolve.mapping import load_mapping, load_numbered, repeated_ids
    from tearline.resolve.reference import MIN_TRAINING_RECORDS

    if len(inputs) != len(mapping):
        raise InvalidInput(Problem("--mapping", f"give one mapping per input: {len(inputs)} input(s), "
                                                f"{len(mapping)} mapping(s)"))
    check_out(out, [*inputs, *mapping])
    loaded = []
    first_of: dict[str, str] = {}
    for path, mapping_path in zip(inputs, mapping, strict=True):
        source = load_mapping(mapping_path)
        loaded.append((str(path), source.source, load_numbered(path, source)))
        if (first := first_of.setdefault(source.source, str(path))) != str(path):
            console.print(f"note: {first} and {path} are both source {source.source!r}: read as one source, "
                          "whose record ids must all differ")
    if problems := repeated_ids(loaded):
        raise InvalidInput(problems, f"{len(problems)} record id(s) repeated within a source")
    records = [record for _, _, numbered in loaded for _, record in numbered]
    if len(records) < 2:
        counts = ", ".join(f"{origin}: {len(numbered)}" for origin, _, numbered in loaded)
        if not records:
            raise InvalidInput([Problem("input", "has no records (a header alone, or blank lines)", origin)
                                for origin, _, _ in loaded], f"no records to resolve ({counts})")
        # One record has one answer: it is its own entity, held there by no link.
        batch.write_rows([(records[0].record_id, "E000001", 0.0)], out)
        console.print(f"resolved 1 record ({counts}) into 1 entity without a model; wrote {out}")
        return
    records = batch.unique_record_ids(records)
    backend: model.Backend = model.DUCKDB
    if spark_master is not None:
        from tearline.resolve.spark import SparkBackend, spark_session

        backend = SparkBackend(spark_session(spark_master))
    with _progress() as advance:
        resolution = batch.resolve(records, threshold=threshold, progress=advance, backend=backend)
    if resolution.reference:
        err_console.print(f"note: {len(records)} records are too few to train the model on (training needs at least "
                          f"{MIN_TRAINING_RECORDS}): scored with the reference model, trained on generated "
                          "Spanish-name records, which merges clear duplicates; resolve at least "
                          f"{MIN_TRAINING_RECORDS} records at once to fit the model to your sources", soft_wrap=True)
    batch.write_clusters(resolution, out)
    entities = len(set(resolution.entity_ids))
    console.print(f"resolved {len(records)} records into {entities} entities; wrote {out}")


def check_out(out: Path, inputs: list[Path]) -> None:
    """Refuse, before any work, an --out that cannot be written or that is one of the inputs."""
    where = str(out)
    if out.is_dir():
        raise InvalidInput(Problem("--out", "is a directory: give the path of the CSV file to write, such as "
                                            f"{out / 'clusters.csv'}", where), f"--out {out} is a directory")
    parent = out.parent
    if not parent.is_dir():
        raise InvalidInput(Problem("--out", f"is in {parent}, which does not exist or is not a directory: create it "
                                            "first, or write elsewhere", where), f"--out {out} cannot be written")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidInput(Problem("--out", f"cannot be written: {parent} is not writable by this user", where),
                           f"--out {out} cannot be written")
    for path in inputs:
        same = out.resolve() == path.resolve()
        if not same and out.exists() and path.exists():
            same = os.path.samefile(out, path)
        if same:
            raise InvalidInput(Problem("--out", f"is {path}, one of the inputs or mappings: it would be overwritten; "
                                                "write the result to another file", where), f"--out {out} is an input")


@reports_errors
def resolve_train(data: DataDir = DEFAULT_DATA) -> None:
    """Train the entity-resolution model by EM on the node's persons and the analysts' decisions, and
    keep it; then resolve the arrivals that waited for a model."""
    from tearline import journal
    from tearline.node import SERVICE_ACCOUNT
    from tearline.resolve.train import MIN_PERSONS, TooFewPersons, train_and_keep

    node = open_node(data)

    def audit(session: Session, model_id: int) -> None:
        # Keeping a model changes every later decision: audited as the API's train is, in its transaction.
        journal.record(session, node, SERVICE_ACCOUNT, "entity.train", [f"model:{model_id}"])

    try:
        with _progress() as advance:
            trained = train_and_keep(node, advance, audit=audit)
    except TooFewPersons as few:
        raise InvalidInput(Problem("persons", f"training needs at least {MIN_PERSONS} persons; "
                                              f"the node holds {few.held}")) from few
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
    waiting = f"; {_counted(done.waiting, 'person waits', 'persons wait')} for a model (tearline resolve-train)"
    console.print(f"resolved {_counted(done.resolved, 'arrival', 'arrivals')} "
                  f"({_counted(done.decisions, 'decision', 'decisions')})" + (waiting if done.waiting else ""))


def _counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
