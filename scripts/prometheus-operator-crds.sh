#!/usr/bin/env bash
# The Prometheus Operator's own CRDs (PrometheusRule, AlertmanagerConfig, ...) for the tests' API server,
# generated from the Go module of its API types with controller-gen, once, and cached. Prints the folder.
set -euo pipefail

VERSION="${SRE_OPERATOR_PROMETHEUS_OPERATOR_VERSION:-0.95.2}"
TOOLS_VERSION="${SRE_OPERATOR_CONTROLLER_TOOLS_VERSION:-0.23.0}"
CACHE_ROOT="${SRE_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sre-operator}"
TARGET="$CACHE_ROOT/prometheus-operator-crds-v$VERSION"
say() { printf '[prometheus-operator-crds] %s\n' "$*" >&2; }

if [[ -s "$TARGET/monitoring.coreos.com_prometheusrules.yaml" && -s "$TARGET/monitoring.coreos.com_alertmanagerconfigs.yaml" ]]; then
  say "cached in $TARGET"; echo "$TARGET"; exit 0
fi
command -v go >/dev/null 2>&1 || { say "no Go toolchain: cannot generate the CRDs"; exit 3; }

started=$(date +%s)
work="$CACHE_ROOT/build/prometheus-operator-crds"
rm -rf "$work" "$TARGET.partial"
mkdir -p "$work" "$TARGET.partial"
cd "$work"
cat > go.mod <<GOMOD
module sre-operator.local/prometheus-operator-crds

go 1.24
GOMOD
export GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0
module=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring
go get "$module@v$VERSION" >&2
GOBIN="$work/bin" go install "sigs.k8s.io/controller-tools/cmd/controller-gen@v$TOOLS_VERSION" >&2
"$work/bin/controller-gen" crd "paths=$module/..." "output:crd:dir=$TARGET.partial" >&2
rm -rf "$TARGET"
mv "$TARGET.partial" "$TARGET"
say "generated in $(( $(date +%s) - started ))s: $(ls "$TARGET" | tr '\n' ' ')"
echo "$TARGET"
