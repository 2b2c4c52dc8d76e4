#!/usr/bin/env bash
# Installs the Debian packages osrsim needs: libunicorn 2.1.4 for the
# emulator, binutils for the encoding oracle tests, gcc and pkg-config for
# cgo; with --runtime, only the library the binary loads. Runs apt-get only
# when something is missing; prints the commands instead when not root.
#
# libunicorn: bookworm has 2.0.1, whose every guest store takes a slow path
# (unicorn#1970; README "Emulator versions"). osrsim installs 2.1.4 from
# Debian unstable: an apt source for sid pinned at priority 1, so nothing
# else ever comes from it, and the two unicorn packages pinned to their
# version (libunicorn2t64 depends only on libc6 >= 2.34).
set -euo pipefail

UNICORN_VERSION=2.1.4-4
UNICORN_PKGS=(libunicorn2t64 libunicorn-dev)
TOOLS=(binutils gcc pkg-config)
if [ "${1:-}" = --runtime ]; then
  UNICORN_PKGS=(libunicorn2t64)
  TOOLS=()
fi
SOURCE=/etc/apt/sources.list.d/osrsim-unicorn.sources
PIN=/etc/apt/preferences.d/osrsim-unicorn

installed() { # package [version]
  local v
  v=$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null) || return 1
  [[ $v == "install ok installed "* ]] && [[ -z ${2:-} || ${v##* } == "$2" ]]
}

need=()
for pkg in "${TOOLS[@]}"; do
  installed "$pkg" || need+=("$pkg")
done
unicorn=0
for pkg in "${UNICORN_PKGS[@]}"; do
  installed "$pkg" "$UNICORN_VERSION" || unicorn=1
done
if [ $unicorn -eq 1 ]; then
  need+=("${UNICORN_PKGS[@]/%/=$UNICORN_VERSION}")
fi
[ ${#need[@]} -eq 0 ] && exit 0

write_source() {
  cat >"$SOURCE" <<EOF
# osrsim (scripts/deps.sh): libunicorn $UNICORN_VERSION from Debian unstable.
# Check-Valid-Until: a mirror frozen in time (a snapshot) serves sid with an
# expired Release file; what comes from here is pinned to one version.
Types: deb
URIs: http://deb.debian.org/debian
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
Check-Valid-Until: no
EOF
  cat >"$PIN" <<EOF
# osrsim (scripts/deps.sh): nothing from sid but libunicorn $UNICORN_VERSION.
Package: *
Pin: release n=sid
Pin-Priority: 1

Package: libunicorn2t64 libunicorn-dev
Pin: version $UNICORN_VERSION
Pin-Priority: 990
EOF
}

if [ "$(id -u)" -ne 0 ]; then
  echo "osrsim needs: ${need[*]}. Run as root:" >&2
  [ $unicorn -eq 1 ] && echo "  $0   # adds $SOURCE and $PIN for libunicorn $UNICORN_VERSION" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 1
fi
echo "installing ${need[*]}" >&2
[ $unicorn -eq 1 ] && write_source
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${need[@]}" >&2
