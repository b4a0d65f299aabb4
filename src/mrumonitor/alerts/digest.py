"""The e-mail digest of one subscription: its new alerts in words (plain text and HTML) and a small map.

A digest lists the alerts it is given grouped by confidence (high first, each group in the layer's order), at most
``alerts.max_alerts_per_digest`` of them: the rest are counted ("and N more: see the feed") and stay undelivered, so
the next digest lists them. Each alert says its message, its kind, confidence and period, and links its site to the
site's dossier on the dashboard. Every digest names the watched area and the run, says where the alerts come from
(the detections' credit, and that they are not checked in the field unless said), and gives the subscription's Atom
feed and how to stop the e-mails. Text that comes from data (site ids, labels) is escaped in the HTML. Everything
is written in the current language (`mrumonitor.i18n.use_language`: `deliver` sets the recipient's).

The map (`render_map`) is drawn offline with matplotlib (no basemap is fetched): the watched area, the country
outlines of the run and the alerts coloured by confidence, with a legend and the attribution.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from mrumonitor.alerts.feeds import dossier_url, feed_url
from mrumonitor.alerts.sentences import (
    CONFIDENCE_HEADINGS,
    alert_sentence,
    area_in_words,
    confidence_phrase,
    kinds_in_words,
)
from mrumonitor.alerts.subscriptions import Subscription
from mrumonitor.areas.resolve import WatchedArea
from mrumonitor.config import Settings
from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.i18n import N_, _, ngettext, number
from mrumonitor.i18n.messages import translate_text
from mrumonitor.i18n.vocabulary import word
from mrumonitor.schema import CONFIDENCE_LEVELS

#: The Content-ID of the map image: the HTML shows it as ``cid:MAP_CID`` (`mail.build_message` attaches it).
MAP_CID = "alert-map@mrumonitor"

#: Colours of the alert points by confidence on the map (and the dot before each alert in the HTML).
CONFIDENCE_COLOURS = {"high": "#c0392b", "medium": "#e67e22", "low": "#7f8c8d"}

CAVEAT = N_("Alerts come from satellite detections (CC BY 4.0 credit: %(credit)s) and have not been checked in the "
            "field unless said.")
#: How often a subscription's digests come, as its footer says it.
FREQUENCY_WORDS = {"run": N_("after every published run"), "weekly": N_("weekly"), "monthly": N_("monthly")}

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
    area = replace(area, label=area_in_words(area.label))  # as the reader names it ("Couloir frontalier ...")
    listed, more = _listed(alerts, settings.alerts.max_alerts_per_digest)
    url = settings.alerts.dashboard_url
    feed = feed_url(url, sub.feed_token, ".atom")
    count = ngettext("%(num)s new alert", "%(num)s new alerts", len(alerts))
    subject = _("mrumonitor: %(count)s in %(area)s (run %(run)s)", count=count, area=area.label, run=run_id)
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
                                  label=f"{confidence_phrase(level)} ({len(points)})"))
    axes.set_xlim(xmin, xmax)
    axes.set_ylim(ymin, ymax)
    axes.set_aspect(1 / max(np.cos(np.radians((ymin + ymax) / 2)), 0.1))
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_xlabel("")
    axes.set_ylabel("")
    axes.legend(handles=handles, loc="best", fontsize=7, framealpha=0.85)
    figure.text(0.01, 0.015, _("Detections: Earth Genome / Africa Mining Watch, CC BY 4.0. Outlines: the run's "
                               "reference layers. WGS84."), fontsize=6, color="#555555")
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
    frequency = FREQUENCY_WORDS.get(sub.frequency)
    return [_(CAVEAT, credit=translate_text(DETECTIONS_CREDIT)),
            _("All alerts of this subscription (Atom feed): %(feed)s", feed=feed),
            _("You receive this for subscription #%(id)s \"%(name)s\" (%(kinds)s; %(confidence)s or better; "
              "%(frequency)s). To stop it: `mrumonitor alerts remove %(id)s`, or remove it on the dashboard's Alerts "
              "page.", id=sub.id, name=sub.name, kinds=kinds_in_words(sub.kinds),
              confidence=confidence_phrase(sub.min_confidence),
              frequency=_(frequency) if frequency else sub.frequency)]


def _details(row, url: str) -> tuple[str, str]:
    """What one alert says besides its message, and its dossier link."""
    return (_("%(kind)s, %(confidence)s, period %(period)s, site %(site)s", kind=word("alert_kind", row.kind),
              confidence=confidence_phrase(row.confidence), period=row.period, site=row.site_id),
            dossier_url(url, row.site_id))


def _heading(level: str, rows) -> str:
    """The heading of a group of alerts of confidence `level`: "High confidence (3)"."""
    heading = CONFIDENCE_HEADINGS.get(level)
    return f"{_(heading) if heading else level} ({len(rows)})"


def _text(sub: Subscription, area: WatchedArea, count: str, run_id: str, groups, more: int, url: str,
          feed: str) -> str:
    lines = [_("%(count)s in %(area)s, published by run %(run)s.", count=count, area=area.label, run=run_id), ""]
    for level, rows in groups:
        lines.append(_heading(level, rows))
        for row in rows.itertuples():
            details, link = _details(row, url)
            lines += [f"- {alert_sentence(row)}", f"  {details}: {link}"]
        lines.append("")
    if more:
        lines += [_("and %(more)s more: see the feed %(feed)s", more=number(more), feed=feed), ""]
    return "\n".join(lines + _footer(sub, feed)) + "\n"


def _html(sub: Subscription, area: WatchedArea, count: str, run_id: str, groups, more: int, url: str,
          feed: str) -> str:
    e = html.escape
    bold = "<strong>%s</strong>"
    headline = _("%(count)s in %(area)s, published by run %(run)s.", count=bold % e(count), area=bold % e(area.label),
                 run=e(run_id))
    alt = e(_("Map of the alerts in %(area)s", area=area.label))
    parts = [f"<p>{headline}</p>", f'<p><img src="cid:{MAP_CID}" alt="{alt}" width="640" height="420"></p>']
    for level, rows in groups:
        parts.append(f"<h3>{e(_heading(level, rows))}</h3><ul>")
        for row in rows.itertuples():
            details, link = _details(row, url)
            dossier = e(_("dossier of %(site)s", site=row.site_id))
            parts.append(f'<li><span style="color:{CONFIDENCE_COLOURS[level]}">&#9679;</span> {e(alert_sentence(row))}'
                         f'<br><small>{e(details)}: <a href="{e(link)}">{dossier}</a></small></li>')
        parts.append("</ul>")
    if more:
        words = _("the feed")
        link = f'<a href="{e(feed)}">{e(words)}</a>'
        parts.append("<p>" + _("and %(more)s more: see %(link)s.", more=number(more), link=link) + "</p>")
    caveat, _in_text, stop = (e(line) for line in _footer(sub, feed))  # the HTML links the feed instead
    words = _("Atom feed")
    atom = f'<a href="{e(feed)}">{e(words)}</a>'
    parts += [f"<p><small>{caveat}</small></p>",
              "<p><small>" + _("All alerts of this subscription: %(atom)s.", atom=atom) + f" {stop}</small></p>"]
    return "<html><body>\n" + "\n".join(parts) + "\n</body></html>\n"
