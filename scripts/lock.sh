#!/usr/bin/env bash
# Refresh constraints.txt: resolve the app and every extra in a clean virtualenv, then freeze it.
# Run after changing a dependency in pyproject.toml; run the test suite before committing the result.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/lock"
python3.11 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q ".[test,gevent]"
{
  echo "# Versions the app and its test suite are proven with. Refresh: bash scripts/lock.sh"
  echo "# (extra pins, e.g. 'pytest==9.1.1', may be passed to it). Used by README's commands and .ci/run."
  "$venv/bin/pip" freeze --exclude onewindow | sort -f
} > constraints.txt
rm -rf "$(dirname "$venv")" build
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pinned packages"
