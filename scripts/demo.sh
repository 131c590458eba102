#!/usr/bin/env bash
# Installs Cordée and starts the demo destination on http://127.0.0.1:8000 (SQLite, no other service).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export CORDEE_HOME="${CORDEE_HOME:-$PWD/.cordee}"
exec .venv/bin/cordee demo "$@"
