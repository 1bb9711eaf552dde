#!/usr/bin/env python3
"""Where PyTorch's time goes on the bench's reference ViT (bench/torch_vit.py), by phase, for issue 12's
profile: one training step (forward + cross-entropy + backward), one AdamW step and one forward pass,
timed without the profiler (median of --reps) and then once under torch.profiler. Every profiled aten
op's *self* CPU time is kept with the names of the ops above it and its input shapes, so
bench/profile_phases.py can put both backends into the same phases. Prints one JSON object.

Run it with the environment `pnpm bench --compare torch` uses (bench/README.md), e.g.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 \
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_profile.py --threads 1 > phases-torch-1t.json
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_vit import ViT  # noqa: E402

VIT_MINI = {"hidden_size": 128, "num_hidden_layers": 6, "num_attention_heads": 4, "intermediate_size": 512,
            "initializer_range": 0.02, "layer_norm_eps": 1e-12, "image_size": 32, "patch_size": 4,
            "num_channels": 3, "qkv_bias": True}


def events_of(prof):
    """Flatten the profiler's event tree: (name, self µs, ancestor names, input shapes)."""
    out = []

    def walk(ev, chain):
        out.append({"name": ev.name, "selfUs": ev.self_cpu_time_total, "chain": chain,
                    "shapes": [list(s) for s in (ev.input_shapes or []) if isinstance(s, (list, tuple))]})
        for c in ev.cpu_children:
            walk(c, chain + [ev.name])

    for ev in prof.events():
        if ev.cpu_parent is None:
            walk(ev, [])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", help="ViTConfig JSON (default: vit-mini-patch4-32)")
    ap.add_argument("--train-batch", type=int, default=128)
    ap.add_argument("--infer-batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = json.loads(a.config) if a.config else VIT_MINI
    model = ViT(c, 10)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    xt = torch.randn(a.train_batch, c["num_channels"], c["image_size"], c["image_size"])
    yt = torch.arange(a.train_batch) % 10
    xi = torch.randn(a.infer_batch, c["num_channels"], c["image_size"], c["image_size"])

    def train():
        model.train()
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(xt), yt).backward()

    def adamw():
        opt.step()

    def infer():
        model.eval()
        with torch.no_grad():
            model(xi)

    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "trainBatch": a.train_batch,
           "inferBatch": a.infer_batch, "reps": a.reps, "sections": {}}
    train()  # gradients exist for the AdamW step
    for label, fn in (("train", train), ("adamw", adamw), ("infer", infer)):
        fn()
        walls = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            fn()
            walls.append((time.perf_counter() - t0) * 1000)
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            t0 = time.perf_counter()
            fn()
            profiled = (time.perf_counter() - t0) * 1000
        evs = events_of(prof)
        out["sections"][label] = {"wallMs": statistics.median(walls), "walls": walls, "profiledMs": profiled,
                                  "atenOps": sum(1 for e in evs if e["name"].startswith("aten::")), "events": evs}
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
