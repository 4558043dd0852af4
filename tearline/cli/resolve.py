"""`tearline resolve`: resolve person records from several sources into entities (docs/resolve.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from tearline.cli.common import console, reports_errors
from tearline.errors import InvalidInput, Problem


@reports_errors
def resolve(
    inputs: Annotated[list[Path], typer.Argument(help="CSV or JSON Lines files, each followed by its --mapping.")],
    mapping: Annotated[list[Path], typer.Option("--mapping", help="JSON or YAML mapping of one input (in order).")],
    out: Annotated[Path, typer.Option(help="Where to write record_id,entity_id,match_probability.")],
    threshold: Annotated[
        float, typer.Option(min=0.5, max=1.0, help="Match probability at or above which records merge.")
    ] = 0.95,
) -> None:
    """Resolve person records from several sources into entities, written one row per record."""
    from tearline.resolve import batch
    from tearline.resolve.mapping import load_mapping, load_records

    if len(inputs) != len(mapping):
        raise InvalidInput(Problem("--mapping", f"give one mapping per input: {len(inputs)} input(s), "
                                                f"{len(mapping)} mapping(s)"))
    records = []
    for path, mapping_path in zip(inputs, mapping, strict=True):
        records.extend(load_records(path, load_mapping(mapping_path)))
    records = batch.unique_record_ids(records)
    columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=total)
            progress.update(tasks[step], completed=done, total=total)

        resolution = batch.resolve(records, threshold=threshold, progress=advance)
    batch.write_clusters(resolution, out)
    entities = len(set(resolution.entity_ids))
    console.print(f"resolved {len(records)} records into {entities} entities; wrote {out}")
