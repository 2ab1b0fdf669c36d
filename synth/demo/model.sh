#!/usr/bin/env bash
# model.sh PHOTOS OUT: the demo's committed model (synth/demo/model/), made
# the way `make demo` makes its short one but trained longer. It makes the
# demo's folders in OUT (data.sh; kept when OUT/.data-complete exists, so a
# re-run resumes on the same files), trains the demo's recipe
# (recipe-flags.sh) for DEMO_MODEL_STEPS steps (default 3000, as the
# committed model; lr halved at ¾, KL warm-up ¼ of them, as the demo)
# into OUT/run, and scores its newest
# checkpoint as run.sh scores the short run's: its C2N degradation of the
# held-out photos (seed 4) against their camera degradation (AKLD, KLD)
# beside Gaussian noise of about the same strength, and each one's
# low-pass PSNR against the clean photos (content and colours).
# The σx of h(x) it synthesizes with is calibrated first, on the training
# photos only: of DEMO_MODEL_SIGMAS (default 25 28 30 33 36 40 45), the
# one whose synthetic noise on the clean right halves has the std closest
# to their camera degradation's (the demo made those noisy halves from
# them, so it has the pairs; a user with truly unpaired data would match
# an estimated noise level, or judge by eye). The held-out photos play no
# part in the choice; the Gaussian baseline is given the held-out camera
# noise's own strength, which can only favour it. DEMO_SYNTH_SIGMA skips
# the calibration. The summary goes to OUT/eval/summary.json and stdout, and the
# scored weights, as a plain state dict, to OUT/model/ludvae.pth beside
# OUT/model/provenance.json (the command, the commits and CPUs of the
# training sessions, steps, seed, wall time of training, the statistics):
# the two files synth/demo/model/ holds.
# Re-running resumes training from OUT/run's newest checkpoint (stop it with
# Ctrl-C or SIGTERM any time; it saves every SAVE_EVERY = 500 steps);
# MODEL=CKPT scores that checkpoint without training; THREADS (0 = all);
# TRAIN_FLAGS: more `ludvae train` flags (e.g. --override after changing
# DEMO_MODEL_STEPS).
set -euo pipefail
photos=$1
out=$2
ludvae=${LUDVAE:-bin/ludvae}
DEMO_STEPS=${DEMO_MODEL_STEPS:-3000}
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
  # One line per training session: commit ("-dirty" when the checkout had
  # uncommitted changes), start, threads, CPU (provenance.json).
  echo "$(git -C "$(dirname "$0")" describe --always --dirty --abbrev=40 2>/dev/null || echo unknown) $(date -u +%FT%TZ) $threads$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)" >>"$out/sessions.txt"
  say "2. train the demo's recipe for $recipe_steps steps (resumes from $out/run)"
  # shellcheck disable=SC2086 # TRAIN_FLAGS is a list of flags
  run train --clean "$out/data/clean" --noisy "$out/data/noisy" --out "$out/run" "${recipe_flags[@]}" \
    --save-every "${SAVE_EVERY:-500}" --keep 3 --sample-every 0 --log-every 50 --device cpu \
    --threads "$threads" ${TRAIN_FLAGS:-}
fi
model=${MODEL:-$(ls "$out"/run/ckpt_*.pth | sort -V | tail -n 1)}
rm -rf "$out/eval"
mkdir -p "$out/eval"
if [ -n "${DEMO_SYNTH_SIGMA:-}" ]; then
  sx=$DEMO_SYNTH_SIGMA
  echo "σx = $sx (DEMO_SYNTH_SIGMA)" | tee "$out/eval/calibration.txt"
else
  want=$(noise_std "$out/data/noisy" "$out/data/camera-source")
  say "3. calibrate σx on the training photos' right halves (their camera noise: std $want)"
  for s in ${DEMO_MODEL_SIGMAS:-25 28 30 33 36 40 45}; do
    "$ludvae" synth --model "$model" --clean "$out/data/camera-source" --out "$out/eval/calib-$s" --sigma-min "$s" \
      --sigma-max "$s" --seed 4 --device cpu --threads "$threads" >/dev/null
    echo "$s $(noise_std "$out/eval/calib-$s/L" "$out/data/camera-source")"
    rm -rf "$out/eval/calib-$s"
  done | python3 -c '
import sys
want, rows = float(sys.argv[1]), [l.split() for l in sys.stdin if l.strip()]
for s, std in rows:
    print("σx %-4s synthetic noise std %.2f (camera %.2f)" % (s, float(std), want))
best = min(rows, key=lambda r: abs(float(r[1]) - want))
print("chosen σx = %s" % best[0])' "$want" | tee "$out/eval/calibration.txt"
  sx=$(sed -n 's/^chosen σx = //p' "$out/eval/calibration.txt")
fi
say "4. score $model on the held-out photos (σx = $sx)"
run synth --model "$model" --clean "$out/heldout/clean" --out "$out/eval/synth" --sigma-min "$sx" --sigma-max "$sx" \
  --seed 4 --device cpu --threads "$threads" >/dev/null
cp -r "$out/eval/synth/L" "$out/eval/LUD-VAE"
"$ludvae" eval noise --real "$out/heldout/real" --clean "$out/heldout/clean" --synthetic "$out/eval/LUD-VAE" \
  --synthetic "$out/heldout/gaussian" --json >"$out/eval/noise.json"
for d in real gaussian; do
  "$ludvae" eval --restored "$out/heldout/$d" --truth "$out/heldout/clean" --lowpass 2 --json >"$out/eval/lowpass-$d.json"
done
"$ludvae" eval --restored "$out/eval/LUD-VAE" --truth "$out/heldout/clean" --lowpass 2 --json >"$out/eval/lowpass-ludvae.json"
python3 - "$out/eval" "$model" "$sx" <<'PY' | tee "$out/eval/summary.txt"
import json, sys
ev, model, sx = sys.argv[1], sys.argv[2], sys.argv[3]
src = {s["name"]: s for s in json.load(open(ev + "/noise.json"))["sources"]}
lp = {k: json.load(open(f"{ev}/lowpass-{k}.json"))["mean"]["psnr"] for k in ("real", "gaussian", "ludvae")}
m, g = src["LUD-VAE"], src["gaussian"]
summary = {"model": model, "synth_sigma": float(sx),
           "ludvae": {"akld": m["vs_real"]["akld"], "kld": m["vs_real"]["kld"], "std": m["stats"]["std_all"], "lowpass_psnr": lp["ludvae"]},
           "gaussian": {"akld": g["vs_real"]["akld"], "kld": g["vs_real"]["kld"], "std": g["stats"]["std_all"], "lowpass_psnr": lp["gaussian"]},
           "camera": {"lowpass_psnr": lp["real"]}}
json.dump(summary, open(ev + "/summary.json", "w"), indent=1)
better = m["vs_real"]["akld"] < g["vs_real"]["akld"] and m["vs_real"]["kld"] < g["vs_real"]["kld"] and lp["ludvae"] >= lp["real"]
print("LUD-VAE (σx %s)" % sx)
print("LUD-VAE  AKLD %.3f  KLD %.3f  std %.2f  low-pass %.2f dB" % (m["vs_real"]["akld"], m["vs_real"]["kld"], m["stats"]["std_all"], lp["ludvae"]))
print("Gaussian AKLD %.3f  KLD %.3f  std %.2f  low-pass %.2f dB" % (g["vs_real"]["akld"], g["vs_real"]["kld"], g["stats"]["std_all"], lp["gaussian"]))
print("camera                                  low-pass %.2f dB" % lp["real"])
print("better than Gaussian by AKLD and KLD, low-pass at least the camera's: %s" % ("yes" if better else "no"))
PY
say "5. the weights and their provenance in $out/model"
mkdir -p "$out/model"
rm -f "$out/model/ludvae.pth"
"$ludvae" export --model "$model" --pth "$out/model/ludvae.pth"
python3 - "$out" "$model" "$(git -C "$(dirname "$0")" describe --always --dirty --abbrev=40 2>/dev/null || echo unknown)" \
  "$("$ludvae" version | head -n 1)" "$sx" <<'PY'
import csv, json, os, re, sys
out, model, head, torch, sx = sys.argv[1:]
sessions = [l.split(None, 3) for l in open(out + "/sessions.txt") if l.strip()] if os.path.exists(out + "/sessions.txt") else []
rows = list(csv.DictReader(open(out + "/run/log.csv")))
wall, prev = 0.0, 0
for r in rows:  # each row covers the steps since the previous one at its rate
    step = int(r["step"])
    wall += (step - prev) / float(r["steps_per_s"]) if step > prev else 0
    prev = step
cfg = json.load(open(out + "/run/config.json"))
summary = json.load(open(out + "/eval/summary.json"))
prov = {
    "command": "DEMO_MODEL_STEPS=%d make demo-model, i.e. ludvae train " % cfg["steps"] + " ".join(
        "--%s %s" % (k.replace("_", "-"), ",".join(map(str, v)) if isinstance(v, list) else v) for k, v in cfg.items()
        if k in ("filters", "levels", "patch", "batch", "steps", "lr", "lr_milestones", "kl_weight", "kl_warmup",
                 "sigma_x", "sigma_y", "normalize", "seed", "device")),
    "commit": sessions[0][0] if sessions else head,
    "sessions": [{"commit": s[0], "started": s[1], "threads": int(s[2]), "cpu": s[3].strip() if len(s) > 3 else ""} for s in sessions],
    "scored_at_commit": head,
    "libtorch": torch,
    "steps": int(re.search(r"ckpt_0*(\d+)\.pth$", model).group(1)) if "ckpt_" in model else cfg["steps"],
    "seed": cfg["seed"], "filters": cfg["filters"], "levels": cfg["levels"],
    "cpu": sessions[-1][3].strip() if sessions and len(sessions[-1]) > 3 else "",
    "wall_seconds": round(wall),
    "bytes": os.path.getsize(out + "/model/ludvae.pth"),
    "synth_sigma": int(sx) if sx.isdigit() else float(sx),
    "synth_sigma_calibration": [l.strip() for l in open(out + "/eval/calibration.txt")],
    "scores": {k: summary[k] for k in ("ludvae", "gaussian", "camera")},
}
json.dump(prov, open(out + "/model/provenance.json", "w"), indent=1)
print("wrote %s/model/ludvae.pth (%d bytes) and provenance.json: %d steps, %.0f min of training" % (out, prov["bytes"], prov["steps"], wall / 60))
PY
