#!/usr/bin/env bash
# Prints the path of a Python >= 3.12 interpreter, or explains what to install and fails.
# Tries the usual names first, then pyenv's installed versions (pyenv shims fail unless a
# version is selected, so each candidate is asked for its version before it is trusted).
set -u

ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

if [ -n "${CORDEE_PYTHON:-}" ]; then
  if ok "$CORDEE_PYTHON"; then echo "$CORDEE_PYTHON"; exit 0; fi
  echo "CORDEE_PYTHON=$CORDEE_PYTHON n'est pas un Python 3.12 ou plus récent." >&2
  exit 1
fi

for name in python3.14 python3.13 python3.12 python3 python; do
  path=$(command -v "$name" 2>/dev/null) || continue
  if ok "$path"; then
    "$path" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done

roots=()
if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root 2>/dev/null)"); fi
roots+=("${PYENV_ROOT:-$HOME/.pyenv}" /opt/pyenv /usr/local/pyenv)
for root in "${roots[@]}"; do
  [ -d "$root/versions" ] || continue
  for candidate in $(ls -d "$root"/versions/3.* 2>/dev/null | sort -t. -k2,2nr -k3,3nr); do
    if ok "$candidate/bin/python3"; then echo "$candidate/bin/python3"; exit 0; fi
  done
done
for candidate in /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9] /opt/python*/bin/python3; do
  [ -x "$candidate" ] && ok "$candidate" && { echo "$candidate"; exit 0; }
done

cat >&2 <<'MSG'
Cordée a besoin de Python 3.12 ou plus récent, introuvable sur cette machine.
Installez-en un, par exemple :
  - Debian/Ubuntu récents : sudo apt-get install python3.12 python3.12-venv
  - avec pyenv :            pyenv install 3.12
  - avec uv :               uv python install 3.12
puis relancez la commande (ou indiquez son chemin : CORDEE_PYTHON=/chemin/vers/python3.12).
MSG
exit 1
