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

# What the end-to-end suite runs besides the toolchain: the control plane's scripts (curl, jq,
# openssl), git's HTTP backend and Redis for the live Argo CD tests. Debian's packages, installed
# where this runs as root (CI), named otherwise.
e2e_packages() {
    local command missing=()
    for command in curl jq openssl redis-server /usr/lib/git-core/git-http-backend; do
        command -v "$command" >/dev/null || missing+=("$(basename "$command")")
    done
    [ ${#missing[@]} -eq 0 ] && return
    missing=("${missing[@]/git-http-backend/git}")
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq "${missing[@]}" >/dev/null || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
    else
        echo "test.sh: the end-to-end suite needs these packages: ${missing[*]}" >&2
        exit 1
    fi
}

if command -v go >/dev/null; then
    e2e_packages
    bin=$(bash scripts/tools.sh)
    # The Python language host runs the first python3 on PATH: this virtualenv's.
    export PATH="$PWD/.venv/bin:$bin:$PATH" GITOPS_TOOLS_BIN=$bin GITOPS_E2E=required
fi
.venv/bin/python -m pytest "$@"
