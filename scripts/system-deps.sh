#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the hotline needs, only where missing:
# espeak-ng (offline TTS for pyttsx3), sox, libsndfile, chromium (browser tests), wrk (benchmarks).
# `system-deps.sh bench` also installs what only the benchmarks use (make bench): libev-dev (to
# build bjoern, a candidate server) and pgbouncer (bench/postgres.py).
set -euo pipefail
packages=(espeak-ng libespeak-ng1 sox libsndfile1 chromium wrk fonts-wqy-microhei)
[ "${1:-}" = "bench" ] && packages+=(libev-dev pgbouncer)
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
# Another apt or dpkg (unattended-upgrades, a second `make`) may hold the package lock: wait for it,
# at most APT_LOCK_WAIT seconds, saying so, instead of failing at once.
APT_LOCK_WAIT=${APT_LOCK_WAIT:-600}
APT_LOCK_POLL=${APT_LOCK_POLL:-5}
apt_get() {
  local started=$SECONDS said=0 out status
  while :; do
    status=0
    out=$($SUDO apt-get "$@" 2>&1) || status=$?
    if [ "$status" -eq 0 ]; then
      [ "$said" -eq 1 ] && echo "the package lock is free: apt-get $1 done" >&2
      return 0
    fi
    if ! grep -qiE "could not get lock|unable to acquire|is another process using it" <<<"$out"; then
      echo "$out" >&2
      return "$status"
    fi
    local waited=$((SECONDS - started))
    if [ "$waited" -ge "$APT_LOCK_WAIT" ]; then
      echo "$out" >&2
      echo "gave up after ${APT_LOCK_WAIT}s waiting for the apt/dpkg lock (set APT_LOCK_WAIT to wait longer)" >&2
      return "$status"
    fi
    if [ "$said" -eq 0 ] || [ $((waited % 30)) -lt "${APT_LOCK_POLL%.*}" ]; then
      echo "another apt/dpkg process holds the package lock; waiting (${waited}s of at most ${APT_LOCK_WAIT}s) ..." >&2
      said=1
    fi
    sleep "$APT_LOCK_POLL"
  done
}
apt_get update -qq
apt_get install -y -qq --no-install-recommends "${missing[@]}"
