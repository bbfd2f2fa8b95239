#!/usr/bin/env bash
# Set up kakari on a Debian/Ubuntu machine: a virtual environment in .venv, the project, and a
# browser Playwright can drive. Safe to run again; it only installs what is missing.
#
#   ./install.sh          runtime only (enough for `rpa demo`)
#   ./install.sh --dev    also the test tools (pytest extras, ruff, mypy, Xvfb, trayer, PostgreSQL)
#
# Windows PCs in a closed network (LGWAN) are set up differently: see docs/install-windows.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
dev=0
[[ "${1:-}" == "--dev" ]] && dev=1

say() { printf '\033[1m[kakari]\033[0m %s\n' "$*"; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else say "管理者権限が必要です (need root for: $*)"; return 1
    fi
}

apt_packages=()
have_browser() {
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
        || command -v google-chrome >/dev/null 2>&1 || command -v microsoft-edge >/dev/null 2>&1
}

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    say "Python 3.11 以上が必要です (Python 3.11+ is required; set PYTHON=/path/to/python3.11)"
    exit 1
fi
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_packages+=(python3-venv)
fi
if command -v apt-get >/dev/null 2>&1; then
    have_browser || apt_packages+=(chromium)
    dpkg -s fonts-noto-cjk >/dev/null 2>&1 || apt_packages+=(fonts-noto-cjk)
    # The tray's file chooser is Tk (python3-tk for Debian's own Python).
    "$python" -c 'import tkinter' >/dev/null 2>&1 || apt_packages+=(python3-tk)
    if [[ $dev -eq 1 ]]; then
        command -v Xvfb >/dev/null 2>&1 || apt_packages+=(xvfb)
        # The tray's end-to-end test docks its icon in trayer's notification area.
        command -v trayer >/dev/null 2>&1 || apt_packages+=(trayer)
        # The runner-pool tests start their own PostgreSQL server on loopback.
        compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || apt_packages+=(postgresql)
    fi
fi
if [[ ${#apt_packages[@]} -gt 0 ]]; then
    say "apt-get install ${apt_packages[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
    say "creating .venv"
    "$python" -m venv .venv
fi
say "installing kakari into .venv"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [[ $dev -eq 1 ]]; then
    .venv/bin/python -m pip install -q -e '.[dev]'
else
    .venv/bin/python -m pip install -q -e .
fi

if ! have_browser; then
    # No system browser and no apt: let Playwright fetch its own Chromium where the network allows.
    say "downloading Playwright's Chromium"
    .venv/bin/python -m playwright install chromium
fi
.venv/bin/rpa doctor || true
