#!/usr/bin/env bash
# docker/make-test.sh [SUITE]: `make test` inside the test image
# ludvae:dev-debianNN of Debian SUITE (default trixie: libtorch 2.6 and its
# Python torch), built first with docker/build.sh. The checkout is mounted
# read-only and copied inside (without bin/, build/, .git), so the host's
# own build stays as it is; Go's build and module caches persist in
# DOCKER_CACHE (default ~/.cache/ludvae-docker/SUITE). Runs as the calling
# user; as root with CAP_SYS_ADMIN, so that the tests that mount a tmpfs run
# as they do on the host. Starts (and then stops) an engine when none answers.
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
mkdir -p "$cache"
caps=()
[ "$(id -u)" = 0 ] && caps=(--cap-add SYS_ADMIN --security-opt apparmor=unconfined)
echo "== make test in ludvae:dev-$name as $(id -u):$(id -g) (Go caches: $cache)"
start=$(date +%s)
# shellcheck disable=SC2016
$DOCKER_CLI run --rm --network host -u "$(id -u):$(id -g)" "${caps[@]}" -e HOME=/tmp \
  -e GOCACHE=/cache/build -e GOMODCACHE=/cache/mod -e GOPROXY="${GOPROXY:-$(go env GOPROXY 2>/dev/null)}" \
  -v "$PWD:/src-ro:ro" -v "$cache:/cache" -w /tmp "ludvae:dev-$name" \
  bash -c 'tar -C /src-ro --exclude=./.git --exclude=./bin --exclude=./build -cf - . | { mkdir /tmp/src && tar -C /tmp/src -xf -; } \
    && cd /tmp/src && make test '"${MAKE_TEST_FLAGS:-}"
rc=$?
echo "== make test in ludvae:dev-$name: $([ $rc = 0 ] && echo passed || echo "FAILED (exit $rc)") in $(human $(( $(date +%s) - start )))"
exit $rc
