#!/usr/bin/env bash
# Refresh the dependency locks from pyproject.toml's ranges:
#   bash scripts/lock.sh            (needs uv: pip install uv)
# requirements/app.lock   the app and its Piper voice   (README's first command)
# requirements/test.lock  the same plus the test extras (README's second command, CI)
# Both carry exact versions and hashes; app.lock is resolved inside test.lock so the two never
# disagree on a shared package. requirements/excludes.txt keeps PyTorch out (see there why).
set -euo pipefail
cd "$(dirname "$0")/.."
common=(--generate-hashes --universal --python-version 3.10 --excludes requirements/excludes.txt
        --no-emit-package pip --no-emit-package setuptools --quiet)
uv pip compile pyproject.toml --extra piper --extra test "${common[@]}" -o requirements/test.lock
uv pip compile pyproject.toml --extra piper "${common[@]}" -c requirements/test.lock -o requirements/app.lock
echo "locked: $(grep -c '==' requirements/app.lock) app and $(grep -c '==' requirements/test.lock) test pins"
