"""What the Area statistics page shows of an `AreaStatistics`: the area in words, the per-period table and chart,
licences, borders and crossings, caveats, and the file of its sites.

The statistics come from `mrumonitor.areas.stats` already cut to the user's country (an agency user); this
module only writes them for people, in the request's language: headers and codes in words, dates the language's
way, hectares with one decimal (numbers stay numbers in the tables, so that they sort), the chart's y axis from 0.
The file of sites keeps the layer's canonical column names.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from dash import dcc, html

from mrumonitor.alerts.sentences import area_in_words
from mrumonitor.areas.files import AreaUpload
from mrumonitor.areas.stats import AreaStatistics, write_area_sites
from mrumonitor.config import Settings
from mrumonitor.dashboard.components import frame_table, graph
from mrumonitor.dashboard.figures import axis, figure, values
from mrumonitor.dashboard.link_table import link_table, site_link
from mrumonitor.dashboard.security import max_request_bytes
from mrumonitor.i18n import N_, _, day, ngettext, number, plotly_separators
from mrumonitor.i18n.messages import translate_text
from mrumonitor.i18n.vocabulary import word
from mrumonitor.schema import NOT_MINING_CLASS, REGISTRATION_CLASSES
from mrumonitor.style import REGISTRATION_CSS

#: Component ids of the statistics (the browser test reads `PERIODS`).
PERIODS, CHART, LICENCES, BORDERS, CROSSINGS, SUMMARY, SITES = (
    "area-periods", "area-chart", "area-licences", "area-borders", "area-crossings", "area-summary", "area-sites")

#: Headers of the per-period table; the "<class>_ha" columns follow as "<class> (ha)".
PERIOD_HEADERS = {"period": N_("Period"), "sites": N_("Sites"), "active_ha": N_("Active mined area (ha)"),
                  "registered_ha": N_("Registered (ha)"), "unregistered_ha": N_("Unregistered (ha)"),
                  "unregistered_share": N_("Unregistered share (%)")}
LICENCE_HEADERS = {"licence_id": N_("Licence"), "country": N_("Country"), "holder": N_("Holder"),
                   "licence_type": N_("Type"), "commodity": N_("Commodity"), "status": N_("Status"),
                   "expires": N_("Expires"), "overlap_ha": N_("Inside the area (ha)")}
BORDER_HEADERS = {"border_pair": N_("Border"), "dist_km": N_("Distance (km)")}
SITE_HEADERS = {"site_id": N_("Site"), "country": N_("Country"), "registration": N_("Registration"),
                "area_ha": N_("Area (ha)"), "first_seen": N_("First seen"), "last_seen": N_("Last seen"),
                "commodity": N_("Commodity")}
CROSSING_HEADERS = {"name": N_("Border post"), "kind": N_("Kind"), "country": N_("Country"),
                    "neighbour": N_("Towards"), "dist_km": N_("Distance (km)")}
#: Columns whose codes are shown in words: column -> the `vocabulary.WORDS` kind.
VOCABULARY = {"country": "country", "neighbour": "country", "registration": "registration",
              "licence_type": "licence_type", "status": "licence_status"}
#: Bytes a request carries beyond the file's base64 text (the callback's JSON).
_REQUEST_OVERHEAD = 16 * 1024
#: The formats of the sites' download, by the button's name.
SITE_FORMATS = {"geojson": ".geojson", "csv": ".csv"}


def upload_limit(settings: Settings) -> int:
    """The largest file the page takes, in bytes: ``[alerts] max_area_file_mb``, and no more than a request to the
    dashboard may carry once the browser has written it in base64 (``[dashboard] max_request_kb``)."""
    in_request = (max_request_bytes(settings.dashboard) - _REQUEST_OVERHEAD) * 3 // 4
    return min(int(settings.alerts.max_area_file_mb * 1024 * 1024), in_request)


def class_column(name: str) -> str:
    return f"{name}_ha"


def period_table(periods: pd.DataFrame) -> pd.DataFrame:
    """The per-period figures with headers in words, areas and the share with one decimal (the share in %)."""
    table = periods.copy()
    table["unregistered_share"] = table["unregistered_share"] * 100
    # the "registered" class is the registered_ha column already
    classes = {class_column(name): _("%(class)s (ha)", **{"class": word("registration", name)})
               for name in REGISTRATION_CLASSES
               if class_column(name) in table and class_column(name) not in PERIOD_HEADERS}
    table = table[[*PERIOD_HEADERS, *classes]].rename(columns={**headers(PERIOD_HEADERS), **classes})
    return table.round(1)


def headers(columns: dict[str, str]) -> dict[str, str]:
    """Column ids with their headers in the request's language."""
    return {column: _(header) for column, header in columns.items()}


def period_figure(periods: pd.DataFrame) -> dict:
    """Stacked bars of the hectares of each registration class per period (not the area the field found not to
    be mining), the y axis from 0."""
    traces = [{"type": "bar", "name": word("registration", name), "x": values(periods["period"]),
               "y": values(periods[class_column(name)].round(1)), "marker": {"color": REGISTRATION_CSS[name]}}
              for name in REGISTRATION_CLASSES if name != NOT_MINING_CLASS
              and class_column(name) in periods and periods[class_column(name)].fillna(0).gt(0).any()]
    return figure(traces, barmode="stack", height=320, margin={"l": 60, "r": 10, "t": 10, "b": 40},
                  xaxis=axis(_("period"), type="category"),
                  yaxis=axis(_("active mined area (ha)"), rangemode="tozero"), legend={"orientation": "h", "y": -0.25},
                  separators=plotly_separators())


def _renamed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """`frame`'s columns of `columns`, renamed to their headers in words: codes in words (`VOCABULARY`), dates the
    language's way, numbers with one decimal."""
    shown = pd.DataFrame(frame[[column for column in columns if column in frame]])
    written = {}
    for column in shown:
        if pd.api.types.is_datetime64_any_dtype(shown[column]):
            written[column] = shown[column].map(lambda value: "" if pd.isna(value) else day(value))
        elif column in VOCABULARY:
            written[column] = shown[column].map(lambda code, kind=VOCABULARY[column]: word(kind, code))
    return shown.assign(**written).rename(columns=headers(columns)).round(1)


def area_summary(upload: AreaUpload, stats: AreaStatistics) -> html.Div:
    """The area in words: its name, km², the features read and those left out with why and the fix."""
    text = ngettext("%(name)s: %(km2)s km², %(num)s feature read; statistics of run %(run)s.",
                    "%(name)s: %(km2)s km², %(num)s features read; statistics of run %(run)s.", upload.features,
                    name=area_in_words(upload.name), km2=number(stats.area_km2, 1), run=stats.run_id)
    if stats.country:
        text += " " + _("Figures of %(country)s only (your role).", country=word("country", stats.country))
    lines = [html.P(text)]
    if len(upload.quarantine):
        lines.append(html.P(ngettext("%(num)s feature left out:", "%(num)s features left out:",
                                     len(upload.quarantine)), className="error"))
        lines.append(html.Ul([html.Li(_("feature %(number)s: %(reason)s (%(fix)s)", number=row.feature,
                                        reason=row.reason, fix=row.fix))
                              for row in upload.quarantine.itertuples()]))
    return html.Div(lines, id=SUMMARY)


def statistics_section(upload: AreaUpload, stats: AreaStatistics) -> list:
    """Everything the page shows of `stats`."""
    def card(title: str, child) -> html.Div:
        return html.Div(className="card", children=[html.H2(title), child])

    def table_or_none(table_id: str, frame: pd.DataFrame, headers: dict[str, str], none: str):
        return frame_table(table_id, _renamed(frame, headers)) if len(frame) else html.P(none, id=table_id)

    caveats = html.Ul([html.Li(translate_text(caveat)) for caveat in stats.caveats], className="caveats")
    return [
        card(_("The area"), area_summary(upload, stats)),
        card(_("Mining in the area, period by period"), html.Div([
            frame_table(PERIODS, period_table(stats.periods), page_size=20),
            graph(CHART, period_figure(stats.periods))])),
        card(_("Licences in the area (the cadastre in force now)"), table_or_none(
            LICENCES, stats.licences, LICENCE_HEADERS, _("No licence of the cadastre in force now intersects the area."))),
        html.Div(className="grid-2-even", children=[
            card(_("Nearest borders"), table_or_none(BORDERS, stats.borders, BORDER_HEADERS,
                                                     _("No border in the run."))),
            card(_("Nearest border crossings"), table_or_none(CROSSINGS, stats.crossings, CROSSING_HEADERS,
                                                              _("No border post in the run.")))]),
        card(_("Sites in the area (%(count)s)", count=number(len(stats.sites))), sites_table(stats)),
        *([card(_("Caveats"), caveats)] if stats.caveats else []),
    ]


def sites_table(stats: AreaStatistics):
    """The area's sites (an agency user's country only), each linked to its dossier, largest first."""
    if not len(stats.sites):
        return html.P(_("No site in the area."), id=SITES)
    sites = pd.DataFrame(stats.sites.drop(columns="geometry")).sort_values("area_ha", ascending=False)
    shown = _renamed(sites.assign(site_id=sites["site_id"].map(site_link)), SITE_HEADERS)
    return link_table(SITES, shown.astype(object).where(shown.notna(), None).to_dict("records"),
                      {header: header for header in shown.columns}, (_(SITE_HEADERS["site_id"]),))


def sites_download(stats: AreaStatistics, fmt: str) -> dict:
    """The area's sites (those `stats` holds: an agency user's country only) as a `dcc.Download` file."""
    with tempfile.TemporaryDirectory(prefix="mrumonitor-area-") as folder:
        path = write_area_sites(stats, Path(folder) / f"area-sites-{stats.run_id}{SITE_FORMATS[fmt]}")
        return dcc.send_file(str(path))
