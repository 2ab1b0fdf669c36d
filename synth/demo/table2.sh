#!/usr/bin/env bash
# table2.sh PHOTOS DEMO_OUT OUT: the LUD-VAE paper's Table 2 in miniature on
# the demo's photos. Three denoisers of the same size and budget are
# trained on the demo's clean training photos, degraded by
#   (a) Gaussian noise whose σ is the std of the true camera noise on those
#       photos (measured, see below),
#   (b) the demo's LUD-VAE model, afresh every batch (its checkpoint in
#       DEMO_OUT/run, trained by run.sh first if there is none),
#   (c) the true camera degradation (several realizations; the upper bound),
# then each denoises the held-out photos' camera degradation and is scored
# by PSNR/SSIM against their clean originals; AKLD/KLD say how close the
# noise of (a) and (b) is to the real noise on the same photos.
# TABLE2_STEPS, TABLE2_LAYERS, TABLE2_FEATURES, TABLE2_BATCH and TABLE2_LR
# set the denoisers' budget (defaults: a smaller, faster-learning DnCNN than
# KAIR's 17×64 at lr 1e-4, which would need hours on a CPU).
set -euo pipefail
photos=$1
demo=$2
out=$3
steps=${TABLE2_STEPS:-2000}
ludvae=${LUDVAE:-bin/ludvae}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ ludvae $*" >&2; "$ludvae" "$@"; }
start=$(date +%s)

if ! ls "$demo"/run/ckpt_*.pth >/dev/null 2>&1 || [ ! -d "$demo/heldout/real" ]; then
  say "0. no trained demo model in $demo/run: running the demo first (synth/demo/run.sh)"
  "$(dirname "$0")/run.sh" "$photos" "$demo"
fi
ckpt=$(ls "$demo"/run/ckpt_*.pth | sort -V | tail -n 1)
clean=$demo/data/clean
heldout=$demo/heldout
rm -rf "$out"
mkdir -p "$out/camera-pairs/L" "$out/camera-pairs/H"

say "1. the true degradation of the clean training photos (4 realizations), and its noise std"
for s in 1 2 3 4; do
  run degrade --in "$clean" --out "$out/camera-$s" --kind camera --seed $((100 + s)) >/dev/null
  for f in "$out/camera-$s"/*.png; do
    b=$(basename "$f" .png)
    mv "$f" "$out/camera-pairs/L/${b}_$s.png"
    cp "$clean/$b".* "$out/camera-pairs/H/${b}_$s.png"
  done
  rmdir "$out/camera-$s"
done
# The Gaussian baseline's σ is the overall std of the true noise on the
# very photos the denoiser trains on: the single σ that best matches the
# real noise's strength there (it knows the true degradation, which a user
# would not; that only favours the baseline).
sigma=$("$ludvae" eval noise --real "$out/camera-pairs/L" --clean "$out/camera-pairs/H" \
  --synthetic "$out/camera-pairs/L" --json | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["sources"][0]["stats"]["std_all"])')
echo "noise std of the true degradation on the training photos: σ = $sigma (0–255)"

say "2. train three denoisers on the same photos ($steps steps each, in parallel)"
common=(--layers "${TABLE2_LAYERS:-10}" --features "${TABLE2_FEATURES:-32}" --batch "${TABLE2_BATCH:-16}" --patch 40
  --steps "$steps" --lr "${TABLE2_LR:-1e-3}" --lr-milestones "$((steps * 3 / 4))" --save-every "$steps" --log-every 50
  --device cpu --threads 1 --seed 1)
echo "\$ ludvae restore train --clean $clean --sigma $sigma --out $out/dncnn-gaussian ${common[*]}"
"$ludvae" restore train --clean "$clean" --sigma "$sigma" --out "$out/dncnn-gaussian" "${common[@]}" 2>"$out/gaussian.log" &
pa=$!
# The model was trained with the degraded colours mapped to the clean
# ones; its degradations keep the clean colours (--normalization none), as
# the demo's synthesis does.
echo "\$ ludvae restore train --clean $clean --ludvae $ckpt --sigma-x 15 --normalization none --out $out/dncnn-ludvae ${common[*]}"
"$ludvae" restore train --clean "$clean" --ludvae "$ckpt" --sigma-x "${TABLE2_SIGMA_X:-15}" --normalization none \
  --out "$out/dncnn-ludvae" "${common[@]}" 2>"$out/ludvae.log" &
pb=$!
echo "\$ ludvae restore train --pairs $out/camera-pairs --out $out/dncnn-camera ${common[*]}"
"$ludvae" restore train --pairs "$out/camera-pairs" --out "$out/dncnn-camera" "${common[@]}" 2>"$out/camera.log" &
pc=$!
for p in $pa $pb $pc; do
  wait "$p" || { tail -n 5 "$out"/*.log; exit 1; }
done
tail -qn 1 "$out"/{gaussian,ludvae,camera}.log

say "3. denoise the held-out photos' camera degradation with each"
for k in gaussian ludvae camera; do
  run restore test --model "$(ls "$out/dncnn-$k"/dncnn_*.pth | sort -V | tail -n 1)" \
    --in "$heldout/real" --out "$out/denoised-$k" --device cpu
done

say "4. noise of (a) and (b) against the real noise on the held-out photos"
run degrade --in "$heldout/clean" --out "$out/gaussian-heldout" --kind gaussian --sigma "$sigma" --seed 3 >/dev/null
run synth --model "$ckpt" --clean "$heldout/clean" --out "$out/ludvae-heldout" --sigma-min "${TABLE2_SIGMA_X:-15}" \
  --sigma-max "${TABLE2_SIGMA_X:-15}" --seed 4 --device cpu --normalization none >/dev/null
run eval noise --real "$heldout/real" --clean "$heldout/clean" \
  --synthetic "$out/gaussian-heldout" --synthetic "$out/ludvae-heldout/L" --plot "$out/noise.png" --json >"$out/noise.json"

say "5. the table"
for k in noisy gaussian ludvae camera; do
  dir=$out/denoised-$k
  [ "$k" = noisy ] && dir=$heldout/real
  "$ludvae" eval --restored "$dir" --truth "$heldout/clean" --json >"$out/eval-$k.json"
done
# Content and colours of the degradations themselves: each degraded
# held-out photo against its clean original, both blurred by a Gaussian of
# σ = 2 pixels (most of the noise goes, blur and tint stay).
for k in real gaussian ludvae; do
  dir=$heldout/real
  [ "$k" = gaussian ] && dir=$out/gaussian-heldout
  [ "$k" = ludvae ] && dir=$out/ludvae-heldout/L
  "$ludvae" eval --restored "$dir" --truth "$heldout/clean" --lowpass 2 --json >"$out/lowpass-$k.json"
done
python3 - "$out" "$sigma" "$steps" <<'EOF' | tee "$out/table.md"
import json, sys
out, sigma, steps = sys.argv[1], sys.argv[2], sys.argv[3]
noise = json.load(open(f"{out}/noise.json"))
def field(name):
    for s in noise["sources"]:
        if s["name"] == name:
            return s
    return {}
rows = [("noisy input (no denoiser)", "noisy", None),
        (f"(a) DnCNN on Gaussian pairs, σ = {sigma}", "gaussian", "gaussian-heldout"),
        ("(b) DnCNN on LUD-VAE pairs (the demo's model)", "ludvae", "L"),
        ("(c) DnCNN on true camera pairs (upper bound)", "camera", None)]
print(f"| training pairs ({steps} steps each) | PSNR (dB) | SSIM | AKLD | KLD |")
print("|---|---|---|---|---|")
for label, k, src in rows:
    e = json.load(open(f"{out}/eval-{k}.json"))["mean"]
    akld = kld = "–"
    if src:
        v = field(src)["vs_real"]
        akld, kld = "%.3f" % v["akld"], "%.3f" % v["kld"]
    print(f"| {label} | {e['psnr']:.2f} | {e['ssim']:.4f} | {akld} | {kld} |")
lp = {k: json.load(open(f"{out}/lowpass-{k}.json"))["mean"]["psnr"] for k in ("real", "gaussian", "ludvae")}
print()
print("Content and colours kept by each degradation (PSNR of the degraded held-out photos against the clean ones, both low-passed by a Gaussian of σ = 2 px):")
print(f"real camera {lp['real']:.2f} dB, LUD-VAE {lp['ludvae']:.2f} dB, Gaussian {lp['gaussian']:.2f} dB")
EOF

say "6. the picture"
run montage --out "$out/table2.png" --crop 170,40,128,128 --zoom 2 \
  --labels "camera noise,(a) Gaussian,(b) LUD-VAE,(c) true pairs,clean" \
  "$heldout/real/astronaut.png" "$out/denoised-gaussian/astronaut.png" "$out/denoised-ludvae/astronaut.png" \
  "$out/denoised-camera/astronaut.png" "$heldout/clean/astronaut.png"
echo "table: $out/table.md   picture: $out/table2.png   ($(( $(date +%s) - start )) s)"
