#!/usr/bin/env bash
# docker/go-install.sh GO_MOD: inside an image build, install at
# /usr/local/go the Go toolchain go.mod names (its toolchain line, else its
# go line), with no digest typed by hand:
#  - by default through the Go module proxy, as Go's own GOTOOLCHAIN switch
#    does: Debian's `go` (any version: Debian 12's 1.19 too) downloads the
#    module golang.org/toolchain@v0.0.1-go<version>.linux-<arch> from $GOPROXY
#    and checks it against Go's checksum database ($GOSUMDB, sum.golang.org,
#    which the proxy serves too); Debian's go and the module cache are removed
#    afterwards by the caller's layer;
#  - with GO_SHA256 set, from go.dev's tarball, checked against that digest.
# A failure ends with "go-install: CAUSE: ..." naming what failed.
set -euo pipefail
mod=$1
# A CA bundle the build mounted (docker/build.sh: the host's), for proxies
# that inspect TLS.
if [ -s /run/secrets/cacerts ]; then export SSL_CERT_FILE=/run/secrets/cacerts; fi
cause() { echo "go-install: CAUSE: $*" >&2; exit 1; }
version=$(awk '$1 == "toolchain" { sub(/^go/, "", $2); print $2; exit }' "$mod")
[ -n "$version" ] || version=$(awk '$1 == "go" { print $2; exit }' "$mod")
[ -n "$version" ] || cause "$mod names no Go version"
arch=$(dpkg --print-architecture)
case $arch in amd64|arm64|ppc64el|s390x) ;; *) cause "no Go toolchain for $arch" ;; esac
[ "$arch" = ppc64el ] && arch=ppc64le
if [ -n "${GO_SHA256:-}" ]; then
  url=https://go.dev/dl/go$version.linux-$arch.tar.gz
  curl -fsSL --retry 3 -o /tmp/go.tar.gz "$url" || cause "cannot download $url (go.dev unreachable?)"
  echo "$GO_SHA256  /tmp/go.tar.gz" | sha256sum -c --quiet - || cause "$url does not match GO_SHA256=$GO_SHA256"
  tar -C /usr/local -xzf /tmp/go.tar.gz
  rm /tmp/go.tar.gz
else
  command -v go >/dev/null || cause "no bootstrap go (Debian's golang-go) in the build stage"
  [ "${GOSUMDB:-sum.golang.org}" != off ] || cause "GOSUMDB=off: the toolchain would not be checked against Go's checksum database"
  module=golang.org/toolchain@v0.0.1-go$version.linux-$arch
  tmp=$(mktemp -d)
  log=$tmp/log
  # GOFLAGS=-modcacherw: a cache the caller can delete. GO111MODULE=on: Go 1.19
  # outside a module.
  if ! (cd "$tmp" && GOPATH=$tmp/gopath GOFLAGS=-modcacherw GO111MODULE=on GOTOOLCHAIN=local \
        go mod download -json "$module") >"$tmp/json" 2>"$log"; then
    cat "$tmp/json" "$log" | tail -n 8 >&2
    cause "go mod download $module failed: the module proxy (${GOPROXY:-https://proxy.golang.org}) or the checksum database (${GOSUMDB:-sum.golang.org}) is unreachable, or Go $version has no toolchain module"
  fi
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$tmp/json")
  [ -x "$dir/bin/go" ] || [ -f "$dir/bin/go" ] || cause "$module holds no bin/go"
  zip=$(sed -n 's/^[[:space:]]*"Zip": "\(.*\)",$/\1/p' "$tmp/json")
  echo "go-install: downloaded $module ($(du -m "$zip" | cut -f1) MB) from the module proxy"
  cp -a "$dir" /usr/local/go
  # The module cache drops execute bits; Go's own switch restores them the same way.
  chmod -R a+rX /usr/local/go
  find /usr/local/go/bin /usr/local/go/pkg/tool -type f -exec chmod a+x {} +
  rm -rf "$tmp"
fi
got=$(/usr/local/go/bin/go env GOVERSION)
[ "$got" = "go$version" ] || cause "installed $got, want go$version"
echo "go-install: $got at /usr/local/go ($([ -n "${GO_SHA256:-}" ] && echo "go.dev tarball, sha256 checked" || echo "module proxy, checksum database checked"))"
