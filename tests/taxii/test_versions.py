"""One object held in two reports has two versions in the holdings, one per report version."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline import clock
from tearline.db.models import Principal
from tearline.markings.marking import marking_from_dict
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.principals import issue_token
from tearline.store.reports import create_report
from tearline.taxii.routes import taxii_app
from tests.taxii.support import TAXII

SHARED = "identity--5b0e1c2d-3f4a-4b5c-8d6e-7f8091a2b3c4"
US_MX = {"originator": {"nation": "USA", "agency": "US-DEMO-NARC"}, "level": "SECRET", "rel_to": ["USA", "MEX"]}


def _two_reports(node: Node) -> str:
    start = clock.now().replace(microsecond=0)
    with node.db.write() as session:
        me = session.scalar(select(Principal).where(Principal.username == SERVICE_ACCOUNT))
        assert me is not None
        registry = node.registry(session)
        marking = marking_from_dict(US_MX, registry)
        for day, title in enumerate(["Courier seen in Nogales", "Courier seen in Agua Prieta"]):
            person = ObjectDraft(SHARED, "identity", {"name": "Ramiro Vela Ocampo", "identity_class": "individual"},
                                 marking, name="Ramiro Vela Ocampo")  # fmt: skip
            draft = ReportDraft(
                PortionDraft(title, marking), (PortionDraft(f"{title}, fictional.", marking),),
                "fictional predicate", start + timedelta(days=365), objects=(person,),
            )  # fmt: skip
            with clock.frozen_at(start + timedelta(hours=day)):
                create_report(session, draft, me, node.identity, registry)
        return str(issue_token(session, me))


def test_versions_first_last_and_all(node: Node) -> None:
    token = _two_reports(node)
    client = TestClient(taxii_app(node))
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII}
    [collection] = client.get("/tearline/collections/", headers=headers).json()["collections"]
    url = f"/tearline/collections/{collection['id']}/objects/"

    def copies(**params: str) -> list[str]:
        found = client.get(url, params={"match[id]": SHARED, **params}, headers=headers).json()["objects"]
        return [o["modified"] for o in found]

    versions = client.get(f"{url}{SHARED}/versions/", headers=headers).json()["versions"]
    assert len(versions) == 2 and versions == sorted(versions)
    assert copies() == [versions[1]]
    assert copies(**{"match[version]": "first"}) == [versions[0]]
    assert copies(**{"match[version]": "all"}) == versions
    assert copies(**{"match[version]": "first,last"}) == versions
    assert copies(**{"match[version]": versions[0]}) == [versions[0]]
    one = client.get(f"{url}{SHARED}/", headers=headers).json()["objects"]
    assert [o["modified"] for o in one] == [versions[1]]
    whole = client.get(url, params={"limit": 1000}, headers=headers).json()["objects"]
    assert [o["id"] for o in whole].count(SHARED) == 1
