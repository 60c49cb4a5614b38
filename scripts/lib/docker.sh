# Shared by the scripts that build images and clusters (sourced, not run; they set LOG_NAME first): messages
# on stderr prefixed with the script's name, the cache folder, and the Docker engine.
cache=${SRE_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sre-operator}
mkdir -p "$cache"
say() { echo "[${LOG_NAME:?}] $*" >&2; }
fail() { echo "[${LOG_NAME:?}] $*" >&2; exit 1; }

# Whether this machine's bounding set lacks capabilities the kernel has: a privileged container (a kind node)
# asks for all of them, and runc then fails with "unable to apply caps: operation not permitted".
capabilities_short() {
  local last bounding
  last=$(cat /proc/sys/kernel/cap_last_cap)
  bounding=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
  (( bounding != (1 << (last + 1)) - 1 ))
}

# Start dockerd; where capabilities are short, with scripts/lib/runc-in-bounds as its default runtime.
start_dockerd() {
  local cache=$1 args=() _
  if capabilities_short; then
    install -D -m 755 scripts/lib/runc-in-bounds "$cache/bin/runc-in-bounds"
    args=(--add-runtime "runc-in-bounds=$cache/bin/runc-in-bounds" --default-runtime runc-in-bounds)
    say "this machine lacks capabilities privileged containers ask for: dockerd runs them through runc-in-bounds"
  fi
  say "starting dockerd (log: $cache/dockerd.log)"
  nohup dockerd "${args[@]}" >"$cache/dockerd.log" 2>&1 &
  echo $! >"$cache/dockerd.pid"
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
  fail "dockerd did not start: see $cache/dockerd.log"
}

# A running Docker engine: starts dockerd when none answers, installing Debian's docker.io where missing.
ensure_docker_engine() {
  local cache=$1
  docker info >/dev/null 2>&1 && return 0
  if ! command -v dockerd >/dev/null 2>&1; then
    [[ $(id -u) -eq 0 ]] || fail "no Docker engine, and installing Debian's docker.io needs root"
    say "installing Debian's docker.io"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null \
      || fail "apt-get could not install docker.io"
  fi
  start_dockerd "$cache"
}

# A Docker engine that can run privileged containers (kind's nodes). An engine these scripts started is
# restarted with runc-in-bounds where needed; one started otherwise is left alone, with one line saying why.
ensure_privileged_containers() {
  local cache=$1
  ensure_docker_engine "$cache"
  capabilities_short || return 0
  [[ "$(docker info -f '{{.DefaultRuntime}}' 2>/dev/null)" == runc-in-bounds ]] && return 0
  local ours
  ours=$(cat "$cache/dockerd.pid" 2>/dev/null || true)
  if [[ -n "$ours" && "$(pidof dockerd)" == "$ours" ]]; then
    say "restarting dockerd to run privileged containers through runc-in-bounds"
    kill "$ours"
    for _ in $(seq 1 30); do kill -0 "$ours" 2>/dev/null || break; sleep 1; done
    start_dockerd "$cache"
    return 0
  fi
  fail "this machine lacks capabilities a privileged container asks for, and dockerd was not started by these scripts: stop it (they start one that runs kind's nodes through scripts/lib/runc-in-bounds)"
}

# An image made from Debian's packages with debootstrap, once per recipe (its name carries the recipe's hash).
# Usage: debootstrap_image REPOSITORY SUITE PACKAGES [HOOK]; HOOK is a function given the root folder before
# it is imported. Prints the image's name.
debootstrap_image() {
  local repository=$1 suite=$2 packages=$3 hook=${4:-}
  local recipe="debootstrap --variant=minbase --include=$packages $suite"
  # The image trusts what this machine trusts (its CA bundle): where the way out goes through a proxy with
  # its own CA, tools inside reach the package indexes.
  local host_ca=/etc/ssl/certs/ca-certificates.crt
  local hooked=""
  [[ -n "$hook" ]] && hooked=$(declare -f "$hook")
  local name="$repository:$suite-$( (echo "$recipe"; echo "$hooked"; cat "$host_ca" 2>/dev/null) | sha256sum | cut -c1-12)"
  if ! docker image inspect "$name" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null 2>&1 || {
      [[ $(id -u) -eq 0 ]] || fail "debootstrap is missing (installing it needs root)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    }
    say "building $name with debootstrap (a few minutes, once)"
    local root
    root=$(mktemp -d)
    $recipe "$root" http://deb.debian.org/debian >"$cache/debootstrap-$suite.log" 2>&1 \
      || { rm -rf "$root"; fail "debootstrap failed: see $cache/debootstrap-$suite.log"; }
    [[ -f "$host_ca" ]] && cp "$host_ca" "$root/etc/ssl/certs/ca-certificates.crt"
    [[ -n "$hook" ]] && "$hook" "$root"
    rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*
    tar -C "$root" -c . | docker import - "$name" >/dev/null || { rm -rf "$root"; fail "docker import of $name failed"; }
    rm -rf "$root"
  fi
  echo "$name"
}
