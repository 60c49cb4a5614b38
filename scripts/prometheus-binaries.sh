#!/usr/bin/env bash
# A current Prometheus 3.x (promtool and prometheus) beside Debian's 2.42, built once from Go modules and cached,
# so the generated rules are checked on both. PROMETHEUS_BIN may name a folder that already holds both.
# Prints the folder as its last line.
set -euo pipefail
VERSION="${SRE_OPERATOR_PROMETHEUS_MODULE_VERSION:-0.316.0}"   # module v0.316.0 is Prometheus 3.16
CACHE_ROOT="${SRE_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sre-operator}"
TARGET="$CACHE_ROOT/prometheus-v$VERSION"
say() { printf '[prometheus] %s\n' "$*" >&2; }

if [[ -n "${PROMETHEUS_BIN:-}" && -x "$PROMETHEUS_BIN/promtool" && -x "$PROMETHEUS_BIN/prometheus" ]]; then
  say "using PROMETHEUS_BIN=$PROMETHEUS_BIN"; echo "$PROMETHEUS_BIN"; exit 0
fi
if [[ -x "$TARGET/promtool" && -x "$TARGET/prometheus" ]]; then
  say "cached in $TARGET"; echo "$TARGET"; exit 0
fi
command -v go >/dev/null 2>&1 || { say "no Go toolchain: cannot build Prometheus v$VERSION"; exit 3; }
started=$(date +%s)
rm -rf "$TARGET.partial"; mkdir -p "$TARGET.partial"
say "building promtool and prometheus from github.com/prometheus/prometheus@v$VERSION (first run only; about 6 minutes on 2 cores)"
for cmd in promtool prometheus; do
  CGO_ENABLED=0 GOBIN="$TARGET.partial" go install -trimpath -ldflags "-s -w" \
    "github.com/prometheus/prometheus/cmd/$cmd@v$VERSION" >&2
done
rm -rf "$TARGET"; mv "$TARGET.partial" "$TARGET"
say "built in $(( $(date +%s) - started ))s: $("$TARGET/promtool" --version 2>&1 | head -1)"
echo "$TARGET"
