#!/usr/bin/env bash
# Build the operator's image from the Dockerfile as sre-operator:dev, once per content of what goes into it.
# Starts dockerd when none runs (installing Debian's docker.io if missing). Where the Dockerfile's default
# base (the official python:*-slim) cannot be pulled, as on machines with no registry, it builds a Debian
# base with debootstrap and uses that instead (cached as an image too). Prints the image's name last.
# Usage: bash scripts/image.sh [TAG]   (default sre-operator:dev)
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-sre-operator:dev}

LOG_NAME=image
# shellcheck source=scripts/lib/docker.sh
source scripts/lib/docker.sh
ensure_docker_engine "$cache"

python_base_hook() {
  ln -sf python3 "$1/usr/bin/python"
  [[ -f "$1/etc/ssl/certs/ca-certificates.crt" ]] && printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$1/etc/pip.conf"
  return 0
}

# Content hashes: an image is rebuilt only when what goes into it changed.
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
base_arg=()
if [[ -n "${PYTHON_IMAGE:-}" ]]; then
  base_arg=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")
else
  official=$(sed -n 's/^ARG PYTHON_IMAGE=//p' Dockerfile)
  if docker image inspect "$official" >/dev/null 2>&1 || timeout 60 docker pull -q "$official" >/dev/null 2>&1; then
    say "base: $official"
  else
    say "$official cannot be pulled: using a Debian base made here"
    base=$(debootstrap_image sre-operator-base bookworm python3,python3-venv,ca-certificates python_base_hook)
    say "base: $base (made here; the Dockerfile's default is $official)"
    base_arg=(--build-arg "PYTHON_IMAGE=$base")
  fi
fi

inputs=$(hash_of Dockerfile requirements.lock pyproject.toml README.md \
  $(find operator references -type f -not -path '*/__pycache__/*' | sort) <(printf '%s' "${base_arg[*]:-}"))
if [[ "$(docker image inspect -f '{{ index .Config.Labels "dev.sre-operator.inputs" }}' "$tag" 2>/dev/null)" == "$inputs" ]]; then
  say "$tag is up to date (inputs $inputs)"
else
  say "building $tag (inputs $inputs)"
  docker build --network host "${base_arg[@]}" --label "dev.sre-operator.inputs=$inputs" -t "$tag" . \
    >"$cache/image-build.log" 2>&1 || fail "docker build failed: see $cache/image-build.log"
fi
echo "$tag"
