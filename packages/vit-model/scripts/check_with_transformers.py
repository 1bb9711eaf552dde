#!/usr/bin/env python3
"""Check the golden fixtures against the real Hugging Face `transformers` ViT.

Loads test/fixtures/tiny-vit with transformers.ViTForImageClassification and
test/fixtures/tiny-vit-headless with transformers.ViTModel, runs the golden inputs in float64 and
prints the max abs difference to every golden tensor (logits, attentions, hidden states, the
interpolate_pos_encoding run). Exit status 1 if any difference exceeds the tolerance.

Needs only torch, numpy and transformers. If the `safetensors` package is missing, the weights
are read by hand (a JSON header plus raw little-endian bytes) and loaded with load_state_dict.

Usage: python3 scripts/check_with_transformers.py [fixtures_dir] [--tolerance 1e-4]
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

DTYPES = {'F32': np.float32, 'F16': np.float16, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32}


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    header.pop('__metadata__', None)
    base = 8 + n
    out = {}
    for name, info in header.items():
        start, end = info['data_offsets']
        arr = np.frombuffer(raw[base + start:base + end], dtype=np.dtype(DTYPES[info['dtype']]).newbyteorder('<'))
        out[name] = torch.from_numpy(arr.reshape(info['shape']).copy())
    return out


def load(cls, folder):
    try:
        return cls.from_pretrained(folder, attn_implementation='eager'), 'from_pretrained'
    except TypeError:  # transformers without attn_implementation
        return cls.from_pretrained(folder), 'from_pretrained'
    except (ImportError, OSError, ValueError) as error:
        from transformers import ViTConfig
        print(f'  from_pretrained failed ({type(error).__name__}: {error}); loading the state dict by hand', file=sys.stderr)
        config = ViTConfig.from_pretrained(folder)
        model = cls(config, add_pooling_layer=True) if cls.__name__ == 'ViTModel' else cls(config)
        missing, unexpected = model.load_state_dict(read_safetensors(os.path.join(folder, 'model.safetensors')), strict=False)
        if missing or unexpected:
            raise SystemExit(f'{folder}: missing {missing}, unexpected {unexpected}')
        return model, 'load_state_dict'


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument('fixtures', nargs='?', default=os.path.join(here, '..', 'test', 'fixtures'))
    parser.add_argument('--tolerance', type=float, default=1e-4)
    args = parser.parse_args()

    import transformers
    from transformers import ViTForImageClassification, ViTModel

    print(f'transformers {transformers.__version__}, torch {torch.__version__}, numpy {np.__version__}')
    golden = read_safetensors(os.path.join(args.fixtures, 'golden.safetensors'))
    nchw = lambda key: golden[key].double().permute(0, 3, 1, 2)  # fixtures store NHWC
    worst = 0.0

    def report(name, actual, key):
        nonlocal worst
        diff = (actual.detach().double() - golden[key].double()).abs().max().item()
        worst = max(worst, diff)
        print(f'  {name:<34} max abs diff {diff:.3e}')

    model, how = load(ViTForImageClassification, os.path.join(args.fixtures, 'tiny-vit'))
    model = model.double().eval()
    print(f'tiny-vit ({how}): ViTForImageClassification')
    with torch.no_grad():
        out = model(pixel_values=nchw('pixel_values'), output_attentions=True, output_hidden_states=True)
    report('logits', out.logits, 'logits')
    for i, a in enumerate(out.attentions):
        report(f'attentions[{i}]', a, f'attentions.{i}')
    for i, h in enumerate(out.hidden_states):
        report(f'hidden_states[{i}]', h, f'hidden_states.{i}')
    with torch.no_grad():
        out = model(pixel_values=nchw('interp.pixel_values'), output_attentions=True, interpolate_pos_encoding=True)
    report('interpolated logits (20x20)', out.logits, 'interp.logits')
    for i, a in enumerate(out.attentions):
        report(f'interpolated attentions[{i}]', a, f'interp.attentions.{i}')

    base, how = load(ViTModel, os.path.join(args.fixtures, 'tiny-vit-headless'))
    base = base.double().eval()
    print(f'tiny-vit-headless ({how}): ViTModel with pooler')
    with torch.no_grad():
        out = base(pixel_values=nchw('pixel_values'), output_hidden_states=True)
    report('last_hidden_state', out.last_hidden_state, 'headless.last_hidden_state')
    for i, h in enumerate(out.hidden_states):
        report(f'hidden_states[{i}]', h, f'headless.hidden_states.{i}')

    ok = worst <= args.tolerance
    print(f'{"OK" if ok else "MISMATCH"}: largest difference {worst:.3e} (tolerance {args.tolerance:g})')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
