#!/bin/sh
# Install Debian's Chromium + ChromeDriver for headless screenshots / Playwright tests.
# Idempotent: does nothing when /usr/bin/chromium already exists.
# Playwright must use it via launch(executable_path="/usr/bin/chromium");
# do NOT run `playwright install` (it downloads its own browsers).
set -eu

if [ -x /usr/bin/chromium ]; then
    echo "install-browser: /usr/bin/chromium already present: $(/usr/bin/chromium --version 2>/dev/null || echo unknown version)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-browser: WARNING: /usr/bin/chromium is missing and not running as root;" >&2
    echo "install-browser: run as root: apt-get update && apt-get install -y chromium chromium-driver fonts-dejavu-core" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver fonts-dejavu-core
echo "install-browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
