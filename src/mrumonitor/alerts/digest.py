"""The e-mail digest of one subscription: its new alerts in words (plain text and HTML) and a small map.

A digest lists the alerts it is given grouped by confidence (high first, each group in the layer's order), at most
``alerts.max_alerts_per_digest`` of them: the rest are counted ("and N more: see the feed") and stay undelivered, so
the next digest lists them. Each alert says its message, its kind, confidence and period, and links its site to the
site's dossier on the dashboard. Every digest names the watched area and the run, says where the alerts come from
(the detections' credit, and that they are not checked in the field unless said), and gives the subscription's Atom
feed and how to stop the e-mails. Text that comes from data (site ids, messages, labels) is escaped in the HTML.

The map (`render_map`) is drawn offline with matplotlib (no basemap is fetched): the watched area, the country
outlines of the run and the alerts coloured by confidence, with a legend and the attribution.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from mrumonitor.alerts.feeds import dossier_url, feed_url
from mrumonitor.alerts.subscriptions import Subscription
from mrumonitor.areas.resolve import WatchedArea
from mrumonitor.config import Settings
from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.schema import ALERT_KIND_WORDS, CONFIDENCE_LEVELS

#: The Content-ID of the map image: the HTML shows it as ``cid:MAP_CID`` (`mail.build_message` attaches it).
MAP_CID = "alert-map@mrumonitor"

#: Colours of the alert points by confidence on the map (and the dot before each alert in the HTML).
CONFIDENCE_COLOURS = {"high": "#c0392b", "medium": "#e67e22", "low": "#7f8c8d"}

CAVEAT = (f"Alerts come from satellite detections (CC BY 4.0 credit: {DETECTIONS_CREDIT}) and have not been "
          "checked in the field unless said.")

_MAP_SIZE_IN, _MAP_DPI = (6.4, 4.2), 100  # 640 x 420 pixels


@dataclass(frozen=True)
class Digest:
    """One e-mail's content: subject, plain text, HTML (showing the map as ``cid:MAP_CID``), the map as PNG, and the
    ids of the alerts it lists (those a sent digest marks delivered)."""

    subject: str
    text: str
    html: str
    map_png: bytes
    alert_ids: list[str]


def compose_digest(sub: Subscription, area: WatchedArea, alerts: gpd.GeoDataFrame, run_id: str,
                   settings: Settings, outlines: gpd.GeoDataFrame | None = None) -> Digest:
    """The digest of `alerts` (WGS84, ALERT_COLUMNS; at least one) for subscription `sub` watching `area`.

    Parameters
    ----------
    sub : Subscription
        Names the feed and the subscription in the footer.
    area : WatchedArea
        Its label is said in the subject and the body; its outline is drawn on the map.
    alerts : GeoDataFrame
        The alerts to send, in WGS84.
    run_id : str
        The run that published them.
    settings : Settings
        ``alerts.dashboard_url`` (dossier and feed links) and ``alerts.max_alerts_per_digest``.
    outlines : GeoDataFrame, optional
        Country outlines (WGS84) drawn on the map.
    """
    listed, more = _listed(alerts, settings.alerts.max_alerts_per_digest)
    url = settings.alerts.dashboard_url
    feed = feed_url(url, sub.feed_token, ".atom")
    count = f"{len(alerts)} new alert{'' if len(alerts) == 1 else 's'}"
    subject = f"mrumonitor: {count} in {area.label} (run {run_id})"
    groups = [(level, listed[listed["confidence"] == level]) for level in CONFIDENCE_LEVELS]
    groups = [(level, rows) for level, rows in groups if len(rows)]
    map_png = render_map(area, listed, outlines)
    text = _text(sub, area, count, run_id, groups, more, url, feed)
    body = _html(sub, area, count, run_id, groups, more, url, feed)
    return Digest(subject, text, body, map_png, listed["alert_id"].astype(str).tolist())


def render_map(area: WatchedArea, alerts: gpd.GeoDataFrame, outlines: gpd.GeoDataFrame | None) -> bytes:
    """A 640 x 420 PNG of the watched area (outline), the country outlines and the alert points coloured by
    confidence, with a legend and the attribution; drawn offline (no basemap)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    figure = Figure(figsize=_MAP_SIZE_IN, dpi=_MAP_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.01, 0.07, 0.98, 0.92))
    xmin, ymin, xmax, ymax = _extent(area, alerts)
    if outlines is not None and len(outlines):
        outlines.boundary.plot(ax=axes, color="#95a5a6", linewidth=0.8)
    gpd.GeoSeries([area.geometry], crs=4326).boundary.plot(ax=axes, color="#2c3e50", linewidth=1.6)
    handles = [Line2D([], [], color="#2c3e50", linewidth=1.6, label=_short(area.label))]
    for level in CONFIDENCE_LEVELS:
        points = alerts[alerts["confidence"] == level]
        if len(points):
            axes.scatter(points.geometry.x, points.geometry.y, s=36, color=CONFIDENCE_COLOURS[level],
                         edgecolors="white", linewidths=0.6, zorder=3)
            handles.append(Line2D([], [], marker="o", linestyle="", color=CONFIDENCE_COLOURS[level],
                                  label=f"{level} confidence ({len(points)})"))
    axes.set_xlim(xmin, xmax)
    axes.set_ylim(ymin, ymax)
    axes.set_aspect(1 / max(np.cos(np.radians((ymin + ymax) / 2)), 0.1))
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_xlabel("")
    axes.set_ylabel("")
    axes.legend(handles=handles, loc="best", fontsize=7, framealpha=0.85)
    figure.text(0.01, 0.015, "Detections: Earth Genome / Africa Mining Watch, CC BY 4.0. Outlines: the run's "
                "reference layers. WGS84.", fontsize=6, color="#555555")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_MAP_DPI)
    return buffer.getvalue()


def _listed(alerts: gpd.GeoDataFrame, limit: int) -> tuple[gpd.GeoDataFrame, int]:
    """The alerts the digest lists (best confidence first, the layer's order within one) and how many are left."""
    rank = pd.Categorical(alerts["confidence"], categories=CONFIDENCE_LEVELS, ordered=True)
    ordered = alerts.iloc[np.argsort(rank.codes, kind="stable")]
    return ordered.head(limit), max(len(alerts) - limit, 0)


def _extent(area: WatchedArea, alerts: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """The map's bounds: the area and the alerts, padded by a tenth (at least 0.05 degree)."""
    bounds = np.array([area.geometry.bounds, *([alerts.total_bounds] if len(alerts) else [])])
    xmin, ymin = bounds[:, 0].min(), bounds[:, 1].min()
    xmax, ymax = bounds[:, 2].max(), bounds[:, 3].max()
    pad = max(xmax - xmin, ymax - ymin, 0.5) * 0.1
    return xmin - pad, ymin - pad, xmax + pad, ymax + pad


def _short(label: str, width: int = 48) -> str:
    return label if len(label) <= width else label[:width - 1] + "…"


def _footer(sub: Subscription, feed: str) -> list[str]:
    """The plain-text lines on where the alerts come from and how to follow or stop the subscription."""
    return [CAVEAT,
            f"All alerts of this subscription (Atom feed): {feed}",
            (f"You receive this for subscription #{sub.id} \"{sub.name}\" ({', '.join(sub.kinds)}; "
            f"{sub.min_confidence} confidence or better; {sub.frequency}). To stop it: `mrumonitor alerts remove "
            f"{sub.id}`, or remove it on the dashboard's Alerts page.")]


def _details(row, url: str) -> tuple[str, str]:
    """What one alert says besides its message, and its dossier link."""
    return (f"{ALERT_KIND_WORDS.get(row.kind, row.kind)}, {row.confidence} confidence, period {row.period}, site {row.site_id}",
            dossier_url(url, row.site_id))


def _text(sub: Subscription, area: WatchedArea, count: str, run_id: str, groups, more: int, url: str,
          feed: str) -> str:
    lines = [f"{count} in {area.label}, published by run {run_id}.", ""]
    for level, rows in groups:
        lines.append(f"{level.capitalize()} confidence ({len(rows)})")
        for row in rows.itertuples():
            details, link = _details(row, url)
            lines += [f"- {row.message}", f"  {details}: {link}"]
        lines.append("")
    if more:
        lines += [f"and {more} more: see the feed {feed}", ""]
    return "\n".join(lines + _footer(sub, feed)) + "\n"


def _html(sub: Subscription, area: WatchedArea, count: str, run_id: str, groups, more: int, url: str,
          feed: str) -> str:
    e = html.escape
    parts = [f"<p><strong>{e(count)} in {e(area.label)}</strong>, published by run {e(run_id)}.</p>",
             f'<p><img src="cid:{MAP_CID}" alt="Map of the alerts in {e(area.label)}" width="640" height="420"></p>']
    for level, rows in groups:
        parts.append(f"<h3>{e(level.capitalize())} confidence ({len(rows)})</h3><ul>")
        for row in rows.itertuples():
            details, link = _details(row, url)
            parts.append(f'<li><span style="color:{CONFIDENCE_COLOURS[level]}">&#9679;</span> {e(row.message)}<br>'
                         f'<small>{e(details)}: <a href="{e(link)}">dossier of {e(row.site_id)}</a></small></li>')
        parts.append("</ul>")
    if more:
        parts.append(f'<p>and {more} more: see <a href="{e(feed)}">the feed</a>.</p>')
    caveat, _, stop = (e(line) for line in _footer(sub, feed))
    parts += [f"<p><small>{caveat}</small></p>",
              f'<p><small>All alerts of this subscription: <a href="{e(feed)}">Atom feed</a>. {stop}</small></p>']
    return "<html><body>\n" + "\n".join(parts) + "\n</body></html>\n"
