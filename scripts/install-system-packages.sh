#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python: PostgreSQL (the outcome store's tests
# start their own server with initdb) and promtool (alert rule tests, from `prometheus`).
# Installs what is missing with apt-get as root (CI runs as root) or with passwordless sudo;
# otherwise says so, and those tests skip locally (CI fails them instead).
set -euo pipefail

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v promtool >/dev/null || missing+=(prometheus)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "warning: cannot install ${missing[*]} (needs root): their tests will be skipped" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "warning: no apt-get: install ${missing[*]} by hand; their tests will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
