"""A small synthetic 10-class image set in the CIFAR layout (numpy only, seeded).

spikegrad has no network access to fetch CIFAR, so its embedded demo network
(tools/ref/train_demo.py) is trained on procedurally drawn pictures instead:
32x32 RGB uint8 images, channel-major ([N,3,32,32], like a CIFAR record), one
shape or texture per image with random position, size, rotation, foreground
and background colours, a background gradient, pixel noise and sometimes a
blur. The same (n, seed) always gives the same images.

    import synth
    x, y = synth.make(1000, seed=1)   # x uint8 [1000,3,32,32], y int64 [1000]
    synth.CLASSES[y[0]]
"""

import numpy as np

CLASSES = [
    "circle",
    "ring",
    "square",
    "triangle",
    "plus",
    "hstripes",
    "vstripes",
    "dstripes",
    "checker",
    "twodots",
]

S = 32
# Pixel centres.
_YY, _XX = np.mgrid[0:S, 0:S].astype(np.float64) + 0.5


def _cover(d):
    """Antialiased coverage from a signed distance (negative inside), in pixels."""
    return np.clip(0.5 - d, 0.0, 1.0)


def _rot(x, y, cx, cy, a):
    """Coordinates relative to (cx, cy), rotated by -a."""
    u, v = x - cx, y - cy
    c, s = np.cos(a), np.sin(a)
    return c * u + s * v, -s * u + c * v


def _region(rng):
    """A random rectangle (soft edges) covering a good part of the image, for textures."""
    w = rng.uniform(16, 32)
    h = rng.uniform(16, 32)
    x0 = rng.uniform(0, S - w)
    y0 = rng.uniform(0, S - h)
    d = np.maximum(np.maximum(x0 - _XX, _XX - (x0 + w)), np.maximum(y0 - _YY, _YY - (y0 + h)))
    return _cover(d)


def _stripes(rng, angle, period):
    """Stripes whose bars run along `angle` (0 = horizontal bars)."""
    a = angle + np.deg2rad(rng.uniform(-10, 10))
    # Distance across the bars.
    t = -np.sin(a) * _XX + np.cos(a) * _YY
    ph = rng.uniform(0, period)
    duty = rng.uniform(0.35, 0.6)
    f = np.mod(t + ph, period) / period  # in [0,1)
    # Soft square wave: inside the bar for f < duty; d is the signed distance to its edge.
    inside = np.minimum(f, duty - f)  # >0 inside the bar, in period units
    outside = np.minimum(f - duty, 1 - f)  # >0 outside
    d = np.where(f < duty, -inside, outside) * period
    return _cover(d) * _region(rng)


def _mask(cls, rng):
    cx, cy = rng.uniform(9, 23, size=2)
    if cls == 0:  # circle
        r = rng.uniform(4, 9)
        return _cover(np.hypot(_XX - cx, _YY - cy) - r)
    if cls == 1:  # ring
        r = rng.uniform(6, 11)
        w = rng.uniform(1.5, 3.0)
        return _cover(np.abs(np.hypot(_XX - cx, _YY - cy) - r) - w / 2)
    if cls == 2:  # square, slightly rotated
        s = rng.uniform(4, 9)
        u, v = _rot(_XX, _YY, cx, cy, np.deg2rad(rng.uniform(-25, 25)))
        return _cover(np.maximum(np.abs(u), np.abs(v)) - s)
    if cls == 3:  # triangle, any rotation
        R = rng.uniform(6, 11)
        a0 = rng.uniform(0, 2 * np.pi)
        d = None
        for k in range(3):
            a = a0 + k * 2 * np.pi / 3
            e = np.cos(a) * (_XX - cx) + np.sin(a) * (_YY - cy) - R / 2
            d = e if d is None else np.maximum(d, e)
        return _cover(d)
    if cls == 4:  # plus
        arm = rng.uniform(6, 11)
        w = rng.uniform(1.2, 2.5)
        u, v = _rot(_XX, _YY, cx, cy, np.deg2rad(rng.uniform(-20, 20)))
        d = np.minimum(
            np.maximum(np.abs(u) - arm, np.abs(v) - w),
            np.maximum(np.abs(u) - w, np.abs(v) - arm),
        )
        return _cover(d)
    if cls == 5:  # horizontal stripes
        return _stripes(rng, 0.0, rng.uniform(4, 8))
    if cls == 6:  # vertical stripes
        return _stripes(rng, np.pi / 2, rng.uniform(4, 8))
    if cls == 7:  # diagonal stripes, either way
        return _stripes(rng, rng.choice([np.pi / 4, -np.pi / 4]), rng.uniform(4, 8))
    if cls == 8:  # checkerboard
        c = rng.uniform(3, 6)  # cell size
        u, v = _rot(_XX, _YY, 0, 0, np.deg2rad(rng.uniform(-10, 10)))
        u = u + rng.uniform(0, 2 * c)
        v = v + rng.uniform(0, 2 * c)
        # Sign of the product gives the cell parity; the steep clip keeps edges about 1px soft.
        g = np.sin(np.pi * u / c) * np.sin(np.pi * v / c)
        return np.clip(0.5 + 2.0 * g, 0, 1) * _region(rng)
    if cls == 9:  # two dots, well apart
        r = rng.uniform(2.5, 4.0, size=2)
        while True:
            p = rng.uniform(5, 27, size=(2, 2))
            if np.hypot(*(p[0] - p[1])) >= 10:
                break
        d = np.minimum(
            np.hypot(_XX - p[0, 0], _YY - p[0, 1]) - r[0],
            np.hypot(_XX - p[1, 0], _YY - p[1, 1]) - r[1],
        )
        return _cover(d)
    raise ValueError(cls)


def _colours(rng):
    bg = rng.uniform(0, 255, size=3)
    while True:
        fg = rng.uniform(0, 255, size=3)
        if np.linalg.norm(fg - bg) >= 110:
            return fg, bg


def _blur(img):
    """[1,2,1]/4 separable blur with edge replication; img [3,S,S]."""
    p = np.pad(img, ((0, 0), (1, 1), (0, 0)), mode="edge")
    img = 0.25 * p[:, :-2] + 0.5 * p[:, 1:-1] + 0.25 * p[:, 2:]
    p = np.pad(img, ((0, 0), (0, 0), (1, 1)), mode="edge")
    return 0.25 * p[:, :, :-2] + 0.5 * p[:, :, 1:-1] + 0.25 * p[:, :, 2:]


def draw(cls, rng):
    """One image of class cls as uint8 [3,32,32]."""
    m = _mask(cls, rng)
    fg, bg = _colours(rng)
    # A gentle linear gradient on the background.
    ga = rng.uniform(0, 2 * np.pi)
    grad = (np.cos(ga) * (_XX - S / 2) + np.sin(ga) * (_YY - S / 2)) / S
    bgimg = bg[:, None, None] + rng.uniform(0, 60) * grad[None] * rng.choice([-1, 1], size=3)[:, None, None]
    img = m[None] * fg[:, None, None] + (1 - m[None]) * bgimg
    if rng.random() < 0.5:
        img = _blur(img)
    img = img + rng.normal(0, rng.uniform(3, 15), size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def make(n, seed):
    """n images with balanced, shuffled labels: (x uint8 [n,3,32,32], y int64 [n])."""
    rng = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.int64) % len(CLASSES)
    rng.shuffle(y)
    x = np.empty((n, 3, S, S), dtype=np.uint8)
    for i in range(n):
        x[i] = draw(int(y[i]), rng)
    return x, y


if __name__ == "__main__":
    import sys

    # Write a contact sheet (PPM) of a few images per class: python3 synth.py sheet.ppm
    out = sys.argv[1] if len(sys.argv) > 1 else "synth_sheet.ppm"
    x, y = make(400, 0)
    rows = []
    for c in range(len(CLASSES)):
        idx = np.nonzero(y == c)[0][:10]
        rows.append(np.concatenate([np.pad(x[i], ((0, 0), (1, 1), (1, 1))) for i in idx], axis=2))
    sheet = np.concatenate(rows, axis=1).transpose(1, 2, 0)
    with open(out, "wb") as f:
        f.write(b"P6 %d %d 255\n" % (sheet.shape[1], sheet.shape[0]))
        f.write(np.ascontiguousarray(sheet).tobytes())
    print(out, sheet.shape)
