"""Float64 reference fixtures for full-size networks (issue 13), with the measured float32 spread.

    /usr/bin/python3 tools/ref/make_f64_fixtures.py [--cache DIR] [--committed-only | --cache-only] [--force]

Networks are built with the PUBLISHED QCFS model code (../shared/upstream/ANN_SNN_QCFS
Models/, imported from where it is, never copied), so the checkpoints have the real
state_dict layouts. Only the IF neuron's forward is replaced, instance by instance, by
qcfs.IF's live-threshold forward (SEMANTICS.md: th live in all four places, each path
through its own leaf); the published forward reads thresh.data in SNN mode and gives
the threshold no gradient. Everything else (the networks' modules, their forward with
its own time-step handling, the state_dicts) is the published code's.

The exact value is PyTorch on model.double(), eval mode, BN not folded; the images
normalised in float32 as the engine does ((uint8/255 - mean)/std, snn/norm.go), then
widened to float64.

Per case, "f32_spread" holds what a float32 result can be off by, each run against
the float64 answer: PyTorch float32 (default CPU path), float32 with
torch.backends.mkldnn.enabled=False (another summation order), and float64 with every
floating-point tensor of the state_dict but the thresholds (weights, biases, BN affine
and running statistics) multiplied by (1 + 1e-7 N(0,1)), one run per seed. Each gives
rel_grad_dev (worst |grad - grad_f64| over all thresholds / largest |grad_f64|),
loss_diff (|loss - loss_f64|) and sign_flips (layers with a threshold whose gradient
sign differs from float64's). near_threshold counts, per layer, the neuron-steps of the
float64 run whose |mem - th| is at most one float32 ulp of th (np.spacing(float32(th)));
min_margin is the smallest |mem - th| / th. In ANN mode the same for the distance of
the IF input to the nearest place where y or its gradient jumps (th*(k-0.5)/L, 0, th).
Lists in f32_spread are parallel to its "layers" (the IF layers in network order):
f32 and f32_nomkldnn also keep their loss and grad; f64_noise keeps per_seed and
grad_min/grad_max over the unperturbed run and every seed; seconds, the run times.
The top-level "blas" names the BLAS library the figures were measured with (float32
Linear layers, float32 convolutions with mkldnn off, every float64 product).

Committed (snn/testdata/f64_cases.json): the full-width ResNet20 for CIFAR-10
(resnet20_full_c10.pth, written here) at T=8 and T=0 on c10.bin, and the small
vgg16_c10.pth (make_fixtures.py's; 1/16 width, so in qcfs.py's classes of the same layout:
the published classes are full-width only) at T=8 and T=0 on c10.bin. Not committed (DIR/f64_cases.json, DIR
default ~/.cache/spikegrad-bench, paths relative to DIR): full-width VGG16 CIFAR-10
(512-4096-4096-10, the thresholds of ../shared/design/user-script-log.txt) at T=8 and
T=0, full-width ResNet18 CIFAR-100 at T=4 gamma=0.5, 8 images each. Work whose output
exists is skipped (a checkpoint, a case already in its JSON) unless --force.
"""

import argparse
import copy
import json
import os
import re
import shutil
import sys
import time
import types


def use_openblas():
    """Debian's torch takes its BLAS from the system's libblas.so.3; Debian's default, the
    reference BLAS, does float64 convolutions (im2col + dgemm) about 7x slower than OpenBLAS
    (the full-width VGG16 cases take hours). When that is the one installed, run again with
    OpenBLAS: the system's (libopenblas0-pthread installed but not chosen) or one unpacked
    from `apt-get download libopenblas0-pthread` into <cache>/openblas (for this process
    only; the system's choice is left alone). --no-openblas keeps the system's."""
    if os.environ.get("SPIKEGRAD_F64_BLAS") or "--no-openblas" in sys.argv:
        return
    sysblas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    if not os.path.exists(sysblas) or "/blas/libblas.so" not in sysblas:
        return  # not the reference BLAS
    cache = os.path.expanduser("~/.cache/spikegrad-bench")
    for i, v in enumerate(sys.argv):
        if v == "--cache" and i + 1 < len(sys.argv):
            cache = sys.argv[i + 1]
        elif v.startswith("--cache="):
            cache = v.split("=", 1)[1]
    sub = "usr/lib/x86_64-linux-gnu/openblas-pthread"
    dirs = ["/" + sub, os.path.join(cache, "openblas", sub)]
    found = [d for d in dirs if os.path.exists(os.path.join(d, "libblas.so.3"))]
    if not found:
        import glob
        import subprocess

        od = os.path.join(cache, "openblas")
        os.makedirs(od, exist_ok=True)
        try:
            subprocess.run(["apt-get", "download", "libopenblas0-pthread"], cwd=od, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(["dpkg-deb", "-x", sorted(glob.glob(os.path.join(od, "libopenblas0-pthread_*.deb")))[-1], od], check=True)
        except (OSError, IndexError, subprocess.CalledProcessError) as e:
            print("make_f64_fixtures: the reference BLAS, and no OpenBLAS (%s): float64 runs will be slow" % e, file=sys.stderr)
            return
        found = [d for d in dirs if os.path.exists(os.path.join(d, "libblas.so.3"))]
        if not found:
            return
    env = dict(os.environ, SPIKEGRAD_F64_BLAS=found[0])
    # torch already runs the per-image products on every core (OpenMP): OpenBLAS's own
    # threads on top of those only compete with them.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env["LD_LIBRARY_PATH"] = found[0] + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


if __name__ == "__main__":
    use_openblas()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import qcfs  # noqa: E402
from make_fixtures import calibrate, images, write_bin  # noqa: E402

OUT = os.path.normpath(os.path.join(HERE, "..", "..", "snn", "testdata"))
UPSTREAM = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "upstream", "ANN_SNN_QCFS"))
USERLOG = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "design", "user-script-log.txt"))
NOISE = 1e-7


def import_upstream():
    """The published Models package. layer.py and ResNet.py import cv2, sympy and
    matplotlib names they never use: stub those modules (upstream README)."""
    for name, attrs in (("cv2", ["mean"]), ("sympy", ["print_rcode"]), ("matplotlib", []), ("matplotlib.pyplot", ["xlim"])):
        mod = types.ModuleType(name)
        for a in attrs:
            setattr(mod, a, None)
        sys.modules[name] = mod
    sys.modules["matplotlib"].pyplot = sys.modules["matplotlib.pyplot"]
    sys.path.insert(0, UPSTREAM)
    import Models  # noqa: E402

    return Models


Models = import_upstream()


class LiveIF(qcfs.IF, Models.layer.IF):
    """The published IF module (its thresh parameter, its place in the state_dict) with
    qcfs.IF's forward: the threshold read live, the four paths through their own leaves.
    Also an instance of qcfs.IF, so qcfs.if_layers, set_mode and calibrate see it."""


def livify(model):
    for m in model.modules():
        if type(m) is Models.layer.IF:
            m.__class__ = LiveIF
            m.gamma = m.gama
            m.split, m.leaves, m.rate, m.keep, m.mems, m.deltas = False, None, None, False, [], []
    return model


def upstream_model(arch, classes):
    return livify({"vgg16": Models.vgg16, "resnet18": Models.resnet18, "resnet20": Models.resnet20}[arch](num_classes=classes))


def set_time(model, T, L, gamma):
    """The published set_T/set_L without their prints: the model repeats the input over T
    steps (add_dimention, merge) and views the output back as [T, N, classes] (expand)."""
    if hasattr(model, "expand"):
        model.T = T
        for m in model.modules():
            if isinstance(m, Models.layer.ExpandTemporalDim):
                m.T = T
    qcfs.set_mode(model, T, L, gamma)


def normalised(pix, norm):
    """As the engine (snn/norm.go): float32 (v/255 - mean)/std, constants rounded to float32."""
    mean, std = qcfs.NORMS[norm]
    x = torch.from_numpy(np.asarray(pix)).float() / 255
    return (x - torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)) / torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)


def run(model, x, y, T, L, gamma, paths=True, near=False):
    """One forward and backward of the published model (in x's dtype); returns the
    `spikegrad -json` object as qcfs.run writes it (grad_paths only in SNN mode), and
    with near=True also {layer: (neuron-steps within one float32 ulp of th, min |mem-th|/th)}."""
    model = model.to(x.dtype).eval()
    upstream = isinstance(model, (Models.VGG, Models.ResNet, Models.ResNet4Cifar))
    set_time(model, T, L, gamma)
    for p in model.parameters():
        p.requires_grad_(False)
    ifs = qcfs.if_layers(model)
    y = torch.from_numpy(np.asarray(y)).long()

    def forward(split):
        for _, m in ifs:
            m.split = split
            m.keep = near and not split
            m.thresh.requires_grad_(not split)
            m.thresh.grad = None
        if upstream:
            out = model(x.clone())  # add_dimention unsqueezes its argument in place
            if T > 0:
                out = out.mean(0)
        else:  # qcfs.py's classes, as qcfs.run drives them
            out = model(x.unsqueeze(0).repeat(T, 1, 1, 1, 1).flatten(0, 1) if T > 0 else x)
            if T > 0:
                out = out.view(T, x.shape[0], -1).mean(0)
        return out, F.cross_entropy(out, y)

    hooks, ann_in = [], {}
    if near and T == 0:
        for name, m in ifs:
            hooks.append(m.register_forward_pre_hook(lambda mod, inp, name=name: ann_in.__setitem__(name, inp[0].detach())))
    out, loss = forward(False)
    for h in hooks:
        h.remove()
    close = {}
    if near and T == 0:
        # ANN mode: inputs within one float32 ulp of th of a place where the output or
        # its gradient jumps: a rounding boundary th*(k-0.5)/L, or the clamp's 0 and th.
        for name, m in ifs:
            v = ann_in.pop(name).double()
            th = m.thresh.detach().double().view(1, -1, *([1] * (v.dim() - 2)))
            ulp = torch.from_numpy(np.spacing(m.thresh.detach().float().numpy())).double().view_as(th)
            q = v / th * L
            k = (q + 0.5).round().clamp(1, L)
            dist = torch.minimum((v - th * (k - 0.5) / L).abs(), torch.minimum(v.abs(), (v - th).abs()))
            close[name] = (int((dist <= ulp).sum().item()), (dist / th.abs()).min().item())
    if near and T > 0:
        for name, m in ifs:
            th = m.thresh.detach().double().view(1, -1, *([1] * (m.deltas[0].dim() - 2)))
            ulp = torch.from_numpy(np.spacing(m.thresh.detach().float().numpy())).double().view_as(th)
            d = torch.stack([v.detach() for v in m.deltas]).double()
            close[name] = (int((d.abs() <= ulp).sum().item()), (d.abs() / th.abs()).min().item())
            m.deltas, m.mems, m.keep = [], [], False
    loss.backward()
    total = [m.thresh.grad.detach().clone() for _, m in ifs]
    res = {
        "loss": loss.item(),
        "accuracy": (out.argmax(1) == y).double().mean().item(),
        "T": T, "L": L, "gamma": gamma, "n": int(x.shape[0]), "layers": [],
    }
    if paths and T > 0:
        _, loss2 = forward(True)
        loss2.backward()
    for i, (name, m) in enumerate(ifs):
        layer = {"name": name, "thresh": m.thresh.detach().double().tolist(), "grad": total[i].double().tolist(), "firing_rate": m.rate}
        if paths and T > 0:
            ps = {p: (m.leaves[p].grad if m.leaves[p].grad is not None else torch.zeros_like(m.thresh)).double().view(-1) for p in qcfs.PATHS}
            s = sum(ps.values())
            scale = max(1e-300, total[i].double().abs().max().item())
            assert (s - total[i].double().view(-1)).abs().max().item() <= 1e-9 * scale + 1e-15, name
            layer["grad_paths"] = {p: v.tolist() for p, v in ps.items()}
        res["layers"].append(layer)
    for _, m in ifs:
        m.split, m.leaves = False, None
    return (res, close) if near else res


def compare(got, ref):
    """Worst |grad - grad_ref| over all thresholds / largest |grad_ref|, |loss - loss_ref|, layers with a flipped sign."""
    scale = max(abs(g) for l in ref["layers"] for g in l["grad"])
    dev, flips = 0.0, []
    for a, b in zip(got["layers"], ref["layers"]):
        assert a["name"] == b["name"]
        dev = max(dev, max(abs(u - v) for u, v in zip(a["grad"], b["grad"])))
        if any(np.sign(u) != np.sign(v) for u, v in zip(a["grad"], b["grad"])):
            flips.append(a["name"])
    return {"rel_grad_dev": dev / scale if scale > 0 else dev, "loss_diff": abs(got["loss"] - ref["loss"]), "sign_flips": flips}


def perturbed(model64, seed):
    m = copy.deepcopy(model64)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for k, v in m.state_dict().items():
            if v.is_floating_point() and not k.endswith("thresh"):
                v.mul_(1 + NOISE * torch.randn(v.shape, generator=g, dtype=torch.float64))
    return m


def f64_case(name, arch, classes, ckpt_path, data_path, rel_ckpt, rel_data, n, T, L, gamma, norm, seeds):
    """The float64 reference for one case and its f32_spread."""
    sd = qcfs.normalise(qcfs.unwrap(torch.load(ckpt_path, map_location="cpu")))
    pix, lab = qcfs.read_data(data_path, classes)
    pix, lab = pix[:n], lab[:n]
    x32 = normalised(pix, norm)

    def model():
        if arch == "qcfs":
            # Not a published layout's width (the published classes are full-width only):
            # qcfs.py's classes, which follow the same layout and state_dict keys.
            return qcfs.model_from_state_dict(sd)
        m = upstream_model(arch, classes)
        m.load_state_dict(sd)
        return m

    t0 = time.perf_counter()
    m64 = model().double()
    want, close = run(m64, x32.double(), lab, T, L, gamma, near=True)
    t_ref = time.perf_counter() - t0

    t0 = time.perf_counter()
    runs = {}
    r32 = run(model(), x32, lab, T, L, gamma, paths=False)
    runs["f32"] = dict(compare(r32, want), loss=r32["loss"], grad=[l["grad"] for l in r32["layers"]])
    with torch.backends.mkldnn.flags(enabled=False):
        r32b = run(model(), x32, lab, T, L, gamma, paths=False)
    runs["f32_nomkldnn"] = dict(compare(r32b, want), loss=r32b["loss"], grad=[l["grad"] for l in r32b["layers"]])
    per, lo, hi = [], [l["grad"][:] for l in want["layers"]], [l["grad"][:] for l in want["layers"]]
    for s in seeds:
        r = run(perturbed(m64, s), x32.double(), lab, T, L, gamma, paths=False)
        per.append(dict(seed=s, **compare(r, want)))
        for i, l in enumerate(r["layers"]):
            lo[i] = [min(a, b) for a, b in zip(lo[i], l["grad"])]
            hi[i] = [max(a, b) for a, b in zip(hi[i], l["grad"])]
    names = [l["name"] for l in want["layers"]]
    runs["f64_noise"] = {
        "noise": NOISE,
        "rel_grad_dev": max(p["rel_grad_dev"] for p in per),
        "loss_diff": max(p["loss_diff"] for p in per),
        "sign_flips": [nm for nm in names if any(nm in p["sign_flips"] for p in per)],
        "per_seed": per,
        # Over the unperturbed run and every seed.
        "grad_min": lo,
        "grad_max": hi,
    }
    t_spread = time.perf_counter() - t0
    spread = {
        "layers": names,
        **runs,
        "near_threshold": [close.get(nm, (0, None))[0] for nm in names],
        "min_margin": [close.get(nm, (0, None))[1] for nm in names],
        "seconds": {"reference_f64": round(t_ref, 2), "spread": round(t_spread, 2)},
    }
    case = {"name": name, "ckpt": rel_ckpt, "data": rel_data, "n": n, "T": T, "L": L, "gamma": gamma, "norm": norm,
            "want": want, "f32_spread": spread}
    print("  firing rates " + " ".join("%.3f" % l["firing_rate"] for l in want["layers"]))
    fl = lambda k: ",".join(spread[k]["sign_flips"]) or "-"  # noqa: E731
    print("%-22s loss %.6f  ref %.1fs spread %.1fs | f32 %.2e %s | nomkldnn %.2e %s | noise %.2e %s | near %s" % (
        name, want["loss"], t_ref, t_spread, spread["f32"]["rel_grad_dev"], fl("f32"), spread["f32_nomkldnn"]["rel_grad_dev"],
        fl("f32_nomkldnn"), spread["f64_noise"]["rel_grad_dev"], fl("f64_noise"), sum(spread["near_threshold"])), flush=True)
    return case, m64, x32, lab


def check_against_qcfs(m64, x32, lab, T, L, gamma, want):
    """The same network in qcfs.py's own classes (the referee), float64, on the same input:
    the published modules with the live IF must give the same numbers."""
    ref = qcfs.model_from_state_dict({k: v for k, v in m64.float().state_dict().items()})
    m64.double()
    ref = ref.double().eval()
    qcfs.set_mode(ref, T, L, gamma)
    for p in ref.parameters():
        p.requires_grad_(False)
    for _, m in qcfs.if_layers(ref):
        m.thresh.requires_grad_(True)
    x = x32.double()
    inp = x.unsqueeze(0).repeat(T, 1, 1, 1, 1).flatten(0, 1) if T > 0 else x
    out = ref(inp)
    if T > 0:
        out = out.view(T, x.shape[0], -1).mean(0)
    loss = F.cross_entropy(out, torch.from_numpy(np.asarray(lab)).long())
    loss.backward()
    got = {"loss": loss.item(), "layers": [{"name": nm, "grad": m.thresh.grad.tolist()} for nm, m in qcfs.if_layers(ref)]}
    c = compare(got, want)
    assert c["rel_grad_dev"] < 1e-12 and c["loss_diff"] < 1e-12, c
    return c


def user_thresholds():
    """The thresholds the user's script printed for its trained VGG16 (15 IF layers)."""
    txt = open(USERLOG, encoding="utf-8").read()
    pairs = re.findall(r"IF层阈值: (\S+)\.thresh\s+形状: \[1\], 参数数量: 1\s+阈值: ([0-9.]+)", txt)
    return {k: float(v) for k, v in pairs}


def build(arch, classes, seed, norm, user=False):
    """Seeded init (the published code's own), BN affine and running statistics and the
    thresholds calibrated on 64 images as make_fixtures.calibrate does; user=True then
    puts the user's printed thresholds in place."""
    torch.manual_seed(seed)
    m = upstream_model(arch, classes)
    calibrate(m, normalised(images(64, seed + 1), norm), seed)
    if user:
        th = user_thresholds()
        ifs = qcfs.if_layers(m)
        assert sorted(th) == sorted(nm for nm, _ in ifs), th
        for nm, l in ifs:
            l.thresh.data.fill_(th[nm])
    return m


def load_cases(path):
    if os.path.exists(path):
        return json.load(open(path))["cases"]
    return []


def blas():
    """The BLAS library this process runs with (float32 Linear layers and every float64
    product go through it; the float32 spread figures depend on it)."""
    libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if re.search(r"lib(open)?blas", l)})
    return [os.path.basename(l) if l.startswith("/usr/") or l.startswith("/lib") else l.rsplit("/openblas/", 1)[-1] for l in libs]


def write_cases(path, cases):
    with open(path + ".tmp", "w") as f:
        json.dump({"generator": "tools/ref/make_f64_fixtures.py", "torch": torch.__version__, "blas": blas(), "cases": cases}, f, indent=1)
    os.replace(path + ".tmp", path)


def part(out_dir, json_name, specs, models, force, seeds, check=False):
    """specs: (name, model key, rel data, n, T, L, gamma, norm); models: key -> (rel ckpt, arch, classes, maker)."""
    jpath = os.path.join(out_dir, json_name)
    old = {c["name"]: c for c in ([] if force else load_cases(jpath))}
    cases = []
    for name, key, rel_data, n, T, L, gamma, norm in specs:
        rel_ckpt, arch, classes, maker = models[key]
        ck = os.path.join(out_dir, rel_ckpt)
        if maker is not None and (force or not os.path.exists(ck)):
            t0 = time.perf_counter()
            torch.save(maker().state_dict(), ck)
            print("%s: built in %.1fs (%d bytes)" % (rel_ckpt, time.perf_counter() - t0, os.path.getsize(ck)), flush=True)
            old = {k: v for k, v in old.items() if v["ckpt"] != rel_ckpt}
            models[key] = (rel_ckpt, arch, classes, None)
        if name in old and old[name]["ckpt"] == rel_ckpt and old[name]["data"] == rel_data:
            print("%s: in %s already" % (name, json_name))
            cases.append(old[name])
            continue
        c, m64, x32, lab = f64_case(name, arch, classes, ck, os.path.join(out_dir, rel_data), rel_ckpt, rel_data,
                                    n, T, L, gamma, norm, seeds)
        if check:
            cc = check_against_qcfs(m64, x32, lab, T, L, gamma, c["want"])
            print("  qcfs.py classes, float64: grad %.1e of largest, loss %.1e" % (cc["rel_grad_dev"], cc["loss_diff"]))
        cases.append(c)
        write_cases(jpath, cases + [v for k, v in old.items() if k not in {x["name"] for x in cases}])
    write_cases(jpath, cases)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/spikegrad-bench"))
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--cache-only", action="store_true")
    g.add_argument("--committed-only", action="store_true")
    ap.add_argument("--force", action="store_true", help="rebuild checkpoints and recompute cases that exist")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--no-openblas", action="store_true", help="run with the system's BLAS even if it is the reference one")
    a = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    seeds = list(range(1, a.seeds + 1))
    t0 = time.perf_counter()

    if not a.cache_only:
        models = {
            "r20": ("resnet20_full_c10.pth", "resnet20", 10, lambda: build("resnet20", 10, 50, "cifar10")),
            "v16": ("vgg16_c10.pth", "qcfs", 10, None),  # make_fixtures.py's
        }
        specs = [
            ("resnet20_full_T8", "r20", "c10.bin", 8, 8, 4, 1.0, "cifar10"),
            ("resnet20_full_ann", "r20", "c10.bin", 8, 0, 4, 1.0, "cifar10"),
            ("vgg16_small_T8", "v16", "c10.bin", 8, 8, 4, 1.0, "cifar10"),
            ("vgg16_small_ann", "v16", "c10.bin", 8, 0, 4, 1.0, "cifar10"),
        ]
        part(OUT, "f64_cases.json", specs, models, a.force, seeds, check=True)
        print("committed part: %.1fs" % (time.perf_counter() - t0), flush=True)

    if not a.committed_only:
        t1 = time.perf_counter()
        d = a.cache
        os.makedirs(d, exist_ok=True)
        # Data: the committed c10.bin's 8 images; 8 new CIFAR-100 images (c100.bin has 6).
        if a.force or not os.path.exists(os.path.join(d, "f64_c10.bin")):
            shutil.copyfile(os.path.join(OUT, "c10.bin"), os.path.join(d, "f64_c10.bin"))
        if a.force or not os.path.exists(os.path.join(d, "f64_c100.bin")):
            write_bin(os.path.join(d, "f64_c100.bin"), images(8, 61), np.random.default_rng(62).integers(0, 100, 8), 100)
        models = {
            "v16": ("vgg16_full_c10.pth", "vgg16", 10, lambda: build("vgg16", 10, 7, "cifar10", user=True)),
            "r18": ("resnet18_full_c100.pth", "resnet18", 100, lambda: build("resnet18", 100, 60, "cifar100")),
        }
        specs = [
            ("vgg16_full_T8", "v16", "f64_c10.bin", 8, 8, 4, 1.0, "cifar10"),
            ("vgg16_full_ann", "v16", "f64_c10.bin", 8, 0, 4, 1.0, "cifar10"),
            ("resnet18_full_c100_T4_g05", "r18", "f64_c100.bin", 8, 4, 4, 0.5, "cifar100"),
        ]
        part(d, "f64_cases.json", specs, models, a.force, seeds)
        print("cache part: %.1fs" % (time.perf_counter() - t1), flush=True)


if __name__ == "__main__":
    main()
