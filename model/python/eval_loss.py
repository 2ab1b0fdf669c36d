"""The training objective of trained checkpoints on the same fixed crops:
the noise of a training log (one small batch per logged step) hides
differences between runs, so dynamics.sh scores every final checkpoint,
whichever implementation trained it, with the eager reference on one set
of crops, h-noise and ε drawn once (train_eager.py's data pipeline, seed
fixed). Prints one JSON line: the reconstruction MSE of the clean and of
the degraded crops, and the KL per degraded element (as the loss
normalizes it).

    /usr/bin/python3 model/python/eval_loss.py CKPT --clean DIR --noisy DIR --patch 32 \
        --sigma-x 15 --sigma-y 10 --normalize auto [--crops 512] [--seed 1234]
"""
import argparse
import json
import os
import random
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synth_eager import load_model  # noqa: E402
from train_eager import Domains  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ckpt")
    p.add_argument("--clean", required=True)
    p.add_argument("--noisy", required=True)
    p.add_argument("--patch", type=int, default=64)
    p.add_argument("--sigma-x", type=float, default=40)
    p.add_argument("--sigma-y", type=float, default=20)
    p.add_argument("--normalize", choices=["none", "auto"], default="none")
    p.add_argument("--crops", type=int, default=512)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=1234)
    a = p.parse_args()
    torch.set_num_threads(1)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    m = load_model(a.ckpt)
    data = Domains(a)
    rec = {0: [], 1: []}
    kl_sum, kl_n = 0.0, 0
    with torch.no_grad():
        for _ in range(a.crops // a.batch):
            x, hx, label = data.batch()
            out, kl = m(x, hx, label)
            per = ((out - x) ** 2).mean(dim=(1, 2, 3))
            for v, lab in zip(per.tolist(), label.tolist()):
                rec[int(lab)].append(v)
            kl_sum += kl.item()
            kl_n += int(label.sum().item()) * x[0].numel()
    print(json.dumps({"rec_clean": float(np.mean(rec[0])), "rec_degraded": float(np.mean(rec[1])),
                      "kl": kl_sum / kl_n, "crops": [len(rec[0]), len(rec[1])]}))


if __name__ == "__main__":
    main()
