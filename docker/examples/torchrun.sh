#!/usr/bin/env bash
# Data-parallel training under torchrun: every GPU of this machine, or, with
# NNODES > 1, the same command on each machine (NODE_RANK 0..NNODES-1, and
# MASTER_ADDR naming machine 0). --batch stays the global batch.
# --redirects 1 --tee 1 works around torch 1.13's torchrun on Python 3.11;
# torch 2.x takes them too.
set -euo pipefail
NPROC=${NPROC:-$(nvidia-smi -L | wc -l)}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MASTER_PORT=${MASTER_PORT:-29500}
python3 -m torch.distributed.run --redirects 1 --tee 1 --no_python \
  --nnodes "$NNODES" --node_rank "$NODE_RANK" --nproc_per_node "$NPROC" \
  --master_addr "$MASTER_ADDR" --master_port "$MASTER_PORT" \
  ludvae train --clean data/sidd/clean.lvs --noisy data/sidd/noisy.lvs \
    --out runs/sidd --preset sidd --batch 16 --precision bf16
