#!/usr/bin/env bash
# docker/make-test.sh [SUITE]: `make test` inside the test image
# ludvae:dev-debianNN of Debian SUITE (default trixie: libtorch 2.6 and its
# Python torch), built first with docker/build.sh. The checkout is mounted
# read-only and copied inside (without bin/, build/, .git), so the host's
# own build stays as it is; Go's build and module caches and
# onnxruntime-node persist in DOCKER_CACHE (default
# ~/.cache/ludvae-docker/SUITE). Runs as the calling user; as root with
# CAP_SYS_ADMIN, so that the tests that mount a tmpfs run as they do on the
# host. Starts (and then stops) an engine when none answers.
# Variables: those of docker/build.sh, DOCKER_CACHE, MAKE_TEST_FLAGS (more
# make arguments, e.g. GOTEST_FLAGS=...).
set -uo pipefail
cd "$(dirname "$0")/.."
. docker/lib.sh
suite=${1:-trixie}
name=$(suite_name "$suite") || exit 2
mkdir -p "$OUT_DIR"
docker/engine.sh start "$OUT_DIR/dockerd.pid" || exit 1
trap 'docker/engine.sh stop "$OUT_DIR/dockerd.pid"' EXIT
docker/build.sh "$suite" dev "ludvae:dev-$name" || exit 1
cache=${DOCKER_CACHE:-$HOME/.cache/ludvae-docker/$suite}
mkdir -p "$cache/onnxruntime"
opts=()
[ "$(id -u)" = 0 ] && opts=(--cap-add SYS_ADMIN --security-opt apparmor=unconfined)
# The host's CA bundle (DOCKER_CA_CERTS, as for docker/build.sh) for the
# downloads of `make test`: Go's modules and, once, onnxruntime-node by npm
# (`make deps`), through a TLS-inspecting proxy where there is one.
ca=${DOCKER_CA_CERTS-/etc/ssl/certs/ca-certificates.crt}
if [ -n "$ca" ] && [ -r "$ca" ]; then
  opts+=(-v "$(readlink -f "$ca"):/etc/ludvae-ca.crt:ro" -e SSL_CERT_FILE=/etc/ludvae-ca.crt
    -e NODE_EXTRA_CA_CERTS=/etc/ludvae-ca.crt -e npm_config_cafile=/etc/ludvae-ca.crt)
fi
echo "== make test in ludvae:dev-$name as $(id -u):$(id -g) (Go caches and onnxruntime-node: $cache)"
start=$(date +%s)
# build/onnxruntime, where `make deps` installs onnxruntime-node with npm,
# is kept in the cache folder (it is 300 MB).
# shellcheck disable=SC2016
$DOCKER_CLI run --rm --network host -u "$(id -u):$(id -g)" "${opts[@]}" -e HOME=/tmp \
  -e GOCACHE=/cache/build -e GOMODCACHE=/cache/mod -e GOPROXY="${GOPROXY:-$(go env GOPROXY 2>/dev/null)}" \
  -v "$PWD:/src-ro:ro" -v "$cache:/cache" -w /tmp "ludvae:dev-$name" \
  bash -c 'tar -C /src-ro --exclude=./.git --exclude=./bin --exclude=./build -cf - . | { mkdir /tmp/src && tar -C /tmp/src -xf -; } \
    && cd /tmp/src && mkdir build && ln -s /cache/onnxruntime build/onnxruntime && make test '"${MAKE_TEST_FLAGS:-}"
rc=$?
echo "== make test in ludvae:dev-$name: $([ $rc = 0 ] && echo passed || echo "FAILED (exit $rc)") in $(human $(( $(date +%s) - start )))"
exit $rc
