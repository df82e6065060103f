"""Fixtures for QCFS's deeper ResNets (BottleNeck blocks) and the MyFloor quantiser (issue 16, item 4).

    /usr/bin/python3 tools/ref/make_deep_fixtures.py

Networks are built with the PUBLISHED earlier QCFS code (../shared/upstream/SNN_conversion_QCFS:
Models/ResNet.py's resnet50/101/152 of BottleNeck blocks, utils.replace_activation_by_floor
putting modules.MyFloor, parameter `up`, in every ReLU's place), imported from where it is,
never copied. modules.py imports spikingjelly, which only its ScaledNeuron/ShiftNeuron use:
a stub module stands in (MyFloor needs none of it).

Width: ResNet.py hard-codes the channel counts (64..512, 4x in a BottleNeck). To keep the
checkpoints small, the module's `nn` is replaced while the model is built by a namespace
whose Conv2d, BatchNorm2d and Linear are torch's with every channel count but the image's
3 divided by 1/width (the classes keep their names; the block structure, strides and
shortcut conditions are the published code's, which decides them on the unscaled counts).

Each model is calibrated (random BN affine; in one eval-mode pass in network order, each BN's
running statistics from its own input and each `up` at a quantile of its input), saved as the earlier code saves it (state_dict keys
`conv1.2.up`, `conv2_x.0.residual_function.{2,5}.up`, `conv2_x.0.relu.up`), and run:

- SNN mode (T>0) and ANN mode with the later code's IF: each MyFloor replaced by qcfs.IF
  (the referee, live threshold) with thresh = up; the thresholds of the 32x32 networks are
  first moved off near-ties on the fixture's batch (make_arch_fixtures.harden) and copied
  back to `up` ("hardened"; the 224x224 one is not: too slow here, and its float32 numbers
  are then compared in float64 only).
- ANN mode with MyFloor itself (quantiser "myfloor"): the upstream modules as they are,
  t = L; dL/dup by autograd; firing_rate = mean of y/up.

Each case has `want` (PyTorch float32) and `want64` (PyTorch on model.double(), the
images normalised in float32 as the engine does, then widened). IF layers are reported
under the new names (`relu` -> `act`). Written: snn/testdata/deep_cases.json, the
checkpoints, and snn/testdata/arch/<name>.txt (the module tree and saved keys).
"""

import copy
import json
import os
import sys
import types

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import qcfs  # noqa: E402
from make_arch_fixtures import harden  # noqa: E402

OUT = os.path.normpath(os.path.join(HERE, "..", "..", "snn", "testdata"))
UPSTREAM = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "upstream", "SNN_conversion_QCFS"))


def import_upstream():
    sj = types.ModuleType("spikingjelly")
    cd = types.ModuleType("spikingjelly.clock_driven")
    neuron = types.ModuleType("spikingjelly.clock_driven.neuron")
    neuron.IFNode = None
    sj.clock_driven, cd.neuron = cd, neuron
    sys.modules.update({"spikingjelly": sj, "spikingjelly.clock_driven": cd, "spikingjelly.clock_driven.neuron": neuron})
    sys.path.insert(0, UPSTREAM)
    import Models  # noqa: E402
    import modules  # noqa: E402
    import utils  # noqa: E402

    return Models, modules, utils


Models, modules, utils = import_upstream()
RN = sys.modules["Models.ResNet"]


def scaled_nn(width):
    sc = lambda c: c if c == 3 else max(1, int(round(c * width)))  # noqa: E731

    class Conv2d(tnn.Conv2d):
        def __init__(self, cin, cout, *a, **k):
            super().__init__(sc(cin), sc(cout), *a, **k)

    class BatchNorm2d(tnn.BatchNorm2d):
        def __init__(self, c, *a, **k):
            super().__init__(sc(c), *a, **k)

    class Linear(tnn.Linear):
        def __init__(self, cin, cout, *a, **k):
            super().__init__(sc(cin), cout, *a, **k)

    ns = types.SimpleNamespace(**{k: getattr(tnn, k) for k in dir(tnn) if not k.startswith("_")})
    ns.Conv2d, ns.BatchNorm2d, ns.Linear = Conv2d, BatchNorm2d, Linear
    return ns


def build(name, classes, width, L):
    """The published resnet50/101/152 at a width, ReLUs replaced by MyFloor(8, L)."""
    real = RN.nn
    RN.nn = scaled_nn(width)
    try:
        m = getattr(Models, name)(num_classes=classes)
    finally:
        RN.nn = real
    return utils.replace_activation_by_floor(m, L)


def floors(model):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, modules.MyFloor)]


def new_name(n):
    return n[: -len(".relu")] + ".act" if n.endswith(".relu") and "_x." in n else n


def normalised(pix, norm):
    """As the engine (snn/norm.go): float32 (v/255 - mean)/std, constants rounded to float32."""
    mean, std = qcfs.NORMS[norm]
    x = torch.from_numpy(np.asarray(pix)).float() / 255
    return (x - torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)) / torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)


def calibrate(model, x, seed, q=0.9):
    """Random BN affine; then in one eval-mode pass, in network order, each BN's running
    statistics from its own input and each `up` at a quantile of its input (so every layer
    is calibrated on the input the calibrated layers before it give)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, tnn.BatchNorm2d):
            m.weight.data = 0.6 + 0.8 * torch.rand(m.weight.shape, generator=g)
            m.bias.data = 0.3 * torch.randn(m.bias.shape, generator=g)

    def bn(mod, inp):
        v = inp[0].detach()
        mod.running_mean.data = v.mean((0, 2, 3))
        mod.running_var.data = v.var((0, 2, 3))

    def pre(mod, inp):
        v = inp[0].detach().flatten()
        th = torch.quantile(v[:100000], q).clamp(min=0.05)
        mod.up.data = (th * (0.7 + 0.6 * torch.rand(1, generator=g))).view(1)

    model.eval()
    hs = [m.register_forward_pre_hook(bn) for m in model.modules() if isinstance(m, tnn.BatchNorm2d)]
    hs += [m.register_forward_pre_hook(pre) for _, m in floors(model)]
    with torch.no_grad():
        model(x)
    for h in hs:
        h.remove()


def to_if(model):
    """A copy with each MyFloor replaced by qcfs.IF, thresh = up."""
    m = copy.deepcopy(model)
    for name, f in floors(m):
        parent = m.get_submodule(name.rsplit(".", 1)[0]) if "." in name else m
        i = qcfs.IF()
        i.thresh.data = f.up.data.clone()
        setattr(parent, name.rsplit(".", 1)[-1], i)
    return m


def run_if(model, x, y, T, L, gamma):
    """qcfs.run's computation on normalised images x (float32 or float64)."""
    model = model.to(x.dtype).eval()
    qcfs.set_mode(model, T, L, gamma)
    for p in model.parameters():
        p.requires_grad_(False)
    ifs = qcfs.if_layers(model)
    y = torch.as_tensor(np.asarray(y)).long()

    def forward(split):
        for _, m in ifs:
            m.split = split
            m.thresh.requires_grad_(not split)
            m.thresh.grad = None
        out = model(x.unsqueeze(0).repeat(T, 1, 1, 1, 1).flatten(0, 1) if T > 0 else x)
        if T > 0:
            out = out.view(T, x.shape[0], -1).mean(0)
        return out, F.cross_entropy(out, y)

    out, loss = forward(False)
    loss.backward()
    total = [m.thresh.grad.detach().clone() for _, m in ifs]
    res = {"loss": loss.item(), "accuracy": (out.argmax(1) == y).double().mean().item(),
           "T": T, "L": L, "gamma": gamma, "n": int(x.shape[0]), "layers": []}
    if T > 0:
        _, loss2 = forward(True)
        loss2.backward()
    for i, (name, m) in enumerate(ifs):
        layer = {"name": new_name(name), "thresh": m.thresh.detach().double().tolist(),
                 "grad": total[i].double().tolist(), "firing_rate": m.rate}
        if T > 0:
            ps = {p: (m.leaves[p].grad if m.leaves[p].grad is not None else torch.zeros_like(m.thresh)).double().view(-1)
                  for p in qcfs.PATHS}
            layer["grad_paths"] = {p: v.tolist() for p, v in ps.items()}
        res["layers"].append(layer)
    for _, m in ifs:
        m.split, m.leaves = False, None
    return res


def run_myfloor(model, x, y, L):
    """ANN mode with the published MyFloor modules themselves (t = L): dL/dup by autograd."""
    model = copy.deepcopy(model).to(x.dtype).eval()
    fs = floors(model)
    for p in model.parameters():
        p.requires_grad_(False)
    rates = {}
    for name, f in fs:
        f.t = L
        f.up.requires_grad_(True)
        f.register_forward_hook(lambda mod, inp, out, name=name: rates.__setitem__(name, (out / mod.up).detach().double().mean().item()))
    y = torch.as_tensor(np.asarray(y)).long()
    out = model(x)
    loss = F.cross_entropy(out, y)
    loss.backward()
    res = {"loss": loss.item(), "accuracy": (out.argmax(1) == y).double().mean().item(),
           "T": 0, "L": L, "gamma": 1.0, "n": int(x.shape[0]), "layers": []}
    for name, f in fs:
        res["layers"].append({"name": new_name(name), "thresh": f.up.detach().double().tolist(),
                              "grad": f.up.grad.double().tolist(), "firing_rate": rates[name]})
    return res


def write_tree(name, model, sd):
    with open(os.path.join(OUT, "arch", name + ".txt"), "w") as f:
        f.write("# Built by the earlier QCFS code (SNN_conversion_QCFS Models/ResNet.py, MyFloor in each ReLU's place),\n"
                "# width-scaled by make_deep_fixtures.py; IF layers are reported under the new names (relu -> act).\n")
        f.write(str(model) + "\n\n# state_dict keys as saved in %s.pth\n" % name)
        for k, v in sd.items():
            f.write("%s %s %s\n" % (k, list(v.shape), str(v.dtype).replace("torch.", "")))


def main():
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    x10, y10 = qcfs.read_data(os.path.join(OUT, "c10.bin"), 10)
    x100, y100 = qcfs.read_data(os.path.join(OUT, "c100.bin"), 100)
    xi = np.fromfile(os.path.join(OUT, "imagenet2.u8"), dtype=np.uint8).reshape(-1, 3, 224, 224)
    yi = np.array([3, 999])
    from make_fixtures import images

    cases = []
    L = 4
    # The 224x224 network is not hardened: a float32 engine may flip spikes sitting on
    # their thresholds there (millions of neuron-steps), so its float32 numbers are
    # compared in float64 only (want64).
    hardened = {}

    def model(name, arch, classes, width, seed, x, norm, size=32, T=8):
        torch.manual_seed(seed)
        m = build(arch, classes, width, L)
        cal = normalised(images(16 if size == 32 else 4, seed + 1, size), norm)
        calibrate(m, cal, seed)
        mi = to_if(m)
        hardened[name + ".pth"] = size == 32
        if size == 32:
            moved = harden(mi, [(normalised(x, norm).double(), T)])
            print("%-22s thresholds moved off near-ties: %s" % (name, ", ".join(moved) or "none"), flush=True)
        for (_, f), (_, i) in zip(floors(m), qcfs.if_layers(mi)):
            f.up.data = i.thresh.data.clone()
        sd = m.state_dict()
        torch.save(sd, os.path.join(OUT, name + ".pth"))
        write_tree(name, m, sd)
        print("%-22s %d tensors, %.0f KB" % (name, len(sd), os.path.getsize(os.path.join(OUT, name + ".pth")) / 1024))
        return m, mi

    def case(cname, ckpt, data, x, y, T, norm, m, mi, quantiser="", gamma=1.0, labels=False):
        x32 = normalised(x, norm)
        if quantiser == "myfloor":
            w32, w64 = run_myfloor(m, x32, y, L), run_myfloor(m, x32.double(), y, L)
        else:
            w32 = run_if(copy.deepcopy(mi), x32, y, T, L, gamma)
            w64 = run_if(copy.deepcopy(mi), x32.double(), y, T, L, gamma)
        c = {"name": cname, "ckpt": ckpt, "data": data, "n": len(x), "T": T, "L": L, "gamma": gamma, "norm": norm,
             "arch_name": ckpt.split("_")[0], "quantiser": quantiser, "hardened": hardened[ckpt], "want": w32, "want64": w64}
        if labels:
            c["labels"] = [int(v) for v in y]
        cases.append(c)
        write()
        print("%-32s done" % cname, flush=True)
        return c

    def write():
        with open(os.path.join(OUT, "deep_cases.json"), "w") as f:
            json.dump({"generator": "tools/ref/make_deep_fixtures.py", "torch": torch.__version__, "cases": cases}, f, indent=1)

    # ResNet50, CIFAR-10, width 1/16 (stem 4, stages 4/8/16/32 -> 16/32/64/128 channels).
    m, mi = model("resnet50_c10", "resnet50", 10, 1 / 16, 210, x10, "cifar10")
    case("resnet50_c10_T8", "resnet50_c10.pth", "c10.bin", x10, y10, 8, "cifar10", m, mi)
    a = case("resnet50_c10_ann_if", "resnet50_c10.pth", "c10.bin", x10, y10, 0, "cifar10", m, mi)
    b = case("resnet50_c10_ann_myfloor", "resnet50_c10.pth", "c10.bin", x10, y10, 0, "cifar10", m, mi, quantiser="myfloor")
    # The two quantisers differ only in where the gradient passes: how much here.
    ga = np.array([g for l in a["want64"]["layers"] for g in l["grad"]])
    gb = np.array([g for l in b["want64"]["layers"] for g in l["grad"]])
    print("resnet50_c10 T=0: IF vs MyFloor gradients differ by up to %.3g of the largest |grad| (loss %.6f both: %s)"
          % (np.abs(ga - gb).max() / np.abs(gb).max(), b["want64"]["loss"], a["want64"]["loss"] == b["want64"]["loss"]))

    # ResNet50 with 1000 classes at 224x224 (the earlier code's ImageNet ResNet: 3x3 stem), width 1/32.
    m, mi = model("resnet50_imagenet", "resnet50", 1000, 1 / 32, 220, xi, "imagenet", size=224)
    case("resnet50_imagenet_T8", "resnet50_imagenet.pth", "imagenet2.u8", xi, yi, 8, "imagenet", m, mi, labels=True)
    case("resnet50_imagenet_ann_myfloor", "resnet50_imagenet.pth", "imagenet2.u8", xi, yi, 0, "imagenet", m, mi,
         quantiser="myfloor", labels=True)

    # ResNet101, CIFAR-100, and ResNet152, CIFAR-10, width 1/32.
    m, mi = model("resnet101_c100", "resnet101", 100, 1 / 32, 230, x100, "cifar100")
    case("resnet101_c100_T8", "resnet101_c100.pth", "c100.bin", x100, y100, 8, "cifar100", m, mi)
    m, mi = model("resnet152_c10", "resnet152", 10, 1 / 32, 240, x10, "cifar10", T=4)
    case("resnet152_c10_T4_g05", "resnet152_c10.pth", "c10.bin", x10, y10, 4, "cifar10", m, mi, gamma=0.5)
    case("resnet152_c10_ann_myfloor", "resnet152_c10.pth", "c10.bin", x10, y10, 0, "cifar10", m, mi, quantiser="myfloor")

    write()
    for c in cases:
        w = c["want"]
        rates = [l["firing_rate"] for l in w["layers"]]
        print("%-32s loss %.4f acc %.3f layers %2d rates %.2f..%.2f max|grad| %.3g"
              % (c["name"], w["loss"], w["accuracy"], len(rates), min(rates), max(rates),
                 max(abs(v) for l in w["layers"] for v in l["grad"])))


if __name__ == "__main__":
    main()
