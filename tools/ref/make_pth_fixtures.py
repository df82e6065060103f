"""Writes the checkpoint-reader fixtures into snn/pth/testdata/ (committed; CI needs no PyTorch).

    /usr/bin/python3 tools/ref/make_pth_fixtures.py

Small state dicts saved by torch.save in every form snn/pth must read, files it
must refuse, and expected.json: for each loadable file the keys, shapes and
float32 bit patterns PyTorch itself reads back from it (torch.load(...).float()),
so the Go tests compare exactly against PyTorch, never against themselves.
"""

import collections
import io
import json
import os
import pickle
import tarfile
import zipfile

import torch
import torch.serialization

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "snn", "pth", "testdata")

# The state dict keys Load looks under, in its order of preference.
NESTED_KEYS = ("state_dict", "model", "net", "model_state_dict")


def base_state_dict():
    g = torch.Generator().manual_seed(1)
    sd = collections.OrderedDict()
    sd["conv.weight"] = torch.randn(4, 3, 3, 3, generator=g)
    sd["conv.bias"] = torch.randn(4, generator=g)
    sd["bn.running_mean"] = torch.randn(4, generator=g)
    sd["bn.running_var"] = torch.rand(4, generator=g) + 0.5
    sd["bn.num_batches_tracked"] = torch.tensor(1234)
    sd["layer1.2.thresh"] = torch.tensor([2.5])
    return sd


def cast_floats(sd, dtype):
    return collections.OrderedDict(
        (k, v.to(dtype) if v.is_floating_point() else v) for k, v in sd.items())


def dtypes_state_dict():
    """One tensor per storage type, including values that test the conversions' edges."""
    special = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6e-8, -6e-8, -3e-5, 1e-40, 3e38,
                            float("inf"), float("-inf"), float("nan"), 0.1])
    sd = collections.OrderedDict()
    sd["f32"] = special.clone()
    sd["f16"] = special.half()
    sd["bf16"] = special.bfloat16()
    sd["f64"] = torch.tensor([0.1, -1e-300, 1e300, 16777217.0, 3.141592653589793], dtype=torch.float64)
    sd["i64"] = torch.tensor([0, -1, 2**40, -(2**62), 2**53 + 1], dtype=torch.int64)
    sd["i32"] = torch.tensor([0, -7, 2**31 - 1, -(2**31)], dtype=torch.int32)
    sd["i16"] = torch.tensor([0, -300, 32767, -32768], dtype=torch.int16)
    sd["i8"] = torch.tensor([0, -1, 127, -128], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 1, 200, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    return sd


def views_state_dict():
    """Tensors that are views: a transpose, slices with storage offsets, one storage shared by all."""
    g = torch.Generator().manual_seed(2)
    m = torch.randn(5, 3, generator=g)
    flat = torch.randn(20, generator=g)
    sd = collections.OrderedDict()
    sd["m"] = m
    sd["m_t"] = m.t()
    sd["row"] = m[1]
    sd["col"] = m[:, 1]
    sd["sub"] = m[1:4, ::2]
    sd["slice"] = flat[6:14].view(2, 4)
    sd["scalar"] = flat[17]
    sd["empty"] = flat[3:3]
    return sd


def expand_state_dict():
    sd = collections.OrderedDict()
    sd["expanded"] = torch.tensor([1.5, -2.0]).view(2, 1).expand(2, 3)
    return sd


def save(obj, name, **kw):
    path = os.path.join(OUT, name)
    torch.save(obj, path, **kw)
    return path


def read_pickle_bytes(path):
    """The object pickle's bytes: data.pkl of a zip, or the whole legacy file."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))
    with open(path, "rb") as f:
        return f.read()


def save_on_cuda(obj, name, **kw):
    """Saves as if the tensors lived on cuda:0 (there is no GPU here): the location is only a tag."""
    orig = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: "cuda:0"
    try:
        path = save(obj, name, **kw)
    finally:
        torch.serialization.location_tag = orig
    assert b"cuda:0" in read_pickle_bytes(path), name
    assert b"cpu" not in read_pickle_bytes(path), name
    return path


def expectation(path, strip_module=False):
    """What PyTorch reads from path: the chosen state dict's tensors as float32 bits."""
    obj = torch.load(path, map_location="cpu")
    sd = obj
    for k in NESTED_KEYS:
        if isinstance(obj, dict) and isinstance(obj.get(k), dict):
            sd = obj[k]
            break
    sd = collections.OrderedDict((k, v) for k, v in sd.items() if isinstance(v, torch.Tensor))
    if strip_module:  # as torch's consume_prefix_in_state_dict_if_present, keeping the order
        sd = collections.OrderedDict((k[len("module."):] if k.startswith("module.") else k, v)
                                     for k, v in sd.items())
    out = {"keys": list(sd.keys()), "tensors": {}}
    for k, v in sd.items():
        bits = v.float().contiguous().view(torch.int32).flatten().tolist()
        out["tensors"][k] = {"shape": list(v.shape), "bits": [b & 0xFFFFFFFF for b in bits]}
    return out


class Call:
    """Pickles as a call of fn(*args); building the fixture never runs it."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


class FakeStorage:
    """Stands for a storage in a hand-made data.pkl (see write_crafted)."""

    def __init__(self, key, numel):
        self.key, self.numel = key, numel


def write_crafted(name, obj, storages):
    """A zip checkpoint whose data.pkl pickles obj as torch.save would, with FakeStorage
    references to the given raw storage bytes: for states torch.save cannot produce."""
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=2)
    p.persistent_id = lambda o: (("storage", torch.FloatStorage, o.key, "cpu", o.numel)
                                 if isinstance(o, FakeStorage) else None)
    p.dump(obj)
    write_zip(name, [("archive/data.pkl", buf.getvalue())] +
              [("archive/data/" + k, v) for k, v in storages.items()] + [("archive/version", b"3\n")])


def write_zip(name, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(os.path.join(OUT, name), "w", compression) as z:
        for member, data in members:
            z.writestr(zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0)), data, compression)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):  # keep testdata/fuzz, the fuzzer's corpus
        if os.path.isfile(os.path.join(OUT, name)):
            os.remove(os.path.join(OUT, name))
    torch.manual_seed(0)
    expected = {}

    def add(path, **kw):
        expected[os.path.basename(path)] = expectation(path, **kw)

    sd = base_state_dict()
    add(save(sd, "base.pt"))
    add(save(sd, "vgg16_wd[0.0005].pt"))  # the zip's folder is named after the file
    add(save(sd, "legacy.pt", _use_new_zipfile_serialization=False))
    add(save(sd, "proto4.pt", pickle_protocol=4))  # framed pickle
    add(save(cast_floats(sd, torch.float16), "half.pt"))
    add(save(cast_floats(sd, torch.bfloat16), "bf16.pt"))
    add(save(cast_floats(sd, torch.float64), "f64.pt"))
    add(save(dtypes_state_dict(), "dtypes.pt"))
    add(save(dtypes_state_dict(), "dtypes_legacy.pt", _use_new_zipfile_serialization=False))
    add(save(collections.OrderedDict(("module." + k, v) for k, v in sd.items()), "module.pt"),
        strip_module=True)

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 3, 5, 5)).sum().backward()
    opt.step()
    add(save({"epoch": 5, "state_dict": sd, "optimizer": opt.state_dict(), "best_acc": 91.5,
              "arch": "vgg16"}, "nested_state_dict.pt"))
    add(save({"model": model.state_dict(), "epoch": 3}, "nested_model.pt"))
    add(save({"net": sd, "acc": 0.9, "epoch": 7}, "nested_net.pt", _use_new_zipfile_serialization=False))
    add(save({"model_state_dict": sd, "optimizer_state_dict": opt.state_dict()}, "nested_model_state_dict.pt"))
    add(save({"w": torch.nn.Parameter(torch.arange(6.0).view(2, 3)), "n": 3}, "parameter.pt"))

    add(save(views_state_dict(), "views.pt"))
    add(save(views_state_dict(), "views_legacy.pt", _use_new_zipfile_serialization=False))
    add(save(expand_state_dict(), "expand.pt"))
    add(save_on_cuda(sd, "cuda.pt"))
    add(save_on_cuda(sd, "cuda_legacy.pt", _use_new_zipfile_serialization=False))

    # A foreign zip: the same members, deflated.
    with zipfile.ZipFile(os.path.join(OUT, "base.pt")) as z:
        members = [(n, z.read(n)) for n in z.namelist()]
    write_zip("deflated.pt", members, zipfile.ZIP_DEFLATED)
    add(os.path.join(OUT, "deflated.pt"))
    # torch >= 2.1 also writes the byte order.
    write_zip("byteorder.pt", members + [("base/byteorder", b"little")])
    add(os.path.join(OUT, "byteorder.pt"))

    # Files Load must refuse.
    short = [(n, d[:50] if n.endswith("/data/0") else d) for n, d in members]
    write_zip("bad_short_storage.pt", short)
    write_zip("bad_big_endian.pt", members + [("base/byteorder", b"big")])
    rebuild = torch._utils._rebuild_tensor_v2
    write_crafted("bad_view.pt", {"w": Call(rebuild, FakeStorage("0", 4), 2, (3,), (1,), False,
                                              collections.OrderedDict())}, {"0": bytes(16)})
    write_crafted("bad_numel.pt", {"w": Call(rebuild, FakeStorage("0", 1 << 40), 0, (4,), (1,), False,
                                               collections.OrderedDict())}, {"0": bytes(16)})
    write_zip("bad_os_system.pt", [
        ("archive/data.pkl", pickle.dumps(Call(os.system, "echo pwned"), protocol=2)),
        ("archive/version", b"3\n")])
    with open(os.path.join(OUT, "bad_eval.pkl"), "wb") as f:
        f.write(pickle.dumps(Call(eval, "1+1"), protocol=4))
    with open(os.path.join(OUT, "bad_getattr.pkl"), "wb") as f:
        f.write(pickle.dumps(Call(getattr, 0, "real"), protocol=2))  # written as __builtin__.getattr
    # The pre-0.4 layout: a tar of sys_info, pickle, tensors and storages.
    with tarfile.open(os.path.join(OUT, "bad_legacy_tar.pt"), "w") as tar:
        for member in ("sys_info", "pickle", "tensors", "storages"):
            data = pickle.dumps({} if member == "sys_info" else [], protocol=2)
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT)
                if os.path.isfile(os.path.join(OUT, n)))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
