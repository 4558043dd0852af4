"""The map and timeline of the sightings, places and events the reader may see."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from tearline.markings.banner import banner_text
from tearline.store.audience import marking_from_body
from tearline.web import routes_reports
from tearline.web.app import NodeDep
from tearline.web.console.pages import PageRoute, Reader, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MAP_TYPES = ["sighting", "location", "x-tearline-event"]
MAP_LIMIT = 500  # points a page carries; beyond it the page says how many it leaves out
WHOLE_EARTH = "-180,-90,180,90"  # a box: only points whose coordinates the reader is shown


def map_items(node: Any, principal: Any, limit: int = MAP_LIMIT) -> tuple[list[dict[str, Any]], int]:
    """The API's search (audited, filtered in SQL): placed objects of the map's types, at most
    `limit` of them, and how many the reader may see in all (a count over what they may see)."""
    found = routes_reports.search(node, principal, type=MAP_TYPES, bbox=WHOLE_EARTH, limit=limit)["objects"]
    items = [o for o in found["items"] if o["latitude"] is not None and o["longitude"] is not None]
    return items, found["total"]


@router.get("/map")
def map_page(request: Request, node: NodeDep, principal: Reader) -> Response:
    items, total = map_items(node, principal)
    banner = None
    if items:
        with node.db.read() as session:
            table = node.table(session)
        banner = banner_text([marking_from_body(o["marking"]) for o in items], node.config.nation, table)
    points = [
        {
            "id": o["id"],
            "type": o["type"],
            "name": o["name"],
            "mark": o["marking"]["portion_mark"],
            "report": o["report"],
            "at": o["observed_at"],
            "lat": o["latitude"],
            "lon": o["longitude"],
            "of": o["properties"].get("sighting_of_ref"),
        }
        for o in items
    ]
    return render(request, "map.html", principal, banner=banner, points=points, total=total)
