#!/usr/bin/env bash
# dynamics.sh [OUT]: many-step training dynamics of ludvae against the eager
# PyTorch reference (issue 14 item 6). Both train on the demo's data with the
# demo's recipe (synth/demo/run.sh) from SEEDS seeds each (one seed starts
# both from the same weights: ludvae draws torch's), then synthesize the
# held-out photos with ludvae synth (eager checkpoints are the authors'
# state-dict layout, which ludvae loads), and the noise is measured the same
# way for all: AKLD, KLD (ludvae eval noise) and cross-channel correlation
# (dynamics_stats.py); each final model's training objective is scored on one
# fixed set of crops (eval_loss.py). Runs two trainings at a time, one thread each, niced.
# Defaults are the demo's budget; PATCH and BATCH shrink it
# (docs/training-dynamics.md's table: STEPS=600 PATCH=32 BATCH=4), PSNR=1 adds the downstream denoisers,
# OBJECTIVE=1 measures only the objective on the fixed crops (no synthesis:
# about a minute per run at that budget, for many seeds).
#   SEEDS="1 2 3" STEPS=1200 PATCH=48 BATCH=8 IMPLS="ludvae eager" PSNR=0 DN_STEPS=500 JOBS=2 \
#     model/python/dynamics.sh build/dynamics
set -euo pipefail
out=${1:-build/dynamics}
seeds=${SEEDS:-1 2 3}
steps=${STEPS:-1200}
patch=${PATCH:-48}
batch=${BATCH:-8}
impls=${IMPLS:-ludvae eager}
par=${JOBS:-2} # trainings (and denoisers) at a time
ludvae=${LUDVAE:-bin/ludvae}
py=${PYTHON:-/usr/bin/python3}
here=$(dirname "$0")
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

bash synth/demo/photos.sh build/demo/photos >/dev/null
photos=build/demo/photos
if [ ! -f "$out/data/.complete" ]; then
  rm -rf "$out/data" "$out/heldout"
  mkdir -p "$out/data/photos" "$out/heldout/clean"
  cp "$photos"/{chelsea.png,coffee.png,ihc.png,rocket.jpg,hubble_deep_field.jpg,retina.jpg} "$out/data/photos/"
  cp "$photos"/{astronaut.png,brick.png,grass.png} "$out/heldout/clean/"
  "$ludvae" halves --in "$out/data/photos" --left "$out/data/clean" --right "$out/data/camera-source"
  "$ludvae" degrade --in "$out/data/camera-source" --out "$out/data/noisy" --kind camera --seed 1
  "$ludvae" degrade --in "$out/heldout/clean" --out "$out/heldout/real" --kind camera --seed 2
  touch "$out/data/.complete"
fi

# The demo's recipe (synth/demo/run.sh), for both implementations, and its
# σx at synthesis.
sx=${SYNTH_SIGMA:-40}
recipe=(--filters 32 --levels 3 --patch "$patch" --batch "$batch" --steps "$steps" --lr 5e-4 --kl-weight 1e-4
  --lr-milestones "$((steps * 3 / 4))" --kl-warmup "$((steps / 4))" --sigma-x 15 --sigma-y 10)

train() { # group seed
  local g=$1 s=$2 run=$out/$1-$2
  if ls "$run"/ckpt_*.pth >/dev/null 2>&1 && [ -f "$run/.done" ]; then return; fi
  case $g in
    ludvae) nice -n 10 "$ludvae" train --clean "$out/data/clean" --noisy "$out/data/noisy" --out "$run" \
        "${recipe[@]}" --normalize none --seed "$s" --threads 1 --device cpu \
        --save-every "$steps" --sample-every 0 --log-every 20 >"$run.log" 2>&1 ;;
    eager) nice -n 10 "$py" "$here/train_eager.py" --clean "$out/data/clean" --noisy "$out/data/noisy" --out "$run" \
        "${recipe[@]}" --normalize none --seed "$s" --log-every 20 >"$run.log" 2>&1 ;;
  esac
  touch "$run/.done"
}

jobs=()
for s in $seeds; do for g in $impls; do jobs+=("$g $s"); done; done
running=0
for j in "${jobs[@]}"; do
  train $j &
  running=$((running + 1))
  if [ $running -ge "$par" ]; then wait -n; running=$((running - 1)); fi
done
wait

for s in $seeds; do for g in $impls; do
  run=$out/$g-$s
  ckpt=$(ls "$run"/ckpt_*.pth | tail -n 1)
  # the training objective on one fixed set of crops, the same for every run
  if [ ! -f "$run/objective.json" ]; then
    "$py" "$here/eval_loss.py" "$ckpt" --clean "$out/data/clean" --noisy "$out/data/noisy" --patch "$patch" \
      --sigma-x 15 --sigma-y 10 --normalize none --crops 512 >"$run/objective.json.tmp"
    mv "$run/objective.json.tmp" "$run/objective.json"
  fi
  if [ "${OBJECTIVE:-0}" = 1 ] || grep -q synth-eager "$run/noise.json" 2>/dev/null; then continue; fi
  rm -rf "$run/synth"
  "$ludvae" synth --model "$ckpt" --clean "$out/heldout/clean" --out "$run/synth" --sigma-min "$sx" --sigma-max "$sx" \
    --seed 4 --device cpu --threads 1 >/dev/null 2>&1
  # the same checkpoint synthesized by the eager reference with torch's generator
  rm -rf "$run/synth-eager"
  "$py" "$here/synth_eager.py" "$ckpt" "$out/heldout/clean" "$run/synth-eager" --sigma "$sx" --seed 4
  "$ludvae" eval noise --real "$out/heldout/real" --synthetic "$run/synth/L" --synthetic "$run/synth-eager" \
    --clean "$out/heldout/clean" --json >"$run/noise.json"
done; done
# Downstream (PSNR=1): a DnCNN trained on each model's pairs of the clean
# training photos (ludvae synth, 4 samples each), the held-out camera
# degradation denoised and scored against the clean photos. table2.sh's
# small denoiser (10 layers, 32 features, lr 1e-3), DN_STEPS steps.
dnsteps=${DN_STEPS:-500}
denoise() { # run
  local run=$1 ckpt
  if [ -f "$run/psnr.json" ]; then return; fi
  ckpt=$(ls "$run"/ckpt_*.pth | tail -n 1)
  rm -rf "$run/pairs" "$run/dncnn" "$run/denoised"
  "$ludvae" synth --model "$ckpt" --clean "$out/data/clean" --out "$run/pairs" --samples 4 --sigma-min "$sx" --sigma-max "$sx" \
    --seed 5 --device cpu --threads 1 >/dev/null 2>&1
  nice -n 10 "$ludvae" restore train --pairs "$run/pairs" --out "$run/dncnn" --layers 10 --features 32 --batch 8 --patch 40 \
    --steps "$dnsteps" --lr 1e-3 --lr-milestones "$((dnsteps * 3 / 4))" --save-every "$dnsteps" --log-every 50 \
    --device cpu --threads 1 --seed 1 >"$run/dncnn.log" 2>&1
  nice -n 10 "$ludvae" restore test --model "$(ls "$run"/dncnn/dncnn_*.pth | tail -n 1)" --in "$out/heldout/real" \
    --out "$run/denoised" --device cpu --threads 1 >/dev/null 2>&1
  "$ludvae" eval --restored "$run/denoised" --truth "$out/heldout/clean" --json >"$run/psnr.json"
}
if [ "${PSNR:-0}" = 1 ]; then
  running=0
  for s in $seeds; do for g in $impls; do
    denoise "$out/$g-$s" &
    running=$((running + 1))
    if [ $running -ge "$par" ]; then wait -n; running=$((running - 1)); fi
  done; done
  wait
fi
"$py" "$here/dynamics_stats.py" "$out" $impls -- $seeds | tee "$out/table.md"
