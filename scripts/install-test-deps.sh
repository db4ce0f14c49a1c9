#!/usr/bin/env bash
# System packages the test suite uses: espeak-ng (voice), Chromium and CJK fonts (pages),
# sox (audio checks), redis-server (private Redis for outage tests), nginx (deployment test).
# Idempotent: installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail
packages=(espeak-ng libespeak-ng1 chromium fonts-wqy-microhei sox alsa-utils redis-server postgresql-client nginx wrk)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
