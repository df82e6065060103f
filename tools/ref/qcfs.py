"""PyTorch reference for spikegrad: QCFS networks and what SEMANTICS.md says a run reports.

This is the referee. It is written from ../shared/design/SEMANTICS.md and the
public QCFS code (Bu et al., ICLR 2022), never from the Go engine, and it is
what the committed fixtures come from. Run it with Debian's /usr/bin/python3
(python3-torch).

    /usr/bin/python3 tools/ref/qcfs.py --ckpt vgg16.pth --data test_batch.bin -n 32 -T 8

prints the same JSON object as `spikegrad -json`.
"""

import argparse
import json
import pickle
import re
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PATHS = ("crossing", "amplitude", "reset", "init")

NORMS = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
    "cifar100": (
        tuple(v / 255 for v in (129.3, 124.1, 112.4)),
        tuple(v / 255 for v in (68.2, 65.4, 70.4)),
    ),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "none": ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
}


class ZIF(torch.autograd.Function):
    """Heaviside forward, triangular surrogate backward (QCFS's ZIF)."""

    @staticmethod
    def forward(ctx, d, gamma):
        ctx.save_for_backward(d)
        ctx.gamma = gamma
        return (d >= 0).to(d.dtype)

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_tensors
        gm = ctx.gamma
        return g * (1.0 / gm**2) * (gm - d.abs()).clamp(min=0), None


class GradFloor(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.floor()

    @staticmethod
    def backward(ctx, g):
        return g


class IF(nn.Module):
    """QCFS IF neuron with a live threshold.

    Each of the four places where th appears in SNN mode reads its own leaf
    copy of thresh, so autograd reports the four path terms separately; their
    sum is dL/dthresh (checked in run()).
    """

    def __init__(self, T=0, L=4, gamma=1.0):
        super().__init__()
        self.thresh = nn.Parameter(torch.tensor([8.0]), requires_grad=True)
        self.T, self.L, self.gamma = T, L, gamma
        self.split = False
        self.leaves = None
        self.rate = None
        # keep: record each step's potential before the crossing test (mems)
        # and d = mem - thresh with its gradient retained (deltas), for the
        # teaching fixtures (make_teach_fixtures.py).
        self.keep = False
        self.mems, self.deltas = [], []

    def _th(self, x, path):
        th = self.leaves[path] if self.split else self.thresh
        # [1] broadcasts; a per-channel [C] threshold lines up with dim 1.
        if th.numel() > 1:
            th = th.view(1, -1, *([1] * (x.dim() - 2)))
        return th

    def forward(self, x):
        if self.split:
            self.leaves = {
                p: self.thresh.detach().clone().requires_grad_(True) for p in PATHS
            }
        if self.T == 0:
            th = self._th(x, "crossing")
            y = x / th
            y = torch.clamp(y, 0, 1)
            y = GradFloor.apply(y * self.L + 0.5) / self.L
            self.rate = y.detach().double().mean().item()
            return y * th
        T = self.T
        x = x.view(T, x.shape[0] // T, *x.shape[1:])
        mem = 0.5 * self._th(x[0], "init")
        out = []
        nspk = 0.0
        self.mems, self.deltas = [], []
        for t in range(T):
            mem = mem + x[t]
            d = mem - self._th(x[t], "crossing")
            if self.keep:
                d.retain_grad()
                self.mems.append(mem.detach().clone())
                self.deltas.append(d)
            s = ZIF.apply(d, self.gamma)
            nspk += s.detach().double().sum().item()
            out.append(s * self._th(x[t], "amplitude"))
            mem = mem - s * self._th(x[t], "reset")
        self.rate = nspk / x.numel()
        return torch.stack(out, 0).flatten(0, 1)


VGG_CFG = {
    "vgg11": [[64, "M"], [128, "M"], [256, 256, "M"], [512, 512, "M"], [512, 512, "M"]],
    "vgg13": [[64, 64, "M"], [128, 128, "M"], [256, 256, "M"], [512, 512, "M"], [512, 512, "M"]],
    "vgg16": [
        [64, 64, "M"],
        [128, 128, "M"],
        [256, 256, 256, "M"],
        [512, 512, 512, "M"],
        [512, 512, 512, "M"],
    ],
    "vgg19": [
        [64, 64, "M"],
        [128, 128, "M"],
        [256, 256, 256, 256, "M"],
        [512, 512, 512, 512, "M"],
        [512, 512, 512, 512, "M"],
    ],
}


class VGG(nn.Module):
    """QCFS VGG layout: layer1..layer5 of conv/BN/IF/Dropout ending in AvgPool2d(2).

    bn=False is QCFS's VGG_woBN (putshua/ANN_SNN_QCFS Models/VGG.py, `vgg16_wobn`):
    conv(bias)/IF/Dropout, each block ending in MaxPool2d(2, 2), the same classifier.
    """

    def __init__(self, name="vgg16", num_classes=10, width=1.0, hidden=4096, imagenet=False, bn=True):
        super().__init__()
        cfg = [[v if v == "M" else max(1, int(v * width)) for v in blk] for blk in VGG_CFG[name]]
        self.name, self.bn, self.imagenet = name, bn, imagenet
        cin = 3
        for i, blk in enumerate(cfg):
            layers = []
            for v in blk:
                if v == "M":
                    # QCFS VGG: AvgPool2d(2, 2); VGG_woBN: MaxPool2d(2, 2).
                    layers.append(nn.AvgPool2d(2) if bn else nn.MaxPool2d(2, 2))
                elif bn:
                    layers += [nn.Conv2d(cin, v, 3, padding=1), nn.BatchNorm2d(v), IF(), nn.Dropout(0.1)]
                    cin = v
                else:
                    layers += [nn.Conv2d(cin, v, 3, padding=1), IF(), nn.Dropout(0.1)]
                    cin = v
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*layers))
        feat = cin * (7 * 7 if imagenet else 1)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(feat, hidden),
            IF(),
            nn.Dropout(0.1),
            nn.Linear(hidden, hidden),
            IF(),
            nn.Dropout(0.1),
            nn.Linear(hidden, num_classes),
        )

        if not bn:
            # VGG_woBN's own initialisation (kaiming_normal_ fan_out, Linear bias 0):
            # without BN the weights' scale is what the activations get.
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        for i in range(1, 6):
            x = getattr(self, "layer%d" % i)(x)
        return self.classifier(x)


RESNET_BLOCKS = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3], "resnet20": [3, 3, 3]}


class BasicBlock(nn.Module):
    """QCFS BasicBlock (putshua/ANN_SNN_QCFS Models/ResNet.py): act(residual_function(x) + shortcut(x))."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.residual_function = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            IF(),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        self.act = IF()

    def forward(self, x):
        return self.act(self.residual_function(x) + self.shortcut(x))


class ResNet(nn.Module):
    """QCFS ResNets (putshua/ANN_SNN_QCFS Models/ResNet.py).

    resnet18/34: `ResNet`, stem conv1 = (conv3x3 3->64 pad 1 no bias, BN, IF), stages
    conv2_x..conv5_x of 64/128/256/512 channels, strides 1/2/2/2.
    resnet20: `ResNet4Cifar`, stem 3->16, stages conv2_x..conv4_x of 16/32/64, 3 blocks each.
    Then AdaptiveAvgPool2d((1, 1)), flatten, fc.

    QCFS has no ImageNet stem: its ImageNet ResNet34 is this same network at 224x224
    (stem="cifar"). stem="imagenet7" is not QCFS code: torchvision's 7x7 stride-2 pad-3
    stem in QCFS naming, conv1 = (conv7x7, BN, IF, MaxPool2d(3, 2, 1)).

    chans: channels of the stem and of each stage (default: the network's, times width).
    """

    def __init__(self, name="resnet18", num_classes=10, width=1.0, stem="cifar", chans=None):
        super().__init__()
        blocks = RESNET_BLOCKS[name]
        base = [16, 16, 32, 64] if name == "resnet20" else [64, 64, 128, 256, 512]
        chans = chans or [max(1, int(c * width)) for c in base]
        self.name, self.stem = name, stem
        if stem == "cifar":
            self.conv1 = nn.Sequential(nn.Conv2d(3, chans[0], 3, padding=1, bias=False), nn.BatchNorm2d(chans[0]), IF())
        elif stem == "imagenet7":
            self.conv1 = nn.Sequential(
                nn.Conv2d(3, chans[0], 7, stride=2, padding=3, bias=False),
                nn.BatchNorm2d(chans[0]),
                IF(),
                nn.MaxPool2d(3, 2, 1),
            )
        else:
            raise ValueError(stem)
        cin = chans[0]
        self.stages = []
        for i, (n, c) in enumerate(zip(blocks, chans[1:])):
            stride = 1 if i == 0 else 2
            layers = []
            for s in [stride] + [1] * (n - 1):
                layers.append(BasicBlock(cin, c, s))
                cin = c
            name_i = "conv%d_x" % (i + 2)
            setattr(self, name_i, nn.Sequential(*layers))
            self.stages.append(name_i)
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.conv1(x)
        for s in self.stages:
            x = getattr(self, s)(x)
        x = self.avg_pool(x)
        return self.fc(x.view(x.size(0), -1))


def num_classes(model):
    return model.fc.out_features if isinstance(model, ResNet) else model.classifier[-1].out_features


def describe(model, input_shape):
    """The network as an architecture description (README "Architecture descriptions")."""
    mods = []

    def seq(prefix, s, out):
        for i, m in enumerate(s):
            key = "%s.%d" % (prefix, i)
            if isinstance(m, nn.Conv2d):
                out.append({"kind": "conv", "key": key, "stride": m.stride[0], "pad": m.padding[0]})
            elif isinstance(m, nn.BatchNorm2d):
                out.append({"kind": "bn", "key": key})
            elif isinstance(m, IF):
                out.append({"kind": "if", "key": key})
            elif isinstance(m, nn.Linear):
                out.append({"kind": "linear", "key": key})
            elif isinstance(m, nn.Flatten):
                out.append({"kind": "flatten"})
            elif isinstance(m, nn.AvgPool2d):
                out.append({"kind": "avgpool", "kernel": m.kernel_size, "stride": m.stride})
            elif isinstance(m, nn.MaxPool2d):
                d = {"kind": "maxpool", "kernel": m.kernel_size, "stride": m.stride}
                if m.padding:
                    d["pad"] = m.padding
                out.append(d)
            elif isinstance(m, nn.Dropout):
                pass
            else:
                raise ValueError("describe: %s %s" % (key, m))

    if isinstance(model, ResNet):
        seq("conv1", model.conv1, mods)
        for s in model.stages:
            for j, b in enumerate(getattr(model, s)):
                p = "%s.%d" % (s, j)
                mods.append({"kind": "save", "name": p})
                seq(p + ".residual_function", b.residual_function, mods)
                sc = []
                seq(p + ".shortcut", b.shortcut, sc)
                for d in sc:
                    if d["kind"] == "conv":
                        del d["pad"]  # 1x1, no padding
                mods.append({"kind": "add", "from": p, "modules": sc})
                mods.append({"kind": "if", "key": p + ".act"})
        mods += [{"kind": "adaptiveavgpool"}, {"kind": "flatten"}, {"kind": "linear", "key": "fc"}]
    else:
        for i in range(1, 6):
            seq("layer%d" % i, getattr(model, "layer%d" % i), mods)
        seq("classifier", model.classifier, mods)
    return {"name": model.name, "input": list(input_shape), "classes": num_classes(model), "modules": mods}


def if_layers(model):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, IF)]


def set_mode(model, T, L, gamma):
    for _, m in if_layers(model):
        m.T, m.L, m.gamma = T, L, gamma


def normalise(sd):
    """New key names: `up` -> `thresh` and a ResNet block's `relu.up` -> `act.thresh` (older
    QCFS/SRP), `module.` stripped, extra IF buffers dropped."""
    out = {}
    for k, v in sd.items():
        if not torch.is_tensor(v):
            continue
        k = k[len("module.") :] if k.startswith("module.") else k
        if k.endswith(".relu.up") and "_x." in k:
            # An older QCFS ResNet block's `relu` is the newer `act`.
            k = k[: -len(".relu.up")] + ".act.thresh"
        elif k.endswith(".up"):
            k = k[: -len(".up")] + ".thresh"
        if k.endswith(".spike_count") or k.endswith(".time_count"):
            continue
        out[k] = v.float()
    return out


def unwrap(obj):
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "net", "model_state_dict"):
            if key in obj and isinstance(obj[key], dict):
                return obj[key]
    return obj


def resnet_from_state_dict(sd):
    """Recognise a QCFS ResNet18/20/34 (either stem) from key names and shapes."""
    stages = sorted({int(m.group(1)) for k in sd for m in [re.match(r"conv(\d)_x\.(\d+)\.residual_function\.0\.weight$", k)] if m})
    blocks = [len({k.split(".")[1] for k in sd if re.match(r"conv%d_x\.\d+\.residual_function\.0\.weight$" % s, k)}) for s in stages]
    name = {(2, 2, 2, 2): "resnet18", (3, 4, 6, 3): "resnet34", (3, 3, 3): "resnet20"}.get(tuple(blocks))
    if name is None or stages != list(range(2, 2 + len(stages))):
        raise SystemExit("reference: not a QCFS ResNet18/20/34: stages %s blocks %s" % (stages, blocks))
    stem = "imagenet7" if sd["conv1.0.weight"].shape[-1] == 7 else "cifar"
    chans = [sd["conv1.0.weight"].shape[0]] + [sd["conv%d_x.0.residual_function.0.weight" % s].shape[0] for s in stages]
    return ResNet(name, sd["fc.weight"].shape[0], stem=stem, chans=chans)


def model_from_state_dict(sd):
    """Recognise a QCFS VGG or ResNet from key names and shapes (the reference's own, simple version)."""
    if "conv1.0.weight" in sd:
        m = resnet_from_state_dict(sd)
        missing, unexpected = m.load_state_dict(sd, strict=False)
        bad = [k for k in missing if not k.endswith("num_batches_tracked")]
        if bad or unexpected:
            raise SystemExit("reference: state dict mismatch: missing %s unexpected %s" % (bad, unexpected))
        return m
    convs = [k for k in sd if re.match(r"layer\d\.\d+\.weight$", k) and sd[k].dim() == 4]
    per = [sum(1 for k in convs if k.startswith("layer%d." % i)) for i in range(1, 6)]
    name = {(1, 1, 2, 2, 2): "vgg11", (2, 2, 2, 2, 2): "vgg13", (2, 2, 3, 3, 3): "vgg16", (2, 2, 4, 4, 4): "vgg19"}[tuple(per)]
    width = sd["layer1.0.weight"].shape[0] / 64.0
    hidden = sd["classifier.1.weight"].shape[0]
    classes = sd["classifier.7.weight"].shape[0]
    c5 = sd["layer5.0.weight"].shape[0] if name != "vgg11" else sd["layer5.0.weight"].shape[0]
    imagenet = sd["classifier.1.weight"].shape[1] == c5 * 49
    bn = "layer1.1.running_mean" in sd
    m = VGG(name, classes, width, hidden, imagenet, bn=bn)
    missing, unexpected = m.load_state_dict(sd, strict=False)
    bad = [k for k in missing if not k.endswith("num_batches_tracked")]
    if bad or unexpected:
        raise SystemExit("reference: state dict mismatch: missing %s unexpected %s" % (bad, unexpected))
    return m


def read_data(path, classes):
    """CIFAR binary (.bin) or python batch; returns uint8 [N,3,32,32] and labels.
    A .u8 file is raw uint8 [N,3,224,224] pixels without labels (labels -1)."""
    raw = open(path, "rb").read()
    if path.endswith(".u8"):
        x = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3, 224, 224).copy()
        return x, np.full(len(x), -1, dtype=np.int64)
    if raw[:2] == b"\x80\x02":
        d = pickle.loads(raw, encoding="bytes")
        d = {(k.decode() if isinstance(k, bytes) else k): v for k, v in d.items()}
        x = np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        y = np.asarray(d.get("fine_labels", d.get("labels")), dtype=np.int64)
        return x, y
    rec = 3074 if (classes == 100 and len(raw) % 3074 == 0) else 3073
    a = np.frombuffer(raw, dtype=np.uint8).reshape(-1, rec)
    return a[:, rec - 3072 :].reshape(-1, 3, 32, 32).copy(), a[:, rec - 3073].astype(np.int64)


def run(model, images, labels, T=8, L=4, gamma=1.0, norm="cifar10", dtype=torch.float32):
    """One forward and backward; returns the `spikegrad -json` object."""
    model = model.to(dtype).eval()
    set_mode(model, T, L, gamma)
    mean, std = NORMS[norm]
    x = torch.from_numpy(np.asarray(images)).to(dtype) / 255
    x = (x - torch.tensor(mean, dtype=dtype).view(1, 3, 1, 1)) / torch.tensor(std, dtype=dtype).view(1, 3, 1, 1)
    y = torch.from_numpy(np.asarray(labels)).long()
    for p in model.parameters():
        p.requires_grad_(False)
    ifs = if_layers(model)

    def forward(split):
        for _, m in ifs:
            m.split = split
            m.thresh.requires_grad_(not split)
            m.thresh.grad = None
        inp = x
        if T > 0:
            inp = x.unsqueeze(0).repeat(T, 1, 1, 1, 1).flatten(0, 1)
        out = model(inp)
        if T > 0:
            out = out.view(T, x.shape[0], -1).mean(0)
        return out, F.cross_entropy(out, y)

    # Total gradient with one live thresh per layer ...
    out, loss = forward(False)
    loss.backward()
    total = [m.thresh.grad.detach().clone() for _, m in ifs]
    # ... and the four paths, each through its own leaf.
    res = {
        "loss": loss.item(),
        "accuracy": (out.argmax(1) == y).double().mean().item(),
        "T": T,
        "L": L,
        "gamma": gamma,
        "n": int(x.shape[0]),
        "layers": [],
    }
    if T > 0:
        out2, loss2 = forward(True)
        loss2.backward()
    for i, (name, m) in enumerate(ifs):
        layer = {
            "name": name,
            "thresh": m.thresh.detach().double().tolist(),
            "grad": total[i].double().tolist(),
            "firing_rate": m.rate,
        }
        if T > 0:
            # A leaf that nothing downstream used (reset at T=1) gets no grad: its term is 0.
            paths = {
                p: (m.leaves[p].grad if m.leaves[p].grad is not None else torch.zeros_like(m.thresh)).double().view(-1)
                for p in PATHS
            }
            s = sum(paths.values())
            scale = max(1e-30, total[i].double().abs().max().item())
            assert (s - total[i].double().view(-1)).abs().max().item() <= 1e-4 * scale + 1e-9, name
            layer["grad_paths"] = {p: v.tolist() for p, v in paths.items()}
        res["layers"].append(layer)
    for _, m in ifs:
        m.split = False
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("-n", type=int, default=32)
    ap.add_argument("-T", type=int, default=8)
    ap.add_argument("-L", type=int, default=4)
    ap.add_argument("--gamma", type=float, default=1.0)
    ap.add_argument("--norm", default="auto")
    ap.add_argument("--double", action="store_true")
    ap.add_argument("--labels", help="comma-separated labels (for .u8 data)")
    a = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    sd = normalise(unwrap(torch.load(a.ckpt, map_location="cpu")))
    m = model_from_state_dict(sd)
    classes = num_classes(m)
    x, y = read_data(a.data, classes)
    if a.labels:
        y = np.array([int(v) for v in a.labels.split(",")], dtype=np.int64)
    norm = a.norm if a.norm != "auto" else {10: "cifar10", 100: "cifar100"}.get(classes, "imagenet")
    r = run(m, x[: a.n], y[: a.n], a.T, a.L, a.gamma, norm, torch.float64 if a.double else torch.float32)
    json.dump(r, sys.stdout)
    print()


if __name__ == "__main__":
    main()
