"""PyTorch-eager baseline for `ludvae bench`: the same training step and
C2N synthesis with the reference network (ludvae_ref.py, the authors'
masked computation), printing one JSON line with the same fields.

    /usr/bin/python3 model/python/bench_eager.py train|synth [--filters 128 ...]
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ludvae_ref import LUDVAE  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("task", choices=["train", "synth"])
    p.add_argument("--filters", type=int, default=128)
    p.add_argument("--levels", type=int, default=3)
    p.add_argument("--batch", type=int, default=0)
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--precision", choices=["fp32", "tf32", "bf16"], default="fp32")
    a = p.parse_args()
    a.batch = a.batch or {"train": 4, "synth": 1}[a.task]
    a.size = a.size or {"train": 32, "synth": 256}[a.task]
    # Debian's torch starts with one intra-op thread; match ludvae (one per CPU).
    torch.set_num_threads(a.threads or os.cpu_count())
    dev = torch.device(a.device)
    tf32 = a.precision != "fp32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    # As ludvae sets it: cuDNN times its algorithms for training's fixed crop
    # shapes (the stricter baseline; the authors' scripts leave it off).
    torch.backends.cudnn.benchmark = dev.type == "cuda" and a.task == "train"
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=a.precision == "bf16")
    m = LUDVAE(3, a.filters, a.levels).to(dev)
    opt = torch.optim.Adam(m.parameters(), lr=1e-4)
    mask = torch.tensor([float(i % 2 == 0) for i in range(a.batch)], device=dev)

    def train_step():
        x = torch.rand(a.batch, 3, a.size, a.size, device=dev)
        hx = x + torch.randn_like(x) * 30 / 255
        opt.zero_grad()
        with autocast:
            loss, _, _, _ = m.loss(x, hx, mask, 1e-4)
        loss.backward()
        opt.step()

    def synth_step():
        x = torch.rand(a.batch, 3, a.size, a.size, device=dev)
        hx = x + torch.randn_like(x) * 50 / 255
        with autocast:
            m.translate(hx, 1.0)

    step = train_step if a.task == "train" else synth_step
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    for _ in range(a.warmup):
        step()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    sync()
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(a.iters):
        step()
    sync()
    el = time.perf_counter() - t0
    cpu = time.process_time() - c0
    peak = (torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps({
        "impl": "pytorch-eager", "task": a.task, "ms_per_iter": 1000 * el / a.iters,
        "cpu_ms_per_iter": 1000 * cpu / a.iters,
        "images_per_s": a.iters * a.batch / el, "peak_mib": peak, "device": str(dev),
        "dtype": a.precision, "filters": a.filters, "levels": a.levels, "batch": a.batch,
        "size": a.size, "iters": a.iters, "threads": torch.get_num_threads(),
        "libtorch": torch.__version__, "cpu": cpu_model(), "cpu_capability": cpu_capability()}))


def cpu_model():
    """/proc/cpuinfo's model name, as ludvae bench reports it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return ""


def cpu_capability():
    """The instruction set torch's CPU kernels run with (AVX2, AVX512)."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return ""


if __name__ == "__main__":
    main()
