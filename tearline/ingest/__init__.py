"""Ways in and out in bulk: STIX 2.1 bundles, CSV files with a column mapping, and export.

Every way in builds `tearline.store.drafts` and stores them through `create_report`, all or
nothing: one bad object or line refuses the whole file, naming each problem.
"""

from tearline.ingest.bundle import ingest_bundle
from tearline.ingest.csvfile import ingest_csv
from tearline.ingest.export import export_bundle
from tearline.ingest.files import ingest_file
from tearline.ingest.store import IngestResult

__all__ = ["IngestResult", "export_bundle", "ingest_bundle", "ingest_csv", "ingest_file"]
