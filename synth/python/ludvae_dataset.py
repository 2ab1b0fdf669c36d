"""On-the-fly (degraded, clean) training pairs from ludvae's exported generator.

``ludvae export --torchscript G.pt`` writes LUD-VAE's C2N generator as a
TorchScript module whose signature is::

    forward(clean: Tensor[N, 3, H, W] in [0, 1],
            sigma: Tensor[N] (0-255 scale),
            temperature: float = 1.0) -> Tensor[N, 3, H, W]

:class:`LudvaeC2NDataset` wraps it as a ``torch.utils.data.Dataset`` over a
folder of clean images: every item is a random crop of one image, one of
KAIR's 8 flips/rotations, and a fresh synthetic degradation of it, so a
denoiser (DnCNN) or a real-world super-resolver (ESRGAN) sees new noise in
every epoch.

Dependencies: torch (Debian's python3-torch) and Pillow (python3-pil) for
reading images. Without Pillow only PNG files can be read, by a slow
pure-Python decoder.

All randomness (crop position, augmentation mode, sigma, the generator's
noise) comes from torch's global RNG, so ``torch.manual_seed`` makes the
items reproducible, also inside DataLoader workers (PyTorch seeds each
worker from the main process's RNG).

Run ``python3 ludvae_dataset.py --help`` for a small demo that writes a few
pairs as PNGs.
"""

import math
import os
import struct
import zlib

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

# The synthesis setting of a model that carries none (the authors' SIDD
# models): sigma_x uniform in this range, latents at this temperature, no
# downscale. They are ludvae's model.DefaultSynthesis, the Go side's one
# default, which synth/python/dataset_test.go holds these numbers to.
DEFAULT_SIGMA = (30.0, 70.0)
DEFAULT_TEMPERATURE = 1.0
DEFAULT_SCALE = 1

try:  # Pillow is optional: without it only PNGs are read (slowly).
    from PIL import Image as _PILImage
except ImportError:  # pragma: no cover - exercised when python3-pil is absent
    _PILImage = None

__all__ = [
    "LudvaeC2NDataset",
    "IMG_EXTENSIONS",
    "list_images",
    "read_image",
    "augment_img",
    "write_png",
]

#: File name extensions (case-insensitive) treated as images.
IMG_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm")


def list_images(root):
    """Return the image files under ``root`` (recursively), sorted."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"ludvae_dataset: {root} is not a directory")
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            if name.lower().endswith(IMG_EXTENSIONS):
                paths.append(os.path.join(dirpath, name))
    paths.sort()
    return paths


def read_image(path, use_pil=None):
    """Read an image file as a float32 RGB tensor of shape (3, H, W) in [0, 1].

    Grey images are replicated to three channels and alpha is dropped.
    8-bit images map v to v/255. With Pillow (the default when it is
    installed) every format Pillow reads works; 16-bit grey PNGs are
    reduced to 8 bits. ``use_pil=False`` forces the pure-Python PNG decoder
    (the fallback when Pillow is missing), which reads PNGs of every colour
    type at 8 and 16 bits (16-bit values map to v/65535).
    """
    if use_pil is None:
        use_pil = _PILImage is not None
    if not use_pil:
        return _read_png_pure(path)
    with _PILImage.open(path) as img:
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):
            img = img.convert("I").point(lambda v: v * (1 / 257)).convert("L")
        img = img.convert("RGB")
        w, h = img.size
        data = bytearray(img.tobytes())
    t = torch.frombuffer(data, dtype=torch.uint8).view(h, w, 3)
    return t.permute(2, 0, 1).float().div_(255)


def augment_img(img, mode):
    """KAIR's ``augment_img(img, mode)`` (utils_image.py) on a CHW tensor.

    KAIR works on HWC numpy arrays: mode 0 identity, 1 flipud(rot90),
    2 flipud, 3 rot90(k=3), 4 flipud(rot90(k=2)), 5 rot90, 6 rot90(k=2),
    7 flipud(rot90(k=3)), with np.rot90 turning the (H, W) plane
    counter-clockwise. ``torch.rot90(t, k, (1, 2))`` is the same turn of a
    CHW tensor and ``flip(1)`` is flipud. Modes 1, 3, 5, 7 swap H and W.
    """
    if mode == 0:
        return img
    if mode == 1:
        return torch.rot90(img, 1, (1, 2)).flip(1)
    if mode == 2:
        return img.flip(1)
    if mode == 3:
        return torch.rot90(img, 3, (1, 2))
    if mode == 4:
        return torch.rot90(img, 2, (1, 2)).flip(1)
    if mode == 5:
        return torch.rot90(img, 1, (1, 2))
    if mode == 6:
        return torch.rot90(img, 2, (1, 2))
    if mode == 7:
        return torch.rot90(img, 3, (1, 2)).flip(1)
    raise ValueError(f"ludvae_dataset: augmentation mode {mode} outside 0..7")


class LudvaeC2NDataset(Dataset):
    """Synthetic (degraded, clean) pairs from a folder of clean images.

    Args:
        root: folder of clean images, searched recursively (see
            ``IMG_EXTENSIONS``).
        generator_path: the TorchScript file written by ``ludvae export
            --torchscript``, or an already loaded module with the same
            ``forward(clean, sigma, temperature)`` signature.
        patch: side of the degraded (L) patch in pixels. The clean (H)
            patch is ``patch * scale``.
        sigma: the noise level sigma_x of LUD-VAE's input preprocessing on
            the 0-255 scale: a ``(low, high)`` range drawn uniformly per
            item, or one number. SIDD models use ``DEFAULT_SIGMA``, (30,
            70), AIM19 15, NTIRE20 10 (the values ``ludvae synth`` uses).
        temperature: multiplies the drawn degradation latents (1 = the
            learned distribution, 0 = their mean).
        scale: super-resolution factor. For ``scale > 1`` the clean patch
            is ``patch * scale`` pixels and the generator degrades its
            bicubic downscale (``torch.nn.functional.interpolate(...,
            mode='bicubic', antialias=True)``); ludvae's own ``synth``
            downscales with MATLAB's imresize instead (as KAIR does), which
            differs from torch's antialiased bicubic by a fraction of a grey
            level.
        device: where the generator runs ('cpu', 'cuda', 'cuda:1', ...).
            The returned tensors are always on the CPU. With a CUDA device
            use ``num_workers=0`` or a 'spawn' multiprocessing context: CUDA
            does not work in forked DataLoader workers.
        as_dict: return KAIR's dict ``{'L', 'H', 'L_path', 'H_path',
            'sigma'}`` instead of the tuple ``(degraded, clean)``.
        augment: apply one of KAIR's 8 flips/rotations, uniformly drawn.

    Items are float32 CHW tensors in [0, 1]: the degraded patch (generator
    output, clamped) and the clean patch it was made from. An image smaller
    than the clean patch is an error naming the file.
    """

    def __init__(self, root, generator_path, patch=96, sigma=DEFAULT_SIGMA, temperature=DEFAULT_TEMPERATURE,
                 scale=DEFAULT_SCALE, device="cpu", as_dict=False, augment=True):
        self.root = root
        self.paths = list_images(root)
        if not self.paths:
            raise FileNotFoundError(f"ludvae_dataset: no images ({' '.join(IMG_EXTENSIONS)}) under {root}")
        if int(patch) != patch or patch < 1:
            raise ValueError(f"ludvae_dataset: patch {patch} must be a positive integer")
        if int(scale) != scale or scale < 1:
            raise ValueError(f"ludvae_dataset: scale {scale} must be a positive integer")
        if isinstance(sigma, (int, float)):
            sigma = (sigma, sigma)
        lo, hi = (float(s) for s in sigma)
        if not (0 <= lo <= hi) or math.isinf(hi):
            raise ValueError(f"ludvae_dataset: sigma range {sigma} must satisfy 0 <= low <= high < inf")
        self.patch, self.scale = int(patch), int(scale)
        self.sigma = (lo, hi)
        self.temperature = float(temperature)
        self.device = torch.device(device)
        self.as_dict = as_dict
        self.augment = augment
        if isinstance(generator_path, torch.nn.Module):
            self.generator_path, self._generator = None, generator_path
        else:
            self.generator_path, self._generator = os.fspath(generator_path), None
        self._generator_pid = os.getpid()
        self.generator()  # load now, so a bad path fails here and not in a worker

    def generator(self):
        """The TorchScript generator, loaded once per process (DataLoader
        workers load their own copy when the dataset was pickled to them)."""
        if self._generator is None or (self.generator_path is not None and self._generator_pid != os.getpid()):
            try:
                g = torch.jit.load(self.generator_path, map_location=self.device)
            except Exception as e:
                raise RuntimeError(f"ludvae_dataset: cannot load the TorchScript generator {self.generator_path}: {e}") from e
            self._generator, self._generator_pid = g.eval(), os.getpid()
        return self._generator

    def __getstate__(self):
        state = self.__dict__.copy()
        if self.generator_path is not None:
            state["_generator"] = None  # reloaded from the file in the new process
        return state

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        path = self.paths[index]
        img = read_image(path)
        hp = self.patch * self.scale
        _, h, w = img.shape
        if h < hp or w < hp:
            raise ValueError(f"ludvae_dataset: {path} is {w}x{h}, smaller than the {hp}x{hp} clean patch "
                             f"(patch {self.patch} x scale {self.scale})")
        top = int(torch.randint(0, h - hp + 1, ()))
        left = int(torch.randint(0, w - hp + 1, ()))
        clean = img[:, top:top + hp, left:left + hp]
        if self.augment:
            clean = augment_img(clean, int(torch.randint(0, 8, ())))
        clean = clean.contiguous()
        lr = clean
        if self.scale > 1:
            lr = F.interpolate(clean[None], size=(self.patch, self.patch), mode="bicubic",
                               align_corners=False, antialias=True)[0].clamp_(0, 1)
        lo, hi = self.sigma
        sigma = lo + (hi - lo) * float(torch.rand(()))
        with torch.no_grad():
            out = self.generator()(lr[None].to(self.device),
                                   torch.tensor([sigma], dtype=torch.float32, device=self.device),
                                   self.temperature)
        degraded = out[0].clamp(0, 1).to("cpu", torch.float32)
        if degraded.shape != lr.shape:
            raise RuntimeError(f"ludvae_dataset: the generator returned shape {tuple(degraded.shape)} "
                               f"for an input of shape {tuple(lr.shape)}")
        if self.as_dict:
            return {"L": degraded, "H": clean, "L_path": path, "H_path": path, "sigma": sigma}
        return degraded, clean


# ---- PNG without Pillow -------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _read_png_pure(path):
    """Decode a non-interlaced PNG with zlib only; see read_image."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != _PNG_SIGNATURE:
        raise ValueError(f"ludvae_dataset: {path} is not a PNG (install python3-pil to read other formats)")
    pos, idat, palette, header = 8, [], None, None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"ludvae_dataset: {path}: PNG without IHDR")
    w, h, depth, ctype, _, _, interlace = header
    if interlace:
        raise ValueError(f"ludvae_dataset: {path}: interlaced PNGs need python3-pil")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(ctype)
    if channels is None or (ctype == 3 and depth == 16):
        raise ValueError(f"ludvae_dataset: {path}: invalid PNG colour type {ctype} at depth {depth}")
    if depth not in (8, 16):
        raise ValueError(f"ludvae_dataset: {path}: PNGs with {depth} bits per sample need python3-pil")
    raw = zlib.decompress(b"".join(idat))
    bpp = channels * depth // 8  # bytes per pixel
    stride = w * bpp
    out = bytearray(h * stride)
    prev = bytearray(stride)
    src = 0
    for y in range(h):
        ftype = raw[src]
        line = bytearray(raw[src + 1:src + 1 + stride])
        src += 1 + stride
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                up_left = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, prev[i], up_left)) & 0xFF
        elif ftype != 0:
            raise ValueError(f"ludvae_dataset: {path}: bad PNG filter type {ftype} in row {y}")
        out[y * stride:(y + 1) * stride] = line
        prev = line
    if depth == 16:
        t = torch.frombuffer(out, dtype=torch.uint8).view(h, w, channels, 2)  # big-endian samples
        img = (t[..., 0].int() * 256 + t[..., 1].int()).float().div_(65535)
    else:
        t = torch.frombuffer(out, dtype=torch.uint8).view(h, w, channels)
        if ctype == 3:
            if palette is None:
                raise ValueError(f"ludvae_dataset: {path}: palette PNG without PLTE")
            lut = torch.frombuffer(bytearray(palette), dtype=torch.uint8).view(-1, 3)
            t = lut[t[..., 0].long()]
            channels = 3
        img = t.float().div_(255)
    if channels in (1, 2):
        img = img[..., :1].expand(h, w, 3)
    else:
        img = img[..., :3]
    return img.permute(2, 0, 1).contiguous()


def write_png(path, img):
    """Write a (3, H, W) float tensor in [0, 1] as an 8-bit RGB PNG.

    Values are clamped and rounded like KAIR's single2uint. Uses Pillow
    when present, otherwise zlib alone.
    """
    q = img.detach().cpu().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).contiguous()
    h, w, _ = q.shape
    raw = _tensor_bytes(q)
    if _PILImage is not None:
        _PILImage.frombytes("RGB", (w, h), raw).save(path)
        return
    rows = b"".join(b"\x00" + raw[y * 3 * w:(y + 1) * 3 * w] for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(_PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


def _tensor_bytes(t):
    """The bytes of a contiguous uint8 tensor (through numpy when present)."""
    try:
        return t.numpy().tobytes()
    except (ImportError, RuntimeError):
        return bytes(t.view(-1).tolist())


# ---- demo -----------------------------------------------------------------

def _main(argv=None):
    import argparse
    import time

    ap = argparse.ArgumentParser(description="Write a few synthetic (degraded, clean) pairs from ludvae's exported generator.")
    ap.add_argument("--root", required=True, help="folder of clean images")
    ap.add_argument("--generator", required=True, help="TorchScript file from `ludvae export --torchscript`")
    ap.add_argument("--out", default="ludvae_pairs", help="folder for the PNG pairs (default %(default)s)")
    ap.add_argument("-n", type=int, default=4, help="number of pairs (default %(default)s)")
    ap.add_argument("--patch", type=int, default=96, help="degraded patch size (default %(default)s)")
    ap.add_argument("--sigma", type=float, nargs="+", default=list(DEFAULT_SIGMA),
                    help="sigma or LOW HIGH on 0-255 (default %g %g)" % DEFAULT_SIGMA)
    ap.add_argument("--scale", type=int, default=DEFAULT_SCALE, help="SR factor (default %(default)s)")
    ap.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE, help="latent temperature (default %(default)s)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (default %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="torch.manual_seed (default %(default)s)")
    args = ap.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)  # Debian's torch starts with one thread
    torch.manual_seed(args.seed)
    sigma = args.sigma[0] if len(args.sigma) == 1 else tuple(args.sigma[:2])
    ds = LudvaeC2NDataset(args.root, args.generator, patch=args.patch, sigma=sigma, scale=args.scale,
                          temperature=args.temperature, device=args.device, as_dict=True)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    for i in range(args.n):
        item = ds[i % len(ds)]
        base = os.path.join(args.out, f"{i:03d}")
        write_png(base + "_L.png", item["L"])
        write_png(base + "_H.png", item["H"])
        print(f"{base}_L.png {tuple(item['L'].shape)}  {base}_H.png {tuple(item['H'].shape)}  "
              f"sigma {item['sigma']:.1f}  from {item['H_path']}")
    print(f"{len(ds)} clean images; {args.n} pairs in {time.time() - t0:.2f} s")


if __name__ == "__main__":
    _main()
