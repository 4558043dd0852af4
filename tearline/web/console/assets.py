"""The console's browser libraries, copied from the project's npm install into the package.

`scripts/setup.sh` runs `npm ci` (from package-lock.json) and then this module, so every asset is
served by the node itself: these nodes run on closed networks, and nothing loads from a CDN.
"""

from __future__ import annotations

import shutil
from pathlib import Path

STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor"
# (file in node_modules, where it is served under /static/vendor)
VENDOR_FILES = [
    ("leaflet/dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet/dist/leaflet.css", "leaflet/leaflet.css"),
    ("leaflet/dist/images/marker-icon.png", "leaflet/images/marker-icon.png"),
    ("leaflet/dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
    ("leaflet/dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
    ("leaflet/dist/images/layers.png", "leaflet/images/layers.png"),
    ("leaflet/LICENSE", "leaflet/LICENSE"),
    ("topojson-client/dist/topojson-client.min.js", "topojson-client/topojson-client.min.js"),
    ("topojson-client/LICENSE", "topojson-client/LICENSE"),
    ("world-atlas/countries-50m.json", "world-atlas/countries-50m.json"),
    ("world-atlas/LICENSE", "world-atlas/LICENSE"),
]


def missing() -> list[str]:
    """Vendored files that are not in the package yet (run `scripts/setup.sh`)."""
    return [served for _, served in VENDOR_FILES if not (VENDOR / served).is_file()]


def vendor(node_modules: Path) -> None:
    for source, served in VENDOR_FILES:
        target = VENDOR / served
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(node_modules / source, target)
