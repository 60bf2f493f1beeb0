#!/usr/bin/env bash
# All the tests: type-check, lint (incl. the layer rules), unit tests, then the real-cluster tests
# on the local control plane (started, or reused when already running).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
exec npm test --silent
