#!/usr/bin/env bash
# The fresh-machine check: runs the README's two commands, exactly as the README writes them, in a
# clean clone of the committed HEAD with every cache the project owns pointed at new empty folders:
# HOME (so ~/.cache/operon with the control-plane binaries, the benchmark's venv and binaries, and
# ~/.npm), GOPATH, GOMODCACHE, GOCACHE and npm's cache. Debian packages already installed stay, as
# they would on a reused machine; everything else is fetched and built from nothing.
#
#   bash scripts/fresh-check.sh            # prints each command's wall time and result
#   bash scripts/fresh-check.sh --keep     # keeps the folder afterwards (it is several GB)
#
# Run it before ending work that touches set-up, dependencies, tests or the benchmark harness: a
# green CI on warm caches once hid a test command that failed on a new machine. The README's
# timings come from this script.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keep=0
[ "${1:-}" = "--keep" ] && keep=1

root="$(mktemp -d "${TMPDIR:-/tmp}/operon-fresh-XXXXXX")"
say() { printf '\033[1mfresh-check: %s\033[0m\n' "$*" >&2; }

# The README's code block under "## Two commands": its lines, less comments.
mapfile -t commands < <(awk '/^## Two commands/{f=1} f&&/^```/{n++; next} f&&n==1{print} n>=2{exit}' "$repo/README.md" | sed 's/[[:space:]]*#.*$//' | sed '/^[[:space:]]*$/d')
if [ "${#commands[@]}" -ne 2 ]; then
  echo "fresh-check: expected two commands under '## Two commands' in README.md, found ${#commands[@]}" >&2
  exit 1
fi

sha="$(git -C "$repo" rev-parse --short HEAD)"
git clone --quiet "$repo" "$root/clone"
mkdir -p "$root/home" "$root/gopath" "$root/gocache" "$root/npm-cache"
# The environment CI gets (this machine's), with every cache the project owns moved to an empty
# folder. The machine's own client settings (Go's env file, npm's user config with its CA file)
# come with the machine image, not with the project, so they stay.
env_fresh=(
  env -u OPERON_CONTROLPLANE_DIR -u OPERON_CACHE -u OPERON_BENCH_CACHE -u XDG_CACHE_HOME
  "HOME=$root/home"
  "GOENV=$(go env GOENV 2>/dev/null || echo off)"
  "npm_config_userconfig=${HOME}/.npmrc"
  "GOPATH=$root/gopath"
  "GOMODCACHE=$root/gopath/pkg/mod"
  "GOCACHE=$root/gocache"
  "npm_config_cache=$root/npm-cache"
)

say "clone of $sha in $root/clone; caches empty under $root"
say "machine: $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), $(go version | cut -d' ' -f3)"
results=()
failed=0
for cmd in "${commands[@]}"; do
  log="$root/$(echo "$cmd" | tr -c 'a-z0-9' '_' | sed 's/_*$//').log"
  say "running: $cmd  (log: $log)"
  start=$SECONDS
  (cd "$root/clone" && "${env_fresh[@]}" bash -c "$cmd") >"$log" 2>&1
  code=$?
  secs=$((SECONDS - start))
  build="$(grep -o 'build.sh: built in [0-9]* s' "$log" | head -1 | grep -o '[0-9]*' || true)"
  closing="$(grep -E '^(ℹ|#) (tests|pass|fail) [0-9]+' "$log" | tr '\n' ' ' || true)"
  line="$cmd: $([ "$code" -eq 0 ] && echo passed || echo "FAILED (exit $code)") in ${secs} s${build:+ (cold control-plane build ${build} s)}${closing:+; $closing}"
  results+=("$line")
  say "$line"
  if [ "$code" -ne 0 ]; then
    failed=1
    tail -40 "$log" >&2
  fi
done

# Stop the clone's control plane before its folder goes.
(cd "$root/clone" && "${env_fresh[@]}" bash -c 'node_modules/.bin/node controlplane/cli.ts down' >/dev/null 2>&1) || true
echo
echo "fresh-check $(date -u +%Y-%m-%dT%H:%MZ) at $sha:"
printf '  %s\n' "${results[@]}"
if [ "$keep" -eq 1 ]; then
  echo "kept: $root"
else
  rm -rf "$root"
fi
exit "$failed"
