#!/usr/bin/env bash
# Installs Cordée with its test tools (and Debian's Chromium for the browser tests) and runs
# the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installation de Chromium (Debian) pour les tests dans le navigateur…"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "Chromium n'a pas pu être installé : les tests dans le navigateur échoueront." >&2
  else
    echo "Chromium est absent : installez-le (sudo apt-get install chromium) pour les tests dans le navigateur." >&2
  fi
fi
export CORDEE_HOME="${CORDEE_HOME:-$(mktemp -d -t cordee-test-XXXXXX)}"
exec .venv/bin/python -m pytest "$@"
