"""Eager PyTorch training of LUD-VAE with the authors' data pipeline and
loop (docs/design.md §2.3), for comparing many-step training dynamics with
ludvae (dynamics.sh). Independent of ludvae: its own image decoding
(PIL), crops, augmentation, h-noise and colour normalization, drawn from
Python's, numpy's and torch's generators as the authors' UPMDataset and
main_train.py draw them; the network is ludvae_ref.py with PyTorch's
default initialization. Writes OUT/ckpt_<steps>.pth, a plain state dict in
the authors' layout (ludvae synth loads it), and OUT/log.csv.

    /usr/bin/python3 model/python/train_eager.py --clean DIR --noisy DIR --out DIR \
        --filters 32 --levels 3 --patch 48 --batch 8 --steps 1200 --lr 5e-4 \
        --kl-weight 1e-4 --kl-warmup 300 --lr-milestones 900 \
        --sigma-x 15 --sigma-y 10 --normalize auto --seed 1
"""
import argparse
import os
import random
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ludvae_ref import LUDVAE  # noqa: E402

EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")


def read_folder(d):
    """The folder's images (searched recursively, sorted by path) as uint8
    HWC RGB arrays, as the authors' util.imread_uint gives them."""
    paths = sorted(os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs
                   if f.lower().endswith(EXTS))
    if not paths:
        sys.exit("train_eager.py: no images in %s" % d)
    return [np.asarray(Image.open(p).convert("RGB")) for p in paths]


# KAIR's utils_image.augment_img as (quarter turns of np.rot90, then np.flipud)
# per mode: mode 1 is flipud(rot90(img)), mode 3 rot90(img, k=3), and so on.
AUGMENT = [(0, False), (1, True), (0, True), (3, False), (2, True), (1, False), (2, False), (3, True)]


def augment(img, mode):
    k, flip = AUGMENT[mode]
    img = np.rot90(img, k=k)
    return np.flipud(img) if flip else img


def stats(imgs):
    """Per-channel mean and population std of all pixels, on [0,1]."""
    v = np.concatenate([m.reshape(-1, 3).astype(np.float64) / 255 for m in imgs])
    return v.mean(0), v.std(0)


class Domains:
    """UPMDataset behind main_train.py's WeightedRandomSampler: each sample's
    domain is degraded with probability 1/2 (the weights balance the
    classes), its image uniform within the domain, then a uniform crop
    origin (random.randint, both ends included), an augmentation mode
    (np.random.randint(0, 8)), h = crop + σ·randn/255, and for degraded
    crops with normalization both mapped to the clean statistics and
    clamped."""

    def __init__(self, a):
        self.a = a
        self.doms = [read_folder(a.clean), read_folder(a.noisy)]
        self.norm = None
        if a.normalize == "auto":
            (mc, sc), (mn, sn) = stats(self.doms[0]), stats(self.doms[1])
            t = lambda v: torch.tensor(v, dtype=torch.float32).reshape(3, 1, 1)  # noqa: E731
            self.norm = (t(mc), t(sc), t(mn), t(sn))

    def sample(self):
        a, p = self.a, self.a.patch
        label = int(torch.rand(()) < 0.5)  # the sampler's draw (torch's generator)
        pool = self.doms[label]
        img = pool[int(torch.randint(len(pool), ()))]
        h, w = img.shape[:2]
        y = random.randint(0, max(0, h - p))
        x = random.randint(0, max(0, w - p))
        crop = augment(img[y:y + p, x:x + p, :], np.random.randint(0, 8))
        t = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1).float().div(255.)
        sigma = a.sigma_y if label == 1 else a.sigma_x
        hx = t + torch.randn_like(t) * sigma / 255.0
        if self.norm is not None and label == 1:
            mc, sc, mn, sn = self.norm
            t = torch.clamp((t - mn) / sn * sc + mc, 0, 1)
            hx = torch.clamp((hx - mn) / sn * sc + mc, 0, 1)
        return t, hx, label

    def batch(self):
        xs, hs, ls = zip(*(self.sample() for _ in range(self.a.batch)))
        return torch.stack(xs), torch.stack(hs), torch.tensor(ls, dtype=torch.float32)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--clean", required=True)
    p.add_argument("--noisy", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--filters", type=int, default=128)
    p.add_argument("--levels", type=int, default=3)
    p.add_argument("--patch", type=int, default=64)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=200000)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--lr-milestones", type=lambda s: [int(v) for v in s.split(",")], default=[100000])
    p.add_argument("--lr-gamma", type=float, default=0.5)
    p.add_argument("--kl-weight", type=float, default=1e-4)
    p.add_argument("--kl-warmup", type=int, default=10000)
    p.add_argument("--sigma-x", type=float, default=40)
    p.add_argument("--sigma-y", type=float, default=20)
    p.add_argument("--normalize", choices=["none", "auto"], default="none")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    # main_train.py's seeding: one seed for Python's, numpy's and torch's generators.
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    data = Domains(a)
    m = LUDVAE(3, a.filters, a.levels)
    opt = torch.optim.Adam(m.parameters(), lr=a.lr, weight_decay=0)
    log = open(os.path.join(a.out, "log.csv"), "w")
    log.write("step,loss,rec,kl,kl_weight,lr\n")
    t0 = time.time()
    for step in range(1, a.steps + 1):
        # The authors step the scheduler with the step number before the
        # update (closed form: the rate is already reduced at a milestone).
        lr = a.lr * a.lr_gamma ** sum(step >= s for s in a.lr_milestones)
        for g in opt.param_groups:
            g["lr"] = lr
        x, hx, label = data.batch()
        w = min(step / a.kl_warmup, 1) * a.kl_weight if a.kl_warmup else a.kl_weight
        opt.zero_grad()
        loss, rec, kl, _ = m.loss(x, hx, label, w)
        loss.backward()
        opt.step()
        if step % a.log_every == 0 or step == a.steps:
            log.write("%d,%.6g,%.6g,%.6g,%.6g,%.6g\n" % (step, loss.item(), rec.item(), kl.item(), w, lr))
            log.flush()
            print("step %d loss %.5f rec %.5f kl %.3f lr %.1e (%.1f steps/s)" % (
                step, loss.item(), rec.item(), kl.item(), lr, step / (time.time() - t0)), flush=True)
    torch.save(m.state_dict(), os.path.join(a.out, "ckpt_%d.pth" % a.steps))


if __name__ == "__main__":
    main()
