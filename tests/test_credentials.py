"""Credentials: where values come from (keyring → env → file), and that none is ever shown."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from conftest import REPO, MemoryKeyring, TempProject
from pydantic import SecretStr

from framework import credentials as store
from framework.cli import main
from framework.errors import CredentialError
from framework.outcome import ExitCode

NEEDS = {"welfare_system": ["username", "password"]}
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file permissions")


def _file(folder: Path, text: str, mode: int = 0o600) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "welfare_system.yaml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def _plain(values: store.Secrets) -> dict[str, dict[str, str]]:
    return {n: {k: v.get_secret_value() for k, v in f.items()} for n, f in values.items()}


def test_keyring_then_environment_then_file(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    folder = tmp_path / "credentials"
    _file(folder, "username: from-file\npassword: file-pw\n")
    env = {"RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "from-env"}
    memory_keyring.set_password("kakari/welfare_system", "password", "keyring-pw")

    got = _plain(store.resolve(NEEDS, folder, environ=env))
    assert got == {"welfare_system": {"username": "from-env", "password": "keyring-pw"}}

    memory_keyring.set_password("kakari/welfare_system", "username", "from-keyring")
    assert _plain(store.resolve(NEEDS, folder, environ=env))["welfare_system"]["username"] == (
        "from-keyring"
    )
    memory_keyring.values.clear()
    got = _plain(store.resolve(NEEDS, folder, environ={}))
    assert got == {"welfare_system": {"username": "from-file", "password": "file-pw"}}


def test_where_each_value_came_from_never_the_value(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password("kakari/welfare_system", "password", "kr-secret-1")
    env = {"RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "env-user-1"}
    lookup = store.Lookup(tmp_path, env)
    value, source = lookup.find("welfare_system", "password")
    assert source == "キーリング (keyring) kakari/welfare_system"
    assert value is not None and value.get_secret_value() == "kr-secret-1"
    _value, source = lookup.find("welfare_system", "username")
    assert source == "環境変数 (environment) RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME"
    assert lookup.find("welfare_system", "otp") == (None, None)


def test_no_keyring_backend_skips_that_source(tmp_path: Path, rpa_home: Path) -> None:
    state = store.keyring_state()
    assert not state.usable
    assert "無効" in state.description  # the tests' null keyring
    env = {
        "RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "u",
        "RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD": "p",
    }
    assert _plain(store.resolve(NEEDS, tmp_path, environ=env))["welfare_system"]["password"] == "p"


def test_a_keyring_that_fails_is_skipped_and_said(
    tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(service: str, username: str) -> str | None:
        raise RuntimeError("the keyring is locked")

    monkeypatch.setattr(memory_keyring, "get_password", locked)
    env = {"RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "u"}
    with pytest.raises(CredentialError) as caught:
        store.resolve(NEEDS, tmp_path, environ=env)
    assert "(missing credentials): welfare_system.password。" in caught.value.reason
    assert "keyring error: RuntimeError" in caught.value.reason


def test_missing_ones_are_named_with_every_way_to_set_them(tmp_path: Path, rpa_home: Path) -> None:
    with pytest.raises(CredentialError) as caught:
        store.resolve(NEEDS, tmp_path, environ={})
    reason = caught.value.reason
    assert "welfare_system.username、welfare_system.password" in reason
    assert "rpa credentials set welfare_system" in reason
    assert "RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD" in reason
    assert "credentials/welfare_system.yaml" in reason


@POSIX_ONLY
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_file_others_may_read_is_refused(tmp_path: Path, rpa_home: Path, mode: int) -> None:
    folder = tmp_path / "credentials"
    _file(folder, "username: u\npassword: file-pw-77\n", mode)
    with pytest.raises(CredentialError) as caught:
        store.resolve(NEEDS, folder, environ={})
    assert "chmod 600 credentials/welfare_system.yaml" in caught.value.reason
    assert "file-pw-77" not in caught.value.reason


def test_an_invalid_file_is_reported_by_position_only(tmp_path: Path, rpa_home: Path) -> None:
    folder = tmp_path / "credentials"
    _file(folder, "username: u\npassword: [unclosed-pw-42\n")
    with pytest.raises(CredentialError) as caught:
        store.resolve(NEEDS, folder, environ={})
    assert "credentials/welfare_system.yaml:" in caught.value.reason
    assert "unclosed-pw-42" not in caught.value.reason


def test_values_are_secrets_that_never_print(tmp_path: Path, rpa_home: Path) -> None:
    from framework.home import Home
    from framework.loader import Project
    from framework.registry import Registry
    from framework.runner import Runner, RunRequest

    env = {
        "RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "user-9x",
        "RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD": "pw-9x-secret",
    }
    values = store.resolve(NEEDS, tmp_path, environ=env)
    assert isinstance(values["welfare_system"]["password"], SecretStr)
    assert repr(values["welfare_system"]["password"]) == "SecretStr('**********')"
    assert "pw-9x-secret" not in f"{values} {values!r}"

    given = {"welfare_system": {"username": "user-9x", "password": "pw-9x-secret"}}
    runner = Runner(Project(REPO), Home(rpa_home), Registry.default(), None)
    prepared = runner.prepare(RunRequest(bot="welfare_entry", credentials=given))
    assert "pw-9x-secret" not in repr(prepared) + str(prepared)


@POSIX_ONLY
def test_store_in_file_is_owner_only_and_keeps_other_fields(tmp_path: Path) -> None:
    folder = tmp_path / "credentials"
    store.store_in_file(folder, "welfare_system", {"username": SecretStr("u1")})
    path = store.store_in_file(folder, "welfare_system", {"password": SecretStr('p"w: #1 \\ 山')})
    assert path.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    got = _plain(store.resolve(NEEDS, folder, environ={}, keyring=store.KeyringState(None, "")))
    assert got == {"welfare_system": {"username": "u1", "password": 'p"w: #1 \\ 山'}}


# -- rpa credentials check / set -------------------------------------------------------------


def test_check_names_what_is_missing_and_never_prints_a_value(
    rpa_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME", "shown-nowhere-1")
    code = main(["--project", str(REPO), "credentials", "check", "welfare_entry"])
    out = capsys.readouterr().out
    assert code == ExitCode.INVALID
    assert "OK  welfare_entry: welfare_system.username ← 環境変数 (environment)" in out
    assert "NG  welfare_entry: welfare_system.password: 未設定 (missing)" in out
    assert "rpa credentials set welfare_system" in out
    assert "shown-nowhere-1" not in out

    monkeypatch.setenv("RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD", "shown-nowhere-2")
    code = main(["--project", str(REPO), "credentials", "check", "welfare_entry"])
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    assert "shown-nowhere" not in out


def test_run_with_a_missing_credential_stops_before_the_browser(
    rpa_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--project", str(REPO), "run", "welfare_entry"])
    err = capsys.readouterr().err
    assert code == ExitCode.INVALID
    assert "welfare_system.username、welfare_system.password" in err
    assert "rpa credentials set welfare_system" in err
    assert "何も実行していません" in err
    # no run folder (the browser starts inside one), no run log, no audit record
    assert not (rpa_home / "runs").exists()
    assert not (rpa_home / "runlog.sqlite3").exists()


def _typing(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> list[str]:
    """Answer hidden prompts in order; return the prompts shown."""
    import click.termui

    shown: list[str] = []

    def hidden(prompt: str) -> str:
        shown.append(prompt)
        return answers.pop(0)

    monkeypatch.setattr(click.termui, "hidden_prompt_func", hidden)
    return shown


def test_set_asks_twice_without_echo_and_stores_in_the_keyring(
    rpa_home: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prompts = _typing(monkeypatch, ["clerk01", "clerk01", "Pw-set-5521", "Pw-set-5521"])
    code = main(["--project", str(REPO), "credentials", "set", "welfare_system"])
    captured = capsys.readouterr()
    assert code == ExitCode.OK, captured.err
    assert memory_keyring.values == {
        ("kakari/welfare_system", "username"): "clerk01",
        ("kakari/welfare_system", "password"): "Pw-set-5521",
    }
    assert len(prompts) == 4 and "welfare_system.password" in prompts[2]
    assert "Pw-set-5521" not in captured.out + captured.err
    # the audit trail says who set which fields, never the values
    db = sqlite3.connect(rpa_home / "runlog.sqlite3")
    rows = db.execute("SELECT action, detail FROM audit").fetchall()
    db.close()
    assert rows == [("credentials_set", "welfare_system: username,password → keyring")]
    assert b"Pw-set-5521" not in (rpa_home / "runlog.sqlite3").read_bytes()

    code = main(["--project", str(REPO), "credentials", "check"])
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    assert "welfare_system.password ← キーリング (keyring) kakari/welfare_system" in out


def test_set_without_a_keyring_says_what_to_do_before_asking(
    rpa_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = _typing(monkeypatch, [])
    code = main(["--project", str(REPO), "credentials", "set", "welfare_system"])
    err = capsys.readouterr().err
    assert code == ExitCode.INVALID
    assert prompts == []
    assert "--file" in err and "RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME" in err


@POSIX_ONLY
def test_set_into_an_owner_only_file(
    tmp_path: Path,
    rpa_home: Path,
    temp_project: TempProject,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = temp_project.root
    temp_project.bot("b", "w.yaml", credentials="{sys: [password]}")
    _typing(monkeypatch, ["file-pw-3", "file-pw-3"])
    code = main(["--project", str(project), "credentials", "set", "sys", "--file"])
    assert code == ExitCode.OK, capsys.readouterr().err
    path = project / "credentials" / "sys.yaml"
    assert path.stat().st_mode & 0o777 == 0o600
    got = store.resolve({"sys": ["password"]}, project / "credentials", environ={})
    assert got["sys"]["password"].get_secret_value() == "file-pw-3"


def test_set_an_unknown_credential_suggests(
    rpa_home: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--project", str(REPO), "credentials", "set", "welfare_sytem"])
    assert code == ExitCode.INVALID
    assert "「welfare_system」のことですか" in capsys.readouterr().err
