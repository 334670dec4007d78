#!/bin/sh
# The browser tests drive Debian's chromium through Playwright (never `playwright install`,
# which downloads browsers). Install the package when it is missing.
set -eu

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi

sh "$(dirname "$0")/apt-install.sh" chromium
