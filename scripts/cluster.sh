#!/usr/bin/env bash
# A kind cluster named sre-operator with the operator's image loaded, made offline from parts built here.
#   bash scripts/cluster.sh up     build what is missing (cached by content), create the cluster or reuse a
#                                  healthy one, load sre-operator:dev; prints the kubeconfig path last
#   bash scripts/cluster.sh down   delete the cluster; the cache stays
#   bash scripts/cluster.sh tools  build kind and helm only; prints the folder holding them
#   bash scripts/cluster.sh build  build every part (kind, helm, the node image, sre-operator:dev); no cluster
# Needs root the first time on a bare Debian machine (it installs docker.io and debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${SRE_OPERATOR_CLUSTER:-sre-operator}
KIND_VERSION=v0.33.0
HELM_VERSION=v3.22.0
IMAGE=sre-operator:dev
LOG_NAME=cluster
# shellcheck source=scripts/lib/docker.sh
source scripts/lib/docker.sh
kubeconfig="$cache/kind/$NAME.kubeconfig"
node_container="$NAME-control-plane"
mkdir -p "$cache/kind"

kind=$(bash scripts/go-tool.sh kind "sigs.k8s.io/kind@$KIND_VERSION" | tail -1) || fail "kind $KIND_VERSION could not be built"
helm=$(bash scripts/go-tool.sh helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" | tail -1) || fail "helm $HELM_VERSION could not be built"
kubectl="$(bash scripts/control-plane-binaries.sh | tail -1)/kubectl"

exists() { "$kind" get clusters 2>/dev/null | grep -qx "$NAME"; }

case "${1:-}" in
  tools)
    [[ "$(dirname "$kind")" != "$(dirname "$helm")" ]] && ln -sf "$helm" "$(dirname "$kind")/helm"
    ln -sf "$kubectl" "$(dirname "$kind")/kubectl"
    echo "$(dirname "$kind")"; exit 0 ;;
  down)
    ensure_docker_engine "$cache"
    if exists; then
      "$kind" delete cluster --name "$NAME" --kubeconfig "$kubeconfig" >&2 || fail "kind could not delete $NAME"
    else
      say "no cluster $NAME"
    fi
    rm -f "$kubeconfig"
    exit 0 ;;
  up|build) ;;
  *) fail "usage: bash scripts/cluster.sh up|down|tools|build" ;;
esac

ensure_privileged_containers "$cache"
node=$(bash scripts/node-image.sh | tail -1) || fail "the node image could not be built (see above)"
operator=$(bash scripts/image.sh "$IMAGE" | tail -1) || fail "the operator's image could not be built (see above)"
[[ "$1" == build ]] && { say "built $node and $operator"; exit 0; }

healthy() {
  exists || return 1
  [[ "$(docker inspect -f '{{.Config.Image}}' "$node_container" 2>/dev/null)" == "$node" ]] || return 1
  [[ "$(docker inspect -f '{{.State.Running}}' "$node_container" 2>/dev/null)" == true ]] || return 1
  "$kind" get kubeconfig --name "$NAME" >"$kubeconfig.partial" 2>/dev/null || return 1
  mv "$kubeconfig.partial" "$kubeconfig"
  "$kubectl" --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1
}

if healthy; then
  say "reusing the healthy cluster $NAME"
else
  if exists; then
    say "cluster $NAME is not healthy or runs another node image: recreating it"
    "$kind" delete cluster --name "$NAME" >&2 || fail "kind could not delete the old $NAME"
  fi
  say "creating cluster $NAME from $node"
  "$kind" create cluster --name "$NAME" --image "$node" --config scripts/node/kind.yaml \
    --kubeconfig "$kubeconfig" --wait 180s >&2 || fail "kind could not create the cluster (see above)"
fi

# Load the operator's image when the node does not hold this very build yet.
built_id=$(docker image inspect -f '{{.Id}}' "$operator")
if [[ "$(docker exec "$node_container" cat /kind/loaded-operator-image 2>/dev/null)" != "$built_id" ]]; then
  say "loading $operator into the node"
  "$kind" load docker-image "$operator" --name "$NAME" >&2 || fail "kind could not load $operator"
  docker exec "$node_container" sh -c "echo $built_id >/kind/loaded-operator-image"
fi
say "kubectl: $kubectl; helm: $helm; kind: $kind"
echo "$kubeconfig"
