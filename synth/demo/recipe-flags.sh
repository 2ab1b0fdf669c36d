# recipe-flags.sh, sourced by run.sh, recipe.sh, model.sh and table2.sh:
# the demo's LUD-VAE recipe, as `ludvae train` flags in the array
# recipe_flags (the caller adds the folders, checkpoint/log cadence, device
# and threads), the σx of h(x) its synthesis uses, recipe_synth_sigma (and
# a model's own, model_synth_sigma), and noise_std, the noise strength the
# scripts match σ and σx to. A small model that learns fast on a CPU; the
# presets keep the authors' recipe.
#   DEMO_STEPS DEMO_LR DEMO_KL_WEIGHT DEMO_LEVELS DEMO_FILTERS DEMO_PATCH
#   DEMO_BATCH DEMO_SIGMA_X DEMO_SIGMA_Y DEMO_MILESTONES DEMO_WARMUP DEMO_SEED
#   DEMO_NORMALIZE DEMO_SYNTH_SIGMA
# change it; the lr milestone and the KL warm-up follow DEMO_STEPS (¾, ¼)
# unless given.
# shellcheck shell=bash
recipe_steps=${DEMO_STEPS:-1200}
# shellcheck disable=SC2034 # used by the scripts that source this one
recipe_flags=(--filters "${DEMO_FILTERS:-32}" --levels "${DEMO_LEVELS:-3}" --patch "${DEMO_PATCH:-48}"
  --batch "${DEMO_BATCH:-8}" --steps "$recipe_steps" --lr "${DEMO_LR:-5e-4}" --kl-weight "${DEMO_KL_WEIGHT:-1e-4}"
  --normalize "${DEMO_NORMALIZE:-none}" --lr-milestones "${DEMO_MILESTONES:-$((recipe_steps * 3 / 4))}"
  --kl-warmup "${DEMO_WARMUP:-$((recipe_steps / 4))}" --sigma-x "${DEMO_SIGMA_X:-15}" --sigma-y "${DEMO_SIGMA_Y:-10}"
  --seed "${DEMO_SEED:-0}")
# σx at synthesis: 40, within the authors' SIDD range [30, 70], above the
# training σx (synth/demo/README.md: what it changes).
# shellcheck disable=SC2034
recipe_synth_sigma=${DEMO_SYNTH_SIGMA:-40}

# model_synth_sigma MODEL: the σx to synthesize with MODEL. A model made by
# model.sh has its own, calibrated on the training halves and kept in the
# provenance.json beside it; any other model uses recipe_synth_sigma.
model_synth_sigma() {
  local prov
  prov="$(dirname "$1")/provenance.json"
  if [ -z "${DEMO_SYNTH_SIGMA:-}" ] && [ -f "$prov" ]; then
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["synth_sigma"])' "$prov"
  else
    echo "$recipe_synth_sigma"
  fi
}

# noise_std DEGRADED CLEAN: the std (grey levels 0–255, all channels and
# pixels) of DEGRADED − CLEAN, by `ludvae eval noise` ($ludvae: the
# caller's binary).
noise_std() {
  "$ludvae" eval noise --real "$1" --clean "$2" --synthetic "$1" --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["sources"][0]["stats"]["std_all"])'
}
