"""ImageNet-style folder fixture (issue 16, item 3), checked by torchvision itself.

    apt-get install -y python3-torchvision
    /usr/bin/python3 tools/ref/make_imagefolder_fixtures.py

Writes snn/testdata/imagefolder/:

  val/<synset>/...     a few synsets of generated images, as an ImageNet validation
                       folder holds them (JPEG, .JPEG/.jpg/.jpeg spellings, one PNG,
                       one image in a subfolder of its class folder, sizes other than
                       224 in both orientations)
  labels.txt           "synset index" lines with the synsets' ILSVRC-2012 indices
                       (not their order in this folder: the -labels case)
  expected.json        torchvision.datasets.ImageFolder(val): classes, class_to_idx,
                       samples (path under val/, label) in its order; per sample, the
                       sha256 of the RGB pixels PIL decodes, and for three samples
                       (CROPS) the name of expected/<k>.png, the 224x224 RGB that
                       transforms.Compose([Resize(256), CenterCrop(224)]) gives on
                       ImageFolder's own loaded image (PIL bilinear, antialiased)
  expected/<k>.png     those crops, lossless
"""

import hashlib
import json
import os
import shutil

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import datasets, transforms

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "snn", "testdata", "imagefolder")

# (synset, ILSVRC-2012 index, [(file under the class folder, width, height, format)])
TREE = [
    ("n02123045", 281, [("ILSVRC2012_val_00000003.JPEG", 500, 375, "JPEG"),
                        ("more/ILSVRC2012_val_00000040.JPEG", 300, 450, "JPEG"),
                        ("ILSVRC2012_val_00000117.png", 320, 240, "PNG")]),
    ("n01440764", 0, [("ILSVRC2012_val_00000293.JPEG", 400, 300, "JPEG"),
                      ("ILSVRC2012_val_00002138.jpg", 256, 256, "JPEG")]),
    ("n01530575", 10, [("ILSVRC2012_val_00000187.jpeg", 281, 500, "JPEG"),
                       ("ILSVRC2012_val_00000078.JPEG", 333, 250, "JPEG")]),
]


# The samples whose crops are kept (a landscape and a portrait JPEG, the PNG): 40-60 KB each.
CROPS = (0, 3, 5)


def picture(w, h, seed):
    """Smooth colour shapes: something to resize, small as JPEG and PNG."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for c in range(3):
        fx, fy, ph = rng.uniform(0.5, 2, 2).tolist() + [rng.uniform(0, 6.3)]
        img[..., c] = 128 + 70 * np.sin(2 * np.pi * (fx * x / w + fy * y / h) + ph)
    for _ in range(3):  # a few sharp-edged discs
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.05, 0.2) * min(w, h)
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.uniform(0, 255, 3)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    val = os.path.join(OUT, "val")
    seed = 1
    for syn, _, files in TREE:
        for name, w, h, fmt in files:
            p = os.path.join(val, syn, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            im = picture(w, h, seed)
            seed += 1
            if fmt == "JPEG":
                im.save(p, "JPEG", quality=85)  # PIL's default 4:2:0 chroma, as most photos
            else:
                im.save(p, "PNG")
    with open(os.path.join(OUT, "labels.txt"), "w") as f:
        f.write("# synset ILSVRC-2012 class index\n")
        for syn, idx, _ in sorted(TREE, key=lambda t: t[1]):
            f.write("%s %d\n" % (syn, idx))

    ds = datasets.ImageFolder(val)
    tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])
    os.makedirs(os.path.join(OUT, "expected"))
    samples = []
    for k, (p, label) in enumerate(ds.samples):
        im = ds.loader(p)  # ImageFolder's own loader: PIL, convert("RGB")
        out = tf(im)
        assert out.size == (224, 224)
        png = None
        if k in CROPS:
            png = "expected/%d.png" % k
            out.save(os.path.join(OUT, png))
        samples.append({"path": os.path.relpath(p, val).replace(os.sep, "/"), "label": label,
                        "width": im.size[0], "height": im.size[1],
                        "rgb_sha256": hashlib.sha256(np.asarray(im).transpose(2, 0, 1).tobytes()).hexdigest(),
                        "crop": png})
    exp = {"generator": "tools/ref/make_imagefolder_fixtures.py", "torchvision": torchvision.__version__,
           "torch": torch.__version__, "pil": Image.__version__,
           "classes": ds.classes, "class_to_idx": ds.class_to_idx, "samples": samples,
           "ilsvrc_index": {syn: idx for syn, idx, _ in TREE}}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1)
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(OUT) for n in ns)
    print("classes", ds.classes)
    for s in samples:
        print("%-48s %d %dx%d" % (s["path"], s["label"], s["width"], s["height"]))
    print("%d files, %.0f KB" % (sum(len(ns) for _, _, ns in os.walk(OUT)), total / 1024))


if __name__ == "__main__":
    main()
