"""Writes snn/testdata/teach.json: PyTorch's numbers for the teaching views (issue 4).

    /usr/bin/python3 tools/ref/make_teach_fixtures.py

On the committed vgg16_c10.pth and c10.bin (make_fixtures.py), T=8, L=4,
gamma=1, 8 images, all computed by the referee (qcfs.py):

- fd: for every IF layer, the loss with all its thresholds moved by +h and by
  -h, h = 1e-2 times the layer's mean threshold (forward only);
- descent: two steps thresh <- thresh - lr*grad on all layers at once
  (a threshold that would go to 0 or below is halved), the loss and the
  thresholds at each point;
- detail: for one IF layer, dL/dd (d = mem - thresh, retain_grad) summed over
  neurons, steps and images and binned like the engine (signed log10, two bins
  a decade from 1e-12 to 1, zeros apart); for one image its firing-rate map and
  one neuron's mem, d, s and dL/dd at each step.
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import qcfs  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "snn", "testdata")
CKPT, BATCH = "vgg16_c10.pth", "c10.bin"
N, T, L, GAMMA, NORM = 8, 8, 4, 1.0, "cifar10"
REL = 1e-2
LR, STEPS = 0.05, 2
LAYER, IMAGE = 2, 3  # the detail's IF layer (layer2.2) and image
HIST_LO, HIST_HI, PER_DECADE = -12, 0, 2


def model():
    sd = qcfs.normalise(qcfs.unwrap(torch.load(os.path.join(DATA, CKPT), map_location="cpu")))
    return qcfs.model_from_state_dict(sd)


def set_thresholds(m, th):
    for (_, mod), v in zip(qcfs.if_layers(m), th):
        mod.thresh.data = torch.tensor(v, dtype=torch.float32)


def thresholds(m):
    return [mod.thresh.detach().double().tolist() for _, mod in qcfs.if_layers(m)]


def hist_bin(g):
    side = (HIST_HI - HIST_LO) * PER_DECADE
    if g == 0:
        return side
    k = int(math.floor((math.log10(abs(g)) - HIST_LO) * PER_DECADE))
    k = min(max(k, 0), side - 1)
    return side - 1 - k if g < 0 else side + 1 + k


def detail(m, x, y, layer, image):
    """Forward and backward with the chosen layer's d kept; returns the detail object."""
    m = m.float().eval()
    qcfs.set_mode(m, T, L, GAMMA)
    mean, std = qcfs.NORMS[NORM]
    xx = torch.from_numpy(np.asarray(x)).float() / 255
    xx = (xx - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    for p in m.parameters():
        p.requires_grad_(False)
    ifs = qcfs.if_layers(m)
    for _, mod in ifs:
        mod.split, mod.keep = False, False
        mod.thresh.requires_grad_(True)
    name, mod = ifs[layer]
    mod.keep = True
    out = m(xx.unsqueeze(0).repeat(T, 1, 1, 1, 1).flatten(0, 1)).view(T, len(y), -1).mean(0)
    F.cross_entropy(out, torch.from_numpy(np.asarray(y)).long()).backward()
    mod.keep = False
    d = torch.stack([v.detach() for v in mod.deltas])  # [T, N, C, H, W]
    g = torch.stack([v.grad for v in mod.deltas])
    u = torch.stack(mod.mems)
    side = (HIST_HI - HIST_LO) * PER_DECADE
    count = [0] * (2 * side + 1)
    total = [0.0] * (2 * side + 1)
    for v in g.flatten().tolist():
        b = hist_bin(v)
        count[b] += 1
        total[b] += v
    C, H, W = d.shape[2:]
    s = (d[:, image] >= 0).double()  # [T, C, H, W]
    rate = s.mean(0).flatten()
    # The neuron: the one of the chosen image with the most steps inside the
    # surrogate window, and a spike, so that the trace shows everything.
    inside = (g[:, image] != 0).sum(0).flatten().double() + 0.5 * (s.sum(0).flatten() > 0).double()
    neuron = int(inside.argmax())
    c, p = divmod(neuron, H * W)
    th = mod.thresh.detach().view(-1)
    thv = float(th[c] if th.numel() > 1 else th[0])
    trace = []
    for t in range(T):
        dv = float(d[t, image, c].flatten()[p])
        sv = 1 if dv >= 0 else 0
        uv = float(u[t, image, c].flatten()[p])
        trace.append({"mem": uv, "d": dv, "s": sv, "mem_after": uv - sv * thv, "grad_d": float(g[t, image, c].flatten()[p])})
    return {
        "layer": layer,
        "image": image,
        "neuron": neuron,
        "name": name,
        "C": C,
        "H": H,
        "W": W,
        "thresh": thv,
        "gamma": GAMMA,
        "hist_count": count,
        "hist_sum": total,
        "sum_grad_d": float(g.double().sum()),
        "trace": trace,
        "rate": rate.tolist(),
    }


def main():
    torch.set_num_threads(2)
    x, y = qcfs.read_data(os.path.join(DATA, BATCH), 10)
    x, y = x[:N], y[:N]
    m = model()
    th0 = thresholds(m)
    base = qcfs.run(m, x, y, T, L, GAMMA, NORM)

    fd = []
    for j, l in enumerate(base["layers"]):
        h = REL * float(np.mean(th0[j]))
        losses = []
        for sign in (1, -1):
            th = [list(v) for v in th0]
            th[j] = [v + sign * h for v in th[j]]
            set_thresholds(m, th)
            losses.append(qcfs.run(m, x, y, T, L, GAMMA, NORM)["loss"])
        set_thresholds(m, th0)
        slope = (losses[0] - losses[1]) / (2 * h)
        fd.append({"name": l["name"], "h": h, "loss_plus": losses[0], "loss_minus": losses[1], "slope": slope, "grad": sum(l["grad"])})

    descent = []
    r = base
    for k in range(STEPS + 1):
        descent.append({"thresh": thresholds(m), "loss": r["loss"], "grad": [sum(l["grad"]) for l in r["layers"]]})
        if k == STEPS:
            break
        th = []
        for l in r["layers"]:
            th.append([(v - LR * g) if v - LR * g > 0 else v / 2 for v, g in zip(l["thresh"], l["grad"])])
        set_thresholds(m, th)
        r = qcfs.run(m, x, y, T, L, GAMMA, NORM)
    set_thresholds(m, th0)

    det = detail(model(), x, y, LAYER, IMAGE)
    det["crossing"] = sum(base["layers"][LAYER]["grad_paths"]["crossing"])
    det["init"] = sum(base["layers"][LAYER]["grad_paths"]["init"])

    doc = {
        "generator": "tools/ref/make_teach_fixtures.py",
        "torch": torch.__version__,
        "ckpt": CKPT,
        "data": BATCH,
        "n": N,
        "T": T,
        "L": L,
        "gamma": GAMMA,
        "norm": NORM,
        "rel": REL,
        "lr": LR,
        "steps": STEPS,
        "base": base,
        "fd": fd,
        "descent": descent,
        "detail": det,
    }
    with open(os.path.join(DATA, "teach.json"), "w") as f:
        json.dump(doc, f, indent=1)
    for f_ in fd:
        print("%-14s slope %+.5f grad %+.5f" % (f_["name"], f_["slope"], f_["grad"]))
    print("descent losses", [round(p["loss"], 6) for p in descent])
    print("detail", det["name"], "neuron", det["neuron"], "sum dL/dd %.6g crossing %.6g init/crossing %.4f" % (det["sum_grad_d"], det["crossing"], det["init"] / det["crossing"]))


if __name__ == "__main__":
    main()
