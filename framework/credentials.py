"""Credentials a bot needs (``welfare_system``: username, password), read from outside the repo.

Credentials are never written in workflow or bot files. A bot names them; each field's value is
looked up, in this order, in

1. the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service), service
   ``kakari/<name>``, user name = the field; ``rpa credentials set NAME`` stores them there;
2. environment variables ``RPA_CREDENTIAL_<NAME>_<FIELD>``
   (e.g. ``RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD``);
3. a file ``credentials/<name>.yaml`` in the project (git-ignored; see ``credentials.example/``).
   On POSIX a credentials file readable by group or others is refused.

Values are :class:`~pydantic.SecretStr` everywhere in the code, so printing a model, a dataclass or
a dict of them shows ``**********``. What is reported about a credential is where each value came
from, never the value. A PC without a usable keyring (headless Linux) simply skips that source.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from framework.errors import CredentialError, InvalidError
from framework.yamlio import load_yaml

SERVICE_PREFIX = "kakari/"

Secrets = dict[str, dict[str, SecretStr]]
"""Credential name → field → value."""

_FRIENDLY = {
    "keyring.backends.Windows": "Windows 資格情報マネージャー (Windows Credential Manager)",
    "keyring.backends.macOS": "macOS キーチェーン (macOS Keychain)",
    "keyring.backends.SecretService": "Secret Service (GNOME Keyring など)",
    "keyring.backends.libsecret": "libsecret (GNOME Keyring など)",
    "keyring.backends.kwallet": "KWallet",
}


def env_name(name: str, field: str) -> str:
    return f"RPA_CREDENTIAL_{name.upper()}_{field.upper()}"


def service_name(name: str) -> str:
    """The keyring entry of a credential: service ``kakari/<name>``; the user name is the field."""
    return f"{SERVICE_PREFIX}{name}"


def as_secrets(values: Mapping[str, Mapping[str, str | SecretStr]]) -> Secrets:
    """Values given directly (``rpa demo``, tests) as secrets."""
    return {
        name: {k: v if isinstance(v, SecretStr) else SecretStr(v) for k, v in fields.items()}
        for name, fields in values.items()
    }


@dataclass(frozen=True)
class KeyringState:
    """Whether this PC has an OS keyring kakari can use, and which one."""

    backend: Any
    """A ``keyring`` backend, or None."""
    description: str

    @property
    def usable(self) -> bool:
        return self.backend is not None


def keyring_state() -> KeyringState:
    """The keyring backend of this PC; ``usable`` is False when there is none (or it is off).

    ``PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring`` switches the keyring off.
    """
    try:
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring installation must not stop a run
        return KeyringState(
            None, f"キーリングを使えません (keyring unusable: {type(exc).__name__})"
        )
    if isinstance(backend, fail.Keyring):
        return KeyringState(None, "この PC には使えるキーリングがありません (no keyring backend)")
    if isinstance(backend, null.Keyring):
        return KeyringState(None, "キーリングは無効にされています (keyring disabled)")
    shown = backend
    if isinstance(backend, chainer.ChainerBackend):
        if not backend.backends:
            return KeyringState(
                None, "この PC には使えるキーリングがありません (no keyring backend)"
            )
        shown = backend.backends[0]
    module = type(shown).__module__
    return KeyringState(backend, _FRIENDLY.get(module, f"{module}.{type(shown).__name__}"))


def _read_file(path: Path, shown: str) -> dict[str, str]:
    check_private(path, shown)
    try:
        doc = load_yaml(path, shown)
    except InvalidError as exc:
        # never echo file content: positions only
        places = ", ".join(f"{p.file}:{p.line}:{p.col}" for p in exc.problems)
        raise CredentialError(f"資格情報ファイルを読めません: {places} (invalid YAML)") from None
    if not isinstance(doc.data, dict):
        raise CredentialError(f"{shown}: 「項目名: 値」の形で書いてください (expected a mapping)")
    return {str(k): "" if v is None else str(v) for k, v in doc.data.items()}


def check_private(path: Path, shown: str) -> None:
    """Refuse a credentials file that group or others may read (POSIX only)."""
    if sys.platform == "win32":
        return  # permissions come from the folder's ACL (docs/security.md)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(
            f"{shown} は他のユーザーも読める設定になっています。`chmod 600 {shown}` で"
            " 自分だけが読めるようにしてください (credentials file is readable by others)"
        )


@dataclass
class Lookup:
    """Finds credential values: the OS keyring first, then environment variables, then files."""

    folder: Path
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    shown_folder: str = "credentials"
    keyring: KeyringState = field(default_factory=keyring_state)
    keyring_error: str | None = None
    """Set when the keyring failed to answer (locked, D-Bus gone): it is skipped from then on."""
    _files: dict[str, dict[str, str]] = field(default_factory=dict)

    def find(self, name: str, field: str) -> tuple[SecretStr | None, str | None]:
        """The value of one field and where it came from (None, None when it is not set).

        Raises :class:`CredentialError` for a credentials file that may not be used.
        """
        value = self._from_keyring(name, field)
        if value:
            return SecretStr(value), f"キーリング (keyring) {service_name(name)}"
        value = self.environ.get(env_name(name, field))
        if value:
            return SecretStr(value), f"環境変数 (environment) {env_name(name, field)}"
        value = self._from_file(name).get(field)
        if value:
            return SecretStr(value), f"ファイル (file) {self.shown_folder}/{name}.yaml"
        return None, None

    def _from_keyring(self, name: str, field: str) -> str | None:
        if not self.keyring.usable or self.keyring_error is not None:
            return None
        try:
            value = self.keyring.backend.get_password(service_name(name), field)
        except Exception as exc:  # locked, no D-Bus...: the other sources still work
            self.keyring_error = (
                f"キーリングを読めませんでした (keyring error: {type(exc).__name__})"
            )
            return None
        return value if isinstance(value, str) else None

    def _from_file(self, name: str) -> dict[str, str]:
        if name not in self._files:
            path = self.folder / f"{name}.yaml"
            shown = f"{self.shown_folder}/{name}.yaml"
            self._files[name] = _read_file(path, shown) if path.exists() else {}
        return self._files[name]


def how_to_set(name: str, fields: list[str], shown_folder: str = "credentials") -> str:
    """The ways to set a credential, for messages."""
    envs = " / ".join(env_name(name, f) for f in fields)
    return (
        f"`rpa credentials set {name}` でキーリングに保存するか、環境変数 {envs}"
        f" または {shown_folder}/{name}.yaml で設定してください（credentials.example/ を参照）"
        f" (set with `rpa credentials set {name}`, environment variables or a credentials file)"
    )


def resolve(
    needs: Mapping[str, list[str]],
    folder: Path,
    *,
    environ: Mapping[str, str] | None = None,
    shown_folder: str = "credentials",
    keyring: KeyringState | None = None,
) -> Secrets:
    """Values for every credential field a bot needs; all missing ones are named in one error."""
    lookup = Lookup(
        folder,
        os.environ if environ is None else environ,
        shown_folder,
        keyring_state() if keyring is None else keyring,
    )
    values: Secrets = {}
    missing: dict[str, list[str]] = {}
    for name, fields in needs.items():
        values[name] = {}
        for field_name in fields:
            value, _source = lookup.find(name, field_name)
            if value is None:
                missing.setdefault(name, []).append(field_name)
            else:
                values[name][field_name] = value
    if missing:
        named = "、".join(f"{name}.{f}" for name, fields in missing.items() for f in fields)
        ways = " ".join(how_to_set(name, fields, shown_folder) for name, fields in missing.items())
        note = lookup.keyring_error or ("" if lookup.keyring.usable else lookup.keyring.description)
        raise CredentialError(
            f"資格情報が設定されていません (missing credentials): {named}。{ways}"
            + (f" [{note}]" if note else "")
        )
    return values


def store_in_keyring(name: str, values: Mapping[str, SecretStr], state: KeyringState) -> None:
    """Save fields of a credential in the OS keyring (service ``kakari/<name>``)."""
    if not state.usable:
        raise CredentialError(
            f"{state.description}。--file で {name} を credentials/{name}.yaml（本人だけが読める"
            "ファイル）に保存するか、環境変数を使ってください"
            " (no keyring on this PC: use --file or environment variables)"
        )
    for field_name, value in values.items():
        try:
            state.backend.set_password(service_name(name), field_name, value.get_secret_value())
        except Exception as exc:  # the backend's message is not shown: it might quote the value
            raise CredentialError(
                f"キーリングに保存できませんでした (could not store in the keyring):"
                f" {name}.{field_name} ({type(exc).__name__})"
            ) from None


def store_in_file(
    folder: Path, name: str, values: Mapping[str, SecretStr], *, shown_folder: str = "credentials"
) -> Path:
    """Save fields into ``credentials/<name>.yaml``, readable by its owner only (0600).

    Fields already in the file are kept; the file is replaced in one step.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform != "win32":
        folder.chmod(0o700)
    path = folder / f"{name}.yaml"
    shown = f"{shown_folder}/{name}.yaml"
    merged: dict[str, str] = _read_file(path, shown) if path.exists() else {}
    merged.update({k: v.get_secret_value() for k, v in values.items()})
    lines = [
        f"# 資格情報 {name}（rpa credentials set --file で保存; 本人だけが読めるファイル）",
        f"# credential {name}, written by `rpa credentials set --file` (owner-only file)",
        *(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in merged.items()),
    ]
    partial = folder / f".{name}.yaml.tmp"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    if sys.platform != "win32":
        partial.chmod(0o600)
    os.replace(partial, path)
    return path
