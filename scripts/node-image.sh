#!/usr/bin/env bash
# Build a kind node image offline, once per content, and print its name as the last line.
#
# kind's own node images come from a registry, which these machines cannot reach. This makes the same kind
# of image from parts built here: a Debian (trixie) root with systemd, containerd 1.7, runc and the CNI
# plugins from Debian's packages; kubeadm, kubelet and kubectl, and the control plane's images (kube-apiserver,
# kube-controller-manager, kube-scheduler, kube-proxy, etcd, CoreDNS, a pause container), each built from
# Go modules and preloaded into the node's containerd. The pod network is a static ptp CNI configuration
# (a single-node cluster needs no CNI daemon), so kind's default CNI is turned off (scripts/node/kind.yaml).
# Images are named sre-operator.local/k8s/*: they are local builds, not the registry's.
set -euo pipefail
cd "$(dirname "$0")/.."
LOG_NAME=node-image
# shellcheck source=scripts/lib/docker.sh
source scripts/lib/docker.sh
ensure_docker_engine "$cache"

KUBERNETES_VERSION="${SRE_OPERATOR_KUBERNETES_VERSION:-1.36.3}"
# The cluster's configuration names the tags kubeadm asks for; the images are built to match it.
image_tag_of() { sed -n "/^ *$1:/,/imageTag:/ s/.*imageTag: *\([^ #]*\).*/\1/p" scripts/node/kind.yaml; }
ETCD_TAG=$(image_tag_of etcd)
COREDNS_VERSION=$(image_tag_of dns)
REPOSITORY=$(sed -n 's/^ *imageRepository: *//p' scripts/node/kind.yaml)
[[ -n "$ETCD_TAG" && -n "$COREDNS_VERSION" && -n "$REPOSITORY" ]] || fail "scripts/node/kind.yaml lacks an image tag"

binaries=$(SRE_OPERATOR_ETCD_VERSION=${ETCD_TAG%-0} bash scripts/control-plane-binaries.sh --node | tail -1) \
  || fail "the Kubernetes binaries could not be built"
etcd_built=$("$binaries/etcd" --version | sed -n 's/^etcd Version: //p')
[[ "$etcd_built-0" == "$ETCD_TAG" ]] || fail "the cached etcd is $etcd_built, scripts/node/kind.yaml asks for $ETCD_TAG"
coredns=$(bash scripts/go-tool.sh coredns "github.com/coredns/coredns@$COREDNS_VERSION" | tail -1) \
  || fail "CoreDNS $COREDNS_VERSION could not be built"
pause="$cache/tools/pause-$(sha256sum scripts/node/pause.go | cut -c1-12)/pause"
if [[ ! -x "$pause" ]]; then
  mkdir -p "$(dirname "$pause")"
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$pause" scripts/node/pause.go || fail "pause could not be built"
fi

node_base_hook() {
  local root=$1
  # The node boots systemd into multi-user with only what a node needs.
  chroot "$root" systemctl set-default multi-user.target >/dev/null
  chroot "$root" systemctl mask getty.target console-getty.service systemd-udevd.service \
    systemd-udev-trigger.service systemd-modules-load.service apt-daily.timer apt-daily-upgrade.timer \
    e2scrub_all.timer fstrim.timer >/dev/null 2>&1 || true
  return 0
}
packages=systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,iptables,nftables,conntrack
packages+=,ethtool,socat,iproute2,util-linux,mount,kmod,procps,ca-certificates,libseccomp2
base=$(debootstrap_image sre-operator-node-base trixie "$packages" node_base_hook)

# Every input named in the tag: a change to any rebuilds the image; nothing else does.
inputs=$( (echo "$base" "$ETCD_TAG" "$COREDNS_VERSION"; cat scripts/node-image.sh scripts/node/*; \
  sha256sum "$binaries"/{kubeadm,kubelet,kubectl,kube-apiserver,kube-controller-manager,kube-scheduler,kube-proxy,etcd} \
    "$coredns" "$pause") | sha256sum | cut -c1-12)
image="sre-operator-node:v$KUBERNETES_VERSION-$inputs"
if docker image inspect "$image" >/dev/null 2>&1; then
  say "$image is up to date"
  echo "$image"; exit 0
fi

work=$(mktemp -d)
container=""
cleanup() { [[ -n "$container" ]] && docker rm -f "$container" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

# One image per component, each holding only its binary (kube-proxy also needs nft and iptables: the node's
# own root serves as its base).
component() {
  local name=$1 tag=$2 from=$3 binary=$4 path=$5
  mkdir -p "$work/$name"
  cp "$binary" "$work/$name/binary"
  printf 'FROM %s\nCOPY binary %s\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nENTRYPOINT ["%s"]\n' \
    "$from" "$path" "$path" >"$work/$name/Dockerfile"
  docker build -q -t "$REPOSITORY/$name:$tag" "$work/$name" >/dev/null 2>>"$cache/node-image.log" \
    || fail "docker build of $name failed: see $cache/node-image.log"
  echo "$REPOSITORY/$name:$tag"
}
images=(
  "$(component kube-apiserver "v$KUBERNETES_VERSION" scratch "$binaries/kube-apiserver" /usr/local/bin/kube-apiserver)"
  "$(component kube-controller-manager "v$KUBERNETES_VERSION" scratch "$binaries/kube-controller-manager" /usr/local/bin/kube-controller-manager)"
  "$(component kube-scheduler "v$KUBERNETES_VERSION" scratch "$binaries/kube-scheduler" /usr/local/bin/kube-scheduler)"
  "$(component kube-proxy "v$KUBERNETES_VERSION" "$base" "$binaries/kube-proxy" /usr/local/bin/kube-proxy)"
  "$(component etcd "$ETCD_TAG" scratch "$binaries/etcd" /usr/local/bin/etcd)"
  "$(component coredns "$COREDNS_VERSION" scratch "$coredns" /coredns)"
  "$(component pause 1 scratch "$pause" /pause)"
)

say "assembling $image"
container=$(docker run -d --entrypoint sleep --security-opt seccomp=unconfined "$base" infinity)
for name in kubeadm kubelet kubectl; do
  docker cp "$binaries/$name" "$container:/usr/bin/$name"
done
docker cp scripts/node/entrypoint "$container:/usr/local/bin/entrypoint"
docker exec "$container" mkdir -p /kind /etc/containerd /etc/cni/net.d /etc/systemd/system/kubelet.service.d
docker cp scripts/node/containerd.toml "$container:/etc/containerd/config.toml"
docker cp scripts/node/cni.conflist "$container:/etc/cni/net.d/10-sre-operator.conflist"
docker cp scripts/node/kubelet.service "$container:/etc/systemd/system/kubelet.service"
docker cp scripts/node/kubelet.slice "$container:/etc/systemd/system/kubelet.slice"
docker exec "$container" sh -c "echo v$KUBERNETES_VERSION >/kind/version && systemctl enable kubelet containerd >/dev/null 2>&1"

# Preload every image into the node's containerd, as kind's own node images are made: imported unpacked
# later, pinned so that the kubelet's image collection never removes them.
docker exec "$container" sh -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
for _ in $(seq 1 30); do docker exec "$container" ctr version >/dev/null 2>&1 && break; sleep 1; done
for name in "${images[@]}"; do
  docker save "$name" | docker exec -i "$container" ctr --namespace=k8s.io images import \
    --label=io.cri-containerd.pinned=pinned --no-unpack --digests - >/dev/null \
    || fail "importing $name into the node failed"
done
docker exec "$container" sh -c 'pkill containerd; sleep 1; rm -f /tmp/containerd.log'
committed=$(docker commit "$container") || fail "docker commit of the node failed"
# systemd runs as the first process; it halts on SIGRTMIN+3 (docker commit cannot set a stop signal).
printf 'FROM %s\nENV container=docker\nSTOPSIGNAL SIGRTMIN+3\nENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]\nCMD []\n' \
  "$committed" | docker build -q -t "$image" - >/dev/null 2>>"$cache/node-image.log" || fail "tagging the node failed"
docker rmi "$committed" >/dev/null 2>&1 || true
# Earlier node images are 1.4 GB each: drop those no cluster runs (docker refuses to remove one in use).
docker images sre-operator-node --format '{{.Repository}}:{{.Tag}}' | grep -vxF "$image" \
  | xargs -r docker rmi >/dev/null 2>&1 || true
say "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
echo "$image"
