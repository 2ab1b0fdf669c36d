#!/usr/bin/env bash
# docker/base.sh SUITE...: make the base image ludvae-base:SUITE (bookworm,
# trixie) from Debian's archive with debootstrap and `docker import`, for
# machines that cannot pull the official debian:12.x/13.x images. The root
# file system is a minbase debootstrap of the suite with the same apt sources
# as the official image (SUITE, SUITE-updates, SUITE-security; main), no apt
# lists and no downloaded packages. The image is labelled with the point
# release and the date of the suite's Release file it was made from.
# An image that exists already is kept (FORCE=1 remakes it).
#
# Variables: DOCKER_CLI (docker), DEBIAN_MIRROR (http://deb.debian.org/debian),
# DEBIAN_SECURITY (http://security.debian.org/debian-security), FORCE.
# Needs root; installs Debian's debootstrap when it is missing.
set -euo pipefail
DOCKER_CLI=${DOCKER_CLI:-docker}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY:-http://security.debian.org/debian-security}

die() { echo "docker/base.sh: $*" >&2; exit 1; }
[ $# -gt 0 ] || die "usage: docker/base.sh SUITE... (bookworm, trixie)"
[ "$(id -u)" = 0 ] || die "debootstrap needs root"
. "$(dirname "${BASH_SOURCE[0]}")/host-apt.sh"
if ! command -v debootstrap >/dev/null; then
  echo "docker/base.sh: debootstrap is not installed: installing Debian's debootstrap"
  apt_install debootstrap || die "could not install debootstrap"
fi

# cleanup ROOT: unmount what a failed debootstrap left mounted in ROOT, then remove it.
cleanup() {
  awk -v r="$1/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l
  rm -rf "$1" "$1.log"
}

for suite in "$@"; do
  tag=ludvae-base:$suite
  if [ -z "${FORCE:-}" ] && $DOCKER_CLI image inspect "$tag" >/dev/null 2>&1; then
    echo "docker/base.sh: $tag exists ($($DOCKER_CLI image inspect -f '{{index .Config.Labels "org.debian.release"}} of {{index .Config.Labels "org.debian.release-date"}}' "$tag"))"
    continue
  fi
  release=$(curl -fsS -m 30 "$MIRROR/dists/$suite/Release") \
    || die "$MIRROR/dists/$suite/Release is unreachable: no Debian archive, no base image $tag"
  version=$(sed -n 's/^Version: //p' <<<"$release")
  date=$(sed -n 's/^Date: //p' <<<"$release")
  root=$(mktemp -d /tmp/ludvae-base.XXXXXX)
  trap 'cleanup "$root"' EXIT
  log=$root.log
  echo "docker/base.sh: debootstrap $suite ($version of $date) from $MIRROR (log: $log)"
  if ! debootstrap --variant=minbase "$suite" "$root" "$MIRROR" >"$log" 2>&1; then
    tail -n 15 "$log" >&2
    die "debootstrap $suite from $MIRROR failed (above: the end of $log)"
  fi
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # The official images' apt and dpkg settings (debuerreotype's): no
  # recommends kept, no translations fetched, and dpkg without an fsync per
  # file (force-unsafe-io: a layer is written once, a crash loses the step
  # anyway): ludvae:dev-debian13 built in 1 min 44 s instead of 2 min 01 s.
  printf 'APT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/docker-no-recommends"
  printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  printf 'force-unsafe-io\n' >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  # ... and apt's downloaded packages deleted after every install, so that
  # a layer that forgets `apt-get clean` does not keep them.
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CLEAN
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/tmp/*
  tar -C "$root" --numeric-owner -c . | $DOCKER_CLI import \
    -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' \
    -c "LABEL org.debian.suite=$suite org.debian.release=$version org.debian.release-date=\"$date\"" \
    - "$tag" >/dev/null || die "docker import of $tag failed"
  cleanup "$root"
  trap - EXIT
  echo "docker/base.sh: made $tag (Debian $version, $($DOCKER_CLI image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
done
