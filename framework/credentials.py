"""Credentials a bot needs (``welfare_system``: username, password), read from outside the repo.

Credentials are never written in workflow or bot files. A bot names them; their values come from
environment variables ``RPA_CREDENTIAL_<NAME>_<FIELD>``
(e.g. ``RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD``) or from a file ``credentials/<name>.yaml`` in
the project (git-ignored; see ``credentials.example/``). On POSIX a credentials file readable by
group or others is refused.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

from framework.errors import CredentialError, InvalidError
from framework.yamlio import load_yaml


def env_name(name: str, field: str) -> str:
    return f"RPA_CREDENTIAL_{name.upper()}_{field.upper()}"


def _read_file(path: Path, shown: str) -> dict[str, str]:
    if sys.platform != "win32":
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CredentialError(
                f"{shown} は他のユーザーも読める設定になっています。`chmod 600 {shown}` で"
                " 自分だけが読めるようにしてください (credentials file is readable by others)"
            )
    try:
        doc = load_yaml(path, shown)
    except InvalidError as exc:
        # never echo file content: positions only
        places = ", ".join(f"{p.file}:{p.line}:{p.col}" for p in exc.problems)
        raise CredentialError(f"資格情報ファイルを読めません: {places} (invalid YAML)") from None
    if not isinstance(doc.data, dict):
        raise CredentialError(f"{shown}: 「項目名: 値」の形で書いてください (expected a mapping)")
    return {str(k): "" if v is None else str(v) for k, v in doc.data.items()}


def resolve(
    needs: Mapping[str, list[str]],
    folder: Path,
    *,
    environ: Mapping[str, str] | None = None,
    shown_folder: str = "credentials",
) -> dict[str, dict[str, str]]:
    """Values for every credential field a bot needs; all missing ones are named in one error."""
    env = os.environ if environ is None else environ
    values: dict[str, dict[str, str]] = {}
    missing: list[str] = []
    for name, fields in needs.items():
        file = folder / f"{name}.yaml"
        from_file: dict[str, str] | None = None
        values[name] = {}
        for field in fields:
            value = env.get(env_name(name, field))
            if value is None:
                if from_file is None:
                    from_file = (
                        _read_file(file, f"{shown_folder}/{name}.yaml") if file.exists() else {}
                    )
                value = from_file.get(field)
            if value is None or value == "":
                missing.append(
                    f"{name}.{field}（環境変数 {env_name(name, field)} または"
                    f" {shown_folder}/{name}.yaml の {field}）"
                )
            else:
                values[name][field] = value
    if missing:
        raise CredentialError(
            "資格情報が設定されていません (missing credentials): "
            + "、".join(missing)
            + "。設定方法は credentials.example/ を見てください"
        )
    return values
