#!/usr/bin/env bash
# Creates .venv with a Python >= 3.12 and installs Cordée in it (with the test tools if asked).
#   scripts/install.sh          the application
#   scripts/install.sh test     the application and the test tools
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash scripts/find-python.sh)
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
  rm -rf .venv
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
extra=""
[ "${1:-}" = "test" ] && extra="[test]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extra}" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c 'import cordee, django; print("Cordée installé (Django", django.get_version() + ")")'
