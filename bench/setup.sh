#!/usr/bin/env bash
# Installs what the benchmark's contenders need, each only when missing or changed. Idempotent.
#
#   bash bench/setup.sh kopf                 Python venv with kopf (bench/contenders/kopf/requirements.txt)
#   bash bench/setup.sh controller-runtime   builds the Go contender
#   bash bench/setup.sh controller-runtime-printer   builds the Go contender's Printer operator
#   bash bench/setup.sh controller-runtime-webhook   builds the Go contender's validating webhook (bench/admission)
#   bash bench/setup.sh chart                rsvg-convert (Debian librsvg2-bin) for the PNG chart
#
# Everything lands under ${OPERON_BENCH_CACHE:-~/.cache/operon/bench}: venv/, bin/. The last line
# printed is the path of what was made (the venv or the binary).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${OPERON_BENCH_CACHE:-$HOME/.cache/operon/bench}"
mkdir -p "$cache/bin"

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

# Builds package `$2` of the controller-runtime module into $cache/bin/$1, once per change of its
# main.go, go.mod or go.sum, and prints the binary's path.
go_contender() {
  local src="$here/contenders/controller-runtime" bin="$cache/bin/$1" pkg="$2"
  local want
  want="$(stamp_of "$src/$pkg/main.go" "$src/go.mod" "$src/go.sum")"
  if [[ ! -x "$bin" || "$(cat "$bin.stamp" 2>/dev/null)" != "$want" ]]; then
    echo "bench setup: building $3 (first build downloads modules, ~2 min)" >&2
    (cd "$src" && go build -o "$bin" "./$pkg")
    echo "$want" > "$bin.stamp"
  fi
  echo "$bin"
}

case "${1:-}" in
  kopf)
    venv="$cache/venv"
    req="$here/contenders/kopf/requirements.txt"
    want="$(stamp_of "$req")"
    if [[ ! -x "$venv/bin/kopf" || "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]]; then
      echo "bench setup: installing kopf into $venv" >&2
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
      echo "$want" > "$venv/.stamp"
    fi
    echo "$venv"
    ;;
  controller-runtime) go_contender cvc-controller-runtime . "the controller-runtime contender" ;;
  controller-runtime-printer) go_contender printer-controller-runtime printer "the controller-runtime Printer contender" ;;
  controller-runtime-webhook) go_contender webhook-controller-runtime webhook "the controller-runtime webhook contender" ;;
  chart)
    if ! command -v rsvg-convert >/dev/null; then
      echo "bench setup: installing librsvg2-bin for rsvg-convert" >&2
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq librsvg2-bin >&2
    fi
    command -v rsvg-convert
    ;;
  *)
    echo "usage: bash bench/setup.sh kopf | controller-runtime | controller-runtime-printer | chart" >&2
    exit 2
    ;;
esac
