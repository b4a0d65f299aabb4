"""The demo dashboard's pages as the browser tests visit them, and where their screenshots go."""

from __future__ import annotations

from pathlib import Path

#: The README's screenshots, rewritten by the browser tests.
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"

#: Every page of the demo's views file: (path, an element that shows its data is in).
PAGES = {
    "overview": ("/", "#overview-table td"),
    "map": ("/map", "#mainmap-map .leaflet-sites-pane .leaflet-interactive"),
    "unregistered": ("/unregistered", "#unreg-table td"),
    "border": ("/border", "#border-corridors td"),
    "area": ("/area", ".page-header h1"),
    "alerts": ("/alerts", ".page-header h1"),
    "verification": ("/verification", "#verification-estimates td"),
    "downloads": ("/downloads", "#download-sites-gpkg"),
    "runs": ("/runs", "#runs-table td"),
}
