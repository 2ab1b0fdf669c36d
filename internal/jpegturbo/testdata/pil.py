"""PIL's side of package jpegturbo's tests (run by /usr/bin/python3).

  pil.py encode DIR       write the test JPEGs, encoded by PIL, into DIR
  pil.py ppm W H FILE     write the test photo as a binary PPM (for cjpeg)
  pil.py decode FILE...   decode each FILE with PIL as KAIR does (Image.open,
                          then convert("RGB") for CMYK) and write its samples
                          to FILE.raw, with "mode width height" on stdout

The photo is synthetic but photo-like, fixed by its seed: smooth colour
gradients, saturated discs with sharp edges (which stress chroma
upsampling) and Gaussian sensor-like noise (sigma 6 levels).
"""
import sys

import numpy as np
from PIL import Image


def photo(w, h, seed=17):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([
        128 + 90 * np.sin(x / 37.0 + y / 53.0),
        128 + 80 * np.cos(x / 29.0 - y / 41.0),
        128 + 70 * np.sin((x + 2 * y) / 61.0),
    ], axis=-1)
    for _ in range(12):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(4, max(w, h) / 5)
        colour = rng.uniform(0, 255, 3)
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = colour
    img += rng.normal(0, 6, img.shape)
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")


def encode(out):
    rgb = photo(203, 151)  # odd sizes: partial MCUs at the right and bottom
    big = photo(640, 480, seed=5)
    cases = {
        "q90_444.jpg": (rgb, dict(quality=90, subsampling=0)),
        "q90_422.jpg": (rgb, dict(quality=90, subsampling=1)),
        "q90_420.jpg": (rgb, dict(quality=90, subsampling=2)),
        "q75_420_640x480.jpg": (big, dict(quality=75, subsampling=2)),
        "q90_420_progressive.jpg": (rgb, dict(quality=90, subsampling=2, progressive=True)),
        "q90_grey.jpg": (rgb.convert("L"), dict(quality=90)),
        "q90_grey_progressive.jpg": (rgb.convert("L"), dict(quality=90, progressive=True)),
        "q90_cmyk.jpg": (rgb.convert("CMYK"), dict(quality=90)),
    }
    for name, (img, opts) in cases.items():
        img.save(f"{out}/{name}", "JPEG", **opts)


def decode(paths):
    for p in paths:
        img = Image.open(p)
        img.load()
        if img.mode == "CMYK":
            img = img.convert("RGB")
        with open(p + ".raw", "wb") as f:
            f.write(img.tobytes())
        print(img.mode, img.width, img.height)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "encode":
        encode(sys.argv[2])
    elif cmd == "ppm":
        photo(int(sys.argv[2]), int(sys.argv[3])).save(sys.argv[4], "PPM")
    elif cmd == "decode":
        decode(sys.argv[2:])
    else:
        sys.exit(f"pil.py: unknown command {cmd}")
