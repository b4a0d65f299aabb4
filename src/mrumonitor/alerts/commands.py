"""`mrumonitor alerts`: watch an area, list and remove subscriptions, their feeds, and deliver the digests."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pandas as pd

from mrumonitor.config import Settings, load_settings
from mrumonitor.console import config_option, frame_table, out
from mrumonitor.errors import SubscriptionError

#: The area options of `alerts watch`, by the area kind each names.
AREA_OPTIONS = {"country": "country", "corridor": "corridor", "admin": "admin", "licence": "licence",
                "upload": "area_file"}

#: A subscription's frequency in words.
_EVERY = {"run": "after every run", "weekly": "at most weekly", "monthly": "at most monthly"}
_run_option = click.option("--run", default="latest", show_default=True, metavar="RUN",
                           help="The run to read (a run id, or latest).")


@click.group()
def alerts() -> None:
    """Alerts by e-mail digest, Atom feed and GeoJSON for the areas people watch.

    `alerts watch` subscribes an address to a country, border corridor, admin area, licence or an area file;
    each published run then mails it the new alerts inside the area (`alerts deliver` does it by hand), and its
    Atom and GeoJSON feeds list them. `alerts status` says what was sent and what failed.
    """


@alerts.command("watch")
@config_option
@click.option("--email", default=None, metavar="ADDRESS",
              help="Where the digests go. Default: the user's email in [dashboard.auth.users.<user>].")
@click.option("--user", default=None, metavar="USER",
              help="The dashboard user subscribing (required with logins on; an agency user gets its country's "
                   "alerts only).")
@click.option("--country", default=None, metavar="ISO3", help="Watch a country.")
@click.option("--corridor", default=None, metavar="ID", help="Watch a border corridor (its corridor_id).")
@click.option("--admin", default=None, metavar="LEVEL:NAME", help="Watch an admin area, e.g. district:Kailahun.")
@click.option("--licence", default=None, metavar="ID", help="Watch a licence in force (its licence_id).")
@click.option("--area", "area_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Watch the polygons of a GeoJSON, GeoPackage or zipped Shapefile.")
@click.option("--kinds", multiple=True, metavar="KIND",
              help="Alert kinds to receive (repeat, or separate by commas). Default: all of them.")
@click.option("--min-confidence", default="medium", show_default=True,
              type=click.Choice(["low", "medium", "high"]), help="The least confidence an alert must have.")
@click.option("--every", "frequency", default="run", show_default=True, type=click.Choice(["run", "weekly", "monthly"]),
              help="Digest after every run, or at most one a week or a month.")
@click.option("--name", default=None, help="A name for the subscription. Default: the area's name.")
def watch(config_file: Path | None, email: str | None, user: str | None, kinds: tuple[str, ...],
          min_confidence: str, frequency: str, name: str | None, **areas: str | Path | None) -> None:
    """Subscribe an address to the alerts of one area (give exactly one of --country, --corridor, --admin,
    --licence, --area). Named areas are looked up in the latest run now; only alerts first published by a later
    run are sent."""
    from mrumonitor.alerts.feeds import FEED_TYPES, feed_url
    from mrumonitor.alerts.subscriptions import Subscriptions
    from mrumonitor.store.runs import latest_run_id

    settings = load_settings(config_file)
    given = {kind: areas[option] for kind, option in AREA_OPTIONS.items() if areas[option] is not None}
    if len(given) != 1:
        raise SubscriptionError("give exactly one area to watch: --country, --corridor, --admin, --licence or "
                                f"--area (got {len(given) or 'none'}).")
    (kind, ref), = given.items()
    user = _subscriber(settings, user)
    area, note = _watched_area(settings, user, kind, ref)
    sub = Subscriptions(settings.subscriptions).add(
        name=name or area.label[:100], user=user, email=email or _user_email(settings, user), area=area,
        kinds=[part for item in kinds for part in item.replace(",", " ").split()], min_confidence=min_confidence,
        frequency=frequency, since_run=latest_run_id(settings.paths.store) or "")
    out.print(f"subscription {sub.id} ({sub.name}): {sub.area_label} -> {sub.email}, {', '.join(sub.kinds)}, "
              f"confidence {sub.min_confidence} or better, {_EVERY[sub.frequency]}.")
    if note:
        out.print(note)
    for suffix in FEED_TYPES:
        out.print(f"feed: {feed_url(settings.alerts.dashboard_url, sub.feed_token, suffix)}", soft_wrap=True)


@alerts.command("list")
@config_option
@click.option("--user", default=None, metavar="USER", help="Only this user's subscriptions.")
def list_command(config_file: Path | None, user: str | None) -> None:
    """The active subscriptions, with when each was last sent a digest."""
    from mrumonitor.alerts.subscriptions import Subscriptions

    settings = load_settings(config_file)
    book = Subscriptions(settings.subscriptions)
    subs = book.list(user)
    if not subs:
        out.print("No subscription yet: `mrumonitor alerts watch --email ADDRESS --country SLE` makes one.")
        return
    out.print(frame_table("Alert subscriptions", pd.DataFrame([{
        "id": sub.id, "name": sub.name, "user": sub.user or "-", "email": sub.email, "area": sub.area_label,
        "kinds": ", ".join(sub.kinds), "min confidence": sub.min_confidence, "every": sub.frequency,
        "last sent": _when(book.last_sent(sub.id))} for sub in subs])))


@alerts.command("remove")
@config_option
@click.argument("subscription_id", type=int, metavar="ID")
@click.option("--user", default=None, metavar="USER", help="Remove it only if this user holds it.")
def remove(config_file: Path | None, subscription_id: int, user: str | None) -> None:
    """Stop a subscription (what was sent to it stays recorded)."""
    from mrumonitor.alerts.subscriptions import Subscriptions

    Subscriptions(load_settings(config_file).subscriptions).remove(subscription_id, user)
    out.print(f"subscription {subscription_id} removed.")


@alerts.command("feed")
@config_option
@click.argument("subscription_id", type=int, metavar="ID")
@_run_option
@click.option("-o", "--out", "out_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Atom feed to this file. Default: print it.")
def feed(config_file: Path | None, subscription_id: int, run: str, out_file: Path | None) -> None:
    """The Atom feed of a subscription: every alert of the run it gets (as its feed address serves it)."""
    from mrumonitor.alerts.feeds import atom_feed
    from mrumonitor.alerts.select import feed_alerts
    from mrumonitor.alerts.subscriptions import Subscriptions
    from mrumonitor.store.runs import resolve_run

    settings = load_settings(config_file)
    sub = Subscriptions(settings.subscriptions).get(subscription_id)
    run_dir = resolve_run(settings.paths.store, run)
    alerts_found = feed_alerts(settings, sub, run_dir)
    _write(atom_feed(sub, alerts_found, run_dir.name, settings.alerts.dashboard_url), out_file,
           f"{len(alerts_found)} alerts")


@alerts.command("geojson")
@config_option
@click.option("--subscription", "subscription_id", type=int, default=None, metavar="ID",
              help="Only the alerts this subscription gets. Default: every alert of the run.")
@_run_option
@click.option("-o", "--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The GeoJSON file to write.")
def geojson(config_file: Path | None, subscription_id: int | None, run: str, out_file: Path) -> None:
    """The alerts of a run (or those of one subscription) as GeoJSON in WGS84, with each site's dossier link."""
    from mrumonitor.alerts.feeds import alerts_geojson
    from mrumonitor.alerts.select import feed_alerts, run_alerts
    from mrumonitor.alerts.subscriptions import Subscriptions
    from mrumonitor.store.runs import resolve_run

    settings = load_settings(config_file)
    run_dir = resolve_run(settings.paths.store, run)
    if subscription_id is None:
        found = run_alerts(run_dir)
    else:
        found = feed_alerts(settings, Subscriptions(settings.subscriptions).get(subscription_id), run_dir)
    text = json.dumps(alerts_geojson(found, settings.alerts.dashboard_url), ensure_ascii=False)
    _write(text.encode("utf-8"), out_file, f"{len(found)} alerts of run {run_dir.name}")


@alerts.command("deliver")
@config_option
@_run_option
def deliver(config_file: Path | None, run: str) -> None:
    """Send every subscription that is due the digest of its new alerts now (each run does it after publishing)."""
    from mrumonitor.alerts.deliver import deliver_alerts

    report = deliver_alerts(load_settings(config_file), run)
    out.print(report.summary() or "alerts: no subscription to deliver to.")
    for problem in report.problems:
        out.print(f"  {problem}", soft_wrap=True)


@alerts.command("status")
@config_option
@click.option("--last", default=20, show_default=True, metavar="N", help="Show the N most recent deliveries.")
def status(config_file: Path | None, last: int) -> None:
    """Where deliveries stand: the mail server, each subscription's last digest, what failed and is tried again,
    recent digests and the notices sent to the operators."""
    from mrumonitor.alerts.deliver import delivery_status

    settings = load_settings(config_file)
    state = delivery_status(settings, last)
    smtp = settings.alerts.smtp
    out.print(f"Mail server: {smtp.host}:{smtp.port} ({smtp.security})" if state.smtp_configured else
              "Mail server: none configured (\\[alerts.smtp] host): digests are recorded as not sent.")
    for title, frame in (("Subscriptions", state.subscriptions), ("Waiting: failed or not sent", state.failed),
                         (f"Last {last} digests", state.digests), ("Operator notices", state.notices)):
        if len(frame):
            out.print(frame_table(title, frame))
        else:
            out.print(f"{title}: none.")


def _subscriber(settings: Settings, user: str | None) -> str:
    """The subscribing user: "" with logins off; with logins on, a configured user (required)."""
    auth = settings.dashboard.auth
    if not auth.enabled:
        return user or ""
    if not user or user not in auth.users:
        known = ", ".join(sorted(auth.users))
        named = f"{user!r} is not a dashboard user" if user else "logins are on: say which user subscribes"
        raise SubscriptionError(f"{named}; give --user, one of {known} ([dashboard.auth.users]).")
    return user


def _user_email(settings: Settings, user: str) -> str:
    account = settings.dashboard.auth.users.get(user)
    if account is None or not account.email:
        raise SubscriptionError("give --email: where should the digests go? (or set email in "
                                "[dashboard.auth.users.<user>])")
    return account.email


def _watched_area(settings: Settings, user: str, kind: str, ref: str | Path):
    """The area to watch, and a note for the person subscribing (None when there is nothing to say).

    An agency user may watch only its own country's named areas (`area_choices` of its country); a file's area is
    allowed, but only its country's alerts reach it.
    """
    from mrumonitor.alerts.select import subscriber_country
    from mrumonitor.areas.files import read_area_file
    from mrumonitor.areas.resolve import area_choices, named_area, uploaded_area
    from mrumonitor.store.runs import resolve_run

    country = subscriber_country(settings, user)
    if kind == "upload":
        upload = read_area_file(Path(ref), settings)
        if len(upload.quarantine):
            out.print(frame_table(f"{len(upload.quarantine)} of {upload.features} features of {upload.name} left "
                                  "out", upload.quarantine))
        note = (f"user {user} is a {country} agency user: only {country}'s alerts inside this area reach it."
                if country else None)
        return uploaded_area(upload), note
    run_dir = resolve_run(settings.paths.store)
    area = named_area(run_dir, kind, str(ref))
    if country and area.ref not in {choice for choice, _ in area_choices(run_dir, country)[kind]}:
        raise SubscriptionError(f"user {user} is a {country} agency user: it may watch {country}'s own countries, "
                                f"corridors, admin areas and licences only, not {kind} {area.ref} ({area.label}). "
                                f"Watch one of {country}'s, or upload the area (then only {country}'s alerts "
                                "reach it).")
    return area, None


def _write(body: bytes, out_file: Path | None, what: str) -> None:
    """`body` into `out_file` (written aside, then moved into place), or to standard output."""
    from mrumonitor.layerio.writing import written_aside

    if out_file is None:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return
    with written_aside(out_file) as partial:
        partial.write_bytes(body)
    out.print(f"{what} written to {out_file}")


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"
