"""The user's workload for benchmarks: a full-width QCFS VGG16 and a CIFAR-10 batch.

    /usr/bin/python3 tools/ref/bench_ref.py DIR [-n 32] [-T 8] [--make-only]

makes DIR/vgg16_full.pth, DIR/batch.bin and DIR/test_batch (the same
images as a python batch) once (calibrated BatchNorm and
thresholds, as make_fixtures.py does for the small nets), then times
PyTorch's forward and backward on them with only the thresholds requiring
grad, and prints one JSON line: seconds, peak RSS, loss, gradients.
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import make_fixtures  # noqa: E402
import qcfs  # noqa: E402
from make_cifar_fixtures import py2_batch  # noqa: E402


def make(d):
    ck, data = os.path.join(d, "vgg16_full.pth"), os.path.join(d, "batch.bin")
    if not (os.path.exists(ck) and os.path.exists(data)):
        os.makedirs(d, exist_ok=True)
        torch.manual_seed(0)
        m = qcfs.VGG("vgg16", 10, width=1.0, hidden=4096)
        mean, std = qcfs.NORMS["cifar10"]
        x = torch.from_numpy(make_fixtures.images(64, 7)).float() / 255
        x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
        make_fixtures.calibrate(m, x, 7)
        torch.save(m.state_dict(), ck)
        xb = make_fixtures.images(32, 8)
        yb = np.random.default_rng(9).integers(0, 10, 32)
        make_fixtures.write_bin(data, xb, yb, 10)
    # The same batch as a CIFAR-10 python batch (the Python 2 layout of cifar-10-batches-py/test_batch).
    py = os.path.join(d, "test_batch")
    if not os.path.exists(py):
        x, y = qcfs.read_data(data, 10)
        with open(py, "wb") as f:
            f.write(py2_batch((len(x), 3072), x.tobytes(), [(b"labels", [int(v) for v in y])]))
    return ck, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("-n", type=int, default=32)
    ap.add_argument("-T", type=int, default=8)
    ap.add_argument("--make-only", action="store_true")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    # Debian's torch starts with one OpenMP thread here; the comparison is against all cores.
    torch.set_num_threads(a.threads)
    ck, data = make(a.dir)
    if a.make_only:
        print(ck, data)
        return
    t0 = time.perf_counter()
    m = qcfs.model_from_state_dict(qcfs.normalise(torch.load(ck, map_location="cpu"))).eval()
    x, y = qcfs.read_data(data, 10)
    x, y = x[: a.n], y[: a.n]
    qcfs.set_mode(m, a.T, 4, 1.0)
    for p in m.parameters():
        p.requires_grad_(False)
    ifs = qcfs.if_layers(m)
    for _, mod in ifs:
        mod.thresh.requires_grad_(True)
    mean, std = qcfs.NORMS["cifar10"]
    xt = torch.from_numpy(x).float() / 255
    xt = (xt - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    t1 = time.perf_counter()
    inp = xt.unsqueeze(0).repeat(a.T, 1, 1, 1, 1).flatten(0, 1)
    out = m(inp).view(a.T, len(y), -1).mean(0)
    loss = F.cross_entropy(out, torch.from_numpy(y).long())
    loss.backward()
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "seconds_total": t2 - t0, "seconds_run": t2 - t1, "peak_rss_bytes": rss, "threads": torch.get_num_threads(),
        "loss": loss.item(), "grads": {n: mod.thresh.grad.item() for n, mod in ifs},
    }))


if __name__ == "__main__":
    main()
