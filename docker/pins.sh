#!/usr/bin/env bash
# docker/pins.sh SUITE [IMAGE]: rewrite the versions in docker/apt/SUITE.pins
# with the candidates `apt-cache policy` reports in the base image (default
# ludvae-base:SUITE, as `make docker-base` makes it), and show the change.
# Review the diff, rebuild, and commit the pins with the Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${1:?usage: docker/pins.sh SUITE [IMAGE]}
image=${2:-ludvae-base:$suite}
pins=docker/apt/$suite.pins
DOCKER_CLI=${DOCKER_CLI:-docker}
pkgs=$(awk '!/^#/ && NF >= 2 { print $2 }' "$pins" | sort -u | tr '\n' ' ')
policy=$($DOCKER_CLI run --rm --network host "$image" bash -c "apt-get update -qq >/dev/null && apt-cache policy $pkgs")
tmp=$(mktemp)
awk -v policy="$policy" '
  BEGIN { n = split(policy, l, "\n"); for (i = 1; i <= n; i++) {
            if (l[i] ~ /^[^ ].*:$/) { p = l[i]; sub(/:$/, "", p) }
            else if (l[i] ~ /^  Candidate: /) { v = l[i]; sub(/^  Candidate: /, "", v); cand[p] = v } } }
  /^#/ || NF < 2 { print; next }
  { if (!($2 in cand) || cand[$2] == "(none)") { print "docker/pins.sh: no candidate for " $2 > "/dev/stderr"; bad = 1 }
    else $3 = cand[$2]
    print }
  END { exit bad }' "$pins" >"$tmp"
diff -u "$pins" "$tmp" || true
mv "$tmp" "$pins"
