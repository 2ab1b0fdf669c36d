#!/usr/bin/env bash
# Training's memory and start-up on data of a real size, measured with
# /usr/bin/time -v (make bench-data). It generates D distinct photos of
# SIDD-Small's size (5328×3000) per domain, makes a tree of N per domain
# and one of 4N by linking them under several names (each name is decoded
# into the store on its own, so a store holds N or 4N images), builds both
# trees' image stores, and runs the same short training
# on 2 small images, on N and on 4N images per domain. It prints, per run,
# the peak resident memory and the wall time, and checks the issue's
# bounds: peak memory on 4N within 10 % of N, and under 1.5 GiB above the
# small run; a start with the store built under 10 s.
#
# Disk: about 38 MB per source photo and 46 MiB per stored image: the
# defaults (D=10, N=40) need 0.8 GB of sources and 18 GiB of stores.
set -euo pipefail
cd "$(dirname "$0")/../../.."
LUDVAE=${LUDVAE:-bin/ludvae}
PY=${PY:-/usr/bin/python3}
N=${N:-40}
D=${D:-10}
W=${W:-5328}
H=${H:-3000}
STEPS=${STEPS:-10}
WORK=${WORK:-build/bench-data}
TRAIN_FLAGS="--filters 32 --patch 64 --batch 16 --sample-every 0 --save-every 1000000 --device cpu"

mkdir -p "$WORK"
echo "generating $D photos of ${W}x${H} per domain in $WORK/src (once)"
"$PY" train/store/bench/make_images.py "$WORK/src/clean" "$D" "$W" "$H" 1
"$PY" train/store/bench/make_images.py "$WORK/src/noisy" "$D" "$W" "$H" 2
"$PY" train/store/bench/make_images.py "$WORK/small/clean" 2 256 256 3
"$PY" train/store/bench/make_images.py "$WORK/small/noisy" 2 256 256 4
for k in 1 4; do
  for d in clean noisy; do
    rm -rf "$WORK/x$k/$d"
    mkdir -p "$WORK/x$k/$d"
    for i in $(seq 1 $((k * N))); do
      f=$(ls "$WORK/src/$d"/img*.png | sed -n "$(( (i - 1) % D + 1 ))p")
      ln -f "$f" "$WORK/x$k/$d/$(printf 'photo%04d.png' "$i")"
    done
  done
done

# measure NAME CMD...: runs CMD under /usr/bin/time -v, prints and keeps
# its peak resident memory (MiB) and wall time (s).
declare -A RSS WALL
measure() {
  local name=$1; shift
  local log="$WORK/$name.time"
  /usr/bin/time -v "$@" >"$WORK/$name.out" 2>"$log" || { tail -20 "$log"; exit 1; }
  RSS[$name]=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
  WALL[$name]=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2, p, ":"); s=0; for (i=1; i<=n; i++) s=s*60+p[i]; printf "%.1f", s}' "$log")
  printf '%-22s peak %6s MiB  wall %7s s\n' "$name" "${RSS[$name]}" "${WALL[$name]}"
}

for t in small x1 x4; do
  rm -rf "$WORK/run-$t" "$WORK/first-$t"
  if [ "$t" != small ]; then
    measure "build-$t-clean" "$LUDVAE" prepare store --from "$WORK/$t/clean"
    measure "build-$t-noisy" "$LUDVAE" prepare store --from "$WORK/$t/noisy"
    du -sh "$WORK/$t/clean.lvs" "$WORK/$t/noisy.lvs"
  fi
  measure "train-$t" "$LUDVAE" train --clean "$WORK/$t/clean" --noisy "$WORK/$t/noisy" --out "$WORK/run-$t" --steps "$STEPS" $TRAIN_FLAGS
  # the start: a run of one step (and its checkpoint), then its resumption
  measure "first-step-$t" "$LUDVAE" train --clean "$WORK/$t/clean" --noisy "$WORK/$t/noisy" --out "$WORK/first-$t" --steps 1 $TRAIN_FLAGS
  measure "resume-$t" "$LUDVAE" train --clean "$WORK/$t/clean" --noisy "$WORK/$t/noisy" --out "$WORK/first-$t" --steps 2 $TRAIN_FLAGS
  grep -q "resuming from" "$WORK/resume-$t.time" || { echo "resume-$t did not resume"; exit 1; }
  grep -q "(0 decoded" "$WORK/resume-$t.time" || { echo "resume-$t decoded images"; exit 1; }
done

# Synthesis over many large images: SN and SN/4 photos of DIV2K's size
# (2040×1356) through a small model (8 filters, one step on the small set).
SN=${SN:-52}
"$PY" train/store/bench/make_images.py "$WORK/synth/many" "$SN" 2040 1356 5
mkdir -p "$WORK/synth/few"
for f in $(ls "$WORK/synth/many"/img*.png | head -n $((SN / 4))); do ln -f "$f" "$WORK/synth/few/"; done
rm -rf "$WORK/synth/model" "$WORK/synth/out-"*
"$LUDVAE" train --clean "$WORK/small/clean" --noisy "$WORK/small/noisy" --out "$WORK/synth/model" --steps 1 --filters 8 --patch 64 --batch 4 --sample-every 0 --device cpu 2>/dev/null
for t in few many; do
  measure "synth-$t" "$LUDVAE" synth --model "$WORK/synth/model/ckpt_00000001.pth" --clean "$WORK/synth/$t" --out "$WORK/synth/out-$t" --device cpu
done

awk -v a="${RSS[synth-few]}" -v b="${RSS[synth-many]}" -v n="$SN" 'BEGIN {
  printf "synthesis peak memory: %d images / %d images = %.3f (bound 1.10)\n", n, n / 4, b / a
  exit (b / a > 1.10)
}'

awk -v a="${RSS[train-x1]}" -v b="${RSS[train-x4]}" -v s="${RSS[train-small]}" \
    -v f1="${WALL[first-step-x1]}" -v f4="${WALL[first-step-x4]}" -v r4="${WALL[resume-x4]}" 'BEGIN {
  d = (b - a) / a; extra = b - s
  printf "peak memory: 4N/N = %.3f (bound 1.10), above the small run: %d MiB (bound 1536)\n", b / a, extra
  printf "command to first step (with its checkpoint): %.1f s (N), %.1f s (4N); resume %.1f s (bound 10)\n", f1, f4, r4
  bad = (d > 0.10 || d < -0.10 || extra > 1536 || f4 > 10 || r4 > 10)
  exit bad
}'
