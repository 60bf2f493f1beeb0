#!/usr/bin/env bash
# Builds the local control plane's binaries from the pinned Go module graph in this folder
# (go.mod/go.sum: k8s.io/kubernetes with its staging modules replaced by their published tags,
# etcd's server module and kwok; kubelet is for the real node, see src/node.ts).
# Output: $OPERON_CACHE/controlplane/<key>/bin, where <key> hashes the pins, so a warm machine
# skips the build and a changed pin rebuilds.
# Prints the bin directory on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

key="$(cat "$here/versions.env" "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)"
out="${OPERON_CACHE:-$HOME/.cache/operon}/controlplane/v${K8S_VERSION}-${key}/bin"
mkdir -p "$out"

# name=package; etcd's main package is its module root, so its binary is renamed.
targets=(
  "kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver"
  "kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager"
  "kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler"
  "kubectl=k8s.io/kubernetes/cmd/kubectl"
  "kubelet=k8s.io/kubernetes/cmd/kubelet"
  "etcd=go.etcd.io/etcd/server/v3"
  "kwok=sigs.k8s.io/kwok/cmd/kwok"
)

# kwok's own Stage files (Node start-up, Pod readiness, Pod deletion) are read at run time from
# the kwok module, not copied into this repository; keep them beside the binaries.
stages="$out/../kwok-stages"
copy_stages() {
  [ -f "$stages/pod-delete.yaml" ] && return 0
  local dir
  dir="$(cd "$here" && GOFLAGS=-mod=readonly go mod download -json "sigs.k8s.io/kwok@v${KWOK_VERSION}" | sed -n 's/.*"Dir": "\([^"]*\)".*/\1/p')"
  mkdir -p "$stages"
  cp "$dir/kustomize/stage/node/fast/node-initialize.yaml" "$dir/kustomize/stage/pod/fast/pod-ready.yaml" \
     "$dir/kustomize/stage/pod/fast/pod-delete.yaml" "$stages/"
}

missing=()
for t in "${targets[@]}"; do
  [ -x "$out/${t%%=*}" ] || missing+=("$t")
done
if [ ${#missing[@]} -eq 0 ]; then
  copy_stages
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: Go is not installed (need Go >= 1.26)" >&2; exit 1; }
go version | grep -qE ' go1\.(2[6-9]|[3-9][0-9])' || { echo "build.sh: need Go >= 1.26, have: $(go version)" >&2; exit 1; }

# GOTOOLCHAIN=local: never let a go directive fetch another toolchain. CGO off, as upstream builds
# these; upstream links kubelet with cgo, but the only cgo packages it reaches are the standard
# library's net (DNS resolver) and os/user, whose pure-Go versions do the same job here.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
minor="$(cut -d. -f2 <<<"$K8S_VERSION")"
ldf="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v${KWOK_VERSION}"
# What hack/lib/version.sh stamps: without it --version and /version say v0.0.0-master.
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldf+=" -X $p.gitVersion=v${K8S_VERSION} -X $p.gitMajor=1 -X $p.gitMinor=${minor} -X $p.gitTreeState=clean"
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pkgs=()
for t in "${missing[@]}"; do pkgs+=("${t#*=}"); done
echo "build.sh: building ${missing[*]%%=*} into $out (a cold build takes tens of minutes on 2 cores)" >&2
start=$SECONDS
# One invocation for all: the packages they share are compiled once.
(cd "$here" && go build -trimpath -ldflags "$ldf" -o "$tmp/" "${pkgs[@]}")
[ -e "$tmp/server" ] && mv "$tmp/server" "$tmp/etcd"
[ -e "$tmp/v3" ] && mv "$tmp/v3" "$tmp/etcd"
for t in "${missing[@]}"; do
  name="${t%%=*}"
  [ -x "$tmp/$name" ] || { echo "build.sh: $name was not produced" >&2; ls "$tmp" >&2; exit 1; }
  mv "$tmp/$name" "$out/$name"
done
echo "build.sh: built in $((SECONDS - start)) s" >&2
copy_stages
echo "$out"
