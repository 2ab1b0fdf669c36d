#!/usr/bin/env bash
# docker/build.sh SUITE TARGET TAG: build docker/Dockerfile.cpu's stage
# TARGET (runtime, dev) for Debian SUITE (bookworm, trixie) as TAG, on the
# official base or, when that cannot be pulled, on ludvae-base:SUITE (see
# docker/lib.sh). Docker's output goes to build/docker/logs/TAG.log; a
# failure prints its last lines and one line naming the cause. Appends
# "TAG<TAB>seconds<TAB>result" to build/docker/builds.tsv.
# Variables: DOCKER_CLI, DOCKER_BUILD_FLAGS (more `docker build` flags),
# GO_SHA256, GOPROXY, GOSUMDB (default: this machine's `go env`, else Go's),
# DEBIAN12, DEBIAN13 (the official bases), DOCKER_CA_CERTS (a CA bundle Go's
# downloads in the build trust, as a BuildKit secret that no layer keeps;
# default the host's /etc/ssl/certs/ca-certificates.crt, for TLS-inspecting
# proxies; empty: none).
set -euo pipefail
cd "$(dirname "$0")/.."
. docker/lib.sh
suite=${1:?usage: docker/build.sh SUITE TARGET TAG} target=${2:?} tag=${3:?}
mkdir -p "$OUT_DIR/logs"
log=$OUT_DIR/logs/${tag//[:\/]/_}.log
goenv() { go env "$1" 2>/dev/null || true; }
GOPROXY=${GOPROXY:-$(goenv GOPROXY)}
GOSUMDB=${GOSUMDB:-$(goenv GOSUMDB)}
ca=${DOCKER_CA_CERTS-/etc/ssl/certs/ca-certificates.crt}
[ -z "$ca" ] || [ -r "$ca" ] || ca=
start=$(date +%s)
result=ok
if ! base=$(resolve_base "$suite"); then
  result="failed: no base image for $suite"
else
  echo "docker build $tag (Dockerfile.cpu --target $target, $base; log $log)"
  # shellcheck disable=SC2086
  if ! docker_build --network host --progress plain -f docker/Dockerfile.cpu --target "$target" \
      --build-arg DEBIAN="$base" --build-arg SUITE="$suite" \
      ${GO_SHA256:+--build-arg GO_SHA256="$GO_SHA256"} \
      ${GOPROXY:+--build-arg GOPROXY="$GOPROXY"} ${GOSUMDB:+--build-arg GOSUMDB="$GOSUMDB"} \
      ${ca:+--secret id=cacerts,src="$ca"} ${DOCKER_BUILD_FLAGS:-} -t "$tag" . >"$log" 2>&1; then
    tail -n 15 "$log" | sed 's/^/  | /' >&2
    cause=$(grep -ohE '(apt-install|go-install): CAUSE: .*' "$log" | tail -n 1 | sed 's/^[a-z-]*: CAUSE: //')
    if [ -z "$cause" ]; then
      # The step that failed, as BuildKit names it.
      step=$(grep -oE '^#[0-9]+ \[[^]]+\] (RUN|COPY|FROM) .*' "$log" | tail -n 1 | cut -c1-140)
      cause=${step:+the step $step failed}
      cause=${cause:-$(grep -m1 -E '^(ERROR|error)' "$log" | cut -c1-160)}
    fi
    result="failed: ${cause:-see $log}"
    echo "docker build $tag FAILED: ${cause:-see $log} (above: the end of $log)" >&2
  fi
fi
secs=$(( $(date +%s) - start ))
printf '%s\t%s\t%s\n' "$tag" "$secs" "$result" >>"$OUT_DIR/builds.tsv"
[ "$result" = ok ] && echo "docker build $tag: $(image_size "$tag") in $(human "$secs")"
[ "$result" = ok ]
