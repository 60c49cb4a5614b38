#!/usr/bin/env bash
# A current amtool (Alertmanager v0.35) for checking generated configurations with today's fields (url_file
# for webhooks came after Debian's 0.25), built once from Go modules and cached. Prints the binary's path.
set -euo pipefail
VERSION="${SRE_OPERATOR_AMTOOL_VERSION:-0.35.0}"
CACHE_ROOT="${SRE_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sre-operator}"
TARGET="$CACHE_ROOT/amtool-v$VERSION"
if [[ -x "$TARGET/amtool" ]]; then echo "$TARGET/amtool"; exit 0; fi
command -v go >/dev/null 2>&1 || { echo "[amtool] no Go toolchain: cannot build amtool v$VERSION" >&2; exit 3; }
started=$(date +%s)
mkdir -p "$TARGET.partial"
CGO_ENABLED=0 GOBIN="$TARGET.partial" go install -trimpath -ldflags "-s -w" \
  "github.com/prometheus/alertmanager/cmd/amtool@v$VERSION" >&2
rm -rf "$TARGET"; mv "$TARGET.partial" "$TARGET"
echo "[amtool] built v$VERSION in $(( $(date +%s) - started ))s" >&2
echo "$TARGET/amtool"
