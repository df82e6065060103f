"""Writes the architecture fixtures into snn/testdata/ (committed; CI needs no PyTorch).

    /usr/bin/python3 tools/ref/make_arch_fixtures.py

Small width-scaled QCFS ResNet18/20/34 (CIFAR and ImageNet heads; 1/16, 3/8, 1/32), VGG11/13/19,
the no-BatchNorm VGG16 with MaxPool (QCFS `vgg16_wobn`) and an older-key-style
ResNet20 (`up`/`relu.up`, `module.` prefix, legacy torch.save format), each
calibrated as make_fixtures.py does (BN statistics, thresholds at a quantile, so
layers really spike; then each threshold moved by 0.05% steps until no potential on
the fixture's batch is within 2e-6 of it: see harden), and arch_cases.json: for each case the settings and the
reference's result (qcfs.run), in cases.json's schema.

Every model also gets snn/testdata/arch/<name>.txt (str(model) and the saved
state_dict keys with shapes) and snn/testdata/arch/<name>.arch.json (the
architecture description, README "Architecture descriptions").

Sources followed (see qcfs.py): putshua/ANN_SNN_QCFS Models/ResNet.py and
Models/VGG.py (commit 83be9932e360e0acc4364f55ea72bdaa11816977); the older key
style from putshua/SNN_conversion_QCFS (utils.replace_activation_by_floor puts
modules.MyFloor, parameter `up`, in each ReLU's place, so a ResNet block's
`relu` keeps its name: `conv2_x.0.relu.up`).

The data are the committed batches make_fixtures.py wrote (c10.bin, c100.bin,
imagenet2.u8), read back, so the two scripts share them.
"""

import copy
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import qcfs  # noqa: E402
from make_fixtures import calibrate, images  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "snn", "testdata")
ARCH = os.path.join(OUT, "arch")


def calibrated(model, seed, norm, size=32, n=64):
    mean, std = qcfs.NORMS[norm]
    x = torch.from_numpy(images(n, seed + 1, size)).float() / 255
    x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    calibrate(model, x, seed)
    return model


def normed(x, norm):
    mean, std = qcfs.NORMS[norm]
    x = torch.from_numpy(np.asarray(x)).double() / 255
    return (x - torch.tensor(mean, dtype=torch.float64).view(1, 3, 1, 1)) / torch.tensor(std, dtype=torch.float64).view(1, 3, 1, 1)


def margins(model, x, T, eps):
    """Per IF layer, in float64: min |mem - th| / th over every step and neuron, and how
    many are below eps."""
    m = copy.deepcopy(model).double().eval()
    qcfs.set_mode(m, T, 4, 1.0)
    ifs = qcfs.if_layers(m)
    for _, l in ifs:
        l.keep = True
    m(x.unsqueeze(0).repeat(T, 1, 1, 1, 1).flatten(0, 1))  # (keep needs autograd on)
    out = []
    for _, l in ifs:
        r = torch.stack(l.deltas).detach().abs() / l.thresh.detach().abs().max()
        out.append((r.min().item(), int((r < eps).sum().item())))
    return out


def harden(model, runs, eps=2e-6, tries=40):
    """Keep every potential at least eps * th away from its threshold on the fixture's batches.

    A float32 engine sums in another order than PyTorch (and folds BN), which moves a
    potential by ~1e-7..1e-6 of th and flips a spike that sits on its threshold; one flip
    changes the gradients by percents. In network order, the first layer with a potential
    that close has its threshold moved by 0.05% (earlier layers, and so this layer's
    input, stay as they are), until none is left; a layer that cannot be cleared in
    `tries` moves keeps the threshold with the fewest near-ties and is reported.
    runs: [(normalised float64 images, T)].
    """
    ifs = qcfs.if_layers(model)
    moves, left, start, best = {}, {}, 0, None
    while True:
        res = [margins(model, x, T, eps) for x, T in runs]
        counts = [sum(r[i][1] for r in res) for i in range(len(ifs))]
        bad = [i for i in range(start, len(ifs)) if counts[i]]
        if not bad:
            break
        i = bad[0]
        name, l = ifs[i]
        if best is None or best[0] != i or counts[i] < best[1]:
            best = (i, counts[i], l.thresh.data.clone())
        if moves.get(name, 0) >= tries:
            l.thresh.data = best[2]
            left[name] = best[1]
            start, best = i + 1, None
            continue
        l.thresh.data *= 1.0005
        moves[name] = moves.get(name, 0) + 1
    return ["%s x%d%s" % (k, v, " (left %d near-ties)" % left[k] if k in left else "") for k, v in moves.items()]


def write_arch(name, model, sd, input_shape):
    os.makedirs(ARCH, exist_ok=True)
    with open(os.path.join(ARCH, name + ".txt"), "w") as f:
        if any(k.endswith(".up") for k in sd):
            f.write("# The network as the reference builds it, under the new names; the checkpoint\n"
                    "# has the older ones (IF `up` for `thresh`, a block's `relu` for `act`), listed below.\n")
        f.write(str(model) + "\n\n# state_dict keys as saved in %s.pth\n" % name)
        for k, v in sd.items():
            f.write("%s %s %s\n" % (k, list(v.shape), str(v.dtype).replace("torch.", "")))
    d = qcfs.describe(model, input_shape)
    with open(os.path.join(ARCH, name + ".arch.json"), "w") as f:
        f.write('{"name": %s, "input": %s, "classes": %d, "modules": [\n' % (json.dumps(d["name"]), json.dumps(d["input"]), d["classes"]))
        f.write(",\n".join("  " + json.dumps(m) for m in d["modules"]))
        f.write("\n]}\n")


def main():
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    cases = []
    x10, y10 = qcfs.read_data(os.path.join(OUT, "c10.bin"), 10)
    x100, y100 = qcfs.read_data(os.path.join(OUT, "c100.bin"), 100)
    xi = np.fromfile(os.path.join(OUT, "imagenet2.u8"), dtype=np.uint8).reshape(-1, 3, 224, 224)
    yi = np.array([3, 999])

    def save(name, model, sd=None, legacy=False):
        if callable(sd):
            sd = sd(model)
        sd = sd if sd is not None else model.state_dict()
        path = os.path.join(OUT, name + ".pth")
        if legacy:
            torch.save(sd, path, _use_new_zipfile_serialization=False)
        else:
            torch.save(sd, path)
        size = 224 if qcfs.num_classes(model) == 1000 else 32
        write_arch(name, model, sd, [3, size, size])
        # The reference must rebuild the network from the checkpoint alone.
        back = qcfs.model_from_state_dict(qcfs.normalise(qcfs.unwrap(torch.load(path, map_location="cpu"))))
        # (calibrate sets BN momentum=None; the tree is otherwise the same.)
        assert str(back).replace("momentum=0.1", "momentum=None") == str(model), name
        for (k, a), (k2, b) in zip(model.state_dict().items(), back.state_dict().items()):
            assert k == k2 and torch.equal(a.float(), b.float()), (name, k, k2)
        return name + ".pth"

    def hard(name, model, x, norm):
        moved = harden(model, [(normed(x, norm), 8)])
        print("%-30s thresholds moved off near-ties: %s" % (name, ", ".join(moved) or "none"))

    def case(name, model, ckpt, data, x, y, T, norm, gamma=1.0, L=4, labels=False):
        r = qcfs.run(model, x, y, T, L, gamma, norm)
        c = {"name": name, "ckpt": ckpt, "data": data, "n": len(x), "T": T, "L": L, "gamma": gamma, "norm": norm, "want": r}
        if labels:
            c["labels"] = [int(v) for v in y]
        cases.append(c)

    # ResNet18, CIFAR-10 head, width 1/16: T=8 and T=0 (ANN).
    torch.manual_seed(110)
    m = calibrated(qcfs.ResNet("resnet18", 10, width=1 / 16), 110, "cifar10")
    hard("resnet18_c10", m, x10, "cifar10")
    ck = save("resnet18_c10", m)
    case("resnet18_c10_T8", m, ck, "c10.bin", x10, y10, 8, "cifar10")
    case("resnet18_c10_ann", m, ck, "c10.bin", x10, y10, 0, "cifar10")

    # ResNet34, CIFAR-100 head, width 1/16.
    torch.manual_seed(120)
    m = calibrated(qcfs.ResNet("resnet34", 100, width=1 / 16), 120, "cifar100")
    hard("resnet34_c100", m, x100, "cifar100")
    ck = save("resnet34_c100", m)
    case("resnet34_c100_T8", m, ck, "c100.bin", x100, y100, 8, "cifar100")

    # ResNet20 (QCFS ResNet4Cifar: 16/32/64), CIFAR-10, width 3/8 (6/12/24 channels).
    torch.manual_seed(130)
    m = calibrated(qcfs.ResNet("resnet20", 10, width=3 / 8), 130, "cifar10")
    hard("resnet20_c10", m, x10, "cifar10")
    ck = save("resnet20_c10", m)
    case("resnet20_c10_T8", m, ck, "c10.bin", x10, y10, 8, "cifar10")
    case("resnet20_c10_T4_g05", m, ck, "c10.bin", x10, y10, 4, "cifar10", gamma=0.5)

    # ResNet18 with 1000 classes at 224x224, QCFS's own way (its ImageNet ResNet is
    # the same network: 3x3 stride-1 stem, no max pool).
    torch.manual_seed(140)
    m = calibrated(qcfs.ResNet("resnet18", 1000, width=1 / 32), 140, "imagenet", size=224, n=8)
    hard("resnet18_imagenet", m, xi, "imagenet")
    ck = save("resnet18_imagenet", m)
    case("resnet18_imagenet_T8", m, ck, "imagenet2.u8", xi, yi, 8, "imagenet", labels=True)

    # The same with torchvision's ImageNet stem in QCFS naming (not QCFS code):
    # conv1 = conv 7x7 stride 2 pad 3, BN, IF, MaxPool2d(3, 2, 1).
    torch.manual_seed(150)
    m = calibrated(qcfs.ResNet("resnet18", 1000, width=1 / 32, stem="imagenet7"), 150, "imagenet", size=224, n=8)
    hard("resnet18_imagenet7", m, xi, "imagenet")
    ck = save("resnet18_imagenet7", m)
    case("resnet18_imagenet7_T8", m, ck, "imagenet2.u8", xi, yi, 8, "imagenet", labels=True)

    # VGG11/13/19, CIFAR-10, width 1/16.
    for i, name in enumerate(("vgg11", "vgg13", "vgg19")):
        torch.manual_seed(160 + i)
        m = calibrated(qcfs.VGG(name, 10, width=1 / 16, hidden=64), 160 + i, "cifar10")
        hard(name, m, x10, "cifar10")
        ck = save(name + "_c10", m)
        case(name + "_c10_T8", m, ck, "c10.bin", x10, y10, 8, "cifar10")

    # VGG16 without BatchNorm, MaxPool2d (QCFS VGG_woBN), CIFAR-10, width 1/16.
    torch.manual_seed(170)
    m = calibrated(qcfs.VGG("vgg16", 10, width=1 / 16, hidden=64, bn=False), 170, "cifar10")
    hard("vgg16_wobn_c10", m, x10, "cifar10")
    ck = save("vgg16_wobn_c10", m)
    case("vgg16_wobn_c10_T8", m, ck, "c10.bin", x10, y10, 8, "cifar10")

    # Older key style: ResNet20, CIFAR-100, width 1/4, as the older QCFS code
    # (DistributedDataParallel, MyFloor `up`) saved it: `module.conv1.2.up`,
    # `module.conv2_x.0.residual_function.2.up`, `module.conv2_x.0.relu.up`;
    # legacy (non-zip) torch.save format. Reported under the new names.
    torch.manual_seed(180)
    m = calibrated(qcfs.ResNet("resnet20", 100, width=1 / 4), 180, "cifar100")
    hard("resnet20_c100_relu_up_legacy", m, x100, "cifar100")
    old = {}
    for k, v in m.state_dict().items():
        if k.endswith(".act.thresh"):
            k = k[: -len(".act.thresh")] + ".relu.up"
        elif k.endswith(".thresh"):
            k = k[: -len(".thresh")] + ".up"
        old["module." + k] = v
    ck = save("resnet20_c100_relu_up_legacy", m, old, legacy=True)
    case("resnet20_c100_relu_up_legacy_T8", m, ck, "c100.bin", x100, y100, 8, "cifar100")

    with open(os.path.join(OUT, "arch_cases.json"), "w") as f:
        json.dump({"generator": "tools/ref/make_arch_fixtures.py", "torch": torch.__version__, "cases": cases}, f, indent=1)
    for c in cases:
        w = c["want"]
        rates = [l["firing_rate"] for l in w["layers"]]
        g = max(abs(v) for l in w["layers"] for v in l["grad"])
        print("%-34s loss %.4f acc %.3f layers %2d rates %.2f..%.2f (%d outside 0.01-0.9) max|grad| %.3g"
              % (c["name"], w["loss"], w["accuracy"], len(rates), min(rates), max(rates),
                 sum(1 for r in rates if not 0.01 <= r <= 0.9), g))


if __name__ == "__main__":
    main()
