# dncnn.sh, sourced by table2.sh and recipe.sh: the denoiser both of them
# train on each kind of pairs, as `ludvae restore train` flags in the array
# dncnn_flags (the caller adds --pairs, --out and --threads). TABLE2_STEPS,
# TABLE2_LAYERS, TABLE2_FEATURES, TABLE2_BATCH and TABLE2_LR change it; the
# defaults are a smaller, faster-learning DnCNN than KAIR's 17×64 at lr
# 1e-4, which would need hours on a CPU.
# shellcheck shell=bash
dncnn_steps=${TABLE2_STEPS:-1000}
# shellcheck disable=SC2034 # used by the scripts that source this one
dncnn_flags=(--layers "${TABLE2_LAYERS:-10}" --features "${TABLE2_FEATURES:-32}" --batch "${TABLE2_BATCH:-16}"
  --patch 40 --steps "$dncnn_steps" --lr "${TABLE2_LR:-1e-3}" --lr-milestones "$((dncnn_steps * 3 / 4))"
  --save-every "$dncnn_steps" --log-every 50 --device cpu --seed 1)
