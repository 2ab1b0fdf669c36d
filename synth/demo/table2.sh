#!/usr/bin/env bash
# table2.sh PHOTOS DEMO_OUT OUT: the LUD-VAE paper's Table 2 in miniature on
# the demo's photos. Denoisers of the same size and budget are trained on
# the demo's six clean training photos (halves), each paired with 4 degraded
# versions made by
#   (a) Gaussian noise whose σ is the std of the real camera noise on the
#       held-out photos (measured below),
#   (b) the demo's LUD-VAE model (its newest checkpoint in DEMO_OUT/run;
#       run.sh trains it first if there is none), the authors' C2N,
#   (b+) the same model with `--residual` (only what its sampled latents
#       add, on the clean photo),
#   (b*) the longer-trained model committed as synth/demo/model/ludvae.pth
#       (make demo-model), when there is one, or TABLE2_TRAINED's checkpoint,
#   (c) the true camera degradation (the upper bound),
# then each denoises the held-out photos' camera degradation and is scored
# by PSNR/SSIM against their clean originals. AKLD/KLD say how close the
# synthetic noise of (a), (b), (b+) is to the real noise on the held-out
# photos, and a low-pass PSNR how much of their content and colour each
# degradation keeps.
# TABLE2_STEPS, TABLE2_LAYERS, TABLE2_FEATURES, TABLE2_BATCH, TABLE2_LR and
# TABLE2_SAMPLES set the budget (TABLE2_MODEL another LUD-VAE checkpoint); the denoiser is dncnn.sh's.
# TABLE2_SEEDS (default 1) lists the denoisers' seeds: each row trains one
# denoiser per seed, and the table gives the mean PSNR/SSIM, their range,
# and each row's margin over the Gaussian row, seed by seed. TABLE2_ROWS
# trains only the rows it lists (e.g. "gaussian ludvae-trained"; the
# picture needs all but ludvae-trained).
set -euo pipefail
photos=$1
demo=$2
out=$3
# shellcheck source=synth/demo/dncnn.sh
. "$(dirname "$0")/dncnn.sh"
# shellcheck source=synth/demo/recipe-flags.sh
. "$(dirname "$0")/recipe-flags.sh"
steps=$dncnn_steps
samples=${TABLE2_SAMPLES:-4}
sx=${TABLE2_SIGMA_X:-$recipe_synth_sigma} # σx of h(x) at synthesis, as run.sh
ludvae=${LUDVAE:-bin/ludvae}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ ludvae $*" >&2; "$ludvae" "$@"; }
start=$(date +%s)

if ! ls "$demo"/run/ckpt_*.pth >/dev/null 2>&1 || [ ! -d "$demo/heldout/real" ]; then
  say "0. no trained demo model in $demo/run: running the demo first (synth/demo/run.sh)"
  "$(dirname "$0")/run.sh" "$photos" "$demo"
fi
ckpt=${TABLE2_MODEL:-$(ls "$demo"/run/ckpt_*.pth | sort -V | tail -n 1)}
echo "LUD-VAE model: $ckpt"
trained=${TABLE2_TRAINED:-$(dirname "$0")/model/ludvae.pth}
[ -f "$trained" ] && echo "longer-trained LUD-VAE model: $trained" || trained=""
tsx=${TABLE2_SIGMA_X:-$([ -z "$trained" ] || model_synth_sigma "$trained")} # its own σx (model.sh calibrates it)
read -r -a seeds <<<"${TABLE2_SEEDS:-1}"
# every row there is; TABLE2_ROWS picks some of them
rows=(gaussian ludvae ludvae-residual ${trained:+ludvae-trained} camera)
for k in ${TABLE2_ROWS:-}; do
  [[ " ${rows[*]} " == *" $k "* ]] || { echo "TABLE2_ROWS: no row $k (rows: ${rows[*]})" >&2; exit 2; }
done
[ -z "${TABLE2_ROWS:-}" ] || read -r -a rows <<<"$TABLE2_ROWS"
clean=$demo/data/clean
heldout=$demo/heldout
rm -rf "$out"
mkdir -p "$out/synthetic"

# pairs NAME DEGRADE-FLAGS...: $samples degraded versions of every clean
# training photo by `ludvae degrade`, in $out/pairs-NAME/L and H.
pairs() {
  local name=$1 s f b
  shift
  mkdir -p "$out/pairs-$name/L" "$out/pairs-$name/H"
  for s in $(seq 1 "$samples"); do
    run degrade --in "$clean" --out "$out/tmp-$name" --seed $((100 * s)) "$@" >/dev/null
    for f in "$out/tmp-$name"/*.png; do
      b=$(basename "$f" .png)
      mv "$f" "$out/pairs-$name/L/${b}_s$s.png"
      cp "$clean/$b".* "$out/pairs-$name/H/${b}_s$s.png"
    done
    rmdir "$out/tmp-$name"
  done
}

say "1. training pairs: $samples degraded versions of each clean training photo"
pairs camera --kind camera
# The Gaussian baseline's σ is the overall std of the real noise the
# denoisers will be asked to remove, on the held-out photos: the single σ
# that matches its strength best. It uses the test photos' true
# degradation, which a user would not have, so it can only favour the
# baseline. (The camera noise on the training photos is weaker, σ ≈ 11.7,
# as they are darker: a DnCNN trained at that σ barely touches the
# held-out photos' noise.)
sigma=$(printf '%.2f' "$(noise_std "$heldout/real" "$heldout/clean")")
echo "noise std of the real degradation of the held-out photos: σ = $sigma (0–255)"
pairs gaussian --kind gaussian --sigma "$sigma"
run synth --model "$ckpt" --clean "$clean" --out "$out/pairs-ludvae" --samples "$samples" --sigma-min "$sx" \
  --sigma-max "$sx" --seed 5 --device cpu --threads 1 >/dev/null &
p1=$!
run synth --model "$ckpt" --clean "$clean" --out "$out/pairs-ludvae-residual" --samples "$samples" --sigma-min "$sx" \
  --sigma-max "$sx" --seed 5 --device cpu --threads 1 --residual >/dev/null &
p2=$!
wait $p1
wait $p2
if [ -n "$trained" ]; then
  run synth --model "$trained" --clean "$clean" --out "$out/pairs-ludvae-trained" --samples "$samples" --sigma-min "$tsx" \
    --sigma-max "$tsx" --seed 5 --device cpu >/dev/null
fi

say "2. train ${#rows[@]} denoisers per seed (${seeds[*]}), one per kind of pairs ($steps steps each, in parallel)"
common=("${dncnn_flags[@]}" --threads 1)
# tag K SEED: the folder suffix of row K's denoiser of that seed (the
# first seed's keeps the plain name, as before seeds were a list)
tag() { if [ "$2" = "${seeds[0]}" ]; then echo "$1"; else echo "$1-s$2"; fi; }
for s in "${seeds[@]}"; do
  pids=()
  for k in "${rows[@]}"; do
    t=$(tag "$k" "$s")
    echo "\$ ludvae restore train --pairs $out/pairs-$k --out $out/dncnn-$t ${common[*]} --seed $s"
    "$ludvae" restore train --pairs "$out/pairs-$k" --out "$out/dncnn-$t" "${common[@]}" --seed "$s" 2>"$out/$t.log" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do
    wait "$p" || { tail -n 5 "$out"/*.log; exit 1; }
  done
  for k in "${rows[@]}"; do tail -n 1 "$out/$(tag "$k" "$s").log"; done
done

say "3. denoise the held-out photos' camera degradation with each"
for s in "${seeds[@]}"; do
  for k in "${rows[@]}"; do
    t=$(tag "$k" "$s")
    run restore test --model "$(ls "$out/dncnn-$t"/dncnn_*.pth | sort -V | tail -n 1)" \
      --in "$heldout/real" --out "$out/denoised-$t" --device cpu
  done
done

say "4. the synthetic degradations of the held-out photos against their real one"
run degrade --in "$heldout/clean" --out "$out/synthetic/gaussian" --kind gaussian --sigma "$sigma" --seed 3 >/dev/null
run synth --model "$ckpt" --clean "$heldout/clean" --out "$out/synth-ludvae" --sigma-min "$sx" \
  --sigma-max "$sx" --seed 4 --device cpu >/dev/null
run synth --model "$ckpt" --clean "$heldout/clean" --out "$out/synth-ludvae-residual" --sigma-min "$sx" \
  --sigma-max "$sx" --seed 4 --device cpu --residual >/dev/null
cp -r "$out/synth-ludvae/L" "$out/synthetic/ludvae"
cp -r "$out/synth-ludvae-residual/L" "$out/synthetic/ludvae-residual"
more=()
if [ -n "$trained" ]; then
  run synth --model "$trained" --clean "$heldout/clean" --out "$out/synth-ludvae-trained" --sigma-min "$tsx" \
    --sigma-max "$tsx" --seed 4 --device cpu >/dev/null
  cp -r "$out/synth-ludvae-trained/L" "$out/synthetic/ludvae-trained"
  more=(--synthetic "$out/synthetic/ludvae-trained")
fi
run eval noise --real "$heldout/real" --clean "$heldout/clean" --synthetic "$out/synthetic/gaussian" \
  --synthetic "$out/synthetic/ludvae" --synthetic "$out/synthetic/ludvae-residual" "${more[@]}" \
  --plot "$out/noise.png" --json >"$out/noise.json"

say "5. the table"
cp -r "$heldout/real" "$out/denoised-noisy"
"$ludvae" eval --restored "$out/denoised-noisy" --truth "$heldout/clean" --json >"$out/eval-noisy.json"
for s in "${seeds[@]}"; do
  for k in "${rows[@]}"; do
    t=$(tag "$k" "$s")
    "$ludvae" eval --restored "$out/denoised-$t" --truth "$heldout/clean" --json >"$out/eval-$t.json"
  done
done
# Content and colours of the degradations themselves: each degraded
# held-out photo against its clean original, both blurred by a Gaussian of
# σ = 2 pixels (most of the noise goes, blur and colour casts stay).
cp -r "$heldout/real" "$out/synthetic/real"
for k in real gaussian ludvae ludvae-residual ${trained:+ludvae-trained}; do
  "$ludvae" eval --restored "$out/synthetic/$k" --truth "$heldout/clean" --lowpass 2 --json >"$out/lowpass-$k.json"
done
python3 - "$out" "$sigma" "$steps" "${seeds[*]}" "${rows[*]}" "$sx" "$tsx" <<'EOF' | tee "$out/table.md"
import json, os, sys
out, sigma, steps = sys.argv[1], sys.argv[2], sys.argv[3]
seeds, have = sys.argv[4].split(), sys.argv[5].split()
sx, tsx = sys.argv[6], sys.argv[7]
noise = {s["name"]: s for s in json.load(open(f"{out}/noise.json"))["sources"]}
rows = [("noisy input (no denoiser)", "noisy"),
        (f"(a) Gaussian noise, σ = {sigma}", "gaussian"),
        (f"(b) LUD-VAE, the authors' C2N, σx = {sx}", "ludvae"),
        (f"(b+) LUD-VAE, `--residual`, σx = {sx}", "ludvae-residual"),
        (f"(b*) LUD-VAE trained longer (synth/demo/model), C2N, σx = {tsx}", "ludvae-trained"),
        ("(c) the true camera degradation (upper bound)", "camera")]
def evals(k):
    if k == "noisy":
        return [json.load(open(f"{out}/eval-noisy.json"))["mean"]]
    return [json.load(open(f"{out}/eval-{k if s == seeds[0] else f'{k}-s{s}'}.json"))["mean"] for s in seeds]
many = len(seeds) > 1
head = "| DnCNN trained on (%s steps each%s) | PSNR (dB) | SSIM |" % (steps, ", seeds " + ", ".join(seeds) + ": mean (min–max)" if many else "")
head += " margin over (a), seed by seed (dB) |" if many else ""
print(head + " AKLD | KLD | low-pass PSNR of the degradation (dB) |")
print("|---|---|---|" + ("---|" if many else "") + "---|---|---|")
gauss = [e["psnr"] for e in evals("gaussian")]
for label, k in rows:
    if k != "noisy" and k not in have:
        continue
    es = evals(k)
    ps, ss = [e["psnr"] for e in es], [e["ssim"] for e in es]
    psnr, ssim = "%.2f" % (sum(ps) / len(ps)), "%.4f" % (sum(ss) / len(ss))
    if many and len(ps) > 1:
        psnr += " (%.2f–%.2f)" % (min(ps), max(ps))
        ssim += " (%.4f–%.4f)" % (min(ss), max(ss))
    margin = ""
    if many:
        margin = " – |" if k in ("noisy", "gaussian") else " %s |" % " / ".join("%+.2f" % (p - g) for p, g in zip(ps, gauss))
    akld = kld = lp = "–"
    if k in noise and "vs_real" in noise[k]:
        v = noise[k]["vs_real"]
        akld, kld = "%.3f" % v["akld"], "%.3f" % v["kld"]
    if os.path.exists(f"{out}/lowpass-{k}.json"):
        lp = "%.2f" % json.load(open(f"{out}/lowpass-{k}.json"))["mean"]["psnr"]
    if k == "noisy":
        lp = "%.2f (the real degradation)" % json.load(open(f"{out}/lowpass-real.json"))["mean"]["psnr"]
    print(f"| {label} | {psnr} | {ssim} |{margin} {akld} | {kld} | {lp} |")
EOF

say "6. the picture"
for k in gaussian ludvae ludvae-residual camera; do
  [ -d "$out/denoised-$k" ] || { echo "(no picture: row $k was not trained)"; exit 0; }
done
run montage --out "$out/table2.png" --crop 186,56,96,96 --zoom 2 \
  --labels "camera noise,(a) Gaussian,(b) LUD-VAE,(b+) residual,(c) true pairs,clean" \
  "$heldout/real/astronaut.png" "$out/denoised-gaussian/astronaut.png" "$out/denoised-ludvae/astronaut.png" \
  "$out/denoised-ludvae-residual/astronaut.png" "$out/denoised-camera/astronaut.png" "$heldout/clean/astronaut.png"
echo "table: $out/table.md   picture: $out/table2.png   ($(( $(date +%s) - start )) s)"
