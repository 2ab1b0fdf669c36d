#!/usr/bin/env bash
# ema.sh DEMO_OUT: what `train --ema` changes at the demo's budget. For each
# seed of EMA_SEEDS (default "0 1 2") it trains the demo's recipe once with
# --ema EMA_DECAY (default 0.995: an average over about the last 200 of the
# 1,200 steps) through recipe.sh, then scores the same checkpoint twice,
# with its averaged weights and with its trained ones (synth --weights):
# AKLD, KLD and low-pass PSNR of its C2N degradation of the held-out photos
# and the PSNR of table2's denoiser trained on its pairs. One run per seed
# gives both rows, so the two differ only in the weights. Needs the demo's
# folders (DEMO_OUT/data and DEMO_OUT/heldout, from `make demo` or `make
# demo-model`); writes DEMO_OUT/recipes/ema-S and trained-S, and the table to
# DEMO_OUT/recipes/ema.md (EMA_TABLE=1: only the table, from earlier runs,
# e.g. seeds run one per process side by side). Costs three of the demo's
# trainings and six of table2's denoisers; THREADS as recipe.sh.
set -euo pipefail
demo=$1
here=$(dirname "$0")
decay=${EMA_DECAY:-0.995}
read -r -a seeds <<<"${EMA_SEEDS:-0 1 2}"
for s in "${seeds[@]}"; do
  [ "${EMA_TABLE:-0}" = 1 ] && break
  DEMO_SEED=$s TRAIN_FLAGS="--ema $decay" SYNTH_FLAGS="--weights ema" "$here/recipe.sh" "$demo" "ema-$s"
  ckpt=$(ls "$demo/recipes/ema-$s"/run/ckpt_*.pth | sort -V | tail -n 1)
  MODEL=$ckpt SYNTH_FLAGS="--weights trained" "$here/recipe.sh" "$demo" "trained-$s"
done
python3 - "$demo/recipes" "$decay" "${seeds[@]}" <<'PY' | tee "$demo/recipes/ema.md"
import json, sys
rec, decay, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
def score(name):
    src = [x for x in json.load(open(f"{rec}/{name}/noise.json"))["sources"] if "vs_real" in x][0]
    lp = json.load(open(f"{rec}/{name}/lowpass.json"))["mean"]["psnr"]
    dn = open(f"{rec}/{name}/summary").read().split("DnCNN ")[1].split(" dB")[0]
    return src["vs_real"]["akld"], src["vs_real"]["kld"], lp, float(dn)
print(f"| seed | weights | AKLD | KLD | low-pass PSNR (dB) | DnCNN PSNR (dB) |")
print("|---|---|---|---|---|---|")
for s in seeds:
    for w, name in ((f"average (--ema {decay})", f"ema-{s}"), ("trained", f"trained-{s}")):
        print("| %s | %s | %.3f | %.3f | %.2f | %.2f |" % ((s, w) + score(name)))
PY
