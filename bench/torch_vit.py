#!/usr/bin/env python3
"""PyTorch reference for the vitlens benchmark: the same ViT (Hugging Face ViTForImageClassification
layout: pre-LayerNorm blocks, separate Q/K/V Linears with bias, exact-erf GELU, CLS token, learned
position embeddings, final LayerNorm, classifier on the CLS token), the same batch, the same step
(forward + cross-entropy + backward + AdamW). No `transformers` dependency.

Prints one JSON line. Run through `pnpm bench --compare torch`, which sets the fair environment
(see bench/README.md); alone:
  python3 bench/torch_vit.py --mode train --config '{"hidden_size":192,...}' --batch 128 --threads 1
  python3 bench/torch_vit.py --mode mm --threads 2      # 2048² torch.mm GFLOP/s (is OpenBLAS in use?)
"""
import argparse
import json
import math
import resource
import statistics
import sys
import time

import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, d, heads, qkv_bias):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(d, d, bias=qkv_bias)
        self.key = nn.Linear(d, d, bias=qkv_bias)
        self.value = nn.Linear(d, d, bias=qkv_bias)
        self.output = nn.Linear(d, d)

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.heads

        def split(y):  # [B, T, D] -> [B, heads, T, hd]
            return y.view(b, t, self.heads, hd).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1)  # [B, heads, T, T]
        ctx = (probs @ v).transpose(1, 2).reshape(b, t, d)
        return self.output(ctx)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["hidden_size"], c["layer_norm_eps"]
        self.ln1 = nn.LayerNorm(d, eps=eps)
        self.attn = Attention(d, c["num_attention_heads"], c["qkv_bias"])
        self.ln2 = nn.LayerNorm(d, eps=eps)
        self.fc1 = nn.Linear(d, c["intermediate_size"])
        self.fc2 = nn.Linear(c["intermediate_size"], d)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(nn.functional.gelu(self.fc1(self.ln2(x))))


class ViT(nn.Module):
    def __init__(self, c, num_labels):
        super().__init__()
        d, p = c["hidden_size"], c["patch_size"]
        self.patch = nn.Conv2d(c["num_channels"], d, kernel_size=p, stride=p)
        n = (c["image_size"] // p) ** 2
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, n + 1, d) * c["initializer_range"])
        self.blocks = nn.ModuleList([Block(c) for _ in range(c["num_hidden_layers"])])
        self.ln = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.head = nn.Linear(d, num_labels)

    def forward(self, x):  # x: [B, 3, H, W]
        x = self.patch(x).flatten(2).transpose(1, 2)  # [B, N, D]
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln(x)[:, 0])


def timed(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["train", "infer", "mm"], required=True)
    ap.add_argument("--config", help="ViTConfig JSON (Hugging Face field names)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "mode": a.mode, "batch": a.batch}

    if a.mode == "mm":
        x, y = torch.randn(2048, 2048), torch.randn(2048, 2048)
        secs = timed(lambda: torch.mm(x, y), 2, max(a.reps, 3))
        s = statistics.median(secs)
        print(json.dumps({**info, "gflops": 2 * 2048**3 / s / 1e9, "runs": secs}))
        return

    c = json.loads(a.config)
    num_labels = len(c.get("id2label", {})) or 10
    model = ViT(c, num_labels)
    x = torch.randn(a.batch, c["num_channels"], c["image_size"], c["image_size"])
    labels = torch.arange(a.batch) % num_labels

    if a.mode == "infer":
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
    else:
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(x), labels)
            loss.backward()
            opt.step()

    secs = timed(step, a.warmup, a.reps)
    s = statistics.median(secs)
    # ru_maxrss is KiB on Linux: the process's own peak, as the Node jobs report theirs.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({**info, "imagesPerSecond": a.batch / s, "runs": secs, "peakRssMiB": round(peak)}))


if __name__ == "__main__":
    sys.exit(main())
