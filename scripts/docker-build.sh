#!/usr/bin/env bash
# Builds the Dockerfile; `make docker` and `make docker-test` call it with
# the arguments of `docker build`:
#
#   scripts/docker-build.sh [--target STAGE] [--build-arg K=V ...] -t IMAGE .
#
# DOCKER=docker (the default) uses Docker when a Docker engine answers.
# Otherwise, or with DOCKER=podman, it builds with podman, which needs no
# daemon: root, chroot isolation (RUN steps need neither cgroups nor user
# namespaces, which a CI machine that is itself a container may lack).
#
# podman uses the base images the Dockerfile names (debian:bookworm-slim,
# golang:1.26-bookworm) when it has them, e.g. pulled. Without them, and
# without a registry to pull from, it makes them here, once per machine:
# Debian bookworm from debootstrap (minbase), and on it a Go image with this
# machine's Go toolchain (`go env GOROOT`, which must be the release the
# Dockerfile names) and this machine's CA bundle (so that the build reaches
# the Go module proxy through whatever TLS proxy this machine trusts).
# Missing tools (podman, debootstrap) are installed with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "docker-build: $*" >&2; }

if [ "${DOCKER:-docker}" = docker ] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  exec docker build "$@"
fi
if [ "${DOCKER:-docker}" != docker ] && [ "${DOCKER}" != podman ]; then
  log "DOCKER=$DOCKER: want docker or podman"
  exit 2
fi

# apt_install installs the Debian packages whose commands are missing.
apt_install() {
  local need=() cmd pkg
  while [ $# -gt 0 ]; do
    cmd=$1 pkg=$2; shift 2
    command -v "$cmd" >/dev/null || need+=("$pkg")
  done
  [ ${#need[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    log "needs ${need[*]}; as root: apt-get install -y ${need[*]}"
    exit 1
  fi
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
}
apt_install podman podman
# Default ulimits in containers.conf may exceed what this machine allows a
# process to set; the build steps need none.
conf=$(mktemp)
work=""
trap 'rm -rf "$conf" $work' EXIT
printf '[containers]\ndefault_ulimits = []\n' >"$conf"
export CONTAINERS_CONF=$conf

# The external base images of the Dockerfile, fully qualified.
bases=$(awk 'toupper($1) == "FROM" { print $2 }' Dockerfile | grep : | sort -u)
qualify() { case $1 in */*) echo "docker.io/$1" ;; *) echo "docker.io/library/$1" ;; esac; }

# make_debian tags a debootstrap of Debian bookworm (minbase) as $1.
make_debian() {
  apt_install debootstrap debootstrap
  log "making $1 with debootstrap"
  debootstrap --variant=minbase bookworm "$work/rootfs" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  tar -C "$work/rootfs" --numeric-owner -c . |
    podman import --change 'CMD ["bash"]' - "$1" >/dev/null
  rm -rf "$work/rootfs"
}

# make_golang tags, as $1 (golang:VERSION-bookworm), the Debian image $2 with
# this machine's Go and CA bundle and the build tools the official image has.
make_golang() {
  local want goroot have
  want=${1##*:}
  want=${want%%-*}
  goroot=$(go env GOROOT)
  have=$(go env GOVERSION)
  case "$have" in
  "go$want" | "go$want".*) ;;
  *) log "$1 needs Go $want; this machine has $have"; exit 1 ;;
  esac
  log "making $1 with $have from $goroot"
  mkdir -p "$work/golang"
  cp -a "$goroot" "$work/golang/go"
  cp /etc/ssl/certs/ca-certificates.crt "$work/golang/ca-certificates.crt"
  cat >"$work/golang/Dockerfile" <<EOF
FROM $2
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ca-certificates git gcc g++ libc6-dev make pkg-config \\
 && rm -rf /var/lib/apt/lists/*
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY go /usr/local/go
ENV GOLANG_VERSION=${have#go} GOTOOLCHAIN=local GOPATH=/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /go
EOF
  podman build -q --isolation=chroot --pull=never --label "org.osrsim.go=$have" -t "$1" "$work/golang" >/dev/null
  rm -rf "$work/golang"
}

debian="" golang=""
for b in $bases; do
  case $b in
  debian:bookworm*) debian=$(qualify "$b") ;;
  golang:*-bookworm) golang=$(qualify "$b") ;;
  *) podman image exists "$(qualify "$b")" || { log "no way to make base image $b here"; exit 1; } ;;
  esac
done
work=$(mktemp -d /var/tmp/osrsim-docker.XXXXXX)
if [ -n "$debian" ] && ! podman image exists "$debian"; then
  make_debian "$debian"
fi
# A Go image made here is made again when this machine's Go has changed.
if [ -n "$golang" ] && podman image exists "$golang" &&
  made=$(podman image inspect --format '{{ index .Labels "org.osrsim.go" }}' "$golang") &&
  [ -n "$made" ] && [ "$made" != "<no value>" ] && [ "$made" != "$(go env GOVERSION)" ]; then
  podman rmi "$golang" >/dev/null
fi
if [ -n "$golang" ] && ! podman image exists "$golang"; then
  [ -n "$debian" ] || debian=docker.io/library/debian:bookworm-slim
  podman image exists "$debian" || make_debian "$debian"
  make_golang "$golang" "$debian"
fi
podman build --isolation=chroot --pull=never "$@"
