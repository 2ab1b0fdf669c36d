#!/usr/bin/env bash
# model.sh PHOTOS OUT: the demo's committed model (synth/demo/model/), made
# the way `make demo` makes its short one but trained longer. It makes the
# demo's folders in OUT (data.sh; kept when OUT/.data-complete exists, so a
# re-run resumes on the same files), trains the demo's recipe
# (recipe-flags.sh) for DEMO_MODEL_STEPS steps (default 6000; lr halved at
# ¾, KL warm-up ¼ of them, as the demo) into OUT/run, and scores its newest
# checkpoint as run.sh scores the short run's: its C2N degradation of the
# held-out photos (σx = recipe_synth_sigma, seed 4) against their camera
# degradation (AKLD, KLD) beside Gaussian noise of about the same strength,
# and each one's low-pass PSNR against the clean photos (content and
# colours). The summary goes to OUT/eval/summary.json and stdout.
# Re-running resumes training from OUT/run's newest checkpoint (stop it with
# Ctrl-C or SIGTERM any time; it saves every SAVE_EVERY = 500 steps);
# MODEL=CKPT scores that checkpoint without training; THREADS (0 = all);
# TRAIN_FLAGS: more `ludvae train` flags (e.g. --override after changing
# DEMO_MODEL_STEPS).
set -euo pipefail
photos=$1
out=$2
ludvae=${LUDVAE:-bin/ludvae}
DEMO_STEPS=${DEMO_MODEL_STEPS:-6000}
export DEMO_STEPS
# shellcheck source=synth/demo/recipe-flags.sh
. "$(dirname "$0")/recipe-flags.sh"
# shellcheck source=synth/demo/data.sh
. "$(dirname "$0")/data.sh"
threads=${THREADS:-0}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ ludvae $*"; "$ludvae" "$@"; }
mkdir -p "$out"
if [ ! -f "$out/.data-complete" ]; then
  say "1. the demo's folders (data.sh)"
  demo_data "$photos" "$out"
  touch "$out/.data-complete"
fi
if [ -z "${MODEL:-}" ]; then
  say "2. train the demo's recipe for $recipe_steps steps (resumes from $out/run)"
  # shellcheck disable=SC2086 # TRAIN_FLAGS is a list of flags
  run train --clean "$out/data/clean" --noisy "$out/data/noisy" --out "$out/run" "${recipe_flags[@]}" \
    --save-every "${SAVE_EVERY:-500}" --keep 3 --sample-every 0 --log-every 50 --device cpu \
    --threads "$threads" ${TRAIN_FLAGS:-}
fi
model=${MODEL:-$(ls "$out"/run/ckpt_*.pth | sort -V | tail -n 1)}
say "3. score $model on the held-out photos"
sx=$recipe_synth_sigma
rm -rf "$out/eval"
mkdir -p "$out/eval"
run synth --model "$model" --clean "$out/heldout/clean" --out "$out/eval/synth" --sigma-min "$sx" --sigma-max "$sx" \
  --seed 4 --device cpu --threads "$threads" >/dev/null
cp -r "$out/eval/synth/L" "$out/eval/LUD-VAE"
"$ludvae" eval noise --real "$out/heldout/real" --clean "$out/heldout/clean" --synthetic "$out/eval/LUD-VAE" \
  --synthetic "$out/heldout/gaussian" --json >"$out/eval/noise.json"
for d in real gaussian; do
  "$ludvae" eval --restored "$out/heldout/$d" --truth "$out/heldout/clean" --lowpass 2 --json >"$out/eval/lowpass-$d.json"
done
"$ludvae" eval --restored "$out/eval/LUD-VAE" --truth "$out/heldout/clean" --lowpass 2 --json >"$out/eval/lowpass-ludvae.json"
python3 - "$out/eval" "$model" <<'PY' | tee "$out/eval/summary.txt"
import json, sys
ev, model = sys.argv[1], sys.argv[2]
src = {s["name"]: s for s in json.load(open(ev + "/noise.json"))["sources"]}
lp = {k: json.load(open(f"{ev}/lowpass-{k}.json"))["mean"]["psnr"] for k in ("real", "gaussian", "ludvae")}
m, g = src["LUD-VAE"], src["gaussian"]
summary = {"model": model,
           "ludvae": {"akld": m["vs_real"]["akld"], "kld": m["vs_real"]["kld"], "std": m["stats"]["std_all"], "lowpass_psnr": lp["ludvae"]},
           "gaussian": {"akld": g["vs_real"]["akld"], "kld": g["vs_real"]["kld"], "std": g["stats"]["std_all"], "lowpass_psnr": lp["gaussian"]},
           "camera": {"lowpass_psnr": lp["real"]}}
json.dump(summary, open(ev + "/summary.json", "w"), indent=1)
better = m["vs_real"]["akld"] < g["vs_real"]["akld"] and m["vs_real"]["kld"] < g["vs_real"]["kld"] and lp["ludvae"] >= lp["real"]
print("LUD-VAE  AKLD %.3f  KLD %.3f  std %.2f  low-pass %.2f dB" % (m["vs_real"]["akld"], m["vs_real"]["kld"], m["stats"]["std_all"], lp["ludvae"]))
print("Gaussian AKLD %.3f  KLD %.3f  std %.2f  low-pass %.2f dB" % (g["vs_real"]["akld"], g["vs_real"]["kld"], g["stats"]["std_all"], lp["gaussian"]))
print("camera                                  low-pass %.2f dB" % lp["real"])
print("better than Gaussian by AKLD and KLD, low-pass at least the camera's: %s" % ("yes" if better else "no"))
PY
