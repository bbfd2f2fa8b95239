"""The public API of the package: what a city's own step pack may import."""

from __future__ import annotations

import framework


def test_exported_members() -> None:
    assert sorted(framework.__all__) == sorted(
        [
            "ApplicationError",
            "BusinessError",
            "ExitCode",
            "Expression",
            "InvalidError",
            "ItemOutcome",
            "ItemReader",
            "ItemStatus",
            "Problem",
            "RawRow",
            "Registry",
            "SourcePos",
            "SourceSpec",
            "StepContext",
            "StepSpec",
            "Target",
            "Template",
            "step",
        ]
    )
    for name in framework.__all__:
        assert getattr(framework, name) is not None


def test_importing_does_not_load_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, framework.cli, framework.registry;"
        "framework.registry.Registry.default();"
        "print(','.join(m for m in ('playwright', 'apscheduler', 'pystray') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
