#!/usr/bin/env python3
"""Phase table for issue 12's profile: tensorflow (bench/profile_phases.mjs JSON) against PyTorch
(bench/torch_profile.py JSON), per work (training step, AdamW, inference).
  python3 bench/profile_phases.py tf-2t=phases-tf-2t.json tf-1t=phases-tf-1t.json torch-1t=phases-torch-1t.json torch-2t=phases-torch-2t.json

tensorflow: each TF eager op's time (timed around tfjs-node's executeOp) goes to a phase by the
tfjs kernels that issued it (the stack recorded by profile_phases.mjs), its op name and shapes.
PyTorch: each aten op's *self* CPU time under torch.profiler goes to a phase by its own name, then
the names of the ops above it. "dispatch" rows count ops; their fixed cost is estimated from the
cheapest metadata-only op (tensorflow: Reshape; PyTorch: aten::view). PyTorch's op count is the aten ops
not nested in another aten op (its bmm alone runs one nested aten::select per matrix).
"""
import json
import statistics
import sys
from collections import defaultdict

PHASES = [
    "Linear matmuls (fwd + dX + dW, patch proj.)",
    "bias add (matmul epilogue)",
    "attention core matmuls (QKᵀ, AV + grads)",
    "softmax + score scaling (fwd + bwd)",
    "LayerNorm (fwd + bwd)",
    "GELU (fwd + bwd)",
    "reshapes / transposes / copies",
    "other elementwise (residuals, bias grads, loss)",
    "framework (autograd nodes, op wrappers)",
    "AdamW",
]
LAYOUT_TF = {"Reshape", "Transpose", "ConcatV2", "Slice", "Tile", "Identity", "PadV2", "SplitV", "StridedSlice"}


def square_scores(shapes):
    s = shapes[0] if shapes else None
    return bool(s) and len(s) >= 3 and s[-1] == s[-2] and s[-1] > 1


def tf_phase(r, work):
    if work == "adamw":
        return "AdamW"
    chain, op, outer, shapes = r["chain"], r["op"], r["outer"], r["shapes"]
    if any(n.startswith("VitlensLayerNorm") for n in chain):
        return "LayerNorm (fwd + bwd)"
    if any(n.startswith("VitlensGelu") for n in chain):
        return "GELU (fwd + bwd)"
    if op in LAYOUT_TF:
        return "reshapes / transposes / copies"
    if "_FusedMatMul" in chain:
        if op == "BatchMatMulV2":
            return "Linear matmuls (fwd + dX + dW, patch proj.)"
        if op in ("Add", "BiasAdd"):
            return "bias add (matmul epilogue)"
    if op == "BatchMatMulV2":
        return "Linear matmuls (fwd + dX + dW, patch proj.)" if shapes and len(shapes[0]) == 2 else "attention core matmuls (QKᵀ, AV + grads)"
    if op == "Softmax" or square_scores(shapes):
        return "softmax + score scaling (fwd + bwd)"
    return "other elementwise (residuals, bias grads, loss)"


TORCH_LAYOUT = {"aten::transpose", "aten::t", "aten::view", "aten::reshape", "aten::_reshape_alias", "aten::clone", "aten::copy_",
                "aten::contiguous", "aten::expand", "aten::permute", "aten::as_strided", "aten::_unsafe_view", "aten::cat",
                "aten::select", "aten::slice", "aten::unsqueeze", "aten::flatten", "aten::empty", "aten::empty_like",
                "aten::empty_strided", "aten::detach", "aten::resize_", "aten::zeros", "aten::zero_", "aten::fill_", "aten::squeeze",
                "aten::split", "aten::narrow", "aten::stride", "aten::_to_copy", "aten::to", "aten::new_empty_strided", "aten::unbind"}
TORCH_WRAPPERS = {"aten::linear", "aten::matmul", "aten::conv2d", "aten::convolution", "aten::_convolution", "aten::softmax",
                  "aten::layer_norm", "aten::cross_entropy_loss"}


def torch_phase(e, work):
    if work == "adamw":
        return "AdamW"
    name, chain = e["name"], e["chain"]
    everything = chain + [name]
    if any("layer_norm" in n or "LayerNorm" in n for n in everything):
        return "LayerNorm (fwd + bwd)"
    if any("gelu" in n.lower() for n in everything):
        return "GELU (fwd + bwd)"
    if name in ("aten::_softmax", "aten::_softmax_backward_data", "aten::softmax") or any("Softmax" in n for n in chain):
        return "softmax + score scaling (fwd + bwd)"
    if name == "aten::div" and square_scores(e["shapes"]) or any("DivBackward" in n for n in chain):
        return "softmax + score scaling (fwd + bwd)"
    if name == "aten::bmm":
        return "attention core matmuls (QKᵀ, AV + grads)"
    if name in ("aten::addmm", "aten::mm", "aten::mkldnn_convolution", "aten::convolution_backward", "aten::thnn_conv2d", "aten::_slow_conv2d_forward", "aten::_slow_conv2d_backward"):
        return "Linear matmuls (fwd + dX + dW, patch proj.)"
    if name == "aten::copy_" and chain and chain[-1] == "aten::addmm":
        return "bias add (matmul epilogue)"
    if name in TORCH_LAYOUT or name.startswith("aten::_reshape"):
        return "reshapes / transposes / copies"
    if name in TORCH_WRAPPERS or name.startswith("autograd::") or "Backward" in name or name.startswith("Optimizer."):
        return "framework (autograd nodes, op wrappers)"
    return "other elementwise (residuals, bias grads, loss)"


def load(spec):
    label, path = spec.split("=", 1)
    d = json.load(open(path))
    kind = "torch" if "torch" in d else "tf"
    rows = {}
    for work, s in d["sections"].items():
        acc = defaultdict(float)
        if kind == "tf":
            ops = sum(r["calls"] for r in s["ops"])
            for r in s["ops"]:
                acc[tf_phase(r, work)] += r["ms"]
            reshape = [r for r in s["ops"] if r["op"] == "Reshape"]
            fixed_us = 1000 * sum(r["ms"] for r in reshape) / sum(r["calls"] for r in reshape) if reshape else float("nan")
            measured = s["instrumentedMs"]
        else:
            # Ops issued by Python or autograd (not nested in another aten op): what pays dispatch.
            ops = sum(1 for e in s["events"] if e["name"].startswith("aten::") and not any(c.startswith("aten::") for c in e["chain"]))
            for e in s["events"]:
                acc[torch_phase(e, work)] += e["selfUs"] / 1000
            views = [e for e in s["events"] if e["name"] == "aten::view"]
            fixed_us = statistics.median([e["selfUs"] for e in views]) if views else float("nan")
            measured = s["profiledMs"]
        if work == "adamw" and "train" in rows:
            fixed_us = rows["train"]["fixedUs"]
        rows[work] = {"phases": dict(acc), "ops": ops, "fixedUs": fixed_us, "wallMs": s["wallMs"], "measuredMs": measured,
                      "accounted": sum(acc.values())}
    return label, d, rows


def main():
    runs = [load(a) for a in sys.argv[1:]]
    labels = [l for l, _, _ in runs]
    for work, title in (("train", "training step, forward + loss + backward"), ("adamw", "AdamW update"), ("infer", "inference forward")):
        batch = {"train": "trainBatch", "infer": "inferBatch"}.get(work)
        print(f"\n### {title}" + (f" (batch {runs[0][1][batch]})" if batch else "") + "\n")
        print("| phase | " + " | ".join(f"{l} ms" for l in labels) + " |")
        print("| --- |" + " --- |" * len(labels))
        for p in PHASES:
            vals = [r[work]["phases"].get(p, 0.0) for _, _, r in runs]
            if all(v < 0.05 for v in vals):
                continue
            print(f"| {p} | " + " | ".join(f"{v:.1f}" for v in vals) + " |")
        print("| **sum of the rows** | " + " | ".join(f"**{r[work]['accounted']:.0f}**" for _, _, r in runs) + " |")
        print("| wall, profiled run | " + " | ".join(f"{r[work]['measuredMs']:.0f}" for _, _, r in runs) + " |")
        print("| wall, median of unprofiled runs | " + " | ".join(f"{r[work]['wallMs']:.0f}" for _, _, r in runs) + " |")
        print("| not in any op: tfjs engine + tape / Python + autograd (wall, profiled − sum) | " + " | ".join(f"{r[work]['measuredMs'] - r[work]['accounted']:.0f}" for _, _, r in runs) + " |")
        print("| ops dispatched (TF eager ops / top-level aten ops) | " + " | ".join(f"{r[work]['ops']}" for _, _, r in runs) + " |")
        print("| fixed cost per op, µs (TF Reshape mean / aten::view median) | " + " | ".join(f"{r[work]['fixedUs']:.1f}" for _, _, r in runs) + " |")
        print("| ops × fixed cost, ms | " + " | ".join(f"{r[work]['ops'] * r[work]['fixedUs'] / 1000:.1f}" for _, _, r in runs) + " |")


if __name__ == "__main__":
    main()
