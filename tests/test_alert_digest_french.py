"""E-mail digests in each recipient's language, through a real SMTP server (aiosmtpd on 127.0.0.1): a user whose
saved dashboard language is French gets a French digest (subject, text, HTML, numbers the French way, alert kinds
in French words, the watched corridor named in French); a user who never chose gets English. The Atom feed speaks
its subscriber's language too, whoever polls it."""

from __future__ import annotations

import re

import pytest
from area_world import write_area_run
from conftest import TEST_SECRET_ENV, write_config
from smtp_server import free_port, smtp_server

from mrumonitor.alerts.deliver import deliver_alerts
from mrumonitor.alerts.feeds import atom_feed
from mrumonitor.alerts.select import run_alerts
from mrumonitor.alerts.subscriptions import Subscriptions
from mrumonitor.areas.resolve import area_choices, named_area
from mrumonitor.config import load_settings
from mrumonitor.i18n import use_language
from mrumonitor.i18n.preferences import save_language

pytestmark = pytest.mark.integration

#: user -> e-mail; "amadou" reads French, "kofi" never chose a language.
USERS = {"amadou": "amadou@example.gn", "kofi": "kofi@example.org"}


@pytest.fixture
def settings(tmp_path):
    """A store with the area world's run, the SMTP server's port, and two regional users."""
    store = tmp_path / "layers"
    write_area_run(store)
    users = "".join(f'[dashboard.auth.users.{name}]\nrole = "regional"\npassword_hash = "unused"\nemail = "{email}"\n'
                    for name, email in USERS.items())
    return load_settings(write_config(tmp_path, f"""[paths]
store = "{store}"
work = "{tmp_path / 'work'}"
[alerts]
dashboard_url = "https://monitor.example.org"
[alerts.smtp]
host = "127.0.0.1"
port = {free_port()}
security = "none"
retry_wait_s = 0
sender = "mrumonitor <alerts@monitor.example.org>"
[dashboard.auth]
enabled = true
secret_key_env = "{TEST_SECRET_ENV}"
{users}"""))


def watch_the_corridor(settings) -> None:
    """Both users watch the world's one border corridor (named by places: its label is translated)."""
    from mrumonitor.store.runs import resolve_run

    run_dir = resolve_run(settings.paths.store)
    corridor = area_choices(run_dir)["corridor"][0][0]
    for user, email in USERS.items():
        Subscriptions(settings.subscriptions).add(
            name=f"{user} watch", user=user, email=email, area=named_area(run_dir, "corridor", corridor), kinds=(),
            min_confidence="low", frequency="run", since_run="")


def digests(settings) -> dict[str, object]:
    """Deliver, and each recipient's message."""
    save_language(settings.paths.store, "amadou", "fr")
    watch_the_corridor(settings)
    with smtp_server(settings.alerts.smtp.port) as box:
        report = deliver_alerts(settings)
    assert report.digests_sent == 2 and not report.problems, report
    return {message.recipients[0]: message for message in box.messages}


def test_a_french_user_gets_a_french_digest_and_an_english_user_an_english_one(settings):
    received = digests(settings)
    french, english = received[USERS["amadou"]], received[USERS["kofi"]]

    subject = french.message["Subject"]
    assert re.match(r"mrumonitor : \d+ nouvelles? alertes? – Couloir frontalier ", subject), subject
    text, html = french.text(), french.text("text/html")
    assert "Site minier agrandi" in text or "Nouvelle exploitation non enregistrée dans la zone frontalière" in text
    assert "Confiance élevée" in text and "publiées par le traitement" in text
    assert "Toutes les alertes de cet abonnement (flux Atom)" in text and "crédit CC BY 4.0" in text
    assert re.search(r"\d+,\d ha", text), "hectares with a decimal comma"
    assert "dossier de " in html and "flux Atom" in html and "Carte des alertes" in html
    for english_words in ("new alert", "High confidence", "Mining site grew", "published by run", "Border corridor",
                          "confidence or better", "Atom feed"):
        assert english_words not in text and english_words not in html, english_words

    assert re.match(r"mrumonitor: \d+ new alerts? in Border corridor ", english.message["Subject"])
    assert "High confidence" in english.text() and "Confiance" not in english.text()
    assert re.search(r"\d+\.\d ha", english.text())


def test_the_atom_feed_speaks_the_language_it_is_written_in(settings):
    watch_the_corridor(settings)
    sub = next(s for s in Subscriptions(settings.subscriptions).list() if s.user == "amadou")
    from mrumonitor.store.runs import resolve_run

    run_dir = resolve_run(settings.paths.store)
    alerts = run_alerts(run_dir)
    with use_language("fr"):
        french = atom_feed(sub, alerts, run_dir.name, "https://monitor.example.org").decode()
    english = atom_feed(sub, alerts, run_dir.name, "https://monitor.example.org").decode()
    assert "Alertes minières (tous les types ; confiance faible ou mieux)" in french and "Couloir frontalier" in french
    assert "Mining alerts (every kind; low confidence or better)" in english and "Border corridor" in english
    assert "Mining site grew" not in french and "Nouveau site minier" in french


def test_the_dashboard_serves_the_atom_feed_in_its_subscribers_language_not_the_readers(settings, secret_key):
    from mrumonitor.dashboard.app import create_app

    save_language(settings.paths.store, "amadou", "fr")
    watch_the_corridor(settings)
    tokens = {s.user: s.feed_token for s in Subscriptions(settings.subscriptions).list()}
    client = create_app(settings).server.test_client()
    french = client.get(f"/feeds/{tokens['amadou']}.atom", headers={"Accept-Language": "en"})
    english = client.get(f"/feeds/{tokens['kofi']}.atom", headers={"Accept-Language": "fr"})
    assert french.status_code == english.status_code == 200
    assert "Alertes minières" in french.get_data(as_text=True) and "Mining alerts" not in french.get_data(as_text=True)
    assert "Mining alerts" in english.get_data(as_text=True)
