"""The conversion curve's reference (issue 15): accuracy and loss of the
step-averaged output for every T from 1 to TMAX, each from a run of its own
T steps in PyTorch (tools/ref/qcfs.py's live-threshold IF), so that the
engine's one-run curve (spikegrad -curve) is held to separate runs.

    /usr/bin/python3 tools/ref/make_curve_fixtures.py [TMAX]

writes snn/testdata/curve_cases.json for the fixture VGG16 and ResNet20 on
the 8 images of c10.bin, float32 and float64 (model.double()).
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import qcfs  # noqa: E402

TESTDATA = os.path.join(os.path.dirname(__file__), "..", "..", "snn", "testdata")


def curve(model, images, labels, tmax, dtype):
    """[{T, loss, accuracy}] for T = 1..tmax, each a forward run of T steps."""
    model = model.to(dtype).eval()
    mean, std = qcfs.NORMS["cifar10"]
    # Normalised in float32 as the engine does, then widened.
    x = torch.from_numpy(np.asarray(images)).float() / 255
    x = ((x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)).to(dtype)
    y = torch.from_numpy(np.asarray(labels)).long()
    out = []
    with torch.no_grad():
        for T in range(1, tmax + 1):
            qcfs.set_mode(model, T, 4, 1.0)
            logits = model(x.unsqueeze(0).repeat(T, 1, 1, 1, 1).flatten(0, 1)).view(T, x.shape[0], -1).mean(0)
            out.append({
                "T": T,
                "loss": F.cross_entropy(logits, y).item(),
                "accuracy": (logits.argmax(1) == y).double().mean().item(),
            })
    return out


def main():
    tmax = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    torch.manual_seed(0)
    cases = []
    for ckpt in ["vgg16_c10.pth", "resnet20_c10.pth"]:
        sd = qcfs.normalise(qcfs.unwrap(torch.load(os.path.join(TESTDATA, ckpt), map_location="cpu")))
        x, y = qcfs.read_data(os.path.join(TESTDATA, "c10.bin"), 10)
        for name, dtype in [("float32", torch.float32), ("float64", torch.float64)]:
            m = qcfs.model_from_state_dict(sd)
            cases.append({
                "name": "%s_%s" % (ckpt.split(".")[0], name),
                "ckpt": ckpt,
                "data": "c10.bin",
                "n": 8,
                "precision": name,
                "tmax": tmax,
                "curve": curve(m, x[:8], y[:8], tmax, dtype),
            })
    path = os.path.join(TESTDATA, "curve_cases.json")
    with open(path, "w") as f:
        json.dump({"generator": "tools/ref/make_curve_fixtures.py", "torch": torch.__version__, "cases": cases}, f, indent=1)
    print(path, len(cases), "cases")


if __name__ == "__main__":
    main()
