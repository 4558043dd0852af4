"""A feed that held seals before the feed wrote the seal's extension-definition serves it too, once,
before its first seal. The feed wrote it only with a unit published later, after the seals it
already held, and a feed that took no unit since never had it; migration 0014 puts it ahead of
each feed's oldest row. Over HTTP on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import delete, select

from tearline.db.federation_tables import FeedObject
from tearline.db.migrate import alembic_config
from tearline.federation.collections import feed_id
from tearline.federation.seal import EXT_SEAL, SEAL_TYPE, seal_definition, units_of
from tearline.taxii.client import BearerAuth, TaxiiClient
from tests.federation.support import Pair
from tests.release.support import release_convoy_to_mexico


def _served(pair: Pair) -> list[dict[str, Any]]:
    collection = feed_id("USA", "US-DEMO-NARC", "MEX")
    with TaxiiClient(f"{pair.us_url}/taxii2/", auth=BearerAuth(pair.mex_token_on_us)) as client:
        pages = client.objects(f"{pair.us_url}/taxii2/tearline/", collection, limit=2)
        return [o for page in pages for o in page.items]


def _as_before(pair: Pair) -> None:
    """The feed as the code before the definition wrote it: seals, and no definition."""
    with pair.us.db.write() as session:
        session.execute(delete(FeedObject).where(FeedObject.stix_id == EXT_SEAL))


def _migrate(pair: Pair) -> None:
    config = alembic_config(pair.us.db.url)
    command.stamp(config, "0013", purge=True)  # as a node that had not yet applied what follows 0013
    command.upgrade(config, "heads")


def _defined_first(objects: list[dict[str, Any]]) -> None:
    defined = [i for i, o in enumerate(objects) if o["id"] == EXT_SEAL]
    first_seal = next(i for i, o in enumerate(objects) if o["type"] == SEAL_TYPE)
    assert len(defined) == 1 and defined[0] < first_seal, (defined, first_seal)
    assert objects[defined[0]] == seal_definition()


def test_a_feed_that_took_no_unit_since_is_given_the_definition(pair: Pair) -> None:
    release_convoy_to_mexico(pair.us, pair.demo)
    _as_before(pair)
    assert all(o["id"] != EXT_SEAL for o in _served(pair))
    _migrate(pair)
    objects = _served(pair)
    _defined_first(objects)
    assert len(units_of(objects)[0]) == 1
    _migrate(pair)  # a second run changes nothing
    assert _served(pair) == objects


def test_a_feed_that_took_a_unit_since_serves_the_definition_before_its_old_seals(pair: Pair) -> None:
    release_convoy_to_mexico(pair.us, pair.demo)
    _as_before(pair)
    release_convoy_to_mexico(pair.us, pair.demo)  # the feed writes the definition now, after the old seal
    _migrate(pair)
    objects = _served(pair)
    _defined_first(objects)
    units, rest = units_of(objects)
    assert (len(units), rest) == (2, [])
    with pair.us.db.read() as session:  # the copy was moved, not doubled
        assert len(session.scalars(select(FeedObject.id).where(FeedObject.stix_id == EXT_SEAL)).all()) == 1
