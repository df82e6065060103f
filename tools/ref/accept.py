"""Acceptance check on files the tests never saw: fresh PyTorch nets and batches
against `spikegrad -json`, in every form the engine issue lists.

    go build -o bin/spikegrad ./tools/spikegrad
    /usr/bin/python3 tools/ref/accept.py bin/spikegrad [DIR]

For VGG16 with CIFAR-10 and CIFAR-100 heads, T in {4, 6, 8}, gamma in {0.5, 1},
zip and legacy checkpoints, fp16 weights, binary and pickle data, `thresh` and
`up` keys, and T=0: prints the largest difference of any gradient (total or
path) relative to the run's largest |grad|, and the loss's relative
difference; exits 1 when one is outside the tolerance (SNN 2e-3 and 1e-4,
ANN 0.2 and 1e-3).
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import make_fixtures as mf  # noqa: E402
import qcfs  # noqa: E402
from make_cifar_fixtures import py2_batch  # noqa: E402


def main():
    exe = sys.argv[1]
    d = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="spikegrad-accept-")
    os.makedirs(d, exist_ok=True)
    torch.set_num_threads(os.cpu_count())
    rows, bad = [], 0
    for classes, seed in ((10, 101), (100, 202)):
        m = mf.make_model(classes, seed)
        x = mf.images(12, seed + 5)
        y = np.random.default_rng(seed + 6).integers(0, classes, 12)
        binf = os.path.join(d, "data%d.bin" % classes)
        mf.write_bin(binf, x, y, classes)
        pkl = os.path.join(d, "data%d_py" % classes)
        key = b"labels" if classes == 10 else b"fine_labels"
        with open(pkl, "wb") as f:
            f.write(py2_batch((len(x), 3072), x.tobytes(), [(key, [int(v) for v in y])]))
        sd = m.state_dict()
        forms = {}
        forms["zip"] = (sd, True, m)
        forms["legacy"] = (sd, False, m)
        half = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
        forms["fp16"] = (half, True, qcfs.model_from_state_dict(qcfs.normalise(half)))
        up = {(k[:-7] + ".up" if k.endswith(".thresh") else k): v for k, v in sd.items()}
        forms["up-legacy"] = (up, False, m)
        norm = "cifar10" if classes == 10 else "cifar100"
        for form, (state, zipfmt, model) in forms.items():
            ck = os.path.join(d, "vgg16_%d_%s.pth" % (classes, form))
            torch.save(state, ck, _use_new_zipfile_serialization=zipfmt)
            for T, gamma, data in ((8, 1.0, binf), (4, 0.5, pkl), (6, 1.0, binf), (8, 0.5, pkl), (0, 1.0, binf)):
                if form != "zip" and T not in (8, 0):
                    continue
                want = qcfs.run(model, x, y, T, 4, gamma, norm)
                out = subprocess.run(
                    [exe, "-ckpt", ck, "-data", data, "-n", str(len(x)), "-T", str(T), "-gamma", str(gamma), "-json"],
                    capture_output=True, text=True,
                )
                if out.returncode != 0:
                    print("FAIL", ck, data, out.stderr.strip())
                    bad += 1
                    continue
                got = json.loads(out.stdout)
                scale = max(abs(g) for l in want["layers"] for g in l["grad"])
                worst = 0.0
                for gl, wl in zip(got["layers"], want["layers"]):
                    pairs = [(gl["grad"], wl["grad"])]
                    if T > 0:
                        pairs += [(gl["grad_paths"][p], wl["grad_paths"][p]) for p in qcfs.PATHS]
                    for a, b in pairs:
                        worst = max(worst, max(abs(u - v) for u, v in zip(a, b)) / scale)
                lossd = abs(got["loss"] - want["loss"]) / abs(want["loss"])
                gtol, ltol = (2e-3, 1e-4) if T > 0 else (0.2, 1e-3)
                ok = worst <= gtol and lossd <= ltol and len(got["layers"]) == 15
                bad += not ok
                rows.append((classes, form, os.path.basename(data), T, gamma, worst, lossd, "ok" if ok else "FAIL"))
    print("%-4s %-10s %-11s %2s %5s  %-22s %-12s" % ("head", "checkpoint", "data", "T", "gamma", "max |dgrad|/max|grad|", "loss rel"))
    for r in rows:
        print("%-4d %-10s %-11s %2d %5.1f  %-22.2e %-12.2e %s" % r)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
