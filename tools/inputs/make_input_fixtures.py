"""Writes the image-input fixtures (committed; the tests need no Python).

    /usr/bin/python3 tools/inputs/make_input_fixtures.py

Every file is made by the tool that makes such files in the wild (tarfile and
pickle as in the CIFAR releases, numpy's np.save/np.savez, PIL, torch.save),
and every expected value is what numpy, PIL or torch read back from it, so the
Go readers are compared with those tools and never with themselves:

  snn/cifar/testdata/archives/   the four CIFAR release archives, tiny, with
                                 the real member layouts; expected.json
  snn/npy/testdata/              .npy and .npz files; expected.json
  snn/picture/testdata/          PNG and JPEG files; expected.json
  snn/pth/testdata/tensors/      torch.save'd {'images', 'labels'} dicts;
                                 expected.json
"""

import base64
import contextlib
import gzip
import hashlib
import io
import json
import os
import pickle
import tarfile

import numpy as np
import torch
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def out(*parts):
    p = os.path.join(ROOT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def sha(b):
    return hashlib.sha256(bytes(b)).hexdigest()


def images(n, seed, h=32, w=32):
    """n smooth uint8 CHW images with a little noise: small once gzipped."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    imgs = np.zeros((n, 3, h, w), np.uint8)
    for i in range(n):
        for c in range(3):
            base = (x * (c + 1 + i) + y * (3 - c) * 2 + 40 * i + 60 * c) % 256
            noise = rng.integers(0, 2, size=(h, w))
            imgs[i, c] = (base + noise) % 256
    return imgs


# ---- CIFAR release archives -------------------------------------------------

@contextlib.contextmanager
def targz(path):
    """A tar.gz writer with a fixed gzip timestamp, so that the files are reproducible."""
    with gzip.GzipFile(path, "wb", mtime=0) as z, tarfile.open(fileobj=z, mode="w") as tar:
        yield tar


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1241000000
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def add_dir(tar, name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = 1241000000
    tar.addfile(info)


def archives():
    exp = {}
    seed = 100

    def batch(n, classes):
        nonlocal seed
        seed += 1
        imgs = images(n, seed)
        labels = [int(v) for v in np.random.default_rng(seed).integers(0, classes, n)]
        return imgs, labels

    def record(members, key, imgs, labels):
        members[key] = {"n": len(labels), "labels": labels, "pixels_sha256": sha(imgs.tobytes())}

    # cifar-10-python.tar.gz
    members = {}
    path = out("snn", "cifar", "testdata", "archives", "cifar-10-python.tar.gz")
    with targz(path) as tar:
        add_dir(tar, "cifar-10-batches-py")
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        for name in names[:3]:
            imgs, labels = batch(2, 10)
            d = {"batch_label": "training batch", "labels": labels, "data": imgs.reshape(len(labels), -1),
                 "filenames": [f"img_{i}.png" for i in range(len(labels))]}
            add(tar, "cifar-10-batches-py/" + name, pickle.dumps(d, protocol=2))
            record(members, name, imgs, labels)
        add(tar, "cifar-10-batches-py/readme.html", b"<html>CIFAR-10</html>\n")
        add(tar, "cifar-10-batches-py/batches.meta", pickle.dumps(
            {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
             "num_cases_per_batch": 10000, "num_vis": 3072}, protocol=2))
        for name in names[3:]:
            imgs, labels = batch(3 if name == "test_batch" else 1, 10)
            d = {"batch_label": name, "labels": labels, "data": imgs.reshape(len(labels), -1),
                 "filenames": [f"img_{i}.png" for i in range(len(labels))]}
            add(tar, "cifar-10-batches-py/" + name, pickle.dumps(d, protocol=2))
            record(members, name, imgs, labels)
    exp["cifar-10-python.tar.gz"] = {"default": "test_batch", "classes": 10, "members": members}

    # cifar-10-binary.tar.gz
    members = {}
    path = out("snn", "cifar", "testdata", "archives", "cifar-10-binary.tar.gz")
    with targz(path) as tar:
        add_dir(tar, "cifar-10-batches-bin")
        add(tar, "cifar-10-batches-bin/batches.meta.txt",
            b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n")
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            imgs, labels = batch(3 if name == "test_batch.bin" else 1, 10)
            recs = [bytes([labels[i]]) + imgs[i].tobytes() for i in range(len(labels))]
            add(tar, "cifar-10-batches-bin/" + name, b"".join(recs))
            record(members, name, imgs, labels)
        add(tar, "cifar-10-batches-bin/readme.html", b"<html>CIFAR-10</html>\n")
    exp["cifar-10-binary.tar.gz"] = {"default": "test_batch.bin", "classes": 10, "members": members}

    # cifar-100-python.tar.gz
    members = {}
    path = out("snn", "cifar", "testdata", "archives", "cifar-100-python.tar.gz")
    with targz(path) as tar:
        add_dir(tar, "cifar-100-python")
        for name in ["train", "test"]:
            imgs, labels = batch(2 if name == "train" else 3, 100)
            d = {"filenames": [f"img_{i}.png" for i in range(len(labels))], "batch_label": name,
                 "fine_labels": labels, "coarse_labels": [v // 5 for v in labels],
                 "data": imgs.reshape(len(labels), -1)}
            add(tar, "cifar-100-python/" + name, pickle.dumps(d, protocol=2))
            record(members, name, imgs, labels)
        add(tar, "cifar-100-python/meta", pickle.dumps({"fine_label_names": ["apple"] * 100,
                                                         "coarse_label_names": ["fish"] * 20}, protocol=2))
    exp["cifar-100-python.tar.gz"] = {"default": "test", "classes": 100, "members": members}

    # cifar-100-binary.tar.gz
    members = {}
    path = out("snn", "cifar", "testdata", "archives", "cifar-100-binary.tar.gz")
    with targz(path) as tar:
        add_dir(tar, "cifar-100-binary")
        add(tar, "cifar-100-binary/coarse_label_names.txt", b"aquatic_mammals\nfish\n")
        add(tar, "cifar-100-binary/fine_label_names.txt", b"apple\naquarium_fish\n")
        for name in ["train.bin", "test.bin"]:
            imgs, labels = batch(2 if name == "train.bin" else 3, 100)
            recs = [bytes([labels[i] // 5, labels[i]]) + imgs[i].tobytes() for i in range(len(labels))]
            add(tar, "cifar-100-binary/" + name, b"".join(recs))
            record(members, name, imgs, labels)
    exp["cifar-100-binary.tar.gz"] = {"default": "test.bin", "classes": 100, "members": members}

    # Refused: a tar.gz holding no batch, and a plain tar (not gzipped) of one.
    path = out("snn", "cifar", "testdata", "archives", "bad_no_batch.tar.gz")
    with targz(path) as tar:
        add(tar, "cifar-10-batches-py/readme.html", b"<html></html>\n")
    with open(out("snn", "cifar", "testdata", "archives", "expected.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)


# ---- numpy ------------------------------------------------------------------

def arrays():
    d = "snn/npy/testdata"
    exp = {}

    def note(name, a):
        a = np.asarray(a)
        exp[name] = {"shape": list(a.shape), "dtype": a.dtype.name,
                     "sha256": sha(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes())}
        if a.dtype.kind in "iu" and a.ndim == 1:
            exp[name]["values"] = [int(v) for v in a]

    chw = images(2, 7)
    labels = np.array([3, 8], np.int64)
    rng = np.random.default_rng(9)
    norm = ((rng.standard_normal((1, 3, 32, 32))) * 0.5).astype(np.float32)
    small64 = rng.standard_normal((1, 3, 16, 16))

    np.save(out(d, "u8_nhwc.npy"), chw.transpose(0, 2, 3, 1))
    note("u8_nhwc.npy", np.load(out(d, "u8_nhwc.npy")))
    np.save(out(d, "u8_nchw.npy"), chw)
    note("u8_nchw.npy", np.load(out(d, "u8_nchw.npy")))
    np.save(out(d, "f32_nchw.npy"), norm)
    note("f32_nchw.npy", np.load(out(d, "f32_nchw.npy")))
    np.save(out(d, "f64_16.npy"), small64)
    note("f64_16.npy", np.load(out(d, "f64_16.npy")))
    np.save(out(d, "labels.npy"), labels)
    note("labels.npy", np.load(out(d, "labels.npy")))
    # Refused: Fortran order, big-endian, an unsupported dtype, a wrong rank,
    # an object array (which np.load itself refuses without allow_pickle).
    np.save(out(d, "bad_fortran.npy"), np.asfortranarray(chw[:1, :, :4, :4]))
    np.save(out(d, "bad_big_endian.npy"), norm[:, :, :4, :4].astype(">f4"))
    np.save(out(d, "bad_int16.npy"), chw[:, :, :4, :4].astype(np.int16))
    np.save(out(d, "bad_rank3.npy"), np.zeros((2, 28, 28), np.uint8))
    np.save(out(d, "bad_object.npy"), np.array([1, "a"], dtype=object), allow_pickle=True)

    np.savez(out(d, "stored.npz"), images=chw.transpose(0, 2, 3, 1), labels=labels)
    z = np.load(out(d, "stored.npz"))
    note("stored.npz:images", z["images"])
    note("stored.npz:labels", z["labels"])
    np.savez_compressed(out(d, "deflated.npz"), x=chw, y=labels.astype(np.int32))
    z = np.load(out(d, "deflated.npz"))
    note("deflated.npz:x", z["x"])
    note("deflated.npz:y", z["y"])
    np.savez(out(d, "positional.npz"), chw)  # saved as arr_0, no labels
    note("positional.npz:arr_0", np.load(out(d, "positional.npz"))["arr_0"])
    with open(out(d, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)


# ---- PNG and JPEG -----------------------------------------------------------

def pictures():
    d = "snn/picture/testdata"
    exp = {}
    chw = images(3, 11)

    def note(name, size, **kw):
        im = Image.open(out(d, name))
        rgb = np.asarray(im.convert("RGB"))  # HWC, as PIL decodes it
        e = {"format": im.format, "mode": im.mode, "width": im.width, "height": im.height}
        if size and im.format == "JPEG":  # decoders differ slightly: compared within a tolerance
            e["rgb"] = base64.b64encode(rgb.transpose(2, 0, 1).tobytes()).decode()  # CHW
        elif size:
            e["rgb_sha256"] = sha(rgb.transpose(2, 0, 1).tobytes())
        e.update(kw)
        exp[name] = e

    Image.fromarray(chw[0].transpose(1, 2, 0)).save(out(d, "cat_003.png"))
    note("cat_003.png", True)
    Image.fromarray(chw[1].transpose(1, 2, 0)).save(out(d, "airplane", "1.png"))
    note("airplane/1.png", True)
    Image.fromarray(chw[2].transpose(1, 2, 0)).save(out(d, "class_207.jpg"), quality=95, subsampling=0)
    note("class_207.jpg", True)
    # 4:2:0 chroma, which decoders upsample differently: a smooth image.
    y, x = np.mgrid[0:32, 0:32]
    smooth = np.stack([x * 8, y * 8, (x + y) * 4], axis=2).astype(np.uint8)
    Image.fromarray(smooth).save(out(d, "dog_420.jpg"), quality=90)
    note("dog_420.jpg", True)
    Image.fromarray(chw[0, 0]).save(out(d, "gray.png"))
    note("gray.png", True)
    Image.fromarray(chw[1].transpose(1, 2, 0)).convert("P", palette=Image.ADAPTIVE, colors=16).save(out(d, "palette.png"))
    note("palette.png", True)
    rgba = np.concatenate([chw[1].transpose(1, 2, 0), np.full((32, 32, 1), 128, np.uint8)], axis=2)
    Image.fromarray(rgba, "RGBA").save(out(d, "rgba.png"))
    note("rgba.png", True)
    Image.fromarray((chw[0, 1].astype(np.uint16) * 257), "I;16").save(out(d, "gray16.png"))
    note("gray16.png", True)

    # Resizing: smooth gradients, larger and smaller than 32, not square.
    # PIL's bilinear resize of the short side to 32 and centre crop, for
    # comparison within a tolerance (rounding differs).
    for name, (w, h) in [("wide_grad_64x48.png", (64, 48)), ("tall_grad_20x30.png", (20, 30))]:
        y, x = np.mgrid[0:h, 0:w]
        a = np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)], axis=2).astype(np.uint8)
        Image.fromarray(a).save(out(d, name))
        im = Image.open(out(d, name)).convert("RGB")
        s = 32 / min(w, h)
        nw, nh = (32, int(h * s)) if w < h else (int(w * s), 32)
        r = im.resize((nw, nh), Image.BILINEAR)
        left, top = int(round((nw - 32) / 2.0)), int(round((nh - 32) / 2.0))
        r = r.crop((left, top, left + 32, top + 32))
        note(name, False, resized=base64.b64encode(np.asarray(r).transpose(2, 0, 1).tobytes()).decode())
    with open(out(d, "not_an_image.png"), "wb") as f:
        f.write(b"hello, this is text\n")
    with open(out(d, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)


# ---- torch.save'd image dicts -----------------------------------------------

def tensors():
    d = "snn/pth/testdata/tensors"
    exp = {}

    def note(name):
        obj = torch.load(out(d, name))
        e = {}
        for k, v in obj.items():
            if isinstance(v, torch.Tensor):
                c = v.contiguous()
                e[k] = {"shape": list(c.shape), "dtype": str(c.dtype).replace("torch.", ""),
                        "sha256": sha(c.numpy().tobytes())}
                if c.dtype == torch.int64:
                    e[k]["values"] = c.tolist()
        exp[name] = e

    chw = torch.from_numpy(images(3, 21))
    labels = torch.tensor([1, 0, 9], dtype=torch.int64)
    torch.save({"images": chw, "labels": labels}, out(d, "u8_nchw.pt"))
    note("u8_nchw.pt")
    torch.save({"images": chw[:2].permute(0, 2, 3, 1).contiguous(), "labels": labels[:2].clone()}, out(d, "u8_nhwc_legacy.pt"),
               _use_new_zipfile_serialization=False)
    note("u8_nhwc_legacy.pt")
    # A non-contiguous view: NHWC storage seen as NCHW, saved with its strides.
    torch.save({"images": chw[1:3].permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2), "labels": labels[1:3].clone()},
               out(d, "u8_strided.pt"))
    note("u8_strided.pt")
    g = torch.Generator().manual_seed(3)
    torch.save({"images": torch.randn(1, 3, 16, 16, generator=g), "labels": torch.tensor([5])}, out(d, "f32_16.pt"))
    note("f32_16.pt")
    torch.save({"images": chw[:1].clone()}, out(d, "no_labels.pt"))
    note("no_labels.pt")
    torch.save({"images": chw[:1, 0].clone(), "labels": labels[:1].clone()}, out(d, "bad_rank3.pt"))
    torch.save([chw[:1].clone()], out(d, "bad_list.pt"))
    torch.save({"images": "none here", "n": 3}, out(d, "bad_no_tensors.pt"))
    torch.save({"images": chw[:2].clone(), "labels": labels}, out(d, "bad_label_count.pt"))
    with open(out(d, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    archives()
    arrays()
    pictures()
    tensors()
