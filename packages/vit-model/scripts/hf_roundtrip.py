#!/usr/bin/env python3
"""Cross-check vitlens against the real Hugging Face `transformers` (run where it is installed).

1. A checkpoint written by vitlens (export-for-hf.mjs) loads with
   transformers.ViTForImageClassification.from_pretrained and gives the same logits and attentions.
2. A checkpoint written by transformers itself (save_pretrained of a fresh random ViT) is saved
   with its golden logits/attentions for fixed inputs, to be committed as a vitlens test fixture.

Usage: python3 hf_roundtrip.py <vitlens-export-dir> <out-dir>
  <vitlens-export-dir> comes from `node packages/vit-model/scripts/export-for-hf.mjs <dir>`.
  The committed fixture test/fixtures/hf-written/ is then <out-dir>/hf-written/{config.json,
  model.safetensors}, <out-dir>/report.json as hf-roundtrip-report.json, and golden.safetensors made
  from golden.json by `node packages/vit-model/scripts/hf-golden-to-safetensors.mjs
  <out-dir>/hf-written/golden.json` (test/hf-golden.test.ts checks that step on the committed file).
"""
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import ViTConfig, ViTForImageClassification

export_dir, out_dir = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
report = {"transformers": transformers.__version__, "torch": torch.__version__}

# 1. vitlens → transformers
model = ViTForImageClassification.from_pretrained(os.path.join(export_dir, "checkpoint"), attn_implementation="eager")
model.eval()
ref = json.load(open(os.path.join(export_dir, "vitlens-outputs.json")))
x = torch.tensor(ref["inputs"], dtype=torch.float32).reshape(ref["inputShapeNHWC"]).permute(0, 3, 1, 2)
with torch.no_grad():
    out = model(pixel_values=x, output_attentions=True)
logits = out.logits.numpy().reshape(-1)
att = out.attentions[-1].numpy().reshape(-1)
report["vitlens_to_hf"] = {
    "logits_max_abs_diff": float(np.abs(logits - np.array(ref["logits"])).max()),
    "last_attention_max_abs_diff": float(np.abs(att - np.array(ref["lastAttention"])).max()),
    "argmax_equal": bool((out.logits.argmax(-1).numpy() == np.array(ref["logits"]).reshape(ref["logitsShape"]).argmax(-1)).all()),
}

# 2. transformers → vitlens fixture
cfg = ViTConfig(hidden_size=48, num_hidden_layers=2, num_attention_heads=3, intermediate_size=96,
                image_size=24, patch_size=4, num_labels=5, id2label={i: f"class{i}" for i in range(5)},
                label2id={f"class{i}": i for i in range(5)}, attn_implementation="eager")
torch.manual_seed(1234)
hf = ViTForImageClassification(cfg).eval()
# a non-trivial init for LayerNorm and biases so every parameter matters
with torch.no_grad():
    for name, p in hf.named_parameters():
        if "layernorm" in name or name.endswith("bias"):
            p.add_(0.1 * torch.randn_like(p))
hf_dir = os.path.join(out_dir, "hf-written")
hf.save_pretrained(hf_dir, safe_serialization=True)
g = torch.Generator().manual_seed(99)
inputs = torch.randn(2, 3, 24, 24, generator=g)
with torch.no_grad():
    o = hf(pixel_values=inputs, output_attentions=True)
json.dump({
    "transformers": transformers.__version__,
    "inputsNCHW": inputs.numpy().reshape(-1).tolist(), "inputShapeNCHW": list(inputs.shape),
    "logits": o.logits.numpy().reshape(-1).tolist(), "logitsShape": list(o.logits.shape),
    "attentions": [a.numpy().reshape(-1).tolist() for a in o.attentions], "attentionShape": list(o.attentions[0].shape),
}, open(os.path.join(hf_dir, "golden.json"), "w"))
report["hf_written_files"] = sorted(os.listdir(hf_dir))
json.dump(report, open(os.path.join(out_dir, "report.json"), "w"), indent=2)
print(json.dumps(report, indent=2))
