#!/bin/sh
# The browser tests drive Debian's chromium through Playwright (never `playwright install`,
# which downloads browsers). Install the package when it is missing.
set -eu

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "chromium is missing and installing it needs root: apt-get install chromium" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
install_chromium() {
    apt-get install -y --no-install-recommends chromium
}
# Refresh the package lists only when they are too stale to install from.
install_chromium || { apt-get update && install_chromium; }
