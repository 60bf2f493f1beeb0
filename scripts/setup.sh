#!/usr/bin/env bash
# Installs what the project needs on a fresh machine, and nothing that is already there:
# Debian packages (openssl; containerd, runc, CNI plugins, busybox-static and catatonit for the
# control plane's real node), the npm dependencies (which include Node.js 24 itself, from the npm
# registry), and the local control plane's binaries (built from pinned Go modules, cached under
# ~/.cache/operon). Safe to run again: each step is skipped when its result exists.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

need_apt=()
command -v openssl >/dev/null || need_apt+=(openssl)
command -v git >/dev/null || need_apt+=(git)
# The control plane's real node (docs/real-node.md): container runtime, CNI plugins, and the two
# binaries its images are built from. Not with OPERON_REAL_NODE=0, and only on Linux.
if [ "$(uname -s)" = Linux ] && [[ ! "${OPERON_REAL_NODE:-}" =~ ^(0|false|off|no)$ ]]; then
  command -v containerd >/dev/null || [ -x /usr/sbin/containerd ] || [ -x /usr/bin/containerd ] || need_apt+=(containerd)
  command -v runc >/dev/null || [ -x /usr/sbin/runc ] || need_apt+=(runc)
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] || need_apt+=(containernetworking-plugins)
  for pkg in busybox-static catatonit; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
  done
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_apt[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

command -v npm >/dev/null || { echo "setup: npm is missing; install Node.js (any version with npm >= 9) first" >&2; exit 1; }
command -v go >/dev/null || { echo "setup: Go >= 1.26 is missing; it builds the local control plane" >&2; exit 1; }

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.operon-lock-hash
want="$(sha256sum package-lock.json | cut -c1-64)"
if [ ! -x node_modules/.bin/node ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing npm dependencies (Node.js 24 comes with them)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

say "building the local control plane if needed"
bash controlplane/build.sh >/dev/null
