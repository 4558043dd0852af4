"""Whatever a partner sends, decoding answers with drafts or InvalidInput, never with a crash."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tearline.errors import InvalidInput
from tearline.stix import bundle_to_drafts
from tests.stix.factories import registry, sample_bundle

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*prefix, i))
    return out


PATHS = [p for p in _paths(sample_bundle()) if p]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON, st.booleans()), min_size=1, max_size=3))
def test_any_mutation_is_decoded_or_refused(changes: list[tuple[tuple[Any, ...], Any, bool]]) -> None:
    bundle = sample_bundle()
    for path, value, delete in changes:
        parent: Any = bundle
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    try:
        bundle_to_drafts(bundle, registry())
    except InvalidInput as err:
        assert err.problems
