#!/bin/sh
# The tests start throw-away PostgreSQL clusters, so the server binaries must be installed.
# Debian keeps them in /usr/lib/postgresql/<major>/bin; install the package when none is there.
set -eu

if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi

sh "$(dirname "$0")/apt-install.sh" postgresql

# The package starts a system cluster we don't use; stop it so it holds no port or memory.
if command -v pg_ctlcluster >/dev/null 2>&1; then
    for cluster in $(pg_lsclusters -h 2>/dev/null | awk '{print $1 "/" $2}'); do
        pg_ctlcluster "${cluster%/*}" "${cluster#*/}" stop 2>/dev/null || true
    done
fi
