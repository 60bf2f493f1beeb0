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
  controller-runtime)
    src="$here/contenders/controller-runtime"
    bin="$cache/bin/cvc-controller-runtime"
    want="$(stamp_of "$src/main.go" "$src/go.mod" "$src/go.sum")"
    if [[ ! -x "$bin" || "$(cat "$bin.stamp" 2>/dev/null)" != "$want" ]]; then
      echo "bench setup: building the controller-runtime contender (first build downloads modules, ~2 min)" >&2
      (cd "$src" && go build -o "$bin" .)
      echo "$want" > "$bin.stamp"
    fi
    echo "$bin"
    ;;
  controller-runtime-printer)
    src="$here/contenders/controller-runtime"
    bin="$cache/bin/printer-controller-runtime"
    want="$(stamp_of "$src/printer/main.go" "$src/go.mod" "$src/go.sum")"
    if [[ ! -x "$bin" || "$(cat "$bin.stamp" 2>/dev/null)" != "$want" ]]; then
      echo "bench setup: building the controller-runtime Printer contender (first build downloads modules, ~2 min)" >&2
      (cd "$src" && go build -o "$bin" ./printer)
      echo "$want" > "$bin.stamp"
    fi
    echo "$bin"
    ;;
  controller-runtime-webhook)
    src="$here/contenders/controller-runtime"
    bin="$cache/bin/webhook-controller-runtime"
    want="$(stamp_of "$src/webhook/main.go" "$src/go.mod" "$src/go.sum")"
    if [[ ! -x "$bin" || "$(cat "$bin.stamp" 2>/dev/null)" != "$want" ]]; then
      echo "bench setup: building the controller-runtime webhook contender" >&2
      (cd "$src" && go build -o "$bin" ./webhook)
      echo "$want" > "$bin.stamp"
    fi
    echo "$bin"
    ;;
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
