#!/usr/bin/env bash
# recipe.sh DEMO_OUT NAME: one line of synth/demo/README.md's "What was
# tried". Trains a LUD-VAE of the demo's size on the demo's folders
# (DEMO_OUT/data, from `make demo`) with the demo's recipe, changed by the
# variables below, into DEMO_OUT/recipes/NAME, then scores it as
# `make table2` scores row (b): AKLD/KLD, noise std and lag-1 correlation
# and the low-pass PSNR of its C2N degradation of the held-out photos, and
# the PSNR/SSIM of a DnCNN trained on its pairs (table2's denoiser, seeds
# and budget) on their camera degradation. One summary line at the end.
#   DEMO_STEPS, DEMO_LR and the other DEMO_* variables of recipe-flags.sh
#   (the demo's recipe, as run.sh trains it); SAVE_EVERY (DEMO_STEPS)
#   SYNTH_SIGMA: σx at synthesis (the demo's, DEMO_SYNTH_SIGMA); TRAIN_FLAGS, SYNTH_FLAGS: more flags
#   MODEL: score this checkpoint instead of training; THREADS (0 = all)
#   DNCNN=0: stop after the noise statistics; TABLE2_STEPS and the other
#   TABLE2_* variables of dncnn.sh change the denoiser, as for table2.sh
# Run one at a time: two libtorch jobs on two cores slow each other far
# more than twice.
set -euo pipefail
demo=$1
name=$2
ludvae=${LUDVAE:-bin/ludvae}
out=$demo/recipes/$name
# shellcheck source=synth/demo/recipe-flags.sh
. "$(dirname "$0")/recipe-flags.sh"
threads=${THREADS:-0}
mkdir -p "$out"
if [ -z "${MODEL:-}" ]; then
  # shellcheck disable=SC2086 # TRAIN_FLAGS is a list of flags
  "$ludvae" train --clean "$demo/data/clean" --noisy "$demo/data/noisy" --out "$out/run" "${recipe_flags[@]}" \
    --save-every "${SAVE_EVERY:-$recipe_steps}" --keep 100 --sample-every 0 --log-every 50 --device cpu \
    --threads "$threads" ${TRAIN_FLAGS:-} 2>"$out/train.log" >/dev/null
fi
model=${MODEL:-$(ls "$out"/run/ckpt_*.pth | sort -V | tail -n 1)}
sx=${SYNTH_SIGMA:-$recipe_synth_sigma}
# shellcheck disable=SC2206
synth=(--sigma-min "$sx" --sigma-max "$sx" --device cpu --threads "$threads" ${SYNTH_FLAGS:-})
rm -rf "$out/heldout" "$out/pairs" "$out/dncnn" "$out/denoised"
"$ludvae" synth --model "$model" --clean "$demo/heldout/clean" --out "$out/heldout" --seed 4 "${synth[@]}" >/dev/null 2>&1
"$ludvae" eval noise --real "$demo/heldout/real" --clean "$demo/heldout/clean" --synthetic "$out/heldout/L" --json >"$out/noise.json"
"$ludvae" eval --restored "$out/heldout/L" --truth "$demo/heldout/clean" --lowpass 2 --json >"$out/lowpass.json"
line=$(python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
s = [x for x in json.load(open(out + "/noise.json"))["sources"] if "vs_real" in x][0]
st = s["stats"]
lag1 = sum(st["corr_horizontal"][c][0] + st["corr_vertical"][c][0] for c in range(3)) / 6
lp = json.load(open(out + "/lowpass.json"))["mean"]["psnr"]
print("AKLD %.3f  KLD %.3f  std %.2f  lag-1 %.3f  low-pass %.2f dB" % (s["vs_real"]["akld"], s["vs_real"]["kld"], st["std_all"], lag1, lp))
PY
)
if [ "${DNCNN:-1}" != 0 ]; then
  # shellcheck source=synth/demo/dncnn.sh
  . "$(dirname "$0")/dncnn.sh"
  "$ludvae" synth --model "$model" --clean "$demo/data/clean" --out "$out/pairs" --samples 4 --seed 5 "${synth[@]}" >/dev/null 2>&1
  "$ludvae" restore train --pairs "$out/pairs" --out "$out/dncnn" "${dncnn_flags[@]}" --threads "$threads" \
    2>"$out/dncnn.log" >/dev/null
  "$ludvae" restore test --model "$(ls "$out"/dncnn/dncnn_*.pth | sort -V | tail -n 1)" --in "$demo/heldout/real" \
    --out "$out/denoised" --device cpu --threads "$threads" >/dev/null 2>&1
  line="$line  DnCNN $("$ludvae" eval --restored "$out/denoised" --truth "$demo/heldout/clean" --json |
    python3 -c 'import json,sys; m=json.load(sys.stdin)["mean"]; print("%.2f dB / %.4f" % (m["psnr"], m["ssim"]))')"
fi
echo "$name: $line" | tee "$out/summary"
