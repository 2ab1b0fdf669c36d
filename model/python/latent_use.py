"""latent_use.py CKPT REAL CLEAN [--sigma-x 15 --sigma-y 10]: does a LUD-VAE
checkpoint's degradation latent carry the degradation?

For each degraded photo in REAL (with its clean original of the same stem in
CLEAN) it prints, in grey levels (RMSE on the 0-255 scale):
  noise       the degradation itself, |y - x|
  rec(post)   the training forward's reconstruction of y, latents drawn from
              the posterior q(z | y) (what the decoder learned to render)
  rec(z=0)    the same with every latent zero (the image branch alone)
  kl/elem     the training loss's KL per image element
  prior       the std of C2N's output minus its decode at temperature 0:
              what latents drawn from the prior add
A model whose latents encode the degradation reconstructs y far better
with them than without (rec(post) well below noise and rec(z=0)); when the
two are about equal the latents carry almost nothing, and C2N can only add
what the prior's few used channels render (synth/demo/README.md, "What was
tried"). The images are cropped to their top-left 256x256 and fed without
colour normalization, or, for a model trained with it (--normalize auto),
mapped to the clean statistics as training maps degraded crops (y, its copy
with h-noise, and here x too, clamped): RMSEs are then in that space, the one
the training loss measures. A diagnostic, not a metric.
Uses the eager reference (ludvae_ref.py) on the CPU.
"""
import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synth_eager import load_model  # noqa: E402


def load(path, size=256):
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
    return torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0)[:, :, :size, :size]


def normalizer(path):
    """The affine map training applies to degraded crops, or the identity."""
    n = torch.load(path, map_location="cpu").get("normalization")
    if not n:
        return lambda t: t
    def col(k):
        return torch.tensor(n[k], dtype=torch.float32).view(1, 3, 1, 1)
    mn, sn, mc, sc = col("noisy_mean"), col("noisy_std"), col("clean_mean"), col("clean_std")
    return lambda t: ((t - mn) / sn * sc + mc).clamp(0, 1)


def rmse(a, b):
    return ((a - b) ** 2).mean().item() ** 0.5 * 255


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ckpt")
    p.add_argument("real")
    p.add_argument("clean")
    p.add_argument("--sigma-x", type=float, default=15)
    p.add_argument("--sigma-y", type=float, default=10)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    m = load_model(a.ckpt)
    norm = normalizer(a.ckpt)
    clean = {os.path.splitext(f)[0]: f for f in os.listdir(a.clean)}
    for f in sorted(os.listdir(a.real)):
        stem = os.path.splitext(f)[0]
        if stem not in clean:
            continue
        y, x = load(os.path.join(a.real, f)), load(os.path.join(a.clean, clean[stem]))
        hy = norm(y + torch.randn_like(y) * a.sigma_y / 255)
        y, x, raw = norm(y), norm(x), x
        one = torch.ones(1)
        with torch.no_grad():
            post, kl = m(y, hy, one)
            zero, _ = m(y, hy, one * 0)
            hx = raw + torch.randn_like(raw) * a.sigma_x / 255
            prior = m.translate(hx, 1.0) - m.translate(hx, 0.0)
        print("%s: noise %.2f  rec(post) %.2f  rec(z=0) %.2f  kl/elem %.3f  prior %.2f" % (
            stem, rmse(y, x), rmse(post, y), rmse(zero, y), kl.item() / y.numel(), prior.std().item() * 255))


if __name__ == "__main__":
    main()
