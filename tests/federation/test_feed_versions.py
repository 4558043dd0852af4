"""Two live releases of one report, of two versions: the feed serves each as it was sealed.

Every tearline used to carry one fixed `created` and `modified`, so the second release's report
had the first one's version: the feed served it once, with the old text, and a puller holding
the second seal got an object that did not match its digest. Now each released report carries its
version's time as `modified` and its first version's as `created`; unchanged objects keep theirs.
On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from taxii2client.v21 import Server, as_pages

from tearline import clock
from tearline.audit import log
from tearline.db.release_tables import OutboxMessage
from tearline.federation import courier
from tearline.federation.feed import unit_for
from tearline.federation.peers import public_key
from tearline.federation.seal import digest, units_of, verify_unit
from tearline.store.content import version_content
from tests.federation.edits import EDIT, edit_first_portion
from tests.federation.support import Pair
from tests.federation.test_partner_interop import Bearer
from tests.release.support import release_convoy_to_mexico
from tests.taxii.support import assert_valid_stix


def two_releases(pair: Pair) -> tuple[str, list[Any]]:
    """The convoy released to MEX, edited, and released again; the report id and both units."""
    first = release_convoy_to_mexico(pair.us, pair.demo)
    edit_first_portion(pair.us, first.report_stix_id)
    second = release_convoy_to_mexico(pair.us, pair.demo)
    assert second.version_number == first.version_number + 1
    with pair.us.db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "release").order_by(OutboxMessage.id)
        messages = session.scalars(query)
        return first.report_stix_id, [unit_for(pair.us, m) for m in messages]


def _report_of(unit: Any, report: str) -> dict[str, Any]:
    found: dict[str, Any] = next(o for o in unit.objects if o["id"] == report)
    return found


def test_each_released_version_is_served_as_sealed(pair: Pair) -> None:
    report, (old, new) = two_releases(pair)
    old_report, new_report = _report_of(old, report), _report_of(new, report)
    assert EDIT not in str(old_report) and EDIT in str(new_report)
    assert old_report["created"] == new_report["created"] < new_report["modified"]
    assert old_report["modified"] < new_report["modified"]
    assert clock.parse_timestamp(new_report["modified"]).year == clock.now().year  # a real time, not a constant
    # An object the edit did not touch is the same version in both units.
    shared = {o["id"]: o for o in old.objects if o["type"] == "location"}
    assert shared and all(o == shared[o["id"]] for o in new.objects if o["id"] in shared)

    server = Server(f"{pair.us_url}/taxii2/", auth=Bearer(pair.mex_token_on_us))
    feed = next(c for c in server.default.collections if c.can_read)
    every = {"version": "all"}  # match[version]; without it TAXII serves the last version of each object only
    objects = [o for page in as_pages(feed.get_objects, per_request=7, **every) for o in page.get("objects", [])]
    assert_valid_stix(objects)
    assert len(objects) == len({(o["id"], digest(o)) for o in objects})  # no copy served twice
    units, rest = units_of(objects)
    assert rest == [] and len(units) == 2
    key = public_key(log.verifier_key(pair.us))
    for pulled in units:
        verify_unit(pulled, key)
    served = feed.get_objects(id=report, version="all")["objects"]
    assert sorted(digest(o) for o in served) == sorted([digest(old_report), digest(new_report)])
    versions = feed.object_versions(report)["versions"]
    assert versions == [old_report["modified"], new_report["modified"]]
    manifest = feed.get_manifest(id=report, version="all")["objects"]
    assert [m["version"] for m in manifest] == versions
    assert feed.get_object(report)["objects"] == [new_report]  # the last version by default

    assert courier.pull_all(pair.mex).pulled == 2  # the project's own pull path applies both units
    with pair.mex.db.read() as session:
        held = version_content(session, report)
    assert any(EDIT in i.text for i in held.items)

