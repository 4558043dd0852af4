"""Partners witness each other's logs, and the courier carries the cosignatures (issue 5 §3)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from tearline.audit import log
from tearline.db.models import Setting
from tearline.errors import Forbidden
from tearline.federation.peers import get_peer
from tearline.federation.witnessing import cosign_all, cosign_with, cosigned_by
from tests.federation.support import Pair
from tests.release.support import release_convoy_to_mexico

MEX_WITNESS = "tearline.mex.mx-demo-fia/witness"


def _size(pair: Pair) -> int:
    with pair.us.db.write() as session:
        return log.latest_checkpoint(session, log.node_log_signer(pair.us)).checkpoint.size


def test_a_registered_partner_cosigns_our_log_as_it_grows(pair: Pair) -> None:
    sizes, errors = cosign_all(pair.us)
    assert errors == [] and sizes == {"MEX": _size(pair)}
    assert cosigned_by(pair.us) == [MEX_WITNESS]
    first = sizes["MEX"]
    release_convoy_to_mexico(pair.us, pair.demo)  # the log grows
    again, errors = cosign_all(pair.us)
    assert errors == [] and again["MEX"] > first  # cosigned from the size it cosigned before
    assert cosigned_by(pair.us) == [MEX_WITNESS]


def test_a_partner_witness_that_changes_its_key_is_refused(pair: Pair) -> None:
    cosign_all(pair.us)
    with pair.us.db.write() as session:
        session.execute(update(Setting).where(Setting.key == "witness-vkey:MEX").values(value="other+00000000+AQ"))
    with pair.us.db.read() as session:
        peer = get_peer(session, "MEX")
        session.expunge(peer)
    with pytest.raises(Forbidden) as refused:
        cosign_with(pair.us, peer)
    assert refused.value.rule == "witness-key"
