#!/usr/bin/env bash
# run.sh PHOTOS OUT: the demo, as a sequence of ordinary ludvae commands.
#   1. three disjoint sets of photos: the left halves of six photos (clean
#      training images), their right halves with a camera-like degradation
#      (the degraded domain: the same kinds of scenes, none of the same
#      pixels, as the paper draws SIDD's clean and noisy images from
#      different scenes), and held-out clean photos;
#   2. trains a small LUD-VAE on the unpaired clean/degraded folders (CPU);
#   3. synthesizes degraded versions of the held-out photos, as the authors
#      do (C2N) and with --residual (only the noise the model samples);
#   4. compares their noise with the camera degradation of the same photos
#      and with plain Gaussian noise of the same strength;
#   5. exports the generator as TorchScript and draws the result picture.
# Steps 3–5 also show the longer-trained model committed beside this
# script (synth/demo/model/ludvae.pth, made by `make demo-model`) when
# there is one, or the checkpoint DEMO_TRAINED names.
# THREADS limits libtorch to that many threads (default 0: all cores).
# DEMO_STEPS (default 1200) sets the training length; recipe-flags.sh has
# the recipe and the other variables that change it.
set -euo pipefail
photos=$1
out=$2
# shellcheck source=synth/demo/recipe-flags.sh
. "$(dirname "$0")/recipe-flags.sh"
steps=$recipe_steps
ludvae=${LUDVAE:-bin/ludvae}
threads=${THREADS:-0} # libtorch threads (0 = all cores; 1 on a shared machine)
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ ludvae $*"; "$ludvae" "$@"; }

rm -rf "$out/synth" "$out/synth-residual" "$out/synth-trained"
# shellcheck source=synth/demo/data.sh
. "$(dirname "$0")/data.sh"

say "1. unpaired domains from disjoint halves: clean left halves, degraded right halves (signal-dependent, correlated, JPEG-compressed noise)"
demo_data "$photos" "$out"

say "2. train a small LUD-VAE on the unpaired folders ($steps steps on the CPU)"
run train --clean "$out/data/clean" --noisy "$out/data/noisy" --out "$out/run" "${recipe_flags[@]}" \
  --save-every 300 --sample-every 300 --log-every 20 --device cpu --threads "$threads"
ckpt=$(ls "$out"/run/ckpt_*.pth | tail -n 1)

say "3. synthesize degraded versions of the held-out photos"
sx=$recipe_synth_sigma
trained=${DEMO_TRAINED:-$(dirname "$0")/model/ludvae.pth}
cols=() labels=() crops=()
if [ -f "$trained" ]; then
  tsx=$(model_synth_sigma "$trained") # its own σx, calibrated by model.sh
  run synth --model "$trained" --clean "$out/heldout/clean" --out "$out/synth-trained" --sigma-min "$tsx" --sigma-max "$tsx" --seed 4 --device cpu --threads "$threads"
  cols=("$out/compare/trained") labels=(",LUD-VAE trained longer") crops=("$out/synth-trained/L/astronaut.png")
else
  echo "(no longer-trained model at $trained: make demo-model makes one)"
fi
run synth --model "$ckpt" --clean "$out/heldout/clean" --out "$out/synth" --sigma-min "$sx" --sigma-max "$sx" --seed 4 --device cpu --threads "$threads"
# --residual keeps the clean photo and adds only what the sampled latents
# change (the decode minus the decode at temperature 0): the blur and
# colour cast the short training leaves on every output cancel.
run synth --model "$ckpt" --clean "$out/heldout/clean" --out "$out/synth-residual" --sigma-min "$sx" --sigma-max "$sx" --seed 4 --device cpu --threads "$threads" --residual

say "4. noise statistics: LUD-VAE and plain Gaussian noise against the real (camera) degradation"
mkdir -p "$out/compare"
rm -rf "$out/compare/LUD-VAE" "$out/compare/residual" "$out/compare/trained"
cp -r "$out/synth/L" "$out/compare/LUD-VAE" # columns are named by the folder
cp -r "$out/synth-residual/L" "$out/compare/residual"
[ -z "${cols[*]}" ] || cp -r "$out/synth-trained/L" "$out/compare/trained"
more=()
for c in "${cols[@]}"; do more+=(--synthetic "$c"); done
run eval noise --real "$out/heldout/real" --synthetic "$out/compare/LUD-VAE" --synthetic "$out/compare/residual" \
  "${more[@]}" --synthetic "$out/heldout/gaussian" --clean "$out/heldout/clean" --plot "$out/noise.png"
echo "content and colours (PSNR against the clean photos, both low-passed by a Gaussian of σ = 2 px):"
for d in "$out/heldout/real" "$out/compare/LUD-VAE" "$out/compare/residual" "${cols[@]}" "$out/heldout/gaussian"; do
  printf '  %-10s %s dB\n' "$(basename "$d")" "$("$ludvae" eval --restored "$d" --truth "$out/heldout/clean" --lowpass 2 | tail -n 1 | awk '{print $4}')"
done

say "5. export the generator for Python, and the result picture"
run export --model "$ckpt" --torchscript "$out/generator.pt"
run montage --out "$out/result.png" --crop 170,40,128,128 --zoom 2 \
  --labels "clean,real camera noise,LUD-VAE (C2N),LUD-VAE --residual${labels[*]},Gaussian baseline" \
  "$out/heldout/clean/astronaut.png" "$out/heldout/real/astronaut.png" "$out/synth/L/astronaut.png" \
  "$out/synth-residual/L/astronaut.png" "${crops[@]}" "$out/heldout/gaussian/astronaut.png"

say "done"
cat <<EOT
  training run (checkpoints, log.csv, loss.png, samples/): $out/run
  synthetic pairs (L/ degraded, H/ clean, manifest.jsonl):  $out/synth, $out/synth-residual
  noise statistics plot:                                    $out/noise.png
  result picture:                                           $out/result.png
  TorchScript generator (docs/synthesis.md, "Python"):      $out/generator.pt
EOT
