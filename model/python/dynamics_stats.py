"""The table of dynamics.sh: per run and per group (mean ± sample standard
deviation over seeds, and the range) of the synthetic noise's AKLD and
KLD (from `ludvae eval noise --json`), its cross-channel correlation and
its std, against the real noise's.

    /usr/bin/python3 model/python/dynamics_stats.py OUT GROUP... -- SEED...

The cross-channel correlation is computed here with numpy: the noise of an
image is degraded − clean on [0,1]; per image the Pearson correlation of
each pair of channels over all pixels, the three pairs averaged; then
averaged over images. Runs without a noise.json are skipped.
"""
import json
import os
import sys

import numpy as np
from PIL import Image


def load(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255


def by_stem(d):
    return {os.path.splitext(f)[0]: os.path.join(d, f) for f in sorted(os.listdir(d))}


def cross_corr(deg_dir, clean_dir):
    deg, clean = by_stem(deg_dir), by_stem(clean_dir)
    per = []
    for k in sorted(set(deg) & set(clean)):
        n = (load(deg[k]) - load(clean[k])).reshape(-1, 3).T
        c = np.corrcoef(n)
        per.append((c[0, 1] + c[0, 2] + c[1, 2]) / 3)
    return float(np.mean(per))


def run_stats(out, group, seed):
    run = os.path.join(out, "%s-%s" % (group, seed))
    path = os.path.join(run, "noise.json")
    if not os.path.exists(path):
        return None
    src = {s["name"]: s for s in json.load(open(path))["sources"]}
    syn = src["L"]
    return {
        "akld": syn["vs_real"]["akld"],
        "kld": syn["vs_real"]["kld"],
        "xcorr": cross_corr(os.path.join(run, "synth", "L"), os.path.join(out, "heldout", "clean")),
        "std": syn["stats"]["std_all"],
    }


KEYS = [("akld", "AKLD"), ("kld", "KLD"), ("xcorr", "cross-channel corr."), ("std", "noise std (0-255)")]


def main():
    args = sys.argv[1:]
    out, rest = args[0], args[1:]
    cut = rest.index("--")
    groups, seeds = rest[:cut], rest[cut + 1:]
    real = {"xcorr": cross_corr(os.path.join(out, "heldout", "real"), os.path.join(out, "heldout", "clean"))}
    rows = {}
    print("| run | " + " | ".join(name for _, name in KEYS) + " |")
    print("|---|" + "---|" * len(KEYS))
    for g in groups:
        for s in seeds:
            st = run_stats(out, g, s)
            if st is None:
                continue
            rows.setdefault(g, []).append(st)
            print("| %s seed %s | " % (g, s) + " | ".join("%.4f" % st[k] for k, _ in KEYS) + " |")
    print("| real camera noise | – | – | %.4f | – |" % real["xcorr"])
    print()
    print("| group (runs) | " + " | ".join(name for _, name in KEYS) + " |")
    print("|---|" + "---|" * len(KEYS))
    for g, rs in rows.items():
        cells = []
        for k, _ in KEYS:
            v = np.array([r[k] for r in rs])
            sd = v.std(ddof=1) if len(v) > 1 else float("nan")
            cells.append("%.4f ± %.4f [%.4f, %.4f]" % (v.mean(), sd, v.min(), v.max()))
        print("| %s (%d) | " % (g, len(rs)) + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
