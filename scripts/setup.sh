#!/usr/bin/env bash
# Create .venv and install sre-operator into it (with test tools when called with --test).
# Safe to run again: it reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-}
if [[ -z "$python" ]]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python=$candidate; break
    fi
  done
fi
[[ -n "$python" ]] || { echo "setup: Python 3.11 or newer is needed" >&2; exit 1; }

if [[ ! -x .venv/bin/python ]]; then
  echo "[setup] creating .venv with $python" >&2
  "$python" -m venv .venv || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && "$python" -m venv .venv; }
fi

extra=""
[[ "${1:-}" == "--test" ]] && extra="[test]"
stamp=".venv/.installed${extra:+-test}"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  echo "[setup] installing sre-operator${extra} into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${extra}"
  touch "$stamp"
fi
