#!/usr/bin/env bash
# Set up, then render the example plans embedded in the package, offline: no cluster needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/sre-operator validate
.venv/bin/sre-operator render "$@"
