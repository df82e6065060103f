"""Trains spikegrad's embedded demo network and writes snn/demo/.

    /usr/bin/python3 tools/ref/train_demo.py

A slim QCFS VGG16 (width 1/8, hidden 512) trained in ANN mode with the QCFS
activation (IF with T=0, L=4, learnable per-layer thresholds) on 20k images of
the synthetic 10-class set of synth.py (CIFAR cannot be downloaded here; this
is not CIFAR), with CIFAR-10 normalisation, random crop (pad 4) and horizontal
flip, SGD + cosine LR, weight decay 5e-4 on weights and thresholds as in QCFS.
It then evaluates the converted SNN (T=8, L=4, gamma=1) with qcfs.run on a
held-out batch of 32 images and writes

    snn/demo/vgg16_demo.pth   torch.save(state_dict), zip format, float32
    snn/demo/demo_batch.bin   those 32 images in CIFAR-10 binary format
    snn/demo/classes.txt      the class names, one per line

Everything is seeded; on 2 CPU threads it takes a few minutes.
"""

import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qcfs  # noqa: E402
import synth  # noqa: E402

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "snn", "demo"))

SEED = 0
N_TRAIN, TRAIN_SEED = 20000, 1
N_DEMO, DEMO_SEED = 32, 2
N_VAL, VAL_SEED = 1000, 3
EPOCHS = 8
BATCH = 128
LR = 0.05
WD = 5e-4
THRESH0 = 2.0
T, L, GAMMA = 8, 4, 1.0
NORM = "cifar10"


def normalise(xu8):
    """uint8 [N,3,32,32] -> CIFAR-10 normalised float32."""
    mean, std = qcfs.NORMS[NORM]
    x = torch.as_tensor(xu8).float() / 255
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def augment(xu8, g):
    """Random crop with 4 pixels of zero (black) padding and random horizontal flip, on uint8."""
    b = xu8.shape[0]
    p = F.pad(xu8, (4, 4, 4, 4))
    oy = torch.randint(0, 9, (b,), generator=g)
    ox = torch.randint(0, 9, (b,), generator=g)
    ar = torch.arange(32)
    rows = (oy[:, None] + ar)[:, None, :, None]
    cols = (ox[:, None] + ar)[:, None, None, :]
    out = p[torch.arange(b)[:, None, None, None], torch.arange(3)[None, :, None, None], rows, cols]
    flip = torch.rand(b, generator=g) < 0.5
    out[flip] = out[flip].flip(3)
    return out


@torch.no_grad()
def evaluate(model, xu8, y, t):
    """Loss and accuracy with the IF layers at T=t (0: ANN/QCFS mode), no gradients."""
    model.eval()
    qcfs.set_mode(model, t, L, GAMMA)
    loss = correct = 0.0
    for i in range(0, len(y), 250):
        x = normalise(xu8[i : i + 250])
        yy = torch.as_tensor(y[i : i + 250])
        if t > 0:
            out = model(x.unsqueeze(0).repeat(t, 1, 1, 1, 1).flatten(0, 1)).view(t, x.shape[0], -1).mean(0)
        else:
            out = model(x)
        loss += F.cross_entropy(out, yy, reduction="sum").item()
        correct += (out.argmax(1) == yy).sum().item()
    qcfs.set_mode(model, 0, L, GAMMA)
    return loss / len(y), correct / len(y)


def write_bin(path, x, y):
    with open(path, "wb") as f:
        for i in range(len(y)):
            f.write(bytes([int(y[i])]))
            f.write(np.ascontiguousarray(x[i]).tobytes())


def main():
    t0 = time.time()
    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.use_deterministic_algorithms(True)

    xtr, ytr = synth.make(N_TRAIN, TRAIN_SEED)
    xval, yval = synth.make(N_VAL, VAL_SEED)
    xdemo, ydemo = synth.make(N_DEMO, DEMO_SEED)
    xtr_t, ytr_t = torch.from_numpy(xtr), torch.from_numpy(ytr)
    print("data: %d train, %d val, %d demo images (%.1fs)" % (len(ytr), len(yval), len(ydemo), time.time() - t0))

    model = qcfs.VGG("vgg16", 10, width=1 / 8, hidden=512)
    qcfs.set_mode(model, 0, L, GAMMA)
    for _, m in qcfs.if_layers(model):
        m.thresh.data.fill_(THRESH0)
    # Weight decay on weights and thresholds (as QCFS), none on BN affine and biases.
    decay = [p for n, p in model.named_parameters() if n.endswith("thresh") or p.dim() > 1]
    other = [p for n, p in model.named_parameters() if not (n.endswith("thresh") or p.dim() > 1)]
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": WD}, {"params": other, "weight_decay": 0.0}],
        lr=LR,
        momentum=0.9,
        nesterov=True,
    )
    steps = EPOCHS * ((N_TRAIN + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=LR, total_steps=steps, pct_start=0.15, anneal_strategy="cos", div_factor=10, final_div_factor=100
    )
    g = torch.Generator().manual_seed(SEED)
    for ep in range(EPOCHS):
        model.train()
        perm = torch.randperm(N_TRAIN, generator=g)
        tl = tc = 0.0
        for i in range(0, N_TRAIN, BATCH):
            idx = perm[i : i + BATCH]
            x = normalise(augment(xtr_t[idx], g))
            y = ytr_t[idx]
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tl += loss.item() * len(y)
            tc += (out.argmax(1) == y).sum().item()
        vl, va = evaluate(model, xval, yval, 0)
        th = [m.thresh.item() for _, m in qcfs.if_layers(model)]
        print(
            "epoch %d  train loss %.3f acc %.3f  val(ANN) loss %.3f acc %.3f  thresh %.2f..%.2f  %.0fs"
            % (ep + 1, tl / N_TRAIN, tc / N_TRAIN, vl, va, min(th), max(th), time.time() - t0)
        )
    vl, va = evaluate(model, xval, yval, T)
    print("val(SNN T=%d) loss %.3f acc %.3f" % (T, vl, va))

    os.makedirs(OUT, exist_ok=True)
    sd = {k: v.detach().clone().float() if v.is_floating_point() else v.detach().clone() for k, v in model.state_dict().items()}
    torch.save(sd, os.path.join(OUT, "vgg16_demo.pth"))
    write_bin(os.path.join(OUT, "demo_batch.bin"), xdemo, ydemo)
    with open(os.path.join(OUT, "classes.txt"), "w") as f:
        f.write("\n".join(synth.CLASSES) + "\n")

    # The demo batch in SNN mode through the reference, from the saved files.
    sd = qcfs.normalise(torch.load(os.path.join(OUT, "vgg16_demo.pth"), map_location="cpu"))
    m = qcfs.model_from_state_dict(sd)
    xb, yb = qcfs.read_data(os.path.join(OUT, "demo_batch.bin"), 10)
    r = qcfs.run(m, xb, yb, T=T, L=L, gamma=GAMMA, norm=NORM)
    print("demo batch (SNN T=%d L=%d gamma=%g, n=%d): loss %.4f accuracy %.4f" % (T, L, GAMMA, r["n"], r["loss"], r["accuracy"]))
    for lay in r["layers"]:
        print("  %-14s thresh %.4f  grad % .4e  rate %.4f" % (lay["name"], lay["thresh"][0], lay["grad"][0], lay["firing_rate"]))
    for name in ("vgg16_demo.pth", "demo_batch.bin", "classes.txt"):
        print("wrote %s (%d bytes)" % (os.path.join(OUT, name), os.path.getsize(os.path.join(OUT, name))))
    print("total %.0fs" % (time.time() - t0))


if __name__ == "__main__":
    main()
