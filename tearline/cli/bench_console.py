"""`tearline bench console`: median page load of each console screen in Chromium (docs/benchmarks.md).

Each page is loaded `--rounds` times by a logged-in browser on the demo data. The figure is the
browser's own Navigation Timing, from the start of navigation to the end of the load event: the
server's audited read, the HTML, the CSS and the scripts. The map also reports when its basemap and
points are drawn. The target is 300 ms median per screen.
"""

from __future__ import annotations

import statistics
from typing import Annotated, Any

import typer
from rich.table import Table

from tearline.cli.bench import bench_app
from tearline.cli.common import console, reports_errors
from tearline.cli.console_browser import chromium, demo_site, logged_in
from tearline.fixtures import WORKSPACE

TARGET_MS = 300.0
LOAD_MS = "(() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; })()"


def screens(convoy: str, request: int | None) -> list[tuple[str, str, str]]:
    """(screen, who, path)"""
    return [
        ("log-in", "", "/login"),
        ("inbox", "dan.disclosure", "/inbox"),
        ("report", "ana.analyst", f"/reports/{convoy}"),
        ("editor", "ana.analyst", f"/reports/{convoy}/edit"),
        ("release review", "dan.disclosure", f"/review/{request}"),
        ("consent", "dan.disclosure", "/consent"),
        ("workspaces", "adam.admin", f"/workspaces/{WORKSPACE}"),
        ("map and timeline", "ana.analyst", "/map"),
        ("audit", "carla.auditor", f"/audit?object={convoy}"),
    ]


def _measure(page: Any, url: str, rounds: int, ready: str | None) -> tuple[list[float], list[float]]:
    loads, readies = [], []
    for _ in range(rounds):
        page.goto(url, wait_until="load")
        loads.append(float(page.evaluate(LOAD_MS)))
        if ready:
            page.wait_for_selector(ready)
            readies.append(float(page.evaluate("performance.now()")))
    return loads, readies


@bench_app.command("console")
@reports_errors
def bench_console(
    rounds: Annotated[int, typer.Option(min=3, help="Loads of each screen.")] = 21,
) -> None:
    """Median page load of each console screen in Chromium, on the demo data (target 300 ms)."""
    table = Table(title=f"console page loads in Chromium, demo data, {rounds} loads each (target ≤ {TARGET_MS:.0f} ms)")
    for column in ("screen", "median", "p90", "max", "drawn (map)"):
        table.add_column(column, justify="left" if column == "screen" else "right")
    with demo_site() as site, chromium() as browser:
        pages: dict[str, Any] = {}
        for name, who, path in screens(site.demo.reports["convoy"], site.demo.release_request):
            if who not in pages:
                pages[who] = logged_in(browser, site.url, who) if who else browser.new_context().new_page()
            ready = "#map[data-ready='1']" if path == "/map" else None
            loads, readies = _measure(pages[who], site.url + path, rounds, ready)
            median = statistics.median(loads)
            colour = "green" if median <= TARGET_MS else "red"
            p90 = statistics.quantiles(loads, n=10, method="inclusive")[-1]
            drawn = f"{statistics.median(readies):.0f} ms" if readies else "—"
            table.add_row(name, f"[{colour}]{median:.0f} ms[/]", f"{p90:.0f} ms", f"{max(loads):.0f} ms", drawn)
    console.print(table)
