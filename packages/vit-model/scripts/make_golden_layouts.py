#!/usr/bin/env python3
"""Golden numerics for the checkpoint layouts other than ViTForImageClassification.

Independent PyTorch models with Hugging Face semantics and state-dict names (the legacy names
`from_pretrained` reads and `save_pretrained` writes: `deit.encoder.layer.0.attention.attention.query.weight`,
…) for DeiT with and without teacher and for headless ViTModels (DINO), built from a fixed seed
on top of the modules of make_golden.py. Writes, under test/fixtures/, one folder per layout with
config.json, preprocessor_config.json, model.safetensors and golden.safetensors (float64 results
stored as float32):

  tiny-deit-distilled/  DeiTForImageClassificationWithTeacher, hidden 32, 2 layers, 2 heads, image 32, patch 8
                        (4×4 grid, T = 2 + 16 = 18), 5 labels, DeiT processor (resize 36, crop 32)
      pixel_values [2,32,32,3]; logits, cls_logits, distillation_logits [2,5]; attentions.{i} [2,2,18,18];
      hidden_states.{i} [2,18,32]; grad.attentions.{i}: d logits[b, argmax_b] / d attention (averaged logits);
      maps.cls.{layer} / maps.distillation.{layer} [2,4,4]: mean-of-heads attention of that token's row on the patches;
      maps.rollout.cls / maps.rollout.distillation [2,4,4]; maps.gradient.cls / maps.gradient.distillation [2,4,4];
      interp.pixel_values [1,40,40,3]; interp.logits; interp.attentions.{i} [1,2,27,27]  (interpolate_pos_encoding)
  tiny-deit/            DeiTForImageClassification, image 16, patch 4 (4×4 grid), 3 labels: logits, attentions, hidden_states
  tiny-dino/            ViTModel (bare keys, pooler), image 32, patch 8 (T = 17), eps 1e-6, ImageNet ViTFeatureExtractor
      last_hidden_state [2,17,32]; pooler_output [2,32]; attentions.{i}; hidden_states.{i};
      grad.attentions.{i}: d ‖last_hidden_state[b, 0]‖₂ / d attention; maps.rollout, maps.gradient [2,4,4];
      maps.dino.{b} [2 heads,4,4]: the last layer's CLS attention per head, thresholded to keep 60% of the mass
      (facebookresearch/dino visualize_attention.py); interp.* at 48×48 (6×6 grid)
  tiny-dino-s8-224/     ViTModel without pooler, hidden 8, 1 layer, 2 heads, image 224, patch 8: DINO ViT-S/8's
                        28×28 grid, T = 785. The input is a formula (no 600 kB of pixels):
                        pixel[0, y, x, c] = sin(0.05·y + 0.07·x + 1.3·c), as float32.
      cls_attention.0 [1,2,785] (row 0 of the attention); last_hidden_state [1,785,8]; maps.dino [2,28,28]

Run with Debian's torch:  /usr/bin/python3 scripts/make_golden_layouts.py   (from packages/vit-model)
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_golden as mg  # noqa: E402  (the HF-named ViT modules and the safetensors writer)

OUT = os.path.join(HERE, '..', 'test', 'fixtures')
DINO_KEEP = 0.6

BASE = {
    'hidden_size': 32,
    'num_hidden_layers': 2,
    'num_attention_heads': 2,
    'intermediate_size': 64,
    'hidden_act': 'gelu',
    'hidden_dropout_prob': 0.0,
    'attention_probs_dropout_prob': 0.0,
    'initializer_range': 0.02,
    'layer_norm_eps': 1e-12,
    'num_channels': 3,
    'qkv_bias': True,
}

IMAGENET = {'image_mean': [0.485, 0.456, 0.406], 'image_std': [0.229, 0.224, 0.225]}


def labels(n):
    return {'id2label': {str(i): f'class{i}' for i in range(n)}, 'label2id': {f'class{i}': i for i in range(n)}}


# ---- DeiT: modeling_deit.py semantics (a distillation token after CLS), HF module names ----

class DeiTEmbeddings(mg.ViTEmbeddings):
    """modeling_deit.py's embeddings: [CLS, distillation, patches], positions for both special tokens."""

    def __init__(self, c):
        super().__init__(c)
        n = (c.image_size // c.patch_size) ** 2
        self.position_embeddings = nn.Parameter(torch.zeros(1, n + 2, c.hidden_size))
        self.distillation_token = nn.Parameter(torch.zeros(1, 1, c.hidden_size))
        self.special_tokens = 2  # interpolate_pos_encoding keeps CLS and distillation positions, as DeiTEmbeddings

    def forward(self, pixel_values, interpolate_pos_encoding=False):
        b, _, h, w = pixel_values.shape
        emb = self.patch_embeddings(pixel_values)
        emb = torch.cat((self.cls_token.expand(b, -1, -1), self.distillation_token.expand(b, -1, -1), emb), dim=1)
        emb = emb + (self.interpolate_pos_encoding(emb, h, w) if interpolate_pos_encoding else self.position_embeddings)
        return self.dropout(emb)


class ViTModel(mg.ViTModel):
    """HF ViTModel / DeiTModel: returns last_hidden_state, pooler_output, hidden states, attentions."""

    def __init__(self, c, add_pooling_layer=True, deit=False):
        super().__init__(c, add_pooling_layer)
        if deit:
            self.embeddings = DeiTEmbeddings(c)

    def forward(self, pixel_values, interpolate_pos_encoding=False, keep_attention_grads=False):
        h = self.embeddings(pixel_values, interpolate_pos_encoding)
        hidden, attentions = [h], []
        for layer in self.encoder.layer:
            h, probs = layer(h)
            if keep_attention_grads:
                probs.retain_grad()
            hidden.append(h)
            attentions.append(probs)
        seq = self.layernorm(h)
        pooled = torch.tanh(self.pooler.dense(seq[:, 0])) if self.pooler is not None else None
        return seq, pooled, hidden, attentions


class DeiTForImageClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.deit = ViTModel(c, add_pooling_layer=False, deit=True)
        self.classifier = nn.Linear(c.hidden_size, len(c.id2label))

    def forward(self, pixel_values, interpolate_pos_encoding=False, keep_attention_grads=False):
        seq, _, hidden, attentions = self.deit(pixel_values, interpolate_pos_encoding, keep_attention_grads)
        return {'logits': self.classifier(seq[:, 0])}, hidden, attentions


class DeiTForImageClassificationWithTeacher(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.deit = ViTModel(c, add_pooling_layer=False, deit=True)
        self.cls_classifier = nn.Linear(c.hidden_size, len(c.id2label))
        self.distillation_classifier = nn.Linear(c.hidden_size, len(c.id2label))

    def forward(self, pixel_values, interpolate_pos_encoding=False, keep_attention_grads=False):
        seq, _, hidden, attentions = self.deit(pixel_values, interpolate_pos_encoding, keep_attention_grads)
        cls_logits = self.cls_classifier(seq[:, 0])
        distillation_logits = self.distillation_classifier(seq[:, 1])
        logits = (cls_logits + distillation_logits) / 2
        return {'logits': logits, 'cls_logits': cls_logits, 'distillation_logits': distillation_logits}, hidden, attentions


def randomize(model, gen):
    mg.randomize(model, gen)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'distillation_token' in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=gen, dtype=p.dtype))


# ---- Attention maps, written from their papers independently of attention-viz ----

def token_maps(attn, prefix, query, grid):
    """[B, heads, T, T] → [B, g, g]: mean over heads of row `query`, patch columns."""
    return attn.mean(1)[:, query, prefix:].reshape(attn.shape[0], grid, grid)


def rollout(attentions, prefix, query, grid):
    """Abnar & Zuidema: R = Π (A + I) / rowsum, heads averaged; map = R[query, patches]."""
    out = []
    for b in range(attentions[0].shape[0]):
        t = attentions[0].shape[-1]
        r = torch.eye(t, dtype=torch.float64)
        for a in attentions:
            m = a[b].mean(0) + torch.eye(t, dtype=torch.float64)
            m = m / m.sum(-1, keepdim=True)
            r = m @ r
        out.append(r[query, prefix:].reshape(grid, grid))
    return torch.stack(out)


def chefer(attentions, grads, prefix, query, grid):
    """Chefer et al. 2021: R = I; R += mean_h((∇A ⊙ A)⁺) · R per layer; map = R[query, patches]."""
    out = []
    for b in range(attentions[0].shape[0]):
        t = attentions[0].shape[-1]
        r = torch.eye(t, dtype=torch.float64)
        for a, g in zip(attentions, grads):
            cam = (a[b] * g[b]).clamp(min=0).mean(0)
            r = r + cam @ r
        out.append(r[query, prefix:].reshape(grid, grid))
    return torch.stack(out)


def dino_masks(last_attention, prefix, grid, keep):
    """facebookresearch/dino visualize_attention.py: per head, the patches holding `keep` of the CLS attention."""
    att = last_attention[0, :, 0, prefix:]  # [heads, N]
    val, idx = torch.sort(att)
    val = val / val.sum(1, keepdim=True)
    th = torch.cumsum(val, 1) > (1 - keep)
    idx2 = torch.argsort(idx)
    masks = torch.stack([th[h][idx2[h]] for h in range(att.shape[0])])
    return masks.double().reshape(att.shape[0], grid, grid)


def nchw(x):
    return x.double().permute(0, 3, 1, 2)


def save(folder, config, processor, model, golden, note):
    state = {k: v.to(torch.float32) for k, v in model.state_dict().items()}
    path = os.path.join(OUT, folder)
    mg.save_checkpoint(path, config, state, processor)
    mg.write_safetensors(os.path.join(path, 'golden.safetensors'), golden,
                         {'generator': 'scripts/make_golden_layouts.py', 'torch': torch.__version__, 'precision': 'float64', 'fixture': note})


def classifier_fixture(gen, folder, cls, config, processor, image, interp_size=None):
    c = mg.Cfg(config)
    model = cls(c)
    randomize(model, gen)
    model.eval()
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.double()
    grid = c.image_size // c.patch_size
    golden = {}
    pixels = torch.randn(2, image, image, 3, generator=gen).to(torch.float32)
    golden['pixel_values'] = pixels
    out, hidden, attentions = model(nchw(pixels), keep_attention_grads=True)
    for k, v in out.items():
        golden[k] = v.detach()
    for i, a in enumerate(attentions):
        golden[f'attentions.{i}'] = a.detach()
    for i, h in enumerate(hidden):
        golden[f'hidden_states.{i}'] = h.detach()
    # gradient target: each image's argmax of the (averaged) logits
    target = out['logits'].gather(1, out['logits'].argmax(1, keepdim=True)).sum()
    target.backward()
    grads = [a.grad.detach() for a in attentions]
    attentions = [a.detach() for a in attentions]
    for i, g in enumerate(grads):
        golden[f'grad.attentions.{i}'] = g
    for q, name in ((0, 'cls'), (1, 'distillation')):
        for i, a in enumerate(attentions):
            golden[f'maps.{name}.{i}'] = token_maps(a, 2, q, grid)
        golden[f'maps.rollout.{name}'] = rollout(attentions, 2, q, grid)
        golden[f'maps.gradient.{name}'] = chefer(attentions, grads, 2, q, grid)
    if interp_size:
        x = torch.randn(1, interp_size, interp_size, 3, generator=gen).to(torch.float32)
        golden['interp.pixel_values'] = x
        with torch.no_grad():
            o, _, att = model(nchw(x), interpolate_pos_encoding=True)
        golden['interp.logits'] = o['logits']
        for i, a in enumerate(att):
            golden[f'interp.attentions.{i}'] = a
    model.float()
    model.load_state_dict(weights)
    save(folder, config, processor, model, golden, cls.__name__)


def dino_fixture(gen):
    config = dict(BASE, model_type='vit', architectures=['ViTModel'], image_size=32, patch_size=8, layer_norm_eps=1e-6)
    processor = {'feature_extractor_type': 'ViTFeatureExtractor', 'do_resize': True, 'size': 32, 'resample': 3,
                 'do_normalize': True, **IMAGENET}
    c = mg.Cfg(dict(config, id2label={}))
    model = ViTModel(c, add_pooling_layer=True)
    randomize(model, gen)
    model.eval()
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.double()
    grid = 4
    golden = {}
    pixels = torch.randn(2, 32, 32, 3, generator=gen).to(torch.float32)
    golden['pixel_values'] = pixels
    seq, pooled, hidden, attentions = model(nchw(pixels), keep_attention_grads=True)
    golden['last_hidden_state'] = seq.detach()
    golden['pooler_output'] = pooled.detach()
    for i, h in enumerate(hidden):
        golden[f'hidden_states.{i}'] = h.detach()
    seq[:, 0].norm(dim=1).sum().backward()  # the headless gradient target: ‖CLS embedding‖₂ per image
    grads = [a.grad.detach() for a in attentions]
    attentions = [a.detach() for a in attentions]
    for i, (a, g) in enumerate(zip(attentions, grads)):
        golden[f'attentions.{i}'] = a
        golden[f'grad.attentions.{i}'] = g
        golden[f'maps.cls.{i}'] = token_maps(a, 1, 0, grid)
    golden['maps.rollout'] = rollout(attentions, 1, 0, grid)
    golden['maps.gradient'] = chefer(attentions, grads, 1, 0, grid)
    for b in range(2):
        golden[f'maps.dino.{b}'] = dino_masks(attentions[-1][b:b + 1], 1, grid, DINO_KEEP)
    x = torch.randn(1, 48, 48, 3, generator=gen).to(torch.float32)
    golden['interp.pixel_values'] = x
    with torch.no_grad():
        s2, _, _, att = model(nchw(x), interpolate_pos_encoding=True)
    golden['interp.last_hidden_state'] = s2
    for i, a in enumerate(att):
        golden[f'interp.attentions.{i}'] = a
    model.float()
    model.load_state_dict(weights)
    save('tiny-dino', config, processor, model, golden, 'ViTModel (DINO layout)')


def dino_s8_fixture(gen):
    config = dict(BASE, model_type='vit', architectures=['ViTModel'], hidden_size=8, num_hidden_layers=1,
                  intermediate_size=16, image_size=224, patch_size=8, layer_norm_eps=1e-6)
    processor = {'feature_extractor_type': 'ViTFeatureExtractor', 'do_resize': True, 'size': 224, 'resample': 3,
                 'do_normalize': True, **IMAGENET}
    model = ViTModel(mg.Cfg(dict(config, id2label={})), add_pooling_layer=False)
    randomize(model, gen)
    model.eval()
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.double()
    y = torch.arange(224, dtype=torch.float64).reshape(224, 1, 1)
    x = torch.arange(224, dtype=torch.float64).reshape(1, 224, 1)
    ch = torch.arange(3, dtype=torch.float64).reshape(1, 1, 3)
    pixels = torch.sin(0.05 * y + 0.07 * x + 1.3 * ch).to(torch.float32).unsqueeze(0)  # [1, 224, 224, 3]
    with torch.no_grad():
        seq, _, _, attentions = model(nchw(pixels))
    golden = {
        'cls_attention.0': attentions[0][:, :, 0, :],
        'last_hidden_state': seq,
        'maps.dino': dino_masks(attentions[-1], 1, 28, DINO_KEEP),
    }
    model.float()
    model.load_state_dict(weights)
    save('tiny-dino-s8-224', config, processor, model, golden, 'ViTModel at DINO ViT-S/8 geometry')


def main():
    gen = torch.Generator().manual_seed(20250115)
    classifier_fixture(
        gen, 'tiny-deit-distilled', DeiTForImageClassificationWithTeacher,
        dict(BASE, model_type='deit', architectures=['DeiTForImageClassificationWithTeacher'], image_size=32, patch_size=8,
             encoder_stride=16, **labels(5)),
        {'image_processor_type': 'DeiTImageProcessor', 'do_resize': True, 'size': {'height': 36, 'width': 36}, 'resample': 3,
         'do_center_crop': True, 'crop_size': {'height': 32, 'width': 32}, 'do_rescale': True, 'rescale_factor': 1 / 255,
         'do_normalize': True, **IMAGENET},
        image=32, interp_size=40)
    classifier_fixture(
        gen, 'tiny-deit', DeiTForImageClassification,
        dict(BASE, model_type='deit', architectures=['DeiTForImageClassification'], image_size=16, patch_size=4, **labels(3)),
        {'feature_extractor_type': 'DeiTFeatureExtractor', 'do_resize': True, 'size': 18, 'resample': 3,
         'do_center_crop': True, 'crop_size': 16, 'do_normalize': True, **IMAGENET},
        image=16)
    dino_fixture(gen)
    dino_s8_fixture(gen)
    print('wrote', os.path.abspath(OUT), file=sys.stderr)


if __name__ == '__main__':
    main()
