"""A site dossier's context map: the site with its nearest border, official crossing and town (`dossier_notes`), in
a square box of the analysis CRS, as SVG for the page and as a PNG (matplotlib, Agg) for the PDF."""

from __future__ import annotations

import html as htmltext
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from mrumonitor.dashboard.dossier_notes import FieldNotes, Target
from mrumonitor.i18n import _, number

if TYPE_CHECKING:
    from mrumonitor.dashboard.run import RunData

#: Half-width of the context map around the site, at least (metres).
CONTEXT_MARGIN_M = 5000.0
#: Size of the context map (pixels, SVG; the PNG is drawn at the same aspect).
CONTEXT_SIZE = 600


@dataclass(frozen=True)
class ContextMap:
    """The site with its nearest border, official crossing and town, in a square box of the analysis CRS."""

    notes: FieldNotes
    box: tuple[float, float, float, float]
    outlines: list[tuple[str, shapely.Geometry]]
    borders: list[shapely.Geometry]
    posts: list[tuple[str, shapely.Point]]
    places: list[tuple[str, shapely.Point]]

    @classmethod
    def build(cls, data: RunData, notes: FieldNotes) -> ContextMap:
        targets = [t.point for t in (notes.border, notes.crossing, notes.town) if t is not None]
        minx, miny, maxx, maxy = shapely.bounds(shapely.union_all([notes.footprint, *targets]))
        half = max(CONTEXT_MARGIN_M, 0.58 * (maxx - minx), 0.58 * (maxy - miny))
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        box = (cx - half, cy - half, cx + half, cy + half)
        area = shapely.box(*box)
        ref = data.reference

        def inside(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
            return layer[layer.intersects(area)]

        return cls(notes=notes, box=box,
                   outlines=[(str(r.iso3), shapely.intersection(r.geometry, area))
                             for r in inside(ref.boundaries).itertuples()],
                   borders=[shapely.intersection(g, area) for g in inside(ref.borders).geometry],
                   posts=[(str(r.name), r.geometry) for r in inside(ref.border_posts).itertuples()
                          if r.kind == "official"],
                   places=[(str(r.name), r.geometry) for r in inside(ref.places).itertuples()])

    def links(self) -> list[tuple[str, Target]]:
        """The labelled lines from the site: (kind, target)."""
        return [(kind, t) for kind, t in (("border", self.notes.border), ("crossing", self.notes.crossing),
                                         ("town", self.notes.town)) if t is not None]

    @staticmethod
    def title(site_id: str) -> str:
        return _("%(site)s: nearest border, official crossing and town", site=site_id)

    def svg(self, site_id: str) -> str:
        """The map as SVG (north up, scale bar exact: the analysis CRS is in metres)."""
        x0, _, x1, y1 = self.box
        scale = CONTEXT_SIZE / (x1 - x0)

        def xy(x: float, y: float) -> tuple[float, float]:
            return (x - x0) * scale, (y1 - y) * scale

        def path(geom) -> str:
            rings = []
            for part in _lines(geom):
                pts = [xy(px, py) for px, py in np.asarray(part.coords)]
                rings.append("M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in pts))
            return " ".join(rings)

        esc = htmltext.escape
        out = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CONTEXT_SIZE} {CONTEXT_SIZE}" '
                f'width="{CONTEXT_SIZE}" height="{CONTEXT_SIZE}" font-family="sans-serif" font-size="12">'),
               f'<rect width="{CONTEXT_SIZE}" height="{CONTEXT_SIZE}" fill="#eef1ec"/>']
        for iso3, geom in self.outlines:
            out.append(f'<path d="{path(geom.boundary)}" fill="none" stroke="#9aa5b1" stroke-width="1"/>')
            if not geom.is_empty:
                px, py = xy(*geom.representative_point().coords[0])
                out.append(f'<text x="{px:.1f}" y="{py:.1f}" fill="#7b8794" font-size="16">{esc(iso3)}</text>')
        for geom in self.borders:
            out.append(f'<path d="{path(geom)}" fill="none" stroke="#222" stroke-width="2.5" '
                       'stroke-dasharray="8 5"/>')
        for name, point in self.places:
            px, py = xy(point.x, point.y)
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="#52606d"/>'
                       f'<text x="{px + 5:.1f}" y="{py - 4:.1f}" fill="#52606d">{esc(name)}</text>')
        for name, point in self.posts:
            px, py = xy(point.x, point.y)
            out.append(f'<rect x="{px - 5:.1f}" y="{py - 5:.1f}" width="10" height="10" fill="#fff" stroke="#000" '
                       f'stroke-width="2"/><text x="{px + 8:.1f}" y="{py + 4:.1f}">{esc(name)}</text>')
        sx, sy = xy(self.notes.site_point.x, self.notes.site_point.y)
        for kind, target in self.links():
            tx, ty = xy(target.point.x, target.point.y)
            colour = {"border": "#b2182b", "crossing": "#2166ac", "town": "#52606d"}[kind]
            out.append(f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{tx:.1f}" y2="{ty:.1f}" stroke="{colour}" '
                       f'stroke-width="1.5" stroke-dasharray="5 3"/>'
                       f'<text x="{(sx + tx) / 2 + 6:.1f}" y="{(sy + ty) / 2:.1f}" fill="{colour}" '
                       f'font-weight="bold">{esc(distance_label(target))}</text>')
        out.append(f'<path d="{path(self.notes.footprint.boundary)}" fill="none" stroke="#d7301f" stroke-width="2"/>'
                   f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="6" fill="#d7301f" stroke="#fff" stroke-width="2"/>'
                   f'<text x="{sx + 9:.1f}" y="{sy + 16:.1f}" font-weight="bold">{esc(site_id)}</text>')
        bar_m = round_length((x1 - x0) / 4)
        out.append(f'<g transform="translate(16,{CONTEXT_SIZE - 20})"><rect width="{bar_m * scale:.1f}" height="5" '
                   f'fill="#222"/><text y="-4">{esc(kilometres(bar_m))}</text></g>'
                   f'<text x="{CONTEXT_SIZE - 16}" y="22" text-anchor="end" font-weight="bold">{esc(north())}</text>'
                   f'<text x="16" y="22">{esc(self.title(site_id))}</text></svg>')
        return "".join(out)

    def png(self, site_id: str, dpi: int = 150) -> bytes:
        """The same map as a PNG (matplotlib, Agg), for the PDF."""
        from matplotlib.figure import Figure  # the Agg canvas: no display, no pyplot state

        fig = Figure(figsize=(6, 6), dpi=dpi)
        ax = fig.add_axes((0, 0, 1, 1))
        x0, y0, x1, y1 = self.box
        ax.set_xlim(x0, x1), ax.set_ylim(y0, y1), ax.set_aspect("equal"), ax.set_axis_off()
        ax.add_patch(_rectangle(self.box))
        for iso3, geom in self.outlines:
            for part in _lines(geom.boundary):
                ax.plot(*np.asarray(part.coords).T, color="#9aa5b1", lw=0.8)
        for geom in self.borders:
            for part in _lines(geom):
                ax.plot(*np.asarray(part.coords).T, color="#222", lw=2, ls=(0, (6, 4)))
        for name, point in self.places:
            ax.plot(point.x, point.y, "o", ms=3, color="#52606d")
            ax.annotate(name, (point.x, point.y), xytext=(4, 3), textcoords="offset points", fontsize=7,
                        color="#52606d")
        for name, point in self.posts:
            ax.plot(point.x, point.y, "s", ms=7, mfc="white", mec="black", mew=1.5)
            ax.annotate(name, (point.x, point.y), xytext=(6, -3), textcoords="offset points", fontsize=7)
        site = self.notes.site_point
        for kind, target in self.links():
            colour = {"border": "#b2182b", "crossing": "#2166ac", "town": "#52606d"}[kind]
            ax.plot([site.x, target.point.x], [site.y, target.point.y], color=colour, lw=1.2, ls="--")
            ax.annotate(distance_label(target),
                        ((site.x + target.point.x) / 2, (site.y + target.point.y) / 2), xytext=(5, 0),
                        textcoords="offset points", fontsize=8, color=colour, fontweight="bold")
        for part in _lines(self.notes.footprint.boundary):
            ax.plot(*np.asarray(part.coords).T, color="#d7301f", lw=1.5)
        ax.plot(site.x, site.y, "o", ms=8, color="#d7301f", mec="white", mew=1.5)
        ax.annotate(site_id, (site.x, site.y), xytext=(7, -12), textcoords="offset points", fontsize=9,
                    fontweight="bold")
        bar_m = round_length((x1 - x0) / 4)
        ax.plot([x0 + 0.03 * (x1 - x0), x0 + 0.03 * (x1 - x0) + bar_m], [y0 + 0.03 * (y1 - y0)] * 2, color="#222",
                lw=3)
        ax.annotate(kilometres(bar_m), (x0 + 0.03 * (x1 - x0), y0 + 0.045 * (y1 - y0)), fontsize=8)
        ax.annotate(north(), (0.95, 0.95), xycoords="axes fraction", ha="right", va="top", fontweight="bold")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        return buffer.getvalue()


def _lines(geom) -> list:
    """The line parts of `geom` (a line, a ring's boundary, or collections of them)."""
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type in ("LineString", "LinearRing"):
        return [geom]
    return [part for sub in getattr(geom, "geoms", []) for part in _lines(sub)]


def _rectangle(box):
    from matplotlib.patches import Rectangle

    return Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1], color="#eef1ec", zorder=0)


def distance_label(target: Target) -> str:
    """'Koindu: 12.3 km' in the user's language."""
    return _("%(name)s: %(distance)s km", name=target.name, distance=number(target.distance_km, 1))


def kilometres(metres: float) -> str:
    """A scale bar's length: '2 km', '0.5 km' (written the user's way)."""
    return _("%(distance)s km", distance=number(metres / 1000, 0 if metres >= 1000 else 1))


def north() -> str:
    """The north arrow's label."""
    return _("N ↑")


def round_length(metres: float) -> float:
    """A round length (1, 2 or 5 × 10^k m) not longer than `metres`."""
    power = 10 ** np.floor(np.log10(metres))
    return float(max(step * power for step in (1, 2, 5) if step * power <= metres))

