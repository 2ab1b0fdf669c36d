"""Summarize `make bench`'s alternated rounds: read JSON lines from the
file given (ludvae's line, then bench_eager.py's, round after round) and
print each round's ratio of ludvae's time to eager's, their median, and the
CPU and instruction set they ran on. One pair of runs on a shared or
virtual machine moves by ±0.05 or more between rounds; the median of
alternated rounds is the figure to quote, with the range beside it.

    /usr/bin/python3 model/python/bench_ratio.py build/bench-train.jsonl
"""
import json
import statistics
import sys


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    if len(rows) < 2 or len(rows) % 2:
        sys.exit("%s: %d JSON lines, want pairs of ludvae and eager" % (sys.argv[1], len(rows)))
    pairs = list(zip(rows[0::2], rows[1::2]))
    for a, b in pairs:
        if a.get("impl") != "ludvae" or b.get("impl") != "pytorch-eager" or a["task"] != b["task"]:
            sys.exit("%s: a pair is not ludvae then eager of one task: %s, %s" % (sys.argv[1], a.get("impl"), b.get("impl")))
    ratios = [a["ms_per_iter"] / b["ms_per_iter"] for a, b in pairs]
    a = pairs[0][0]
    for i, ((x, y), r) in enumerate(zip(pairs, ratios), 1):
        print("  round %d: ludvae %.1f ms (layout %s), pytorch eager %.1f ms, ratio %.3f" % (i, x["ms_per_iter"], x["layout"], y["ms_per_iter"], r))
    onednn = "on" if a.get("onednn") else "off"
    if a.get("onednn") and a.get("onednn_max_cpu_isa"):
        onednn += ", capped at " + a["onednn_max_cpu_isa"]
    print("%s on %s: ratio median %.3f (%.3f–%.3f over %d alternated rounds); CPU %s, libtorch kernels %s, oneDNN %s, flags %s, %d threads" % (
        a["task"], a["device"], statistics.median(ratios), min(ratios), max(ratios), len(ratios),
        a["cpu"], a["cpu_capability"], onednn, a["cpu_flags"] or "-", a["threads"]))


if __name__ == "__main__":
    main()
