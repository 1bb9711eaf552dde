#!/usr/bin/env python3
"""Golden numerics for @vitlens/vit-model.

A minimal PyTorch ViT with exactly Hugging Face ViTForImageClassification / ViTModel semantics and
parameter names (its state_dict keys equal HF's), built from a fixed seed. Writes, under
test/fixtures/:

  tiny-vit/            config.json, preprocessor_config.json, model.safetensors  (ViTForImageClassification)
  tiny-vit-headless/   the same files for a ViTModel (no `vit.` prefix, with a pooler, no classifier)
  golden.safetensors   inputs, logits, every attention and hidden state, computed in float64:
      pixel_values [2,16,16,3] NHWC; logits [2,10]; attentions.{i} [2,4,17,17]; hidden_states.{i} [2,17,24]
      interp.pixel_values [1,20,20,3]; interp.logits; interp.attentions.{i} [1,4,26,26]  (interpolate_pos_encoding)
      headless.hidden_states.{i} [2,17,24]; headless.last_hidden_state [2,17,24]
      grad.labels [2] (int64 as float64); grad.loss []; grad.<parameter> for every parameter: the gradient
          of the mean cross-entropy of `logits` against grad.labels (eval mode: no dropout)

Run with Debian's torch:  /usr/bin/python3 scripts/make_golden.py   (from packages/vit-model)
Needs only torch; safetensors files are written by hand (the format is a JSON header + raw bytes).
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures')

CIFAR10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']

CONFIG = {
    'model_type': 'vit',
    'architectures': ['ViTForImageClassification'],
    'hidden_size': 24,
    'num_hidden_layers': 2,
    'num_attention_heads': 4,
    'intermediate_size': 48,
    'hidden_act': 'gelu',
    'hidden_dropout_prob': 0.0,
    'attention_probs_dropout_prob': 0.0,
    'initializer_range': 0.02,
    'layer_norm_eps': 1e-12,
    'image_size': 16,
    'patch_size': 4,
    'num_channels': 3,
    'qkv_bias': True,
    'encoder_stride': 4,
    'id2label': {str(i): n for i, n in enumerate(CIFAR10)},
    'label2id': {n: i for i, n in enumerate(CIFAR10)},
}

PROCESSOR = {
    'image_processor_type': 'ViTImageProcessor',
    'do_resize': True,
    'size': {'height': 16, 'width': 16},
    'resample': 2,
    'do_rescale': True,
    'rescale_factor': 1 / 255,
    'do_normalize': True,
    'image_mean': [0.5, 0.5, 0.5],
    'image_std': [0.5, 0.5, 0.5],
}


class Cfg:
    def __init__(self, d):
        self.__dict__.update(d)


# ---- The model: HF modeling_vit.py semantics, HF module names ----

class ViTPatchEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.patch_size = c.patch_size
        self.projection = nn.Conv2d(c.num_channels, c.hidden_size, kernel_size=c.patch_size, stride=c.patch_size)

    def forward(self, pixel_values):
        return self.projection(pixel_values).flatten(2).transpose(1, 2)


class ViTEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, c.hidden_size))
        self.patch_embeddings = ViTPatchEmbeddings(c)
        n = (c.image_size // c.patch_size) ** 2
        self.position_embeddings = nn.Parameter(torch.zeros(1, n + 1, c.hidden_size))
        self.dropout = nn.Dropout(c.hidden_dropout_prob)
        self.patch_size = c.patch_size
        self.special_tokens = 1  # CLS (DeiT: 2, CLS and distillation; see make_golden_layouts.py)

    def interpolate_pos_encoding(self, embeddings, height, width):
        num_patches = embeddings.shape[1] - self.special_tokens
        num_positions = self.position_embeddings.shape[1] - self.special_tokens
        if num_patches == num_positions and height == width:
            return self.position_embeddings
        class_pos_embed = self.position_embeddings[:, :self.special_tokens]
        patch_pos_embed = self.position_embeddings[:, self.special_tokens:]
        dim = embeddings.shape[-1]
        new_height = height // self.patch_size
        new_width = width // self.patch_size
        sqrt_num_positions = int(num_positions ** 0.5)
        patch_pos_embed = patch_pos_embed.reshape(1, sqrt_num_positions, sqrt_num_positions, dim).permute(0, 3, 1, 2)
        patch_pos_embed = F.interpolate(patch_pos_embed, size=(new_height, new_width), mode='bicubic', align_corners=False)
        patch_pos_embed = patch_pos_embed.permute(0, 2, 3, 1).reshape(1, -1, dim)
        return torch.cat((class_pos_embed, patch_pos_embed), dim=1)

    def forward(self, pixel_values, interpolate_pos_encoding=False):
        b, _, h, w = pixel_values.shape
        emb = self.patch_embeddings(pixel_values)
        emb = torch.cat((self.cls_token.expand(b, -1, -1), emb), dim=1)
        if interpolate_pos_encoding:
            emb = emb + self.interpolate_pos_encoding(emb, h, w)
        else:
            emb = emb + self.position_embeddings
        return self.dropout(emb)


class ViTSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c.num_attention_heads
        self.head_dim = c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size, bias=c.qkv_bias)
        self.key = nn.Linear(c.hidden_size, c.hidden_size, bias=c.qkv_bias)
        self.value = nn.Linear(c.hidden_size, c.hidden_size, bias=c.qkv_bias)
        self.scaling = self.head_dim ** -0.5
        self.dropout = nn.Dropout(c.attention_probs_dropout_prob)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        probs = F.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scaling, dim=-1)
        probs = self.dropout(probs)
        ctx = torch.matmul(probs, v).transpose(1, 2).contiguous()
        return ctx.view(ctx.shape[0], ctx.shape[1], -1), probs


class ViTSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, x):
        return self.dropout(self.dense(x))


class ViTAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = ViTSelfAttention(c)
        self.output = ViTSelfOutput(c)

    def forward(self, x):
        ctx, probs = self.attention(x)
        return self.output(ctx), probs


class ViTIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)

    def forward(self, x):
        return F.gelu(self.dense(x))  # exact erf GELU (HF "gelu")


class ViTOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.intermediate_size, c.hidden_size)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, x, residual):
        return self.dropout(self.dense(x)) + residual


class ViTLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = ViTAttention(c)
        self.intermediate = ViTIntermediate(c)
        self.output = ViTOutput(c)
        self.layernorm_before = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.layernorm_after = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x):
        attn, probs = self.attention(self.layernorm_before(x))
        x = attn + x
        return self.output(self.intermediate(self.layernorm_after(x)), x), probs


class ViTEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([ViTLayer(c) for _ in range(c.num_hidden_layers)])


class ViTPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)


class ViTModel(nn.Module):
    def __init__(self, c, add_pooling_layer=True):
        super().__init__()
        self.embeddings = ViTEmbeddings(c)
        self.encoder = ViTEncoder(c)
        self.layernorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.pooler = ViTPooler(c) if add_pooling_layer else None

    def forward(self, pixel_values, interpolate_pos_encoding=False):
        h = self.embeddings(pixel_values, interpolate_pos_encoding)
        hidden, attentions = [h], []
        for layer in self.encoder.layer:
            h, probs = layer(h)
            hidden.append(h)
            attentions.append(probs)
        return self.layernorm(h), hidden, attentions


class ViTForImageClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.vit = ViTModel(c, add_pooling_layer=False)
        self.classifier = nn.Linear(c.hidden_size, len(c.id2label))

    def forward(self, pixel_values, interpolate_pos_encoding=False):
        seq, hidden, attentions = self.vit(pixel_values, interpolate_pos_encoding)
        return self.classifier(seq[:, 0, :]), hidden, attentions


def randomize(model, gen):
    """Weights far from HF's init (std 0.02 gives near-uniform attention, a weak test)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'layernorm' in name and name.endswith('weight'):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith('bias'):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif 'cls_token' in name or 'position_embeddings' in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) * (1.5 / math.sqrt(fan_in)))


# ---- safetensors, written by hand ----

def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(',', ':')).encode('utf-8')
    raw += b' ' * ((8 - len(raw) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def save_checkpoint(folder, config, state_dict, processor=PROCESSOR):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
        f.write('\n')
    with open(os.path.join(folder, 'preprocessor_config.json'), 'w') as f:
        json.dump(processor, f, indent=2)
        f.write('\n')
    write_safetensors(os.path.join(folder, 'model.safetensors'), state_dict, {'format': 'pt'})


def main():
    gen = torch.Generator().manual_seed(20240604)
    c = Cfg(CONFIG)
    golden = {}

    model = ViTForImageClassification(c)
    randomize(model, gen)
    model.eval()
    # Weights are stored as float32; the golden numbers are computed in float64 from exactly those values.
    state = {k: v.to(torch.float32) for k, v in model.state_dict().items()}
    save_checkpoint(os.path.join(OUT, 'tiny-vit'), CONFIG, state)
    model.double()

    pixels = torch.randn(2, 16, 16, 3, generator=gen).to(torch.float32)  # NHWC, already "preprocessed"
    golden['pixel_values'] = pixels
    with torch.no_grad():
        logits, hidden, attentions = model(pixels.double().permute(0, 3, 1, 2))
    golden['logits'] = logits
    for i, a in enumerate(attentions):
        golden[f'attentions.{i}'] = a
    for i, h in enumerate(hidden):
        golden[f'hidden_states.{i}'] = h

    # Training numerics: d(mean cross-entropy)/d(every parameter), same input, fixed labels.
    labels = torch.tensor([3, 7])
    model.zero_grad()
    logits, _, _ = model(pixels.double().permute(0, 3, 1, 2))
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    golden['grad.labels'] = labels.double()
    golden['grad.loss'] = loss.detach()
    for name, param in model.named_parameters():
        golden[f'grad.{name}'] = param.grad.detach().clone()
    model.zero_grad()

    interp = torch.randn(1, 20, 20, 3, generator=gen).to(torch.float32)
    golden['interp.pixel_values'] = interp
    with torch.no_grad():
        logits, _, attentions = model(interp.double().permute(0, 3, 1, 2), interpolate_pos_encoding=True)
    golden['interp.logits'] = logits
    for i, a in enumerate(attentions):
        golden[f'interp.attentions.{i}'] = a

    headless_config = dict(CONFIG, architectures=['ViTModel'], num_hidden_layers=1)
    for key in ('id2label', 'label2id'):
        headless_config.pop(key)
    base = ViTModel(Cfg(dict(headless_config, id2label={})), add_pooling_layer=True)
    randomize(base, gen)
    base.eval()
    save_checkpoint(os.path.join(OUT, 'tiny-vit-headless'), headless_config,
                    {k: v.to(torch.float32) for k, v in base.state_dict().items()})
    base.double()
    with torch.no_grad():
        seq, hidden, _ = base(pixels.double().permute(0, 3, 1, 2))
    golden['headless.last_hidden_state'] = seq
    for i, h in enumerate(hidden):
        golden[f'headless.hidden_states.{i}'] = h

    write_safetensors(os.path.join(OUT, 'golden.safetensors'), golden,
                      {'generator': 'scripts/make_golden.py', 'torch': torch.__version__, 'precision': 'float64'})
    print('wrote', os.path.abspath(OUT), file=sys.stderr)


if __name__ == '__main__':
    main()
