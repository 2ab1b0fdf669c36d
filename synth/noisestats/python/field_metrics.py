"""Independent reference for noisestats' AKLD and KLD (the Go tests run it).

AKLD as DANet defines it (utils.estimate_sigma_gauss, kl_gauss_zero_center)
and KLD as NAFlow computes it (utils/metrics.py calculate_kld), written
here with OpenCV and numpy in float64, from the noise in float32 as PyTorch
gets it (ToTensor: uint8 / 255 in float32, then noisy - clean in float32).

usage: field_metrics.py CLEAN_DIR REAL_DIR SYNTH_DIR
Images pair by file name. Prints JSON: {"images": {name: {"akld", "kld"}},
"mean": {"akld", "kld"}, "border_check": max |cv2 REFLECT_101 - torch
F.pad reflect| over every local variance}.
"""
import json
import os
import sys

import cv2
import numpy as np

BINS = 256


def load(path):
    """An RGB image as float32 in [0,1], HWC, scaled as ToTensor scales it."""
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise SystemExit("cannot read " + path)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB)
    scale = 65535 if img.dtype == np.uint16 else 255
    return img.astype(np.float32) / np.float32(scale)


def local_variance(noise):
    """DANet's local variance: noise^2 blurred by outer(k, k), k =
    getGaussianKernel(7, -1), reflect-101 borders, floored at 1e-10."""
    k = cv2.getGaussianKernel(7, -1)
    window = k @ k.T
    sq = noise.astype(np.float64) ** 2
    v = cv2.filter2D(sq, cv2.CV_64F, window, borderType=cv2.BORDER_REFLECT_101)
    return np.maximum(v, 1e-10)


def akld(real_noise, synth_noise):
    ratio = np.clip(local_variance(synth_noise) / local_variance(real_noise), 0.1, 10)
    return 0.5 * float(np.mean(np.log(1 / ratio) + ratio - 1))


def kld(real_noise, synth_noise):
    edges = np.linspace(-1.0, 1.0, BINS + 1)  # multiples of 1/128, exact
    p = np.histogram(real_noise.ravel(), edges)[0] / real_noise.size
    q = np.histogram(synth_noise.ravel(), edges)[0] / synth_noise.size
    keep = (p > 0) & (q > 0)
    p, q = p[keep], q[keep]
    return float(np.sum(p * (np.log(p) - np.log(q))))


def border_check(noise):
    """DANet pads with torch's F.pad(mode='reflect'); check that it is the
    BORDER_REFLECT_101 used above (float64, so the gap is rounding only)."""
    import torch
    import torch.nn.functional as F

    k = torch.from_numpy(cv2.getGaussianKernel(7, -1))
    window = (k @ k.T).expand(3, 1, 7, 7)
    sq = torch.from_numpy(noise.astype(np.float64) ** 2).permute(2, 0, 1)[None]
    v = F.conv2d(F.pad(sq, [3] * 4, mode="reflect"), window, groups=3)
    v = v.clamp(min=1e-10)[0].permute(1, 2, 0).numpy()
    return float(np.max(np.abs(v - local_variance(noise))))


def main(clean_dir, real_dir, synth_dir):
    out, gap = {}, 0.0
    for name in sorted(os.listdir(clean_dir)):
        clean = load(os.path.join(clean_dir, name))
        real = load(os.path.join(real_dir, name)) - clean
        synth = load(os.path.join(synth_dir, name)) - clean
        out[os.path.splitext(name)[0]] = {"akld": akld(real, synth), "kld": kld(real, synth)}
        gap = max(gap, border_check(real), border_check(synth))
    mean = {m: float(np.mean([v[m] for v in out.values()])) for m in ("akld", "kld")}
    print(json.dumps({"images": out, "mean": mean, "border_check": gap}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
