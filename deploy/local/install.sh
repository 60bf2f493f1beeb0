#!/usr/bin/env bash
# Installs a reference operator on the local control plane's real node:
#   bash deploy/local/install.sh crypto|printer
# 1. builds the image offline (deploy/image/build.sh; cached) and imports it into the real node's
#    containerd, as the plane imports its own images (ctr --namespace k8s.io images import);
# 2. creates the operator's namespace and the ConfigMap local-apiserver with the API server's
#    port (read from the plane's state), which the Pod's KUBERNETES_SERVICE_PORT comes from;
# 3. applies deploy/local/<operator> and waits for the rollout.
# Needs a running plane with a running real node (node controlplane/cli.ts up; status shows it).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
operator="${1:-}"
case "$operator" in
  crypto | printer) ;;
  *) echo "usage: bash deploy/local/install.sh crypto|printer" >&2; exit 2 ;;
esac
node="$repo/node_modules/.bin/node"
[ -x "$node" ] || node="$(command -v node)"
state_file="${OPERON_CONTROLPLANE_DIR:-$repo/.cache/controlplane}/state.json"
[ -f "$state_file" ] || { echo "install.sh: no control plane state at $state_file: run node controlplane/cli.ts up" >&2; exit 1; }

# One value of the plane's state per line: kubectl, kubeconfig, API server port, ctr, socket.
mapfile -t plane < <("$node" -e '
  const s = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  const n = s.realNode ?? {};
  if (n.status !== "running") {
    console.error(`install.sh: the real node is not running (${n.status ?? "not recorded"}${n.reason ? `: ${n.reason}` : ""}); see docs/real-node.md`);
    process.exit(1);
  }
  console.log([`${s.binDir}/kubectl`, s.kubeconfig, s.ports.apiserver, n.ctr, n.containerdSocket].join("\n"));
' "$state_file")
[ "${#plane[@]}" -eq 5 ] || exit 1
kubectl=("${plane[0]}" --kubeconfig "${plane[1]}")
port="${plane[2]}"
ctr=("${plane[3]}" --address "${plane[4]}" --namespace k8s.io)

image_dir="$(bash "$repo/deploy/image/build.sh" | tail -n1)"
"${ctr[@]}" images import "$image_dir/image.tar" >/dev/null
echo "install.sh: imported $(sed -n 's/^IMAGE_RELEASE=//p' "$image_dir/image.env") into the real node's containerd" >&2

ns="operon-$operator"
"${kubectl[@]}" create namespace "$ns" --dry-run=client -o yaml | "${kubectl[@]}" apply -f - >/dev/null
"${kubectl[@]}" -n "$ns" create configmap local-apiserver --from-literal=port="$port" --dry-run=client -o yaml | "${kubectl[@]}" apply -f - >/dev/null
existed="$("${kubectl[@]}" -n "$ns" get deployment "$operator-operator" --ignore-not-found -o name)"
"${kubectl[@]}" apply -k "$repo/deploy/local/$operator"
# The same tag may now name a newer build: restart so the Pod runs it.
[ -z "$existed" ] || "${kubectl[@]}" -n "$ns" rollout restart "deployment/$operator-operator" >/dev/null
"${kubectl[@]}" -n "$ns" rollout status "deployment/$operator-operator" --timeout=180s
