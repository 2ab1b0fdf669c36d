"""The table of dynamics.sh: per run and per group (mean ± sample standard
deviation over seeds, and the range) of the synthetic noise's AKLD and
KLD (from `ludvae eval noise --json`), its cross-channel correlation and
its std, against the real noise's.

    /usr/bin/python3 model/python/dynamics_stats.py OUT GROUP... -- SEED...

The cross-channel correlation is computed here with numpy: the noise of an
image is degraded − clean on [0,1]; per image the Pearson correlation of
each pair of channels over all pixels, the three pairs averaged; then
averaged over images. Runs without a noise.json are skipped. PSNR is the
mean over the held-out photos of the denoiser trained on the run's pairs
(dynamics.sh with PSNR=1), where there is one. rec. MSE clean/degraded and
KL are the final model's training objective on fixed crops (eval_loss.py).
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


SYNTH = [("L", "synth", "ludvae synth"), ("synth-eager", "synth-eager", "eager synth")]


def run_stats(out, group, seed):
    """The run's statistics per synthesis: {label: {key: value}}."""
    run = os.path.join(out, "%s-%s" % (group, seed))
    path = os.path.join(run, "noise.json")
    obj = os.path.join(run, "objective.json")
    if not os.path.exists(path):
        # OBJECTIVE=1: no synthesis, the objective alone (its row's
        # synthesis columns empty)
        return {"ludvae synth": json.load(open(obj))} if os.path.exists(obj) else None
    src = {s["name"]: s for s in json.load(open(path))["sources"]}
    res = {}
    for name, sub, label in SYNTH:
        if name not in src:
            continue
        d = os.path.join(run, sub, "L" if sub == "synth" else "")
        res[label] = {
            "akld": src[name]["vs_real"]["akld"],
            "kld": src[name]["vs_real"]["kld"],
            "xcorr": cross_corr(d, os.path.join(out, "heldout", "clean")),
            "std": src[name]["stats"]["std_all"],
        }
    # the training objective on fixed crops (eval_loss.py)
    if os.path.exists(obj):
        o = json.load(open(obj))
        for st in res.values():
            st.update(rec_clean=o["rec_clean"], rec_degraded=o["rec_degraded"], kl=o["kl"])
    psnr = os.path.join(run, "psnr.json")
    if os.path.exists(psnr) and "ludvae synth" in res:
        res["ludvae synth"]["psnr"] = json.load(open(psnr))["mean"]["psnr"]
    return res


KEYS = [("rec_clean", "rec. MSE clean"), ("rec_degraded", "rec. MSE degraded"), ("kl", "KL"), ("akld", "AKLD"), ("kld", "KLD"), ("xcorr", "cross-channel corr."), ("std", "noise std (0-255)"),
        ("psnr", "denoiser PSNR (dB)")]


def fmt(v):
    return "–" if v is None else "%.4g" % v


def main():
    args = sys.argv[1:]
    out, rest = args[0], args[1:]
    cut = rest.index("--")
    groups, seeds = rest[:cut], rest[cut + 1:]
    real = {"xcorr": cross_corr(os.path.join(out, "heldout", "real"), os.path.join(out, "heldout", "clean"))}
    rows, paired = {}, []
    print("| run | synthesis | " + " | ".join(name for _, name in KEYS) + " |")
    print("|---|---|" + "---|" * len(KEYS))
    for g in groups:
        for s in seeds:
            res = run_stats(out, g, s)
            for label, st in (res or {}).items():
                print("| %s seed %s | %s | " % (g, s, label) + " | ".join(fmt(st.get(k)) for k, _ in KEYS) + " |")
            if res and "ludvae synth" in res:
                rows.setdefault(g, []).append(dict(res["ludvae synth"], seed=s))
            if res and len(res) == 2:
                paired.append(res)
    print("| real camera noise | | – | – | – | – | – | %.4f | – | – |" % real["xcorr"])
    print()
    print("| trained by (seeds), synthesized by ludvae | " + " | ".join(name for _, name in KEYS) + " |")
    print("|---|" + "---|" * len(KEYS))
    for g, rs in rows.items():
        cells = []
        for k, _ in KEYS:
            v = np.array([r[k] for r in rs if k in r])
            if len(v) == 0:
                cells.append("–")
                continue
            sd = v.std(ddof=1) if len(v) > 1 else float("nan")
            cells.append("%.4g ± %.2g [%.4g, %.4g]" % (v.mean(), sd, v.min(), v.max()))
        print("| %s (%d) | " % (g, len(rs)) + " | ".join(cells) + " |")
    print()
    print("mean ± sample standard deviation over seeds [smallest, largest]")
    if len(groups) == 2:
        compare(rows, groups[0], groups[1])
    if paired:
        print()
        print("the same checkpoint synthesized by the eager reference (torch's generator) instead of ludvae synth,")
        print("largest |difference| over %d checkpoints:" % len(paired))
        for k, name in KEYS[3:7]:
            print("  %s: %.4g" % (name, max(abs(r["eager synth"][k] - r["ludvae synth"][k]) for r in paired)))


def compare(rows, a, b):
    """Prints a − b per statistic with Welch's t (|t| below ~2.8 at these
    few seeds is no evidence of a difference) and whether the ranges
    overlap; then, over the seeds both groups ran, the paired differences
    (a run of each group with one seed starts from the same weights), their
    mean ± sample standard deviation, paired t and how many are positive."""
    if a not in rows or b not in rows:
        return
    print()
    print("%s minus %s:" % (a, b))
    for k, name in KEYS:
        va = np.array([r[k] for r in rows[a] if k in r])
        vb = np.array([r[k] for r in rows[b] if k in r])
        if len(va) < 2 or len(vb) < 2:
            continue
        d = va.mean() - vb.mean()
        se = np.sqrt(va.var(ddof=1) / len(va) + vb.var(ddof=1) / len(vb))
        overlap = va.min() <= vb.max() and vb.min() <= va.max()
        print("  %s: %+.4g (Welch t %+.2f; ranges %s)" % (name, d, d / se if se > 0 else float("nan"),
                                                        "overlap" if overlap else "disjoint"))
    pa = {r["seed"]: r for r in rows[a]}
    pb = {r["seed"]: r for r in rows[b]}
    seeds = [s for s in pa if s in pb]
    if len(seeds) < 2:
        return
    print()
    print("paired by seed (%d seeds), %s minus %s: mean ± sd of the differences, paired t, positive" % (len(seeds), a, b))
    for k, name in KEYS:
        d = np.array([pa[s][k] - pb[s][k] for s in seeds if k in pa[s] and k in pb[s]])
        if len(d) < 2:
            continue
        sd = d.std(ddof=1)
        t = d.mean() / (sd / np.sqrt(len(d))) if sd > 0 else float("nan")
        print("  %s: %+.4g ± %.2g (paired t %+.2f; %d of %d positive)" % (name, d.mean(), sd, t, (d > 0).sum(), len(d)))


if __name__ == "__main__":
    main()
