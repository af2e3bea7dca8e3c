#!/usr/bin/python3
"""Builds the degraded development set for `faceqan eval` (see docs/EVALUATION.md).

The shipped identity sets are too easy: the default recognition model makes no verification errors
on them, so every error-versus-reject curve is flat. This script writes a harder set: each source
image is kept once as it is and appears again with DEGRADED_PER_IMAGE degradations drawn (seeded)
from the list below, each in one of three strengths.

Sources (never holdout/): identities/ (13 identities), msceleb/ (4 identities) and
lfw-aligned-112/ (the 10 listed same-person pairs; pairs 012/013 and 014/015 are one person, since
013.jpg and 015.jpg are the same file).

Output: OUTPUT/<identity>/<source stem>__<degradation><strength>.png, one folder per identity,
and OUTPUT/manifest.csv (image, identity, source, degradation, strength). Images are written as
PNG so that only the listed degradation changes them. Never commit them.

Degradations (strengths 1, 2, 3), all on the whole image:
  blur       Gaussian blur, sigma = 1.5, 3, 5 pixels, scaled by the image size / 112
  downscale  resolution loss: down by 1/2, 1/4, 1/8 (box filter), back up (bilinear) to the size
  jpeg       JPEG compression at quality 20, 10, 5
  noise      additive Gaussian noise, sigma = 15, 30, 50 (of 255), clipped
  occlusion  a grey rectangle, 30%, 40%, 50% of the width and height, at a random place in the
             central 80% of the image (over an eye, the nose or the mouth)

Photos that are tight face crops (identities/, msceleb/) are first padded by 25% of their size on
each side (edge pixels repeated), so that the face detector sees a face with some margin;
lfw-aligned-112 images stay 112x112 aligned crops (scored without detection).

Usage: scripts/make_dev_set.py [--data ../shared/data] [--output build/dev-set] [--seed 6]
"""
import argparse
import csv
import io
import os
import random
import sys

import numpy as np
from PIL import Image, ImageFilter

DEGRADATIONS = ["blur", "downscale", "jpeg", "noise", "occlusion"]
DEGRADED_PER_IMAGE = 2
BLUR_SIGMA = {1: 1.5, 2: 3.0, 3: 5.0}
DOWNSCALE = {1: 2, 2: 4, 3: 8}
JPEG_QUALITY = {1: 20, 2: 10, 3: 5}
NOISE_SIGMA = {1: 15.0, 2: 30.0, 3: 50.0}
OCCLUSION = {1: 0.30, 2: 0.40, 3: 0.50}
PAD = 0.25


def sources(data):
    """(identity, source path relative to data, pad) for every source image, sorted."""
    out = []
    for folder, prefix in (("identities", "id_"), ("msceleb", "ms_")):
        root = os.path.join(data, folder)
        for name in sorted(os.listdir(root)):
            sub = os.path.join(root, name)
            if not os.path.isdir(sub):
                continue
            for f in sorted(os.listdir(sub)):
                if f.lower().endswith((".jpg", ".jpeg", ".png")):
                    out.append((prefix + name, os.path.join(folder, name, f), True))
    lfw = os.path.join(data, "lfw-aligned-112")
    with open(os.path.join(lfw, "pairs.txt")) as pairs:
        index = 0
        for line in pairs:
            parts = line.split()
            if not parts or parts[0].startswith("#") or len(parts) != 3 or parts[2] != "1":
                continue
            identity = "lfw_%02d" % index
            if parts[0] in ("012.jpg", "014.jpg"):
                identity = "lfw_06"  # 013.jpg and 015.jpg are one file: one person
            for f in parts[:2]:
                out.append((identity, os.path.join("lfw-aligned-112", f), False))
            index += 1
    return out


def pad(image):
    w, h = image.size
    px, py = int(round(w * PAD)), int(round(h * PAD))
    a = np.asarray(image)
    a = np.pad(a, ((py, py), (px, px), (0, 0)), mode="edge")
    return Image.fromarray(a)


def degrade(image, kind, strength, rng):
    w, h = image.size
    if kind == "blur":
        return image.filter(ImageFilter.GaussianBlur(BLUR_SIGMA[strength] * min(w, h) / 112.0))
    if kind == "downscale":
        f = DOWNSCALE[strength]
        small = image.resize((max(1, w // f), max(1, h // f)), Image.BOX)
        return small.resize((w, h), Image.BILINEAR)
    if kind == "jpeg":
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=JPEG_QUALITY[strength])
        buffer.seek(0)
        return Image.open(buffer).convert("RGB")
    if kind == "noise":
        a = np.asarray(image).astype(np.float64)
        a += np.random.default_rng(rng.randrange(2**32)).normal(0.0, NOISE_SIGMA[strength], a.shape)
        return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))
    if kind == "occlusion":
        # Within the face: for padded crops the central part is the original crop.
        f = OCCLUSION[strength]
        inner = 1.0 / (1.0 + 2 * PAD) if (w, h) != (112, 112) else 1.0
        fw, fh = w * inner, h * inner
        x0, y0 = (w - fw) / 2, (h - fh) / 2
        rw, rh = fw * f, fh * f
        x = x0 + fw * 0.1 + rng.random() * max(0.0, fw * 0.8 - rw)
        y = y0 + fh * 0.1 + rng.random() * max(0.0, fh * 0.8 - rh)
        a = np.array(image)
        a[int(y):int(y + rh), int(x):int(x + rw)] = 128
        return Image.fromarray(a)
    raise ValueError(kind)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.normpath(os.path.join(here, "..", "..", "shared", "data")))
    parser.add_argument("--output", default=os.path.normpath(os.path.join(here, "..", "build", "dev-set")))
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    if "holdout" in os.path.abspath(args.data).split(os.sep):
        sys.exit("make_dev_set.py: holdout/ is reserved; give the data folder above it")

    rng = random.Random(args.seed)
    rows = []
    for identity, rel, needs_pad in sources(args.data):
        image = Image.open(os.path.join(args.data, rel)).convert("RGB")
        if needs_pad:
            image = pad(image)
        folder = os.path.join(args.output, identity)
        os.makedirs(folder, exist_ok=True)
        stem = os.path.splitext(os.path.basename(rel))[0]
        kinds = rng.sample(DEGRADATIONS, DEGRADED_PER_IMAGE)
        variants = [("none", 0)] + [(k, rng.randint(1, 3)) for k in kinds]
        for kind, strength in variants:
            out = image if kind == "none" else degrade(image, kind, strength, rng)
            name = "%s__%s%d.png" % (stem[:16], kind, strength)
            out.save(os.path.join(folder, name))
            rows.append((identity + "/" + name, identity, rel, kind, strength))
    with open(os.path.join(args.output, "manifest.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "identity", "source", "degradation", "strength"])
        writer.writerows(rows)
    print("%d images of %d identities in %s" % (len(rows), len({r[1] for r in rows}), args.output))


if __name__ == "__main__":
    main()
