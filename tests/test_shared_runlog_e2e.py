"""End to end on PostgreSQL: `rpa run` with ``RPA_DATABASE_URL`` writes the shared run log, and
`rpa runs`, `rpa report` and `rpa audit --verify` read it back; a second run, from another
RPA_HOME (another PC), skips every item the first one entered (resume by key)."""

from __future__ import annotations

import json
from pathlib import Path

from test_e2e import rpa

from framework.practice import PracticeConfig, PracticeServer

CREDENTIALS = {
    "RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "demo",
    "RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD": "demo-pass",
}


def test_two_pcs_share_one_run_log(rpa_home: Path, tmp_path: Path, pg_url: str) -> None:
    pc1 = {"RPA_HOME": str(rpa_home), "RPA_DATABASE_URL": pg_url, **CREDENTIALS}
    pc2 = {**pc1, "RPA_HOME": str(tmp_path / "pc2")}
    with PracticeServer(PracticeConfig()) as practice:
        target = f"target_url={practice.url}"
        first = rpa("run", "welfare_entry", "--set", target, "--json", env=pc1)
        assert first.returncode == 1, first.stderr  # one refused, two bad rows (the sample)
        entered = len(practice.records())
        assert entered == 35
        second = rpa("run", "welfare_entry", "--set", target, "--json", env=pc2)
        assert second.returncode in (0, 1), second.stderr
        assert len(practice.records()) == entered  # nothing entered twice
    assert not (rpa_home / "runlog.sqlite3").exists()
    assert not (rpa_home / "secret.key").exists()  # the secret lives in the database
    run1 = json.loads(first.stdout)["run"]
    run2 = json.loads(second.stdout)["run"]
    assert run1["items"]["done"] == 35
    assert run2["items"]["done"] == 0 and run2["items"]["skipped"] == 35

    listed = rpa("runs", "--json", env=pc2)
    assert listed.returncode == 0, listed.stderr
    assert [r["id"] for r in json.loads(listed.stdout)] == [run2["id"], run1["id"]]

    report = rpa("report", "--format", "json", "--out", "-", "--by", "bot", env=pc1)
    assert report.returncode == 0, report.stderr
    total = json.loads(report.stdout)["total"]
    assert total["runs"] == 2 and total["items"]["done"] == 35
    assert total["minutes_saved"] == run1["minutes_saved"] + run2["minutes_saved"]

    verified = rpa("audit", "--verify", "--json", env=pc2)
    assert verified.returncode == 0, verified.stderr
    chain = json.loads(verified.stdout)
    assert chain["ok"] and chain["records"] == 4  # two runs started and finished

    doctor = rpa("doctor", env=pc1)
    assert "実行記録 (run log) PostgreSQL postgresql://kakari@127.0.0.1" in doctor.stdout
    assert "監査ログ (audit log)" in doctor.stdout and "4 件" in doctor.stdout
