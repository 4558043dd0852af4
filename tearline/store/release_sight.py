"""What of one of our releases a reader may see (DESIGN §3.3), one rule for every place that shows
it: the releases list and the live stream's news of its recall."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tearline.db.release_tables import Release
from tearline.errors import NotFound
from tearline.store.content import VersionContent, version_content
from tearline.store.filters import Reader
from tearline.store.reader_versions import shown_version
from tearline.store.reads import visible_hashes


def release_sight(session: Session, reader: Reader, release: Release) -> tuple[VersionContent, set[str], int] | None:
    """What of a release this reader may see: its version, the kept items they see in it, and the number
    they know that version by; None if they see none of it, and then it is not there for them (the
    releases list, and the live stream's news of its recall)."""
    try:
        content = version_content(session, release.report_stix_id, release.version_number)
    except NotFound:
        return None
    seen = visible_hashes(session, reader, content.version_id, list(release.kept_hashes))
    number = shown_version(session, reader, release.report_stix_id, content.version_id)
    if not seen or number is None:
        return None
    return content, seen, number
