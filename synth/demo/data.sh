# data.sh, sourced by run.sh and model.sh: demo_data PHOTOS OUT makes the
# demo's three disjoint sets of photos in OUT: OUT/data/clean (the left
# halves of six photos), OUT/data/noisy (their right halves with the camera
# degradation), OUT/heldout/clean (three held-out photos) with their camera
# degradation (heldout/real) and Gaussian noise of about its strength
# (heldout/gaussian, σ = DEMO_GAUSSIAN_SIGMA, default 14). Every step is
# seeded, so the folders are the same each time on one machine. The caller
# defines run (echo and run a ludvae command).
# shellcheck shell=bash
demo_data() {
  local photos=$1 out=$2
  rm -rf "$out/data" "$out/heldout"
  mkdir -p "$out/data/photos" "$out/heldout/clean"
  cp "$photos"/{chelsea.png,coffee.png,ihc.png,rocket.jpg,hubble_deep_field.jpg,retina.jpg} "$out/data/photos/"
  cp "$photos"/{astronaut.png,brick.png,grass.png} "$out/heldout/clean/"
  run halves --in "$out/data/photos" --left "$out/data/clean" --right "$out/data/camera-source"
  run degrade --in "$out/data/camera-source" --out "$out/data/noisy" --kind camera --seed 1
  run degrade --in "$out/heldout/clean" --out "$out/heldout/real" --kind camera --seed 2
  run degrade --in "$out/heldout/clean" --out "$out/heldout/gaussian" --kind gaussian --sigma "${DEMO_GAUSSIAN_SIGMA:-14}" --seed 3
}
