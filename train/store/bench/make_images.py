"""Generated photos of a real data set's size, for the image store's
memory and start-up benchmark (memory.sh): smooth colour fields with
per-pixel noise, so that crops differ everywhere, saved as 8-bit PNGs with
little compression (the benchmark times ludvae, not zlib).

usage: make_images.py OUT_DIR COUNT WIDTH HEIGHT SEED
"""
import os
import sys

import numpy as np
from PIL import Image


def main():
    out, count, w, h, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    os.makedirs(out, exist_ok=True)
    y = np.linspace(0, np.pi, h, dtype=np.float32)[:, None]
    x = np.linspace(0, np.pi, w, dtype=np.float32)[None, :]
    for i in range(count):
        path = os.path.join(out, "img%04d.png" % i)
        if os.path.exists(path):
            continue
        rng = np.random.default_rng([seed, i])  # the same photo i whatever was made before
        img = np.empty((h, w, 3), np.uint8)
        for c in range(3):
            fx, fy, ph = rng.uniform(1, 4, 3)
            base = 128 + 90 * np.sin(fx * x + ph + c) * np.cos(fy * y)
            noise = rng.integers(-20, 21, (h, w), dtype=np.int16)
            img[..., c] = np.clip(base + noise, 0, 255).astype(np.uint8)
        tmp = os.path.join(out, ".img%04d.tmp" % i)  # not an image name until complete
        Image.fromarray(img).save(tmp, format="PNG", compress_level=1)
        os.replace(tmp, path)


if __name__ == "__main__":
    main()
