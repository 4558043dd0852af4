"""The wire format: STIX 2.1 bundles with national markings, marked portions and structured objects.

`bundle_to_drafts` reads a bundle into report drafts (a fast structural check, all or nothing);
`bundle_for` writes what a reader may see as a bundle. The shape is described in docs/ingest.md.
"""

from tearline.stix.decode import bundle_to_drafts
from tearline.stix.definitions import marking_definition, marking_refs
from tearline.stix.encode import bundle_for
from tearline.stix.ids import marking_definition_id

__all__ = ["bundle_for", "bundle_to_drafts", "marking_definition", "marking_definition_id", "marking_refs"]
