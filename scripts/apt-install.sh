#!/bin/sh
# Install a Debian package for the tests: `sh scripts/apt-install.sh PACKAGE`. Needs root;
# refreshes the package lists only when they are too stale to install from.
set -eu

package="$1"
if [ "$(id -u)" -ne 0 ]; then
    echo "$package is missing and installing it needs root: apt-get install $package" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "$package" \
    || { apt-get update && apt-get install -y --no-install-recommends "$package"; }
