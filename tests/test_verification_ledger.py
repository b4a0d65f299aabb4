"""The verification ledger: append-only by the database's own rule, duplicates returned, never silently dropped."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pandas as pd
import pytest

from mrumonitor.errors import VerificationError
from mrumonitor.verification.design import SampleDesign
from mrumonitor.verification.ledger import Ledger

pytestmark = pytest.mark.unit


def visits(*ids: str | None, site: str = "SLE-000001") -> pd.DataFrame:
    return pd.DataFrame({"visit_id": list(ids), "site_id": site, "country": "SLE",
                         "visited_on": pd.Timestamp("2026-06-01"), "team": "NMA team 1", "outcome": "active_mining",
                         "lon": -10.9, "lat": 8.6, "photos": '["a.jpg"]'})


def test_visits_are_appended_with_who_and_when_and_repeats_come_back_as_duplicates(tmp_path):
    ledger = Ledger(tmp_path / "verification" / "ledger.sqlite")
    assert ledger.visits().empty and not ledger.exists()
    first = ledger.append_visits(visits("uuid:a", None, "uuid:a"), entered_by="amara", source="import odk.csv")
    assert len(first.added) == 2 and first.duplicates["visit_id"].tolist() == ["uuid:a"]
    again = ledger.append_visits(visits("uuid:a", "uuid:b"), entered_by="fatou", source="dashboard")
    assert again.added["visit_id"].tolist() == ["uuid:b"] and again.duplicates["visit_id"].tolist() == ["uuid:a"]
    stored = ledger.visits()
    assert stored["visit_id"].iloc[1].startswith("mru-")  # a visit without a submission id gets one
    assert stored["entered_by"].tolist() == ["amara", "amara", "fatou"]
    assert stored["source"].tolist() == ["import odk.csv", "import odk.csv", "dashboard"]
    assert stored["entered_at"].notna().all() and stored["photos"].iloc[0] == '["a.jpg"]'
    with pytest.raises(VerificationError, match="who entered it"):
        ledger.append_visits(visits("uuid:c"), entered_by=" ", source="import")


@pytest.mark.parametrize("statement", ["UPDATE visits SET outcome = 'not_mining'", "DELETE FROM visits",
                                       "DELETE FROM samples", "UPDATE rejected SET reason = 'x'"])
def test_the_database_refuses_to_change_or_delete_anything(tmp_path, statement):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.append_visits(visits("uuid:a"), entered_by="amara", source="import")
    ledger.reject(pd.DataFrame({"file": ["f.csv"], "row": [2], "reason": ["unknown_site"]}), entered_by="amara")
    ledger.save_sample(SampleDesign(sample_id="S1", run_id="R1", period="2026H1", strata_by=("registration",), n=0,
                                    seed=1, min_per_stratum=5, allocation="", created="2026-06-01T00:00:00Z",
                                    created_by="amara", strata=pd.DataFrame(), units=pd.DataFrame()))
    with pytest.raises(VerificationError, match="already recorded"):
        ledger.save_sample(ledger.sample("S1"))
    with sqlite3.connect(ledger.path) as db, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute(statement)
    assert len(ledger.visits()) == 1 and len(ledger.rejected()) == 1 and len(ledger.samples()) == 1


def test_two_processes_appending_at_once_lose_nothing(tmp_path):
    path = tmp_path / "ledger.sqlite"
    script = ("import sys, pandas as pd; from mrumonitor.verification.ledger import Ledger; "
              "ledger = Ledger(sys.argv[1]); tag = sys.argv[2]\n"
              "for i in range(40):\n"
              "    ledger.append_visits(pd.DataFrame({'visit_id': [f'{tag}-{i}'], 'site_id': ['S'], "
              "'visited_on': [pd.Timestamp('2026-06-01')], 'outcome': ['active_mining']}), tag, 'test')")
    workers = [subprocess.Popen([sys.executable, "-c", script, str(path), tag]) for tag in ("a", "b")]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    assert len(Ledger(path).visits()) == 80


def test_a_damaged_or_unwritable_ledger_says_what_to_do(tmp_path):
    damaged = tmp_path / "ledger.sqlite"
    damaged.write_bytes(b"not a database at all" * 100)
    with pytest.raises(VerificationError, match="cannot be used .*restore it from a backup"):
        Ledger(damaged).visits()
    blocked = tmp_path / "file"
    blocked.write_text("a file where the ledger's folder should be")
    with pytest.raises(VerificationError, match="cannot be opened"):
        Ledger(blocked / "ledger.sqlite").append_visits(visits("uuid:a"), entered_by="amara", source="import")
