#!/usr/bin/env bash
# gpu-check.sh: the one-shot check for a machine with an NVIDIA GPU, PyTorch
# and nvcc but no Go and no network, as the lent GPU machines are.
#
# Here (with Go):   make gpu-check-prepare   # bin/ludvae and bin/*.test
# There:            make gpu-check           # carry bin/ along
# Here, on the CPU: make gpu-check GPU=0     # the same script end to end
#
# It rebuilds only the shim (with CUDA, against the pip torch's libtorch),
# runs the carried test binaries (fused kernels: CUDA ε equal to CPU ε,
# float64 gradcheck; the fused Adam; the official-vector parity; CUDA-graph
# steps against op-by-op ones; bf16 training against fp32; each on CUDA
# where present), the commands themselves (train, resume, synth,
# export) on the device, then the benchmarks against PyTorch eager
# (fp32 and bf16 on a GPU, fp32 on the CPU; on a GPU also bf16 training op
# by op instead of as a CUDA graph, in NCHW and at batch 16), and prints a
# short table last.
# It exits non-zero if any check failed, after running everything.
set -euo pipefail
cd "$(dirname "$0")/.."
GPU=${GPU:-1}
PY=${PY:-python3}
for b in bin/ludvae bin/torchbind.test bin/model.test bin/train.test; do
  [ -x "$b" ] || { echo "gpu-check: $b is missing: run 'make gpu-check-prepare' where Go is, and carry bin/" >&2; exit 1; }
done
echo "== machine"
dev=cuda
if [ "$GPU" = 0 ]; then
  dev=cpu
  PY=/usr/bin/python3
  make_args=()
else
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  # An image built with CUDNN=none has no libcudnn.so.9, which Debian's torch
  # needs to import at all: say so instead of ending in a traceback only.
  libtorch=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))') || {
    echo "gpu-check: $PY cannot import torch (above); in ludvae:cuda-gpu-check built with CUDNN=none there is no cuDNN: build it with CUDNN=nvidia" >&2
    exit 1
  }
  "$PY" -c 'import torch; assert torch.cuda.is_available(), "torch sees no CUDA device"'
  # -o deps: no apt on the GPU machine. A pip torch carries its libtorch;
  # Debian's python3-torch-cuda has none beside it and runs on the system's
  # libtorch-cuda-dev (Dockerfile.cuda-debian's gpu-check target).
  if [ -f "$libtorch/include/torch/script.h" ]; then
    make_args=(-o deps LIBTORCH="$libtorch" PY="$PY")
    export LD_LIBRARY_PATH="$PWD/bin:$libtorch/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  else
    make_args=(-o deps PY="$PY")
  fi
  { command -v nvcc && nvcc --version | tail -n 1; } || true
fi
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
make -s "${make_args[@]}" libtorch-info
echo "== shim"
make "${make_args[@]}" shim
bin/ludvae version

# A failing check is reported and the rest still runs: the benchmarks are
# worth having from a machine lent for minutes.
failed=()
check() { # name dir binary pattern
  echo "== $1"
  local out
  out=$(cd "$2" && "../$3" -test.run "$4" -test.v 2>&1) || failed+=("$1")
  grep -E '^(--- |ok|PASS|FAIL|panic)|_test.go:[0-9]+:' <<<"$out" || true
}
check "fused kernels, fused Adam, binding, CPU allocator (CUDA tests skip without a card)" torchbind bin/torchbind.test 'Kernel|Errors|Memory|CPUCache|AdamFused'
check "official-vector parity" model bin/model.test 'Parity'
check "CUDA-graph steps match op-by-op steps; bf16 training tracks fp32" train bin/train.test 'GraphStep|BF16'

# The commands end to end on the device: train 20 steps, resume to 40 (bf16
# on a GPU), synthesize tile by tile twice (the same bytes), export, and run
# the export in torch.
cli() {
  local d=$1 p=fp32
  [ "$dev" = cuda ] && p=bf16
  "$PY" - "$d" <<'PYEOF' || return 1
import os, sys
import numpy as np
from PIL import Image
rng = np.random.default_rng(1)
for dom in ("clean", "noisy"):
    os.makedirs(os.path.join(sys.argv[1], dom))
    for i in range(4):
        yy, xx = np.mgrid[0:48, 0:40] / 40.0
        img = 0.5 + 0.35 * np.sin(np.stack([xx * (i + 2) + c + yy * 3 for c in range(3)], -1))
        if dom == "noisy":
            img = img + 0.08 * rng.standard_normal(img.shape)
        Image.fromarray((np.clip(img, 0, 1) * 255).round().astype(np.uint8)).save(os.path.join(sys.argv[1], dom, "p%d.png" % i))
PYEOF
  # --normalize auto: the colour map of the degraded crops runs too.
  local common=(--clean "$d/clean" --noisy "$d/noisy" --out "$d/run" --filters 16 --patch 32 --batch 4
    --normalize auto --save-every 20 --sample-every 20 --log-every 10 --device "$dev" --precision "$p")
  bin/ludvae train "${common[@]}" --steps 20 >"$d/first.log" 2>&1 || { tail -n 5 "$d/first.log"; return 1; }
  bin/ludvae train "${common[@]}" --steps 40 >"$d/second.log" 2>&1 || { tail -n 5 "$d/second.log"; return 1; }
  grep -h "resuming from" "$d/second.log" || { echo "the second run did not resume"; tail -n 5 "$d/second.log"; return 1; }
  tail -n 2 "$d/second.log"
  [ "$(wc -l <"$d/run/log.csv")" = 5 ] || { echo "log.csv: $(wc -l <"$d/run/log.csv") lines, want 5"; return 1; }
  local s
  for s in synth synth2; do
    bin/ludvae synth --model "$d/run/ckpt_00000040.pth" --clean "$d/clean" --out "$d/$s" --tile 32 \
      --device "$dev" --precision "$p" 2>&1 | tail -n 1 || return 1
  done
  [ "$(ls "$d/synth/L" | wc -l)" = 4 ] || { echo "synth wrote $(ls "$d/synth/L" | wc -l) images, want 4"; return 1; }
  diff -r -q "$d/synth/L" "$d/synth2/L" || { echo "the same seed gave other bytes on $dev"; return 1; }
  echo "the same seed gave the same bytes on $dev"
  bin/ludvae export --model "$d/run/ckpt_00000040.pth" --torchscript "$d/g.pt" || return 1
  "$PY" -c 'import sys, torch
g = torch.jit.load(sys.argv[1]).to(sys.argv[2])
y = g(torch.rand(2, 3, 32, 32, device=sys.argv[2]), torch.tensor([30.0, 50.0], device=sys.argv[2]))
assert y.shape == (2, 3, 32, 32) and bool(torch.isfinite(y).all()), y.shape
print("TorchScript generator ran on", y.device)' "$d/g.pt" "$dev"
}
echo "== ludvae train, resume, synth, export on $dev"
clidir=$(mktemp -d)
cli "$clidir" || failed+=("ludvae train/synth/export on $dev")
rm -rf "$clidir"

# On the GPU: fp32 against eager fp32 (the CPU target), bf16 against eager
# fp32 (the H100 target: at most 0.5), and eager bf16 for reference.
precisions=fp32
iters=(--iters 20)
if [ "$dev" = cuda ]; then
  precisions="fp32 bf16"
  iters=(--iters 200 --warmup 20)
fi
echo "== benchmarks ($dev: $precisions)"
results=()
bench() { # name command...: one JSON line into results, or a failure noted
  local name=$1 r
  shift
  if r=$("$@"); then results+=("$r"); else failed+=("benchmark: $name"); fi
}
for task in train synth; do
  for p in $precisions; do
    bench "ludvae $task $p" bin/ludvae bench "$task" --device "$dev" --precision "$p" "${iters[@]}"
    bench "eager $task $p" "$PY" model/python/bench_eager.py "$task" --device "$dev" --precision "$p" "${iters[@]}"
  done
done
if [ "$dev" = cuda ]; then
  # What the CUDA graphs bring.
  bench "ludvae train bf16 op by op" bin/ludvae bench train --device cuda --precision bf16 --cuda-graphs=false "${iters[@]}"
  # Is channels-last the right default for CUDA training?
  bench "ludvae train bf16 nchw" bin/ludvae bench train --device cuda --precision bf16 --layout nchw "${iters[@]}"
  # Four times the work per step: a step that takes barely longer is bound
  # by kernel launches and host overhead rather than by the GPU's work.
  bench "ludvae train bf16 batch 16" bin/ludvae bench train --device cuda --precision bf16 --batch 16 "${iters[@]}"
  bench "eager train bf16 batch 16" "$PY" model/python/bench_eager.py train --device cuda --precision bf16 --batch 16 "${iters[@]}"
fi
"$PY" - "${results[@]}" <<'PYEOF'
import json, sys
rows = [json.loads(a) for a in sys.argv[1:]]
print("\n%-6s %-14s %-6s %-6s %-6s %5s %-8s %10s %10s %9s" % ("task", "impl", "dtype", "layout", "graphs", "batch", "device", "ms/iter", "images/s", "peak MiB"))
for r in rows:
    print("%-6s %-14s %-6s %-6s %-6s %5d %-8s %10.2f %10.1f %9.0f" % (r["task"], r["impl"], r["dtype"], r.get("layout", "nchw"), "yes" if r.get("cuda_graphs") else "no", r["batch"], r["device"], r["ms_per_iter"], r["images_per_s"], r["peak_mib"]))
ms = {}
for r in rows:  # the first row of each kind: the default layout and batch
    ms.setdefault((r["task"], r["impl"], r["dtype"]), r["ms_per_iter"])
big = {r["impl"]: r["ms_per_iter"] for r in rows if r["task"] == "train" and r["dtype"] == "bf16" and r["batch"] == 16}
for impl, t in sorted(big.items()):
    if ("train", impl, "bf16") in ms:
        print("train bf16: %s batch 16 / batch 4 = %.2f (near 1: launch-bound; near 4: compute-bound)" % (impl, t / ms[("train", impl, "bf16")]))
plain = [r["ms_per_iter"] for r in rows if r["task"] == "train" and r["impl"] == "ludvae" and r["dtype"] == "bf16" and r["batch"] == 4 and not r.get("cuda_graphs")]
if plain and ("train", "ludvae", "bf16") in ms:
    print("train bf16: ludvae CUDA graphs / op by op = %.2f" % (ms[("train", "ludvae", "bf16")] / plain[0]))
for task in ("train", "synth"):
    base = ms.get((task, "pytorch-eager", "fp32"))
    for p in ("fp32", "bf16"):
        if base and (task, "ludvae", p) in ms:
            print("%s: ludvae %s / eager fp32 = %.2f" % (task, p, ms[(task, "ludvae", p)] / base))
synth = [r for r in rows if r["task"] == "synth" and r["impl"] == "ludvae"]
if synth:
    best = min(synth, key=lambda r: r["ms_per_iter"])
    print("synth: %.2f ms per %dx%d image at best (ludvae %s)" % (best["ms_per_iter"], best["size"], best["size"], best["dtype"]))
PYEOF
if [ ${#failed[@]} -gt 0 ]; then
  printf 'gpu-check: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "gpu-check: all checks passed"
