#!/usr/bin/env python3
"""Writes test/fixtures/maps-numpy.json: rollout and gradient maps computed with numpy, written from
the formulas (Abnar & Zuidema 2020 with vit-explain's discard_ratio; Chefer et al. 2021), on seeded
random attention with a non-square 2x3 patch grid. Usage: python3 scripts/gen-map-fixtures.py
"""
import json
import os

import numpy as np

rng = np.random.default_rng(7)
heads, gh, gw, layers = 3, 2, 3, 3
t = 1 + gh * gw


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


att = [softmax(rng.normal(size=(heads, t, t)) * 2).astype(np.float32) for _ in range(layers)]
grad = [rng.normal(size=(heads, t, t)).astype(np.float32) for _ in range(layers)]


def rollout(fusion, discard):
    r = np.eye(t)
    for a in att:
        a = a.astype(np.float64)
        f = {'mean': a.mean(0), 'max': a.max(0), 'min': a.min(0)}[fusion]
        flat = f.reshape(-1).copy()
        k = int(flat.size * discard)
        idx = np.argsort(flat, kind='stable')[:k]
        idx = idx[idx != 0]
        flat[idx] = 0
        f = flat.reshape(t, t)
        m = (f + np.eye(t)) / 2
        m = m / m.sum(-1, keepdims=True)
        r = m @ r
    return r[0, 1:].tolist()


def gradient():
    r = np.eye(t)
    for a, g in zip(att, grad):
        cam = np.clip(a.astype(np.float64) * g.astype(np.float64), 0, None).mean(0)
        r = r + cam @ r
    return r[0, 1:].tolist()


out = {
    'heads': heads, 'gridHeight': gh, 'gridWidth': gw,
    'layers': [a.reshape(-1).tolist() for a in att],
    'gradients': [g.reshape(-1).tolist() for g in grad],
    'rollout_mean_0': rollout('mean', 0.0),
    'rollout_mean_0.3': rollout('mean', 0.3),
    'rollout_max_0.9': rollout('max', 0.9),
    'rollout_min_0': rollout('min', 0.0),
    'gradient': gradient(),
}
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, '..', 'test', 'fixtures', 'maps-numpy.json'), 'w') as f:
    json.dump(out, f)
    f.write('\n')
