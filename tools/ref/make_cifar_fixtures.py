"""Writes the CIFAR reader fixtures into snn/cifar/testdata/ (committed; CI needs no Python).

    /usr/bin/python3 tools/ref/make_cifar_fixtures.py

Small CIFAR-10 and CIFAR-100 batches in the binary release format and in the
python release format, plus files snn/cifar must refuse, and expected.json with
the pixels and labels this script put in them, so the Go tests compare against
numbers that never went through Go.

The python release files were written by Python 2 cPickle with protocol 2.
Python 3 cannot write that layout (it has no str/bytes split), so a tiny
Python-2-style pickler below emits the same opcodes, and every file it writes is
checked by loading it back with Python 3's pickle and numpy.
"""

import base64
import json
import os
import pickle
import pickletools
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "snn", "cifar", "testdata")

IMAGE = 3 * 32 * 32


class Py2Pickler:
    """Emits opcodes as Python 2 cPickle does at protocol 2, for the few types a CIFAR batch uses."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")
        self.memo = 0

    def op(self, b):
        self.out += b

    def put(self):
        # cPickle numbers memo entries from 1 and memoizes only objects that are
        # referenced elsewhere too (refcount >= 2): keys, lists, globals, results.
        self.memo += 1
        if self.memo < 256:
            self.op(b"q" + bytes([self.memo]))
        else:
            self.op(b"r" + struct.pack("<I", self.memo))

    def str(self, s, memo=True):
        if len(s) < 256:
            self.op(b"U" + bytes([len(s)]) + s)
        else:
            self.op(b"T" + struct.pack("<i", len(s)) + s)
        if memo:
            self.put()

    def int(self, v):
        if 0 <= v < 256:
            self.op(b"K" + bytes([v]))
        elif 0 <= v < 65536:
            self.op(b"M" + struct.pack("<H", v))
        else:
            self.op(b"J" + struct.pack("<i", v))

    def glob(self, module, name):
        self.op(b"c" + module + b"\n" + name + b"\n")
        self.put()

    def list(self, items, save):
        self.op(b"]")
        self.put()
        # cPickle appends in batches of 1000; a batch of one uses APPEND.
        for i in range(0, len(items), 1000):
            chunk = items[i : i + 1000]
            if len(chunk) == 1:
                save(chunk[0])
                self.op(b"a")
            else:
                self.op(b"(")
                for x in chunk:
                    save(x)
                self.op(b"e")

    def ndarray_u1(self, shape, raw):
        self.glob(b"numpy.core.multiarray", b"_reconstruct")
        self.glob(b"numpy", b"ndarray")
        self.int(0)
        self.op(b"\x85")  # (0,)
        self.str(b"b", memo=False)
        self.op(b"\x87R")
        self.put()
        self.op(b"(")  # state: (1, shape, dtype, False, raw)
        self.int(1)
        if not 1 <= len(shape) <= 3:
            raise ValueError("this pickler writes shapes of 1 to 3 dimensions")
        for d in shape:
            self.int(d)
        self.op({1: b"\x85", 2: b"\x86", 3: b"\x87"}[len(shape)])
        self.glob(b"numpy", b"dtype")
        self.str(b"u1", memo=False)
        self.int(0)
        self.int(1)
        self.op(b"\x87R")
        self.put()
        self.op(b"(")
        self.int(3)
        self.str(b"|", memo=False)
        self.op(b"NNN")
        self.op(b"J" + struct.pack("<i", -1))
        self.op(b"J" + struct.pack("<i", -1))
        self.int(0)
        self.op(b"tb")
        self.op(b"\x89")
        self.str(raw, memo=False)
        self.op(b"tb")


def py2_batch(shape, raw, items):
    """A python release batch: {'data': array, key: list, ...}, data first as in the real files.

    items is a list of (key, value) after data; a value is a list of ints, a
    list of byte strings, or a byte string."""
    p = Py2Pickler()
    p.op(b"}")
    p.put()
    p.op(b"(")
    p.str(b"data")
    p.ndarray_u1(shape, raw)
    for key, value in items:
        p.str(key)
        if isinstance(value, bytes):
            p.str(value)
        elif value and isinstance(value[0], bytes):
            p.list(value, p.str)
        else:
            p.list(value, p.int)
    p.op(b"u.")
    return bytes(p.out)


def check_pickle(data, pixels, label_key, labels):
    d = pickle.loads(data, encoding="bytes")
    if isinstance(next(iter(d)), str):
        d = {k.encode(): v for k, v in d.items()}
    arr = d[b"data"]
    assert arr.dtype == np.uint8, arr.dtype
    assert np.array_equal(arr.reshape(len(labels), IMAGE), pixels)
    assert list(d[label_key]) == list(labels)
    pickletools.dis(data, out=open(os.devnull, "w"))


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def filenames(n, prefix):
    return [b"%s_s_%06d.png" % (prefix, 1000 + i) for i in range(n)]


class Evil:
    """Pickles as a call to os.system: the reader must refuse it, never run it."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240610)
    expected = {}

    # CIFAR-10: 4 images, in .bin, in the Python 2 layout, and re-saved by Python 3 at protocol 2.
    n = 4
    px = rng.integers(0, 256, size=(n, IMAGE), dtype=np.uint8)
    labels = [int(x) for x in rng.integers(0, 10, size=n)]
    labels[0] = 9  # the largest legal label
    write("cifar10.bin", b"".join(bytes([labels[i]]) + px[i].tobytes() for i in range(n)))
    py2 = py2_batch(
        (n, IMAGE),
        px.tobytes(),
        [(b"labels", labels), (b"batch_label", b"testing batch 1 of 1"), (b"filenames", filenames(n, b"cat"))],
    )
    head = b"\x80\x02}q\x01(U\x04dataq\x02cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\n"
    assert py2.startswith(head)
    check_pickle(py2, px, b"labels", labels)
    write("cifar10_py2.pkl", py2)
    # What someone gets from pickle.load(f, encoding='bytes') and pickle.dump(d, f, protocol=2):
    # bytes go through _codecs.encode(u'...', 'latin1').
    py3 = pickle.dumps(pickle.loads(py2, encoding="bytes"), protocol=2)
    assert b"c_codecs\nencode\n" in py3
    check_pickle(py3, px, b"labels", labels)
    write("cifar10_py3_p2.pkl", py3)
    expected["cifar10"] = {
        "files": ["cifar10.bin", "cifar10_py2.pkl", "cifar10_py3_p2.pkl"],
        "classes": 10,
        "n": n,
        "labels": labels,
        "pixels": base64.b64encode(px.tobytes()).decode(),
    }

    # CIFAR-100: 3 images, in .bin, in the Python 2 layout, and re-saved by Python 3 at protocol 4.
    n = 3
    px = rng.integers(0, 256, size=(n, IMAGE), dtype=np.uint8)
    fine = [int(x) for x in rng.integers(0, 100, size=n)]
    fine[1] = 99
    coarse = [int(x) for x in rng.integers(0, 20, size=n)]
    write("cifar100.bin", b"".join(bytes([coarse[i], fine[i]]) + px[i].tobytes() for i in range(n)))
    py2 = py2_batch(
        (n, IMAGE),
        px.tobytes(),
        [
            (b"filenames", filenames(n, b"apple")),
            (b"batch_label", b"testing batch 1 of 1"),
            (b"fine_labels", fine),
            (b"coarse_labels", coarse),
        ],
    )
    check_pickle(py2, px, b"fine_labels", fine)
    write("cifar100_py2.pkl", py2)
    # pickle.load(f, encoding='latin1') and pickle.dump(d, f) at protocol 4: str keys, STACK_GLOBAL, FRAME.
    p4 = pickle.dumps(pickle.loads(py2, encoding="latin1"), protocol=4)
    assert b"\x93" in p4 and p4.startswith(b"\x80\x04\x95")
    check_pickle(p4, px, b"fine_labels", fine)
    write("cifar100_p4.pkl", p4)
    expected["cifar100"] = {
        "files": ["cifar100.bin", "cifar100_py2.pkl", "cifar100_p4.pkl"],
        "classes": 100,
        "n": n,
        "labels": fine,
        "coarse_labels": coarse,
        "pixels": base64.b64encode(px.tobytes()).decode(),
    }

    # Files to refuse. One image each keeps them small. (Labels out of range are
    # tested with the CIFAR-100 files read as CIFAR-10.)
    px = rng.integers(0, 256, size=(1, IMAGE), dtype=np.uint8)
    # The shape says one image but the buffer is short: numpy refuses it too.
    bad = py2_batch((1, IMAGE), px.tobytes()[:3000], [(b"labels", [3])])
    try:
        pickle.loads(bad, encoding="bytes")
        raise AssertionError("numpy took a short buffer")
    except ValueError:
        pass
    write("bad_buflen.pkl", bad)
    # One image, two labels: Python loads it, a batch cannot have it.
    bad = py2_batch((1, IMAGE), px.tobytes(), [(b"labels", [3, 4])])
    d = pickle.loads(bad, encoding="bytes")
    assert np.array_equal(d[b"data"], px) and d[b"labels"] == [3, 4]
    write("bad_labelcount.pkl", bad)
    # Real pickles of a call to os.system (which pickles as posix.system), by GLOBAL and by STACK_GLOBAL.
    for proto, name in ((2, "bad_os_system.pkl"), (4, "bad_os_system_p4.pkl")):
        data = pickle.dumps(Evil(), protocol=proto)
        assert b"system" in data
        write(name, data)

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    total = sum(os.path.getsize(os.path.join(OUT, x)) for x in os.listdir(OUT) if os.path.isfile(os.path.join(OUT, x)))
    print("wrote", OUT, total, "bytes")


if __name__ == "__main__":
    main()
