#!/usr/bin/env bash
# The main job without a cluster: render every stack (or those named with --stack) into
# ./rendered (or --out DIR) and validate it. Needs no Pulumi CLI and no cloud account.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt

exec .venv/bin/python -m ops render "$@"
