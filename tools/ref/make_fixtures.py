"""Writes the engine's PyTorch fixtures into snn/testdata/ (committed; CI needs no PyTorch).

    /usr/bin/python3 tools/ref/make_fixtures.py

Small width-scaled QCFS VGG16s with calibrated BatchNorm statistics and
thresholds (so that layers really spike), saved in the checkpoint forms the
engine must read, a few CIFAR batches, and cases.json: for each case the
settings and the reference's result (qcfs.run).
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import qcfs  # noqa: E402
from make_cifar_fixtures import py2_batch  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "snn", "testdata")


def calibrate(model, x, seed, q=0.9):
    """Random BN affine, BN running stats from x, thresholds at a quantile of each IF input."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data = 0.6 + 0.8 * torch.rand(m.weight.shape, generator=g)
            m.bias.data = 0.3 * torch.randn(m.bias.shape, generator=g)
            m.momentum = None
    qcfs.set_mode(model, 0, 4, 1.0)
    model.train()
    with torch.no_grad():
        model(x)
    model.eval()

    def pre(mod, inp):
        v = inp[0].detach().flatten()
        th = torch.quantile(v[:100000], q).clamp(min=0.05)
        th = th * (0.7 + 0.6 * torch.rand(1, generator=g))
        mod.thresh.data = th.expand_as(mod.thresh).clone() * (
            1 + 0.2 * torch.rand(mod.thresh.shape, generator=g) if mod.thresh.numel() > 1 else 1
        )

    hs = [m.register_forward_pre_hook(pre) for _, m in qcfs.if_layers(model)]
    with torch.no_grad():
        model(x)
    for h in hs:
        h.remove()


def images(n, seed, size=32):
    """Smooth random colour images (noise alone would be too white for a small net)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 3, 8, 8))
    a = np.kron(a, np.ones((1, 1, size // 8, size // 8)))
    a = a + 0.3 * rng.normal(size=(n, 3, size, size))
    return np.clip(128 + 60 * a, 0, 255).astype(np.uint8)


def write_bin(path, x, y, classes):
    with open(path, "wb") as f:
        for i in range(len(x)):
            if classes == 100:
                f.write(bytes([int(y[i]) // 5, int(y[i])]))
            else:
                f.write(bytes([int(y[i])]))
            f.write(x[i].tobytes())


def make_model(classes, seed, perchannel=False):
    torch.manual_seed(seed)
    m = qcfs.VGG("vgg16", classes, width=1 / 16, hidden=64)
    if perchannel:
        # Per-channel thresholds ([C]) on two layers.
        for name in ("layer1.2", "layer3.6"):
            mod = dict(m.named_modules())[name]
            prefix, idx = name.rsplit(".", 1)
            c = dict(m.named_modules())["%s.%d" % (prefix, int(idx) - 1)].num_features
            mod.thresh = torch.nn.Parameter(torch.ones(c))
    mean, std = qcfs.NORMS["cifar10"]
    x = torch.from_numpy(images(64, seed + 1)).float() / 255
    x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    calibrate(m, x, seed)
    return m


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(2)
    cases = []

    x10 = images(8, 1)
    y10 = np.random.default_rng(2).integers(0, 10, 8)
    write_bin(os.path.join(OUT, "c10.bin"), x10, y10, 10)
    x100 = images(6, 3)
    y100 = np.random.default_rng(4).integers(0, 100, 6)
    write_bin(os.path.join(OUT, "c100.bin"), x100, y100, 100)
    # The same images as python batches, laid out as the real Python 2 files are.
    with open(os.path.join(OUT, "c10_test_batch"), "wb") as f:
        f.write(py2_batch((len(x10), 3072), x10.tobytes(), [(b"labels", [int(v) for v in y10])]))
    with open(os.path.join(OUT, "c100_test"), "wb") as f:
        f.write(py2_batch((len(x100), 3072), x100.tobytes(),
                          [(b"fine_labels", [int(v) for v in y100]), (b"coarse_labels", [int(v) // 5 for v in y100])]))

    def case(name, model, ckpt, data, x, y, T, L, gamma, norm, n=None):
        n = n or len(x)
        r = qcfs.run(model, x[:n], y[:n], T, L, gamma, norm)
        cases.append(
            {"name": name, "ckpt": ckpt, "data": data, "n": n, "T": T, "L": L, "gamma": gamma, "norm": norm, "want": r}
        )

    # CIFAR-10 head, zip format.
    m10 = make_model(10, 10)
    torch.save(m10.state_dict(), os.path.join(OUT, "vgg16_c10.pth"))
    for T, gamma in ((8, 1.0), (4, 0.5), (6, 1.0), (8, 0.5), (1, 1.0)):
        case("c10_T%d_g%g" % (T, gamma), m10, "vgg16_c10.pth", "c10.bin", x10, y10, T, 4, gamma, "cifar10")
    case("c10_L8", m10, "vgg16_c10.pth", "c10.bin", x10, y10, 8, 8, 1.0, "cifar10", n=5)
    case("c10_pickle_T8_g05", m10, "vgg16_c10.pth", "c10_test_batch", x10, y10, 8, 4, 0.5, "cifar10", n=6)
    case("c10_ann", m10, "vgg16_c10.pth", "c10.bin", x10, y10, 0, 4, 1.0, "cifar10")

    # fp16 weights: the reference runs on the weights as rounded to fp16.
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in m10.state_dict().items()}
    torch.save(half, os.path.join(OUT, "vgg16_c10_fp16.pth"))
    m16 = qcfs.model_from_state_dict(qcfs.normalise(half))
    case("c10_fp16", m16, "vgg16_c10_fp16.pth", "c10.bin", x10, y10, 8, 4, 1.0, "cifar10")

    # CIFAR-100 head, legacy format, older `up` key style, nested and DataParallel-prefixed.
    m100 = make_model(100, 20)
    sd = {}
    for k, v in m100.state_dict().items():
        k = "module." + (k[: -len(".thresh")] + ".up" if k.endswith(".thresh") else k)
        sd[k] = v
    torch.save({"epoch": 3, "state_dict": sd}, os.path.join(OUT, "vgg16_c100_up_legacy.pth"), _use_new_zipfile_serialization=False)
    case("c100_up_legacy_T8", m100, "vgg16_c100_up_legacy.pth", "c100.bin", x100, y100, 8, 4, 1.0, "cifar100")
    case("c100_up_legacy_T4_g05", m100, "vgg16_c100_up_legacy.pth", "c100_test", x100, y100, 4, 4, 0.5, "cifar100")

    # Per-channel thresholds.
    mpc = make_model(10, 30, perchannel=True)
    torch.save(mpc.state_dict(), os.path.join(OUT, "vgg16_c10_perchannel.pth"))
    case("c10_perchannel", mpc, "vgg16_c10_perchannel.pth", "c10.bin", x10, y10, 8, 4, 1.0, "cifar10", n=4)

    # ImageNet head (Linear from Cx7x7, 224x224 input), 1000 classes: the
    # engine reads the raw pixels (uint8 [N,3,224,224]) from imagenet2.u8.
    torch.manual_seed(40)
    mi = qcfs.VGG("vgg16", 1000, width=1 / 32, hidden=16, imagenet=True)
    mean, std = qcfs.NORMS["imagenet"]
    xc = torch.from_numpy(images(8, 41, 224)).float() / 255
    calibrate(mi, (xc - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1), 40)
    torch.save(mi.state_dict(), os.path.join(OUT, "vgg16_imagenet.pth"))
    xi = images(2, 42, 224)
    yi = np.array([3, 999])
    xi.tofile(os.path.join(OUT, "imagenet2.u8"))
    case("imagenet_T4", mi, "vgg16_imagenet.pth", "imagenet2.u8", xi, yi, 4, 4, 1.0, "imagenet")
    cases[-1]["labels"] = [int(v) for v in yi]

    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"generator": "tools/ref/make_fixtures.py", "torch": torch.__version__, "cases": cases}, f, indent=1)
    for c in cases:
        w = c["want"]
        print("%-24s loss %.5f acc %.3f rates %s" % (c["name"], w["loss"], w["accuracy"], " ".join("%.2f" % l["firing_rate"] for l in w["layers"])))


if __name__ == "__main__":
    main()
