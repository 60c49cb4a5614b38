#!/usr/bin/env bash
# Build the operator's image from the Dockerfile as sre-operator:dev, once per content of what goes into it.
# Starts dockerd when none runs (installing Debian's docker.io if missing). Where the Dockerfile's default
# base (the official python:*-slim) cannot be pulled, as on machines with no registry, it builds a Debian
# base with debootstrap and uses that instead (cached as an image too). Prints the image's name last.
# Usage: bash scripts/image.sh [TAG]   (default sre-operator:dev)
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-sre-operator:dev}
cache=${SRE_OPERATOR_CACHE:-$HOME/.cache/sre-operator}
mkdir -p "$cache"
say() { echo "[image] $*" >&2; }
fail() { echo "[image] $*" >&2; exit 1; }

engine_up() { docker info >/dev/null 2>&1; }
if ! engine_up; then
  if ! command -v dockerd >/dev/null 2>&1; then
    [[ $(id -u) -eq 0 ]] || fail "no Docker engine, and installing Debian's docker.io needs root"
    say "installing Debian's docker.io"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null \
      || fail "apt-get could not install docker.io"
  fi
  say "starting dockerd (log: $cache/dockerd.log)"
  nohup dockerd >"$cache/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do engine_up && break; sleep 1; done
  engine_up || fail "dockerd did not start: see $cache/dockerd.log"
fi

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
    recipe="debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm"
    # The base trusts what this machine trusts (its CA bundle, pip told to use it): where the way out goes
    # through a proxy with its own CA, pip in the build reaches PyPI. Only this machine's base carries them.
    host_ca=/etc/ssl/certs/ca-certificates.crt
    base="sre-operator-base:bookworm-$( (echo "$recipe"; cat "$host_ca" 2>/dev/null) | sha256sum | cut -c1-12)"
    if ! docker image inspect "$base" >/dev/null 2>&1; then
      command -v debootstrap >/dev/null 2>&1 || {
        [[ $(id -u) -eq 0 ]] || fail "$official cannot be pulled and debootstrap is missing (needs root to install)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
      }
      say "$official cannot be pulled: building $base with debootstrap (about 3 minutes, once)"
      root=$(mktemp -d)
      trap 'rm -rf "$root"' EXIT
      $recipe "$root" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 \
        || fail "debootstrap failed: see $cache/debootstrap.log"
      ln -sf python3 "$root/usr/bin/python"
      if [[ -f "$host_ca" ]]; then
        cp "$host_ca" "$root/etc/ssl/certs/ca-certificates.crt"
        printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
      fi
      rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*
      tar -C "$root" -c . | docker import - "$base" >/dev/null || fail "docker import of the base failed"
    fi
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
