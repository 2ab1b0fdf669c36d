"""C2N synthesis with the eager reference (ludvae_ref.py) and torch's own
generator, as the authors' main_translate.py draws it: h = x + σ·randn/255,
then translate(h) with the degradation latents from the prior (temperature
1), clipped and rounded to 8 bits as KAIR's single2uint. dynamics.sh runs it
beside `ludvae synth` on the same checkpoints, so that a difference in the
synthetic noise can be told apart from a difference in training.

    /usr/bin/python3 model/python/synth_eager.py CKPT CLEAN_DIR OUT_DIR [--sigma 15] [--seed 4]

CKPT is a ludvae checkpoint (its "model" entry) or a plain state dict.
"""
import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ludvae_ref import LUDVAE  # noqa: E402
from train_eager import EXTS  # noqa: E402


def load_model(path):
    d = torch.load(path, map_location="cpu")
    sd = d["model"] if "model" in d else d
    levels = len([k for k in sd if k.startswith("enc_n_") and k.endswith(".net.0.weight")])
    m = LUDVAE(3, sd["inconv.weight"].shape[0], levels)
    m.load_state_dict(sd, strict=True)
    return m.eval()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ckpt")
    p.add_argument("clean")
    p.add_argument("out")
    p.add_argument("--sigma", type=float, default=15)
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    m = load_model(a.ckpt)
    os.makedirs(a.out, exist_ok=True)
    for f in sorted(os.listdir(a.clean)):
        if not f.lower().endswith(EXTS):
            continue
        x = torch.from_numpy(np.asarray(Image.open(os.path.join(a.clean, f)).convert("RGB"), dtype=np.float32) / 255)
        x = x.permute(2, 0, 1).unsqueeze(0)
        with torch.no_grad():
            y = m.translate(x + torch.randn_like(x) * a.sigma / 255.0, 1.0)
        u8 = (y[0].permute(1, 2, 0).clamp(0, 1) * 255.0).round().to(torch.uint8).numpy()
        Image.fromarray(u8).save(os.path.join(a.out, os.path.splitext(f)[0] + ".png"))


if __name__ == "__main__":
    main()
