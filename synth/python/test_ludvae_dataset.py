"""Tests of ludvae_dataset.py (plain asserts, no pytest needed).

Usage:
    /usr/bin/python3 synth/python/test_ludvae_dataset.py [GENERATOR.pt] [--fake-noise] [--no-pil]

GENERATOR.pt is a TorchScript module with the signature of ludvae's exported
generator, forward(clean, sigma, temperature=1.0). With --fake-noise it must
be the test generator clean + sigma/255 * temperature * randn (what
synth/python/dataset_test.go builds), and the tests also check the noise
level, the temperature and the SR input exactly. Without arguments the test
builds that fake generator itself. --no-pil runs everything as if Pillow
were not installed (the pure-Python PNG reader and writer).
"""

import os
import shutil
import struct
import sys
import tempfile
import traceback
import zlib

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ludvae_dataset as ld  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VECTORS = os.path.join(REPO, "testdata", "reference", "image_vectors.pth")

class FakeGenerator(torch.nn.Module):
    """The test generator: clean + sigma/255 * temperature * randn, with the
    signature of ludvae's exported one (dataset_test.go builds the same)."""

    def forward(self, clean: torch.Tensor, sigma: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        s = sigma.to(device=clean.device, dtype=clean.dtype).reshape(-1, 1, 1, 1) / 255.0
        return clean + torch.randn_like(clean) * s * temperature


def make_fake_generator(path):
    torch.jit.script(FakeGenerator()).save(path)


def smooth_image(h, w, seed, lo=0.3, hi=0.7):
    """A (3, h, w) image with mild texture, values in [lo, hi]."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, 3, h // 8 + 2, w // 8 + 2, generator=g)
    img = F.interpolate(base, size=(h, w), mode="bilinear", align_corners=False)[0]
    img = img + 0.05 * torch.rand(3, h, w, generator=g)
    img = (img - img.min()) / (img.max() - img.min())
    return (lo + (hi - lo) * img).clamp(0, 1)


def quantized(img):
    return img.mul(255).round().div(255)


class Fixture:
    """A temporary folder of clean images of several kinds."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ludvae_dataset_test_")
        self.root = os.path.join(self.dir, "clean")
        os.makedirs(os.path.join(self.root, "sub", "deeper"))
        self.expected = {}
        for i, (name, h, w) in enumerate([("a.png", 90, 100), ("sub/b.png", 120, 80),
                                          ("sub/deeper/c.png", 70, 130), ("d.png", 96, 96)]):
            p = os.path.join(self.root, name)
            img = smooth_image(h, w, i)
            ld.write_png(p, img)
            self.expected[p] = quantized(img)
        if ld._PILImage is not None:
            from PIL import Image
            grey = Image.new("L", (100, 80))
            grey.putdata([(x * 7 + y * 3) % 256 for y in range(80) for x in range(100)])
            grey.save(os.path.join(self.root, "grey.png"))
            rgba = Image.new("RGBA", (80, 80), (10, 200, 30, 128))
            rgba.save(os.path.join(self.root, "sub", "rgba.png"))
            ld.write_png(os.path.join(self.dir, "tmp.png"), smooth_image(72, 88, 9))
            Image.open(os.path.join(self.dir, "tmp.png")).save(os.path.join(self.root, "e.jpg"), quality=95)
        with open(os.path.join(self.root, "notes.txt"), "w") as f:
            f.write("not an image")
        self.small = os.path.join(self.dir, "small")
        os.makedirs(self.small)
        ld.write_png(os.path.join(self.small, "tiny.png"), smooth_image(20, 30, 5))
        self.empty = os.path.join(self.dir, "empty")
        os.makedirs(self.empty)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- tests ------------------------------------------------------------------

def kair_augment_numpy(img, mode):
    """KAIR's utils_image.augment_img, verbatim, on an HWC numpy array."""
    import numpy as np
    if mode == 0:
        return img
    elif mode == 1:
        return np.flipud(np.rot90(img))
    elif mode == 2:
        return np.flipud(img)
    elif mode == 3:
        return np.rot90(img, k=3)
    elif mode == 4:
        return np.flipud(np.rot90(img, k=2))
    elif mode == 5:
        return np.rot90(img)
    elif mode == 6:
        return np.rot90(img, k=2)
    elif mode == 7:
        return np.flipud(np.rot90(img, k=3))


def test_augment_matches_kair(fx, gen, fake):
    hwc = torch.arange(5 * 7 * 3, dtype=torch.float32).view(5, 7, 3)
    for mode in range(8):
        got = ld.augment_img(hwc.permute(2, 0, 1), mode).permute(1, 2, 0)
        want = torch.from_numpy(kair_augment_numpy(hwc.numpy(), mode).copy())
        assert torch.equal(got, want), f"mode {mode} differs from KAIR's augment_img"
    if os.path.exists(VECTORS):  # the vectors computed with KAIR's own code
        v = torch.load(VECTORS)
        crop = v["crop_uint8"].permute(2, 0, 1)
        for mode in range(8):
            got = ld.augment_img(crop, mode).permute(1, 2, 0)
            assert torch.equal(got, v[f"augment_mode{mode}"]), f"mode {mode} differs from {VECTORS}"
    else:
        print(f"  (no {VECTORS}; checked against KAIR's code only)")
    try:
        ld.augment_img(hwc, 8)
        raise AssertionError("mode 8 accepted")
    except ValueError:
        pass


def test_list_and_read(fx, gen, fake):
    paths = ld.list_images(fx.root)
    assert paths == sorted(paths) and len(paths) == (7 if ld._PILImage else 4), paths
    assert not any(p.endswith(".txt") for p in paths)
    for p, want in fx.expected.items():
        img = ld.read_image(p)
        assert img.dtype == torch.float32 and img.shape == want.shape, (p, img.shape)
        assert torch.allclose(img, want, atol=1e-6), p
        pure = ld.read_image(p, use_pil=False)
        assert torch.allclose(pure, want, atol=1e-6), p


def encode_png(path, raw_rows, w, h, depth, ctype, filt, palette=None):
    """A PNG whose every row uses filter type filt (0-4), to exercise the
    pure-Python decoder's unfiltering independently of any encoder."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    bpp = channels * depth // 8
    prev = bytes(w * bpp)
    out = bytearray()
    for row in raw_rows:
        f = bytearray(len(row))
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) >> 1, ld._paeth(a, b, c)][filt]
            f[i] = (x - pred) & 0xFF
        out += bytes([filt]) + f
        prev = row

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    data = ld._PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
    if palette is not None:
        data += chunk(b"PLTE", palette)
    data += chunk(b"IDAT", zlib.compress(bytes(out))) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def test_pure_png_decoder(fx, gen, fake):
    g = torch.Generator().manual_seed(3)
    w, h = 13, 6
    for ctype, depth in [(2, 8), (6, 8), (0, 8), (4, 8), (0, 16), (2, 16), (6, 16), (3, 8)]:
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
        maxv = 65535 if depth == 16 else 255
        vals = torch.randint(0, maxv + 1, (h, w, channels), generator=g)
        palette = None
        if ctype == 3:
            pal = torch.randint(0, 256, (16, 3), generator=g)
            palette = bytes(pal.view(-1).tolist())
            vals = torch.randint(0, 16, (h, w, 1), generator=g)
        rows = []
        for y in range(h):
            if depth == 16:
                rows.append(b"".join(struct.pack(">H", int(v)) for v in vals[y].reshape(-1)))
            else:
                rows.append(bytes(vals[y].reshape(-1).tolist()))
        if ctype == 3:
            want = pal[vals[..., 0]].float() / 255
        else:
            want = vals[..., :3].float() / maxv if channels >= 3 else (vals[..., :1].float() / maxv).expand(h, w, 3)
        want = want.permute(2, 0, 1)
        for filt in range(5):
            p = os.path.join(fx.dir, f"f{ctype}_{depth}_{filt}.png")
            encode_png(p, rows, w, h, depth, ctype, filt, palette)
            got = ld.read_image(p, use_pil=False)
            assert got.shape == (3, h, w), got.shape
            assert torch.allclose(got, want, atol=1e-7), f"colour type {ctype} depth {depth} filter {filt}"
            if ld._PILImage is not None and depth == 8:
                assert torch.allclose(ld.read_image(p), want, atol=1e-7), f"Pillow disagrees: {p}"
    if ld._PILImage is not None:  # other Pillow-written colour types agree with Pillow
        for p in [os.path.join(fx.root, "grey.png"), os.path.join(fx.root, "sub", "rgba.png")]:
            assert torch.allclose(ld.read_image(p, use_pil=False), ld.read_image(p), atol=1e-7), p


def test_shapes_ranges_and_dict(fx, gen, fake):
    ds = ld.LudvaeC2NDataset(fx.root, gen, patch=48)
    assert len(ds) == len(ld.list_images(fx.root))
    torch.manual_seed(0)
    for i in range(len(ds)):
        L, H = ds[i]
        assert L.shape == (3, 48, 48) and H.shape == (3, 48, 48), (L.shape, H.shape)
        assert L.dtype == torch.float32 and H.dtype == torch.float32
        assert L.min() >= 0 and L.max() <= 1 and H.min() >= 0 and H.max() <= 1
        assert L.device.type == "cpu"
    dds = ld.LudvaeC2NDataset(fx.root, gen, patch=32, sigma=(30, 70), as_dict=True)
    sigmas = []
    for i in range(len(dds)):
        item = dds[i]
        assert set(item) == {"L", "H", "L_path", "H_path", "sigma"}, item.keys()
        assert item["L_path"] == item["H_path"] == dds.paths[i]
        assert item["L"].shape == item["H"].shape == (3, 32, 32)
        assert 30 <= item["sigma"] <= 70, item["sigma"]
        sigmas.append(item["sigma"])
    assert max(sigmas) - min(sigmas) > 5, f"sigma is not drawn per item: {sigmas}"
    # The clean patch is a crop (after one of the 8 symmetries) of the file.
    noaug = ld.LudvaeC2NDataset(fx.root, gen, patch=40, augment=False)
    p = noaug.paths[0]
    full = ld.read_image(p)
    _, H = noaug[0]
    found = any(torch.equal(full[:, y:y + 40, x:x + 40], H)
                for y in range(full.shape[1] - 39) for x in range(full.shape[2] - 39))
    assert found, "the clean patch is not a crop of the image"


def test_sigma_and_temperature(fx, gen, fake):
    if not fake:
        print("  (skipped: needs the fake generator)")
        return
    # Images lie in [0.3, 0.7]: sigma 20/255 clips less than 1e-4 of values.
    for sigma in (5.0, 20.0):
        ds = ld.LudvaeC2NDataset(fx.root, gen, patch=64, sigma=sigma)
        torch.manual_seed(1)
        diffs = torch.cat([(L - H).view(-1) for L, H in (ds[i] for i in range(4))])
        # 4*3*64*64 = 49152 values: std's relative standard error 0.3%.
        std = diffs.std().item() * 255
        assert abs(std - sigma) < 0.03 * sigma, f"sigma {sigma}: noise std {std:.3f}"
    ds = ld.LudvaeC2NDataset(fx.root, gen, patch=64, sigma=20, temperature=0.5)
    std = torch.cat([(L - H).view(-1) for L, H in (ds[i] for i in range(4))]).std().item() * 255
    assert abs(std - 10) < 0.3, f"temperature 0.5 should halve the fake noise: {std:.3f}"
    ds = ld.LudvaeC2NDataset(fx.root, gen, patch=64, sigma=(30, 70), temperature=0.0)
    L, H = ds[0]
    assert torch.equal(L, H), "temperature 0 with the fake generator must return the clean patch"


def test_determinism(fx, gen, fake):
    ds = ld.LudvaeC2NDataset(fx.root, gen, patch=48, sigma=(30, 70))

    def items(seed):
        torch.manual_seed(seed)
        return [ds[i] for i in range(len(ds))]

    a, b, c = items(7), items(7), items(8)
    for (la, ha), (lb, hb) in zip(a, b):
        assert torch.equal(la, lb) and torch.equal(ha, hb), "same seed, different items"
    assert any(not torch.equal(la, lc) for (la, _), (lc, _) in zip(a, c)), "different seeds, same items"


def test_super_resolution(fx, gen, fake):
    ds = ld.LudvaeC2NDataset(fx.root, gen, patch=16, scale=4, sigma=15, as_dict=True)
    torch.manual_seed(2)
    for i in range(len(ds)):
        item = ds[i]
        assert item["H"].shape == (3, 64, 64) and item["L"].shape == (3, 16, 16), (item["H"].shape, item["L"].shape)
    if fake:
        ds0 = ld.LudvaeC2NDataset(fx.root, gen, patch=16, scale=4, sigma=0)
        L, H = ds0[0]
        want = F.interpolate(H[None], size=(16, 16), mode="bicubic", align_corners=False, antialias=True)[0].clamp(0, 1)
        assert torch.equal(L, want), "with sigma 0 the fake generator returns the bicubic LR input"
    try:
        ld.LudvaeC2NDataset(fx.small, gen, patch=16, scale=2)[0]
        raise AssertionError("an image smaller than the HR patch was accepted")
    except ValueError as e:
        assert "tiny.png" in str(e) and "32x32" in str(e), str(e)


def test_dataloader(fx, gen, fake):
    ds = ld.LudvaeC2NDataset(fx.root, gen, patch=32, sigma=(30, 70))
    for workers in (0, 2):
        def epoch(seed):
            torch.manual_seed(seed)
            dl = DataLoader(ds, batch_size=3, shuffle=True, num_workers=workers)
            return [(L.clone(), H.clone()) for L, H in dl]

        a = epoch(11)
        n = sum(L.shape[0] for L, _ in a)
        assert n == len(ds), f"{workers} workers: {n} items in an epoch of {len(ds)}"
        assert a[0][0].shape == (3, 3, 32, 32) and a[0][1].shape == (3, 3, 32, 32), a[0][0].shape
        b = epoch(11)
        for (la, ha), (lb, hb) in zip(a, b):
            assert torch.equal(la, lb) and torch.equal(ha, hb), f"{workers} workers: same seed, different batches"
    dds = ld.LudvaeC2NDataset(fx.root, gen, patch=32, as_dict=True)
    batch = next(iter(DataLoader(dds, batch_size=2, num_workers=2)))
    assert batch["L"].shape == (2, 3, 32, 32) and len(batch["L_path"]) == 2 and batch["sigma"].shape == (2,)


def test_errors(fx, gen, fake):
    def raises(exc, fn, what):
        try:
            fn()
        except exc as e:
            return str(e)
        raise AssertionError(f"{what}: no {exc.__name__}")

    msg = raises(FileNotFoundError, lambda: ld.LudvaeC2NDataset(fx.empty, gen), "empty folder")
    assert fx.empty in msg, msg
    raises(FileNotFoundError, lambda: ld.LudvaeC2NDataset(os.path.join(fx.dir, "missing"), gen), "missing folder")
    raises(ValueError, lambda: ld.LudvaeC2NDataset(fx.root, gen, sigma=(70, 30)), "sigma low > high")
    raises(ValueError, lambda: ld.LudvaeC2NDataset(fx.root, gen, patch=0), "patch 0")
    raises(ValueError, lambda: ld.LudvaeC2NDataset(fx.root, gen, scale=1.5), "scale 1.5")
    bad = os.path.join(fx.dir, "bad.pt")
    with open(bad, "wb") as f:
        f.write(b"not a module")
    msg = raises(RuntimeError, lambda: ld.LudvaeC2NDataset(fx.root, bad), "bad generator file")
    assert "bad.pt" in msg, msg
    # A loaded module works too.
    ds = ld.LudvaeC2NDataset(fx.root, torch.jit.load(gen), patch=16)
    assert ds[0][0].shape == (3, 16, 16)


def test_demo(fx, gen, fake):
    out = os.path.join(fx.dir, "demo")
    ld._main(["--root", fx.root, "--generator", gen, "--out", out, "-n", "2", "--patch", "24"])
    files = sorted(os.listdir(out))
    assert files == ["000_H.png", "000_L.png", "001_H.png", "001_L.png"], files
    assert ld.read_image(os.path.join(out, "000_L.png")).shape == (3, 24, 24)


TESTS = [test_augment_matches_kair, test_list_and_read, test_pure_png_decoder, test_shapes_ranges_and_dict,
         test_sigma_and_temperature, test_determinism, test_super_resolution, test_dataloader, test_errors,
         test_demo]


def main(argv):
    fake = "--fake-noise" in argv
    if "--no-pil" in argv:
        ld._PILImage = None
    args = [a for a in argv if a not in ("--fake-noise", "--no-pil")]
    fx = Fixture()
    try:
        if args:
            gen = args[0]
        else:
            gen, fake = os.path.join(fx.dir, "fake_generator.pt"), True
            make_fake_generator(gen)
        torch.set_num_threads(os.cpu_count() or 1)
        failed = 0
        for t in TESTS:
            try:
                t(fx, gen, fake)
                print(f"PASS {t.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {t.__name__}")
                traceback.print_exc()
        print(f"{len(TESTS) - failed}/{len(TESTS)} passed (Pillow {'present' if ld._PILImage else 'absent'})")
        return 1 if failed else 0
    finally:
        fx.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
