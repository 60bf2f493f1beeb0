#!/usr/bin/env bash
# The main job: a local Kubernetes control plane (built and started here unless KUBECONFIG points
# at a cluster of yours), then the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
# Runs the sources: `operon-k8s` resolves to src/ under this condition (docs/development.md).
exec node --conditions=operon-source scripts/demo.ts "$@"
