#!/usr/bin/env bash
# Build one Go command at a pinned version, once, into the cache; print its path as the last line.
# Usage: bash scripts/go-tool.sh NAME PACKAGE@VERSION   (PACKAGE is the command's import path)
#   e.g. bash scripts/go-tool.sh kind sigs.k8s.io/kind@v0.33.0
set -euo pipefail
name=$1 spec=$2
version=${spec##*@}
cache=${SRE_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sre-operator}
target="$cache/tools/$name-$version"
say() { echo "[go-tool] $*" >&2; }
if [[ -x "$target/$name" ]]; then
  echo "$target/$name"; exit 0
fi
command -v go >/dev/null 2>&1 || { say "no Go toolchain to build $name ($spec)"; exit 3; }
log="$cache/go-tool-$name.log"
say "building $name from $spec (once; log: $log)"
mkdir -p "$target.partial"
GOBIN="$target.partial" CGO_ENABLED=0 GOFLAGS=-trimpath go install -ldflags "-s -w" "$spec" >"$log" 2>&1 \
  || { say "go install $spec failed: see $log"; exit 1; }
built=$(find "$target.partial" -maxdepth 1 -type f -perm -u+x | head -1)
[[ -n "$built" ]] || { say "go install $spec made no command"; exit 1; }
[[ "$built" == "$target.partial/$name" ]] || mv "$built" "$target.partial/$name"
rm -rf "$target"
mv "$target.partial" "$target"
echo "$target/$name"
