#!/usr/bin/env bash
# gpu-check.sh: the one-shot check for a machine with an NVIDIA GPU, PyTorch
# and nvcc but no Go and no network (DESIGN.md §4).
#
# Here (with Go):   make gpu-check-prepare   # bin/ludvae and bin/*.test
# There:            make gpu-check           # carry bin/ along
# Here, on the CPU: make gpu-check GPU=0     # the same script end to end
#
# It rebuilds only the shim (with CUDA, against the pip torch's libtorch),
# runs the carried test binaries (fused kernels: CUDA ε equal to CPU ε,
# float64 gradcheck; the official-vector parity, on CUDA where present),
# then the benchmarks against PyTorch eager, and prints a short table last.
set -euo pipefail
cd "$(dirname "$0")/.."
GPU=${GPU:-1}
PY=${PY:-python3}
dev=cuda
make_flags=()
if [ "$GPU" = 0 ]; then
  dev=cpu
  PY=/usr/bin/python3
  make shim
else
  libtorch=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))')
  "$PY" -c 'import torch; assert torch.cuda.is_available(), "torch sees no CUDA device"'
  # -o deps: no apt on the GPU machine; its torch is the pip one.
  make -o deps shim LIBTORCH="$libtorch" PY="$PY"
  export LD_LIBRARY_PATH="$PWD/bin:$libtorch/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
for b in bin/ludvae bin/torchbind.test bin/model.test; do
  [ -x "$b" ] || { echo "gpu-check: $b is missing: run 'make gpu-check-prepare' where Go is, and carry bin/" >&2; exit 1; }
done
bin/ludvae version

echo "== fused kernels and binding (CUDA tests skip without a card)"
(cd torchbind && ../bin/torchbind.test -test.run 'Kernel|Errors|Memory' -test.v 2>&1 | grep -E '^(--- |ok|PASS|FAIL)' )
echo "== official-vector parity"
(cd model && ../bin/model.test -test.run 'Parity' -test.v 2>&1 | grep -E '^(--- |ok|PASS|FAIL)|largest' )

echo "== benchmarks ($dev)"
results=()
for task in train synth; do
  ours=$(bin/ludvae bench "$task" --device "$dev")
  theirs=$("$PY" model/python/bench_eager.py "$task" --device "$dev")
  results+=("$ours" "$theirs")
done
"$PY" - "${results[@]}" <<'PYEOF'
import json, sys
rows = [json.loads(a) for a in sys.argv[1:]]
print("\n%-6s %-14s %-8s %12s %12s %10s" % ("task", "impl", "device", "ms/iter", "images/s", "peak MiB"))
for r in rows:
    print("%-6s %-14s %-8s %12.2f %12.1f %10.0f" % (r["task"], r["impl"], r["device"], r["ms_per_iter"], r["images_per_s"], r["peak_mib"]))
for i in range(0, len(rows), 2):
    print("%s: ludvae / eager = %.2f" % (rows[i]["task"], rows[i]["ms_per_iter"] / rows[i + 1]["ms_per_iter"]))
PYEOF
