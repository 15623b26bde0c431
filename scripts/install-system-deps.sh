#!/usr/bin/env bash
# Debian packages the Python dependencies build against: vpdq (cmake + libav*), pdqhash (g++);
# and what the browser tests drive: Chromium, its WebDriver, and a Thai font for its pages.
# Idempotent: does nothing when everything is present. Needs root (or sudo) on a fresh machine.
set -euo pipefail
pkgs=(pkg-config cmake g++ libavcodec-dev libavformat-dev libavdevice-dev libavutil-dev
      libswscale-dev libswresample-dev libavfilter-dev chromium chromium-driver fonts-thai-tlwg)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
