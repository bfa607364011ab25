#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the hotline needs, only where missing:
# espeak-ng (offline TTS for pyttsx3), sox, libsndfile, chromium (browser tests), wrk (benchmarks).
set -euo pipefail
packages=(espeak-ng libespeak-ng1 sox libsndfile1 chromium wrk fonts-wqy-microhei)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages: ${missing[*]}"
if ! command -v apt-get >/dev/null; then
  echo "apt-get not found: install ${missing[*]} with your package manager" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
