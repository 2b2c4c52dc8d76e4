#!/usr/bin/env bash
# Installs the Debian packages osrsim needs (libunicorn-dev for the emulator,
# binutils for the encoding oracle tests). Runs apt-get only when something is
# missing; prints the exact command instead when not root.
set -euo pipefail
need=()
for pkg in libunicorn-dev binutils gcc pkg-config; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    need+=("$pkg")
  fi
done
[ ${#need[@]} -eq 0 ] && exit 0
cmd="apt-get update && apt-get install -y --no-install-recommends ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "osrsim needs: ${need[*]}. Run as root:" >&2
  echo "  $cmd" >&2
  exit 1
fi
echo "installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${need[@]}" >&2
