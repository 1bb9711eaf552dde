"""Golden numbers for @vitlens/train-loop's tests, computed with PyTorch's own update rules.

Run: /usr/bin/python3 packages/train-loop/scripts/torch_reference.py > packages/train-loop/test/fixtures/torch-reference.json
Debian's python3-torch (1.13) is enough. Every input is written next to its output, so the
tests replay exactly what torch saw.
"""
import json
import torch

torch.manual_seed(0)


def tolist(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def optimizer_case(name, make_opt, lrs):
    w0 = torch.randn(3, 4)
    b0 = torch.randn(4)
    grads = [(torch.randn(3, 4), torch.randn(4)) for _ in lrs]
    w = torch.nn.Parameter(w0.clone())
    b = torch.nn.Parameter(b0.clone())
    # 'w' gets weight decay, 'b' (a bias) none, as the trainer's decay list says.
    opt = make_opt([{"params": [w]}, {"params": [b], "weight_decay": 0.0}])
    steps = []
    for lr, (gw, gb) in zip(lrs, grads):
        for group in opt.param_groups:
            group["lr"] = lr
        w.grad = gw.clone()
        b.grad = gb.clone()
        opt.step()
        steps.append({"lr": lr, "grad": {"w": tolist(gw), "b": tolist(gb)}, "after": {"w": tolist(w), "b": tolist(b)}})
    return {"name": name, "init": {"w": tolist(w0), "b": tolist(b0)}, "shapes": {"w": [3, 4], "b": [4]}, "steps": steps}


lrs = [1e-2, 5e-3, 2e-2, 1e-3, 1e-2]
cases = [
    optimizer_case("adamw", lambda g: torch.optim.AdamW(g, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05), lrs),
    optimizer_case("adamw-betas", lambda g: torch.optim.AdamW(g, lr=1e-2, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.3), lrs),
    optimizer_case("sgd-momentum", lambda g: torch.optim.SGD(g, lr=1e-2, momentum=0.9, weight_decay=1e-2), lrs),
    optimizer_case("sgd-nesterov", lambda g: torch.optim.SGD(g, lr=1e-2, momentum=0.9, nesterov=True, weight_decay=1e-2), lrs),
    optimizer_case("sgd-dampening", lambda g: torch.optim.SGD(g, lr=1e-2, momentum=0.5, dampening=0.3), lrs),
]
hyper = {
    "adamw": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.05},
    "adamw-betas": {"beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weightDecay": 0.3},
    "sgd-momentum": {"momentum": 0.9, "weightDecay": 1e-2},
    "sgd-nesterov": {"momentum": 0.9, "nesterov": True, "weightDecay": 1e-2},
    "sgd-dampening": {"momentum": 0.5, "dampening": 0.3},
}
for c in cases:
    c["hyper"] = hyper[c["name"]]

logits = torch.randn(5, 4, requires_grad=True)
labels = torch.tensor([0, 3, 1, 1, 2])
soft = torch.softmax(torch.randn(5, 4), dim=1)
loss_cases = []
for smoothing in (0.0, 0.1, 0.3):
    for kind, target in (("labels", labels), ("targets", soft)):
        logits.grad = None
        loss = torch.nn.functional.cross_entropy(logits, target, label_smoothing=smoothing)
        loss.backward()
        loss_cases.append({"kind": kind, "smoothing": smoothing, "loss": float(loss), "grad": tolist(logits.grad)})

g1 = torch.randn(3, 4) * 3
g2 = torch.randn(7) * 3
p1 = torch.nn.Parameter(torch.zeros(3, 4))
p2 = torch.nn.Parameter(torch.zeros(7))
p1.grad = g1.clone()
p2.grad = g2.clone()
clip_norm = torch.nn.utils.clip_grad_norm_([p1, p2], max_norm=1.5)

print(json.dumps({
    "torch": torch.__version__,
    "optimizers": cases,
    "crossEntropy": {"logits": tolist(logits), "shape": [5, 4], "labels": labels.tolist(), "targets": tolist(soft), "cases": loss_cases},
    "clip": {"maxNorm": 1.5, "grads": {"a": tolist(g1), "b": tolist(g2)}, "shapes": {"a": [3, 4], "b": [7]},
             "norm": float(clip_norm), "clipped": {"a": tolist(p1.grad), "b": tolist(p2.grad)}},
}))
