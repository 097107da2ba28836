#!/usr/bin/env bash
# The main job without a cluster: render every stack (or those named with --stack) into
# ./rendered (or --out DIR) and validate it. Needs no Pulumi CLI and no cloud account.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
# pip's check that everything is installed costs seconds: it runs when requirements.txt differs
# from the one last installed into this virtualenv (a new virtualenv has no stamp).
stamp=.venv/requirements.txt.installed
if ! cmp -s requirements.txt "$stamp"; then
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
    cp requirements.txt "$stamp"
fi

# The example stacks read their apps from this repository's public URL; git's own insteadOf
# rewrite reads them from this checkout instead (drop this once the stacks name your repositories).
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.file://$PWD.insteadOf" GIT_CONFIG_VALUE_0=https://github.com/acme/platform-gitops.git

# The chart's own objects are rendered with helm: the toolchain's, when scripts/tools.sh built it.
if bin=$(bash scripts/tools.sh --check 2>/dev/null); then
    export PATH="$bin:$PATH"
fi
exec .venv/bin/python -m ops render "$@"
