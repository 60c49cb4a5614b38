#!/usr/bin/env bash
# Provide kube-apiserver, etcd, kubectl and kube-controller-manager for the
# envtest-style tests, from the first source that works:
#   1. $KUBEBUILDER_ASSETS, when it already holds the binaries;
#   2. the cache folder, filled by an earlier run of this script;
#   3. a build with the Go toolchain from Go modules (pinned versions below).
# Prints the folder holding the binaries as its last line. Idempotent.
# With --node it also builds what a kind node runs (kubeadm, kubelet, kube-scheduler, kube-proxy) into the
# same folder, from the same modules (scripts/node-image.sh).
set -euo pipefail
NODE_COMMANDS=()
[[ "${1:-}" == "--node" ]] && NODE_COMMANDS=(kubeadm kubelet kube-scheduler kube-proxy)

KUBERNETES_VERSION="${SRE_OPERATOR_KUBERNETES_VERSION:-1.36.3}"
ETCD_VERSION="${SRE_OPERATOR_ETCD_VERSION:-3.6.16}"
CACHE_ROOT="${SRE_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sre-operator}"
TARGET="$CACHE_ROOT/kubernetes-v$KUBERNETES_VERSION"
REQUIRED=(kube-apiserver etcd kubectl kube-controller-manager)

say() { printf '[control-plane] %s\n' "$*" >&2; }

has_all() {
  local dir="$1" name
  for name in "${REQUIRED[@]}"; do [[ -x "$dir/$name" ]] || return 1; done
}

kubernetes_ldflags() {
  local minor pkg flags="-s -w"
  minor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=v$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  done
  echo "$flags"
}

# Node commands are built one by one into the finished folder, each only when missing.
build_node_commands() {
  local cmd missing=()
  for cmd in "${NODE_COMMANDS[@]}"; do [[ -x "$TARGET/$cmd" ]] || missing+=("$cmd"); done
  [[ ${#missing[@]} -gt 0 ]] || return 0
  command -v go >/dev/null 2>&1 || { say "no Go toolchain to build ${missing[*]}"; exit 3; }
  cd "$CACHE_ROOT/build/kubernetes"
  export GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0
  for cmd in "${missing[@]}"; do
    say "go build $cmd (node)"
    go build -trimpath -ldflags "$(kubernetes_ldflags)" -o "$TARGET/$cmd.partial" "k8s.io/kubernetes/cmd/$cmd"
    mv "$TARGET/$cmd.partial" "$TARGET/$cmd"
  done
}

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  # envtest's asset folders have no kube-controller-manager; garbage collection tests skip without it.
  if [[ -x "$KUBEBUILDER_ASSETS/kube-apiserver" && -x "$KUBEBUILDER_ASSETS/etcd" ]]; then
    say "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
    echo "$KUBEBUILDER_ASSETS"; exit 0
  fi
  say "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks kube-apiserver or etcd; falling back"
fi

if has_all "$TARGET"; then
  say "cached in $TARGET"
  build_node_commands
  echo "$TARGET"; exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  say "no Go toolchain: set KUBEBUILDER_ASSETS to a folder with kube-apiserver, etcd and kubectl"
  exit 3
fi

started=$(date +%s)
work="$CACHE_ROOT/build"
mkdir -p "$work/kubernetes" "$work/etcd" "$TARGET.partial"
export GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0

say "building Kubernetes v$KUBERNETES_VERSION from Go modules in $work (first run only; 10-25 minutes on 2 cores)"
cd "$work/kubernetes"
modfile=$(go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
{
  echo "module sre-operator.local/control-plane"
  echo
  grep -m1 '^go ' "$modfile"
  echo
  echo "require k8s.io/kubernetes v$KUBERNETES_VERSION"
  echo
  echo "replace ("
  # k8s.io/kubernetes points its staging modules at local folders; use the published release of each instead.
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 v0.'"${KUBERNETES_VERSION#1.}"'#p' "$modfile"
  echo ")"
} > go.mod
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
say "resolving modules"
go mod tidy -e >/dev/null 2>&1 || true
go get "k8s.io/kubernetes@v$KUBERNETES_VERSION" >&2
for cmd in kube-apiserver kube-controller-manager kubectl; do
  say "go build $cmd"
  go build -trimpath -ldflags "$(kubernetes_ldflags)" -o "$TARGET.partial/$cmd" "k8s.io/kubernetes/cmd/$cmd"
done

say "building etcd v$ETCD_VERSION"
cd "$work/etcd"
cat > go.mod <<GOMOD
module sre-operator.local/etcd

go 1.24

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
GOMOD
go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
go build -trimpath -ldflags "-s -w" -o "$TARGET.partial/etcd" go.etcd.io/etcd/server/v3

rm -rf "$TARGET"
mv "$TARGET.partial" "$TARGET"
build_node_commands
say "built in $(( $(date +%s) - started ))s; $(du -sh "$TARGET" | cut -f1) of binaries in $TARGET, $(du -sh "$(go env GOMODCACHE)" | cut -f1) module cache"
echo "$TARGET"
