#!/usr/bin/env bash
# Set up this machine and run every check: lint, the unit suite, and the end-to-end suite on the
# real engine (tests/e2e). CI runs exactly this (.ci/run). Extra arguments go to pytest.
#
# Where Go is installed, the real-engine toolchain is built first (scripts/tools.sh: a cache outside
# the checkout, built once, seconds afterwards) and a toolchain that cannot be built fails the run.
# Without Go the end-to-end tests skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt

.venv/bin/ruff check .
.venv/bin/ruff format --check .

if command -v go >/dev/null; then
    bin=$(bash scripts/tools.sh)
    # The Python language host runs the first python3 on PATH: this virtualenv's.
    export PATH="$PWD/.venv/bin:$bin:$PATH" GITOPS_TOOLS_BIN=$bin GITOPS_E2E=required
fi
.venv/bin/python -m pytest "$@"
