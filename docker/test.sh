#!/usr/bin/env bash
# docker/test.sh [SUITE...]: `make docker-test`. Starts a Docker engine when
# none answers (and stops only that one at the end), builds the CPU images of
# each Debian SUITE (default: bookworm trixie) with docker/build.sh: the
# runtime image ludvae:cpu-debianNN and the test image ludvae:dev-debianNN;
# then runs the whole job in the runtime image as a non-root user on a
# host folder (build/docker/job-debianNN): ludvae version, prepare on a
# generated SIDD-layout download, 20 training steps, a run interrupted by
# SIGINT and resumed, synth, export (the TorchScript run by the Python torch
# of the test image, the same Debian release and libtorch), restore train and
# restore test, and `make train-sidd DOCKER=1` with the runtime image; every
# file the job made on the host must belong to that user. Ends with a table:
# image, size, build time, test result; exits non-zero if anything failed.
#
# The job runs as the calling user, or as uid/gid 1000 (the images' user)
# when called as root. Variables: those of docker/build.sh, DOCKER_TEST_UID.
set -uo pipefail
cd "$(dirname "$0")/.."
. docker/lib.sh
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
export DOCKER_OUT=$OUT_DIR
: >"$OUT_DIR/builds.tsv"
: >"$OUT_DIR/tests.tsv"

docker/engine.sh start "$OUT_DIR/dockerd.pid" || exit 1
trap 'docker/engine.sh stop "$OUT_DIR/dockerd.pid"' EXIT

if [ "$(id -u)" = 0 ]; then uid=${DOCKER_TEST_UID:-1000}; gid=$uid; else uid=$(id -u); gid=$(id -g); fi

# job SUITE: the whole job in ludvae:cpu-debianNN; prints the failed step.
job() {
  local suite=$1 name img dev T log steps=0
  name=$(suite_name "$suite")
  img=ludvae:cpu-$name dev=ludvae:dev-$name
  T=$OUT_DIR/job-$name log=$OUT_DIR/job-$name.log
  rm -rf "$T" && mkdir -p "$T" && chown "$uid:$gid" "$T"
  : >"$log"
  run() { $DOCKER_CLI run --rm --network host -u "$uid:$gid" -e HOME=/tmp -v "$T:$T" -w "$T" "$@"; }
  step() {
    local what=$1; shift
    echo "== $what" >>"$log"
    if ! "$@" >>"$log" 2>&1; then
      echo "   $name: $what FAILED (log $log):" >&2
      tail -n 8 "$log" | sed 's/^/  | /' >&2
      echo "$what"
      return 1
    fi
    echo "   $name: $what ok" >&2
  }
  local train=(train --clean data/sidd/clean --noisy data/sidd/noisy --filters 16 --patch 32 --batch 4
    --save-every 10 --sample-every 20 --log-every 10 --device cpu)

  step "ludvae version" run "$img" version || return
  step "generate a SIDD-layout download" run -i --entrypoint python3 "$dev" - "$T/download" <<'EOF' || return
import os, sys
import numpy as np
from PIL import Image
root = os.path.join(sys.argv[1], "SIDD_Small_sRGB_Only")
rng = np.random.default_rng(1)
for i in range(1, 7):
    scene = os.path.join(root, "Data", "%04d_%03d_S6_00100_00060_3200_L" % (i, i))
    os.makedirs(scene)
    yy, xx = np.mgrid[0:56, 0:64] / 40.0
    gt = 0.5 + 0.35 * np.sin(np.stack([xx * (i + 2) + c + yy * 3 for c in range(3)], -1))
    noisy = gt + 0.08 * rng.standard_normal(gt.shape)
    for f, img in (("GT_SRGB_010.PNG", gt), ("NOISY_SRGB_010.PNG", noisy)):
        Image.fromarray((np.clip(img, 0, 1) * 255).round().astype(np.uint8)).save(os.path.join(scene, f))
open(os.path.join(root, "ReadMe_sRGB.txt"), "w").write("generated\n")
print("6 scenes in", root)
EOF
  step "ludvae prepare sidd" run "$img" prepare sidd --from "$T/download" --to data/sidd --allow-partial || return
  step "train 20 steps" run "$img" "${train[@]}" --out runs/job --steps 20 || return
  step "20 steps made ckpt_00000020.pth" test -f "$T/runs/job/ckpt_00000020.pth" || return
  # A run to 60 steps, interrupted by SIGINT once step 30 is saved, then resumed.
  interrupted() {
    local c=ludvae-test-$name-$$ i
    $DOCKER_CLI run -d --name "$c" --network host -u "$uid:$gid" -e HOME=/tmp -v "$T:$T" -w "$T" \
      "$img" "${train[@]}" --out runs/job --steps 60 >/dev/null || return 1
    for i in $(seq 600); do [ -f "$T/runs/job/ckpt_00000030.pth" ] && break; sleep 0.5; done
    $DOCKER_CLI kill --signal INT "$c" >/dev/null
    local rc; rc=$($DOCKER_CLI wait "$c"); $DOCKER_CLI logs "$c" 2>&1 | tail -n 4; $DOCKER_CLI rm "$c" >/dev/null
    echo "interrupted run exited with $rc"
    [ ! -f "$T/runs/job/ckpt_00000060.pth" ] || { echo "the run reached step 60 before SIGINT"; return 1; }
    [ "$rc" != 0 ] || { echo "an interrupted run exited 0"; return 1; }
    # ludvae logs to stderr; the copy stays outside the job's folder (this script's user writes it).
    run "$img" "${train[@]}" --out runs/job --steps 60 2>&1 | tee "$OUT_DIR/resume-$name.out"
    grep -q "resuming from" "$OUT_DIR/resume-$name.out" && test -f "$T/runs/job/ckpt_00000060.pth"
  }
  step "train interrupted (SIGINT after step 30) and resumed to 60" interrupted || return
  step "ludvae synth" run "$img" synth --model runs/job/ckpt_00000060.pth --clean data/sidd/clean --out synth --tile 32 || return
  step "synth wrote 6 pairs" test "$(ls "$T/synth/L" | wc -l)" = 6 -a "$(ls "$T/synth/H" | wc -l)" = 6 || return
  step "ludvae export" run "$img" export --model runs/job/ckpt_00000060.pth --torchscript g.pt || return
  step "the export runs in Python's torch" run --entrypoint python3 "$dev" -c 'import sys, torch
g = torch.jit.load(sys.argv[1])
y = g(torch.rand(2, 3, 32, 32), torch.tensor([30.0, 50.0]))
assert y.shape == (2, 3, 32, 32) and bool(torch.isfinite(y).all()), y.shape
print("torch", torch.__version__, "ran the exported generator:", tuple(y.shape))' "$T/g.pt" || return
  step "ludvae restore train" run "$img" restore train --pairs synth --out runs/dncnn --features 8 --layers 4 \
    --patch 16 --batch 4 --steps 4 --save-every 2 --log-every 1 --device cpu || return
  step "ludvae restore test" run "$img" restore test --model runs/dncnn/dncnn_00000004.pth --in data/sidd/noisy \
    --out den --tile 24 --device cpu || return
  step "restore test wrote 6 images" test "$(ls "$T/den" | wc -l)" = 6 || return
  step "make train-sidd DOCKER=1 DOCKER_IMAGE=$img" make --no-print-directory train-sidd DOCKER=1 DOCKER_IMAGE="$img" \
    DATA="$T/data/sidd" DOCKER_DOWNLOADS="$T/download" DOCKER_RUNS="$T/runs-make" DOCKER_USER="$uid:$gid" \
    TRAIN_FLAGS="--steps 2 --filters 16 --patch 32 --batch 4 --save-every 2 --device cpu" || return
  step "make train-sidd saved step 2" test -f "$T/runs-make/sidd/ckpt_00000002.pth" || return
  owners() {
    local bad; bad=$(find "$T" \( ! -uid "$uid" -o ! -gid "$gid" \) -printf '%u:%g %p\n' | head -n 5)
    [ -z "$bad" ] || { echo "not owned by $uid:$gid:"; echo "$bad"; return 1; }
    echo "$(find "$T" | wc -l) files and folders, all owned by $uid:$gid"
  }
  step "outputs on the host belong to $uid:$gid" owners || return
}

for suite in "${suites[@]}"; do
  name=$(suite_name "$suite") || exit 2
  ok=1
  docker/build.sh "$suite" runtime "ludvae:cpu-$name" || ok=0
  docker/build.sh "$suite" dev "ludvae:dev-$name" || ok=0
  if [ $ok = 1 ]; then
    echo "== the job in ludvae:cpu-$name as $uid:$gid (log $OUT_DIR/job-$name.log)"
    start=$(date +%s)
    if failed=$(job "$suite"); then result="passed ($(human $(( $(date +%s) - start ))))"; else result="FAILED: $failed"; fi
  else
    result="not run (build failed)"
  fi
  printf '%s\t%s\n' "ludvae:cpu-$name" "$result" >>"$OUT_DIR/tests.tsv"
  printf '%s\t%s\n' "ludvae:dev-$name" "$([ $ok = 1 ] && echo "used by the job (generator, export check)" || echo "not run")" >>"$OUT_DIR/tests.tsv"
done

echo
printf '%-22s %-9s %-12s %s\n' image size "build time" "test result"
status=0
while IFS=$'\t' read -r tag secs build; do
  test=$(awk -F'\t' -v t="$tag" '$1 == t { print $2 }' "$OUT_DIR/tests.tsv")
  if [ "$build" != ok ]; then size=-; test="build $build"; status=1; else size=$(image_size "$tag"); fi
  case $test in FAILED*|"not run"*|build*) status=1 ;; esac
  printf '%-22s %-9s %-12s %s\n' "$tag" "$size" "$(human "$secs")" "$test"
done <"$OUT_DIR/builds.tsv"
exit $status
