"""`tearline bench release`: tearline generation for a large report, against per-item Cedar decisions.

Measured on a throw-away USA node per database (SQLite file, or a fresh PostgreSQL database):

- one report version with N portions (200) and M objects (500, a fifth of them relationships),
  each with a random valid marking drawn from a seeded generator: mostly the node's own agencies,
  some partners' items (the third-party rule) of which half have a live consent, and ORCON, LES,
  compartments and source-sensitive fields in play; recipient MEX / MX-DEMO-FIA;
- **ours**: `workflow.tearline_of` as the workflow and the review screen call it, that is loading
  the version's content, the registry, the equivalence table, the consents and the deliveries, then
  `tearline_for` (the keep rule per item, relationship ends, source grades, renumbering, banner);
  timed end to end, and the generation step alone on the loaded content;
- **baseline**: what one would write with a policy engine instead of the markings engine: the same
  content load, then one Cedar decision per item (`cedarpy.is_authorized_batch`, the policy set and
  the item entities parsed once per run, each marking's attributes serialised once), with the keep
  rule as one `permit` and one `@id` `forbid` per rule so that each refusal names its rule, the
  consent and liveness facts computed per item in Python (Cedar cannot look them up), then the same
  relationship-end pass and banner roll-up;
- both are run `runs` times after two warm-up runs; the medians are reported. The two must keep
  exactly the same items, and for every withheld item our rule must be one Cedar names.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import cedarpy
from sqlalchemy import select

from tearline import clock
from tearline.bench.databases import bench_target, describe
from tearline.db.models import Principal
from tearline.db.release_tables import Consent
from tearline.markings.banner import banner_text
from tearline.markings.marking import Marking, Registry, marking_from_dict
from tearline.markings.release import Recipient, consents_covering
from tearline.markings.scheme import NATIONAL_LABELS, EquivalenceTable
from tearline.node import SERVICE_ACCOUNT, Node, init_node
from tearline.release import workflow
from tearline.release.consents import tearline_context
from tearline.release.tearline import Tearline, TearlineContext, tearline_for
from tearline.store import registry as reg
from tearline.store.content import VersionContent, VersionItem, version_content
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.reports import create_report

Progress = Callable[[str, int, int], None]
AGENCIES = [  # (name, nation, law enforcement): the demo's fictional agencies
    ("US-DEMO-NARC", "USA", True),
    ("US-DEMO-INTEL", "USA", False),
    ("MX-DEMO-FIA", "MEX", True),
    ("MX-DEMO-CNI", "MEX", False),
    ("MX-DEMO-UIS", "MEX", True),
    ("CA-DEMO-BORDER", "CAN", True),
]
COMPARTMENTS = {"VU-HALCON": ["US-DEMO-NARC", "MX-DEMO-UIS"], "VU-NORTE": ["US-DEMO-NARC", "MX-DEMO-FIA"]}
WARM_UP = 2


@dataclass(frozen=True)
class ReleaseBenchConfig:
    portions: int = 200
    objects: int = 500
    runs: int = 25
    seed: int = 1
    recipient: Recipient = field(default_factory=lambda: Recipient("MEX", "MX-DEMO-FIA"))


@dataclass
class ReleaseBenchResult:
    label: str
    where: str
    items: int = 0
    kept: int = 0
    withheld: Counter[str] = field(default_factory=Counter)
    consents_used: int = 0
    ours_total: float = 0.0  # median seconds: load and generate, as the workflow does
    ours_generate: float = 0.0  # median seconds: `tearline_for` on loaded content
    cedar_total: float = 0.0
    cedar_decide: float = 0.0
    agree: bool = False
    disagreements: list[str] = field(default_factory=list)

    def ratio(self, total: bool = True) -> float | None:
        ours, theirs = (self.ours_total, self.cedar_total) if total else (self.ours_generate, self.cedar_decide)
        return theirs / ours if ours and theirs else None


# --- the report --------------------------------------------------------------------------------------


def _random_marking(rng: random.Random, registry: Registry) -> Marking:
    roll = rng.random()
    if roll < 0.7:
        agency = "US-DEMO-NARC"
    elif roll < 0.85:
        agency = "US-DEMO-INTEL"
    else:
        agency = rng.choice(["MX-DEMO-FIA", "MX-DEMO-CNI", "CA-DEMO-BORDER"])
    nation = next(n for a, n, _ in AGENCIES if a == agency)
    labels = NATIONAL_LABELS[nation]
    level = rng.choice(labels[: len(labels) - 1]) if rng.random() < 0.9 else labels[-1]
    raw: dict[str, Any] = {
        "originator": {"nation": nation, "agency": agency},
        "level": level,
        "rel_to": sorted({nation} | {n for n in ("USA", "MEX", "CAN") if rng.random() < 0.75}),
        "controls": sorted(c for c, p in (("ORCON", 0.1), ("LES", 0.2), ("DP", 0.1)) if rng.random() < p),
        "compartments": [rng.choice(sorted(COMPARTMENTS))] if rng.random() < 0.08 else [],
    }
    if rng.random() < 0.05:
        raw["rel_to"], raw["controls"] = [nation], sorted({*raw["controls"], "NOFORN"})
    if (nation, level) == ("MEX", "RESERVADA"):
        raw["reserved_until"] = clock.stix_timestamp(clock.now() + timedelta(days=365))
    if rng.random() < 0.1:
        raw |= {"source_fields": ["name", "text"], "source_grade": "B2"}
    return marking_from_dict(raw, registry)


def report_draft(config: ReleaseBenchConfig, registry: Registry) -> ReportDraft:
    rng = random.Random(config.seed)
    us_mx = marking_from_dict(
        {"originator": {"nation": "USA", "agency": "US-DEMO-NARC"}, "level": "SECRET", "rel_to": ["USA", "MEX"]},
        registry,
    )
    objects: list[ObjectDraft] = []
    kinds = ["identity", "location", "x-tearline-phone", "x-tearline-vehicle"]
    for i in range(config.objects):
        marking = _random_marking(rng, registry)
        plain = [o for o in objects if o.stix_type != "relationship"]
        if len(plain) >= 2 and i % 5 == 4:
            source, target = rng.sample(plain, 2)
            body = {"relationship_type": "related-to", "source_ref": source.stix_id, "target_ref": target.stix_id}
            objects.append(
                ObjectDraft(
                    f"relationship--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                    "relationship",
                    body,
                    marking,
                    name="related-to",
                    source_ref=source.stix_id,
                    target_ref=target.stix_id,
                )
            )
            continue
        kind = kinds[i % len(kinds)]
        name = f"{kind} {i} (fictional)"
        objects.append(
            ObjectDraft(
                f"{kind}--{uuid.UUID(int=rng.getrandbits(128), version=4)}", kind, {"name": name}, marking, name
            )
        )
    return ReportDraft(
        title=PortionDraft("Benchmark report (fictional)", us_mx),
        portions=tuple(
            PortionDraft(f"Portion {i + 1} of the benchmark report (fictional).", _random_marking(rng, registry))
            for i in range(config.portions)
        ),
        objects=tuple(objects),
        predicate="Fictional benchmark predicate.",
        review_due=clock.now() + timedelta(days=365),
    )


def build(node: Node, config: ReleaseBenchConfig) -> str:
    """Registry, the report, and live consents for half of the partners' items; returns the report id."""
    with node.db.write() as session:
        for name, nation, law_enforcement in AGENCIES:
            if name != node.config.agency:
                reg.add_agency(session, name, nation, law_enforcement)
        for name, owners in COMPARTMENTS.items():
            reg.add_compartment(session, name, owners)
    with node.db.write() as session:
        registry = node.registry(session)
        submitter = session.scalar(select(Principal).where(Principal.username == SERVICE_ACCOUNT))
        assert submitter is not None
        report = create_report(session, report_draft(config, registry), submitter, node.identity, registry)
        content = version_content(session, report.stix_id)
        foreign = [i for i in content.items if i.marking.originator_nation != node.config.nation]
        for item in foreign[::2]:
            body = {"id": f"consent--{uuid.uuid4()}", "bench": True}
            session.add(
                Consent(
                    id=body["id"],
                    grantor_nation=item.marking.originator_nation,
                    grantor_agency=item.marking.originator_agency,
                    recipient_nation=config.recipient.nation,
                    recipient_agency=config.recipient.agency,
                    item_hashes=[item.hash],
                    purpose="benchmark",
                    expires_at=clock.now() + timedelta(days=30),
                    body=body,
                    signature="",
                    created_at=clock.now(),
                )
            )
        return report.stix_id


# --- the baseline: per-item Cedar decisions ------------------------------------------------------------

RULES = {
    "not-releasable-to-recipient": "unless { resource.rel_to.contains(principal.nation) }",
    "no-equivalence-agreement": "when { resource.originator_nation != principal.nation && !resource.has_level }",
    "above-release-ceiling": (
        "when { resource.originator_nation != principal.nation && resource.has_level"
        " && resource.common_level > context.ceiling }"
    ),
    "compartment": "unless { principal.owns.containsAll(resource.compartments) }",
    "orcon-without-approval": (
        'when { resource.controls.contains("ORCON") && resource.originator_agency != context.maker_agency'
        " && !resource.orcon_consented }"
    ),
    "les-needs-law-enforcement-recipient": 'when { resource.controls.contains("LES") && !principal.law_enforcement }',
    "third-party-without-consent": "when { resource.originator_nation != context.maker_nation && !resource.consented }",
    "not-live": "unless { resource.live }",
}
CEDAR_RELEASE_POLICY = (
    '@id("release")\npermit(principal, action == Action::"release", resource);\n'
    + "\n".join(f'@id("{rule}")\nforbid(principal, action, resource)\n{body};' for rule, body in RULES.items())
    + "\n"
)


class CedarRelease:
    """The keep rule of DESIGN §3.5 as Cedar: a permit and one named forbid per rule."""

    def __init__(self) -> None:
        self.policies = cedarpy.PolicySet.from_str(CEDAR_RELEASE_POLICY)
        parsed = json.loads(cedarpy.policies_to_json_str(CEDAR_RELEASE_POLICY))
        self.names = {key: (p.get("annotations") or {}).get("id", key) for key, p in parsed["staticPolicies"].items()}

    def decide(self, content: VersionContent, recipient: Recipient, ctx: TearlineContext) -> dict[str, set[str]]:
        """Every item's hash -> the rules that withhold it (an empty set: kept), relationship ends included."""
        marking_attrs: dict[str, dict[str, Any]] = {}
        entities: list[dict[str, Any]] = [
            {"uid": {"type": "Recipient", "id": "r"}, "attrs": _recipient_attrs(recipient, ctx.registry), "parents": []}
        ]
        for n, item in enumerate(content.items):
            digest = item.marking.digest()
            if digest not in marking_attrs:
                marking_attrs[digest] = _marking_attrs(item.marking, recipient, ctx.table)
            attrs = {**marking_attrs[digest], **_item_facts(item, recipient, ctx, content.version_id)}
            entities.append({"uid": {"type": "Item", "id": str(n)}, "attrs": attrs, "parents": []})
        handle = cedarpy.Entities.from_json_str(json.dumps(entities))
        agreement = ctx.table.agreement(ctx.maker.nation, recipient.nation)
        context = {
            "maker_nation": ctx.maker.nation,
            "maker_agency": ctx.maker.agency,
            "ceiling": agreement.ceiling if agreement else -1,
        }
        requests = [
            {
                "principal": {"type": "Recipient", "id": "r"},
                "action": {"type": "Action", "id": "release"},
                "resource": {"type": "Item", "id": str(n)},
                "context": context,
            }
            for n in range(len(content.items))
        ]
        results = cedarpy.is_authorized_batch(requests, self.policies, handle)
        out: dict[str, set[str]] = {}
        for item, result in zip(content.items, results, strict=True):
            fired = {self.names.get(r, r) for r in result.diagnostics.reasons} - {"release"}
            out[item.hash] = set() if result.allowed else (fired or {"default-deny"})
        _relationship_ends(content.items, out)
        return out


def _recipient_attrs(recipient: Recipient, registry: Registry) -> dict[str, Any]:
    owns = [c.name for c in registry.compartments.values() if recipient.agency and recipient.agency in c.owners]
    return {
        "nation": recipient.nation,
        "law_enforcement": bool(recipient.agency and registry.is_law_enforcement(recipient.agency)),
        "owns": sorted(owns),
    }


def _marking_attrs(marking: Marking, recipient: Recipient, table: EquivalenceTable) -> dict[str, Any]:
    agreement = table.agreement(marking.originator_nation, recipient.nation)
    level = agreement.common(marking.originator_nation, marking.level) if agreement else None
    return {
        "originator_nation": marking.originator_nation,
        "originator_agency": marking.originator_agency,
        "rel_to": sorted(marking.rel_to),
        "controls": sorted(marking.controls),
        "compartments": sorted(marking.compartments),
        "has_level": level is not None,
        "common_level": -1 if level is None else level,
    }


def _item_facts(item: VersionItem, recipient: Recipient, ctx: TearlineContext, version_id: int) -> dict[str, Any]:
    covering = consents_covering(ctx.consents, item.marking, recipient, item.hash, version_id, ctx.now)
    delivered = any(
        c.live(ctx.now) and c.covers_item(item.hash, version_id) for c in ctx.deliveries if c.kind == "delivery"
    )
    return {
        "consented": bool(covering),
        "orcon_consented": any(c.grantor_agency == item.marking.originator_agency and c.agency for c in covering),
        "live": not item.withdrawn and (not item.received or delivered),
    }


def _relationship_ends(items: list[VersionItem], rules: dict[str, set[str]]) -> None:
    changed = True
    while changed:
        changed = False
        kept = {i.stix_id for i in items if i.kind == "object" and not rules[i.hash]}
        for item in items:
            ends = [ref for ref in (item.source_ref, item.target_ref) if ref]
            if not rules[item.hash] and any(ref not in kept for ref in ends):
                rules[item.hash] = {"relationship-end-withheld"}
                changed = True


# --- running -------------------------------------------------------------------------------------------


def _median(fn: Callable[[], object], runs: int) -> float:
    for _ in range(WARM_UP):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@contextmanager
def _node(url: str) -> Iterator[tuple[Node, str]]:
    with bench_target(url) as target:
        node = init_node(target.data_dir, "USA", "US-DEMO-NARC", target.database_url)
        try:
            yield node, target.label
        finally:
            node.close()


def run_release_bench(urls: list[str], config: ReleaseBenchConfig, progress: Progress) -> list[ReleaseBenchResult]:
    results = []
    for url in urls:
        with _node(url) as (node, label):
            progress(f"{label}: build", 0, 1)
            report = build(node, config)
            progress(f"{label}: build", 1, 1)
            results.append(_measure(node, report, config, ReleaseBenchResult(label, describe(url)), progress))
    return results


def _measure(
    node: Node, report: str, config: ReleaseBenchConfig, result: ReleaseBenchResult, progress: Progress
) -> ReleaseBenchResult:
    cedar = CedarRelease()
    recipient = config.recipient

    def ours_total() -> Tearline:
        with node.db.read() as session:
            content = version_content(session, report)
            return workflow.tearline_of(session, node, content, recipient)

    def cedar_total() -> dict[str, set[str]]:
        with node.db.read() as session:
            content = version_content(session, report)
            decided = cedar.decide(content, recipient, tearline_context(session, node))
            kept = [i.marking for i in content.items if not decided[i.hash]]
            banner_text(kept, node.config.nation, node.table(session))
            return decided

    with node.db.read() as session:
        content = version_content(session, report)
        ctx = tearline_context(session, node)
    steps = 4
    progress(f"{result.label}: measure", 0, steps)
    result.ours_total = _median(ours_total, config.runs)
    progress(f"{result.label}: measure", 1, steps)
    result.ours_generate = _median(lambda: tearline_for(content, recipient, ctx), config.runs)
    progress(f"{result.label}: measure", 2, steps)
    result.cedar_total = _median(cedar_total, config.runs)
    progress(f"{result.label}: measure", 3, steps)
    result.cedar_decide = _median(lambda: cedar.decide(content, recipient, ctx), config.runs)
    progress(f"{result.label}: measure", 4, steps)

    ours, theirs = ours_total(), cedar_total()
    result.items = len(content.items)
    result.kept = len(ours.kept)
    result.withheld = Counter(w.rule for w in ours.withheld)
    result.consents_used = len({c.origin_id for c in ours.consents_used})
    result.disagreements = _compare(ours, theirs)
    result.agree = not result.disagreements
    return result


def _compare(ours: Tearline, theirs: dict[str, set[str]]) -> list[str]:
    out = []
    if set(ours.kept_hashes) != {h for h, rules in theirs.items() if not rules}:
        out.append("the kept items differ")
    for w in ours.withheld:
        if w.rule not in theirs[w.hash]:
            out.append(f"{w.kind} {w.position}: ours {w.rule}, Cedar {sorted(theirs[w.hash])}")
    return out
