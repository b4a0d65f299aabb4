"""The "watch this area" form both the Area statistics and the Alerts pages show, and the subscription it makes.

The form's fields (a name, the e-mail address, which alert kinds, the lowest confidence, how often) have ids
``<prefix>-watch-<field>``, so each page has its own copy. `subscribe` is what the pages' callbacks call: it
takes the user from the request's session (never from the form), so a request posted by hand subscribes no
one else, and the subscriptions store checks the values (`Subscriptions.add` raises SubscriptionError). The
labels are marked `N_` and translated where shown, in the request's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import flask
from dash import State, dcc, html

from mrumonitor.alerts.sentences import area_in_words
from mrumonitor.alerts.subscriptions import Subscription, Subscriptions
from mrumonitor.areas.resolve import WatchedArea
from mrumonitor.config import Settings
from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import Access
from mrumonitor.i18n import N_, _
from mrumonitor.i18n.vocabulary import word
from mrumonitor.schema import ALERT_KINDS, CONFIDENCE_LEVELS, SUBSCRIPTION_FREQUENCIES
from mrumonitor.store.runs import resolve_run

#: The lowest confidence a subscription takes, in words.
CONFIDENCE_LABELS = {"high": N_("high only"), "medium": N_("medium or high"), "low": N_("any confidence")}
#: How often, in words.
FREQUENCY_LABELS = {"run": N_("after every published run"), "weekly": N_("weekly digest"),
                    "monthly": N_("monthly digest")}
#: The form's fields, in the order the pages' callbacks take them as State.
FIELDS = ("name", "email", "kinds", "confidence", "frequency")
#: Said under the form when logins are off.
SHARED_NOTE = N_("Logins are off: everyone using this dashboard shares the same subscriptions.")
#: The form's labels.
LABELS = {"name": N_("Name of this watch"), "email": N_("Send to (e-mail)"), "kinds": N_("Alert kinds"),
          "confidence": N_("Confidence"), "frequency": N_("How often")}


@dataclass(frozen=True)
class WatchForm:
    """The form's values as the browser sent them (checked by `Subscriptions.add`)."""

    name: str | None
    email: str | None
    kinds: list[str] | None
    confidence: str | None
    frequency: str | None


def shown_run() -> Path:
    """The folder of the run the dashboard shows (its name is the run id): what watched areas are resolved on and
    subscriptions start from. Read per request: "latest" follows new runs."""
    return resolve_run(context.settings().paths.store, flask.current_app.config[context.RUN_KEY])


def field_id(prefix: str, field: str) -> str:
    return f"{prefix}-watch-{field}"


def watch_states(prefix: str) -> list[State]:
    """The form's values as States, in the order of `FIELDS` (`WatchForm(*values)`)."""
    return [State(field_id(prefix, field), "value") for field in FIELDS]


def user_email(settings: Settings, access: Access) -> str:
    """The configured e-mail of the request's user ("" when none or logins are off)."""
    user = settings.dashboard.auth.users.get(access.user or "")
    return user.email if user else ""


def watch_fields(prefix: str, settings: Settings, access: Access, name: str = "") -> list:
    """The form's labelled fields, the e-mail prefilled with the user's configured address."""
    controls = {
        "name": dcc.Input(id=field_id(prefix, "name"), type="text", value=name, maxLength=120),
        "email": dcc.Input(id=field_id(prefix, "email"), type="email", value=user_email(settings, access)),
        "kinds": dcc.Checklist(id=field_id(prefix, "kinds"), value=list(ALERT_KINDS),
                               options=[{"label": " " + word("alert_kind", kind), "value": kind}
                                        for kind in ALERT_KINDS]),
        "confidence": dcc.Dropdown(id=field_id(prefix, "confidence"), clearable=False, value="medium",
                                   options=[{"label": _(CONFIDENCE_LABELS[c]), "value": c} for c in CONFIDENCE_LEVELS]),
        "frequency": dcc.Dropdown(id=field_id(prefix, "frequency"), clearable=False, value="run",
                                  options=[{"label": _(FREQUENCY_LABELS[f]), "value": f}
                                           for f in SUBSCRIPTION_FREQUENCIES]),
    }
    fields = [html.Div(className="filter", children=[html.Label(_(LABELS[field]), htmlFor=field_id(prefix, field)),
                                                     controls[field]]) for field in FIELDS]
    if not settings.dashboard.auth.enabled:
        fields.append(html.P(_(SHARED_NOTE), className="layer-note"))
    return fields


def subscribe(settings: Settings, access: Access, area: WatchedArea, form: WatchForm, run_id: str) -> Subscription:
    """Subscribe the request's user to alerts in `area` as `form` asks, from run `run_id` on (only alerts first
    published by a later run are sent).

    Raises
    ------
    SubscriptionError
        A value the subscriptions store refuses (an address that is not one, no kind, an unknown choice).
    ConfigError
        The subscriptions file cannot be written.
    """
    return Subscriptions(settings.subscriptions).add(
        name=(form.name or "").strip() or area.label, user=access.user or "", email=(form.email or "").strip(),
        area=area, kinds=form.kinds or [], min_confidence=form.confidence or "", frequency=form.frequency or "",
        since_run=run_id)


def subscribed_message(subscription: Subscription) -> html.P:
    """What the pages say once a subscription is made."""
    return html.P(_("Watching %(area)s as \"%(name)s\": %(frequency)s to %(email)s, alerts first published after the "
                    "run shown. Its feeds are under \"My subscriptions\" on the Alerts page.",
                    area=area_in_words(subscription.area_label), name=subscription.name,
                    frequency=_(FREQUENCY_LABELS[subscription.frequency]), email=subscription.email), className="ok")
