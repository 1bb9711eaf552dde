#!/usr/bin/env python3
"""Check the DeiT and headless-ViT layouts against the real Hugging Face `transformers`.

Three checks, each printing the max abs difference of every compared tensor:

  fixtures [dir]        the make_golden_layouts.py fixtures load with transformers'
                        DeiTForImageClassificationWithTeacher / DeiTForImageClassification / ViTModel
                        (from_pretrained, no missing or unexpected keys) and reproduce the golden
                        logits, attentions, hidden states, pooler output, the interpolate_pos_encoding
                        runs and the gradients of the target w.r.t. every attention map (float64)
  vitlens <dir>         checkpoints saved by vitlens (scripts/export-layouts-for-hf.mjs) load with
                        from_pretrained without missing or unexpected keys and give vitlens's outputs
  write-hf <dir>        save_pretrained of fresh random models of each architecture, with their outputs
                        for fixed inputs (golden.safetensors), to commit as test/fixtures/hf-written-layouts

Needs torch, numpy, safetensors and transformers. Exit status 1 if a difference exceeds the tolerance.
Usage: python3 scripts/check_layouts_with_transformers.py fixtures|vitlens|write-hf [dir] [--tolerance 1e-4] [--report file.json]
(test/fixtures/hf-written-layouts/transformers-check.json holds the committed runs of `fixtures` and `vitlens`.)
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'test', 'fixtures')


class Report:
    def __init__(self, tolerance):
        self.tolerance = tolerance
        self.worst = 0.0
        self.rows = []

    def diff(self, name, actual, expected):
        d = (torch.as_tensor(actual).detach().double() - torch.as_tensor(expected).double()).abs().max().item()
        self.worst = max(self.worst, d)
        self.rows.append((name, d))
        print(f'  {name:<48} max abs diff {d:.3e}')

    def relative(self, name, actual, expected):
        """Gradients vary in scale: the difference relative to the largest reference entry."""
        expected = torch.as_tensor(expected).double()
        scale = expected.abs().max().item()
        d = (actual.detach().double() - expected).abs().max().item() / max(scale, 1e-12)
        self.worst = max(self.worst, d)
        self.rows.append((name, d))
        print(f'  {name:<48} max rel diff {d:.3e} (scale {scale:.2e})')


def hf_class(architecture):
    import transformers
    return getattr(transformers, architecture)


def load(folder, report):
    config = json.load(open(os.path.join(folder, 'config.json')))
    architecture = config['architectures'][0]
    cls = hf_class(architecture)
    keys = load_file(os.path.join(folder, 'model.safetensors')).keys()
    kwargs = {}
    if architecture in ('ViTModel', 'DeiTModel'):
        kwargs['add_pooling_layer'] = any(k.startswith('pooler.') for k in keys)
    model, info = cls.from_pretrained(folder, attn_implementation='eager', output_loading_info=True, **kwargs)
    problems = {k: v for k, v in info.items() if v and k in ('missing_keys', 'unexpected_keys', 'mismatched_keys')}
    print(f'{os.path.basename(folder)}: {architecture}.from_pretrained, loading info {problems or "clean"}')
    if problems:
        report.worst = float('inf')
    return model.double().eval(), architecture


def nchw(x):
    return torch.as_tensor(x).double().permute(0, 3, 1, 2)


def check_fixtures(root, report):
    for name in ('tiny-deit-distilled', 'tiny-deit', 'tiny-dino', 'tiny-dino-s8-224'):
        folder = os.path.join(root, name)
        g = load_file(os.path.join(folder, 'golden.safetensors'))
        model, architecture = load(folder, report)
        headless = architecture in ('ViTModel', 'DeiTModel')
        if name == 'tiny-dino-s8-224':
            y = torch.arange(224, dtype=torch.float64).reshape(224, 1, 1)
            x = torch.arange(224, dtype=torch.float64).reshape(1, 224, 1)
            c = torch.arange(3, dtype=torch.float64).reshape(1, 1, 3)
            pixels = torch.sin(0.05 * y + 0.07 * x + 1.3 * c).to(torch.float32).unsqueeze(0)
            with torch.no_grad():
                out = model(pixel_values=nchw(pixels), output_attentions=True)
            report.diff(f'{name} attentions[0][:, :, 0]', out.attentions[0][:, :, 0, :], g['cls_attention.0'])
            report.diff(f'{name} last_hidden_state', out.last_hidden_state, g['last_hidden_state'])
            continue
        out = model(pixel_values=nchw(g['pixel_values']), output_attentions=True, output_hidden_states=True)
        for a in out.attentions:
            a.retain_grad()
        if headless:
            report.diff(f'{name} last_hidden_state', out.last_hidden_state, g['last_hidden_state'])
            report.diff(f'{name} pooler_output', out.pooler_output, g['pooler_output'])
            out.last_hidden_state[:, 0].norm(dim=1).sum().backward()
        else:
            report.diff(f'{name} logits', out.logits, g['logits'])
            for key in ('cls_logits', 'distillation_logits'):
                if key in g:
                    report.diff(f'{name} {key}', getattr(out, key), g[key])
            out.logits.gather(1, out.logits.argmax(1, keepdim=True)).sum().backward()
        for i, a in enumerate(out.attentions):
            report.diff(f'{name} attentions[{i}]', a, g[f'attentions.{i}'])
            report.relative(f'{name} d target / d attentions[{i}]', a.grad, g[f'grad.attentions.{i}'])
        for i, h in enumerate(out.hidden_states):
            report.diff(f'{name} hidden_states[{i}]', h, g[f'hidden_states.{i}'])
        if 'interp.pixel_values' in g:
            with torch.no_grad():
                o = model(pixel_values=nchw(g['interp.pixel_values']), output_attentions=True, interpolate_pos_encoding=True)
            if headless:
                report.diff(f'{name} interpolated last_hidden_state', o.last_hidden_state, g['interp.last_hidden_state'])
            else:
                report.diff(f'{name} interpolated logits', o.logits, g['interp.logits'])
            for i, a in enumerate(o.attentions):
                report.diff(f'{name} interpolated attentions[{i}]', a, g[f'interp.attentions.{i}'])


def check_vitlens(root, report):
    for entry in json.load(open(os.path.join(root, 'manifest.json'))):
        folder = os.path.join(root, entry['name'])
        ref = json.load(open(os.path.join(folder, 'vitlens-outputs.json')))
        model, architecture = load(folder, report)
        model = model.float()
        x = torch.tensor(ref['inputs'], dtype=torch.float32).reshape(ref['inputShapeNHWC']).permute(0, 3, 1, 2)
        with torch.no_grad():
            out = model(pixel_values=x, output_attentions=True)
        flat = lambda t: t.reshape(-1)
        if 'logits' in ref:
            report.diff(f'{entry["name"]} logits', flat(out.logits), ref['logits'])
        if 'lastHiddenState' in ref:
            report.diff(f'{entry["name"]} last_hidden_state', flat(out.last_hidden_state), ref['lastHiddenState'])
        if 'poolerOutput' in ref:
            report.diff(f'{entry["name"]} pooler_output', flat(out.pooler_output), ref['poolerOutput'])
        report.diff(f'{entry["name"]} last attention', flat(out.attentions[-1]), ref['lastAttention'])


def write_hf(root, report):
    import transformers
    from transformers import DeiTConfig, ViTConfig
    torch.manual_seed(1234)
    common = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=32,
                  patch_size=8, attn_implementation='eager')
    labels = dict(num_labels=4, id2label={i: f'class{i}' for i in range(4)}, label2id={f'class{i}': i for i in range(4)})
    specs = [
        ('DeiTForImageClassificationWithTeacher', DeiTConfig(**common, **labels), {}),
        ('DeiTForImageClassification', DeiTConfig(**common, **labels), {}),
        ('ViTModel', ViTConfig(**common, layer_norm_eps=1e-6), {'add_pooling_layer': True}),
    ]
    summary = {'transformers': transformers.__version__, 'torch': torch.__version__, 'written': []}
    for architecture, config, kwargs in specs:
        model = hf_class(architecture)(config, **kwargs).eval()
        with torch.no_grad():  # HF initialises DeiT's tokens and LayerNorms to constants: make every parameter matter
            for _, p in model.named_parameters():
                p.add_(0.1 * torch.randn_like(p))
        folder = os.path.join(root, architecture)
        model.save_pretrained(folder, safe_serialization=True)
        g = torch.Generator().manual_seed(99)
        pixels = torch.randn(2, 3, 32, 32, generator=g)
        model = model.double()
        with torch.no_grad():
            out = model(pixel_values=pixels.double(), output_attentions=True)
        golden = {'pixel_values_nchw': pixels}
        for key in ('logits', 'cls_logits', 'distillation_logits', 'last_hidden_state', 'pooler_output'):
            value = getattr(out, key, None)
            if value is not None:
                golden[key] = value
        for i, a in enumerate(out.attentions):
            golden[f'attentions.{i}'] = a
        save_file({k: v.float().contiguous() for k, v in golden.items()}, os.path.join(folder, 'golden.safetensors'),
                  {'generator': 'scripts/check_layouts_with_transformers.py write-hf', 'transformers': transformers.__version__})
        keys = sorted(load_file(os.path.join(folder, 'model.safetensors')).keys())
        print(f'{architecture}: wrote {folder} ({len(keys)} tensors, e.g. {keys[0]})')
        summary['written'].append({'architecture': architecture, 'keys': len(keys), 'files': sorted(os.listdir(folder))})
    json.dump(summary, open(os.path.join(root, 'report.json'), 'w'), indent=2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('mode', choices=['fixtures', 'vitlens', 'write-hf'])
    parser.add_argument('dir', nargs='?')
    parser.add_argument('--tolerance', type=float, default=1e-4)
    parser.add_argument('--report', help='append this run (mode, versions, every difference) to a JSON file')
    args = parser.parse_args()
    import transformers
    print(f'transformers {transformers.__version__}, torch {torch.__version__}, numpy {np.__version__}')
    report = Report(args.tolerance)
    if args.mode == 'fixtures':
        check_fixtures(args.dir or FIXTURES, report)
    elif args.mode == 'vitlens':
        check_vitlens(args.dir, report)
    else:
        write_hf(args.dir or os.path.join(FIXTURES, 'hf-written-layouts'), report)
    ok = report.worst <= args.tolerance
    if args.report:
        runs = json.load(open(args.report)) if os.path.exists(args.report) else {}
        runs[args.mode] = {'transformers': transformers.__version__, 'torch': torch.__version__, 'ok': ok,
                           'largest': report.worst, 'differences': {name: d for name, d in report.rows}}
        with open(args.report, 'w') as f:
            json.dump(runs, f, indent=2)
            f.write('\n')
    print(f'{"OK" if ok else "MISMATCH"}: largest difference {report.worst:.3e} (tolerance {args.tolerance:g})')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
