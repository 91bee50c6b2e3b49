#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's end-to-end tests when it is missing (CI runs as
# root on a Debian machine that reaches Debian's package mirror). Safe to run twice.
set -u
if [ -x /usr/bin/chromium ]; then echo "browser: chromium already installed"; exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "browser: cannot install chromium here (needs root and apt-get); the browser tests will say so"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >/tmp/jit-apt.log 2>&1 ||
  { apt-get update -q >>/tmp/jit-apt.log 2>&1 && apt-get install -y -q chromium >>/tmp/jit-apt.log 2>&1; } ||
  { echo "browser: apt-get could not install chromium (see /tmp/jit-apt.log)"; exit 0; }
echo "browser: installed $(/usr/bin/chromium --version 2>/dev/null)"
