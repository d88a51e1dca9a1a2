#!/usr/bin/env bash
# Installs the Debian packages the integration tests start for real (PostgreSQL,
# MariaDB, OpenSSH's sshd, Chromium, and the zstd/lz4/sqlite3/age tools users restore
# with). Safe to run again: it only touches apt when something is missing, so a
# machine that already has everything is done in well under a second.
set -euo pipefail

# package -> a file that proves it is installed (faster and surer than dpkg alone
# for the ones whose binaries live outside PATH).
declare -A proof=(
  [postgresql]=/usr/lib/postgresql
  [mariadb-server]=/usr/sbin/mariadbd
  [mariadb-client]=/usr/bin/mariadb
  [openssh-server]=/usr/sbin/sshd
  [chromium]=/usr/bin/chromium
  [zstd]=/usr/bin/zstd
  [lz4]=/usr/bin/lz4
  [sqlite3]=/usr/bin/sqlite3
  [age]=/usr/bin/age
)

missing=()
for pkg in postgresql mariadb-server mariadb-client openssh-server chromium zstd lz4 sqlite3 age; do
  if [[ -e "${proof[$pkg]}" ]] && dpkg -s "$pkg" >/dev/null 2>&1; then
    continue
  fi
  missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "test packages: all present"
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "test packages missing: ${missing[*]}. Run this script as root (or install them with apt-get)." >&2
  exit 1
fi

echo "test packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Package installs would otherwise start the distro's own postgres/mariadb/sshd
# services; the tests start private instances and do not want those running.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  added_policy=1
fi
cleanup() { if ((added_policy)); then rm -f "$policy"; fi; }
trap cleanup EXIT

apt-get update -qq
apt-get install -y -qq "${missing[@]}"
echo "test packages: done"
