#!/usr/bin/env bash
# docker/apt-install.sh PINS STAGE: inside an image build, install the
# packages docker/apt/<suite>.pins lists for STAGE, each at its pinned
# version, then drop apt's lists and downloads. A failure ends with one line
# "apt-install: CAUSE: ..." naming what failed: the archive unreachable, or
# which package lacks its pinned version (and what the archive has).
set -euo pipefail
pins=$1 stage=$2
cause() { echo "apt-install: CAUSE: $*" >&2; exit 1; }
[ -f "$pins" ] || cause "no pin file $pins"
# The name the pins have in the repository, for the messages.
src=docker/apt/$(. /etc/os-release && echo "$VERSION_CODENAME").pins
mapfile -t want < <(awk -v s="$stage" '$1 == s { print $2 "=" $3 }' "$pins")
[ "${#want[@]}" -gt 0 ] || cause "$src lists no packages for stage $stage"
log=$(mktemp)
if ! apt-get update -q >"$log" 2>&1 || grep -qE '^(W|E): (Failed to fetch|Some index files failed)' "$log"; then
  tail -n 8 "$log" >&2
  host=$(grep -ohE 'https?://[^/ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | sort -u | paste -sd ' ' || true)
  cause "apt-get update failed: the Debian archive ($host) is unreachable from the build (build with --network host)"
fi
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}" >"$log" 2>&1; then
  tail -n 8 "$log" >&2
  for pv in "${want[@]}"; do
    p=${pv%%=*} v=${pv#*=}
    have=$(apt-cache madison "$p" 2>/dev/null | awk -F' [|] ' '{ print $2 }' | tr -d ' ' | tr '\n' ' ')
    [ -n "$have" ] || cause "package $p is not in the archive (pinned $v in $src)"
    grep -qxF "$v" <(tr ' ' '\n' <<<"$have") \
      || cause "package $p $v (pinned in $src) is not in the archive, which has: $have- docker/pins.sh updates the pins"
  done
  cause "apt-get install of stage $stage failed (above: the end of its output); every pinned version is in the archive"
fi
got=$(grep -oE 'Need to get [0-9.,]+ [kMG]?B' "$log" | sed 's/Need to get //' || true)
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log "$log"
echo "apt-install: $stage: ${want[*]} (downloaded ${got:-nothing} from the archive)"
