#!/usr/bin/python3
"""make-ocr-lines.py — a small labeled test set of rendered text lines for PaddleOCR cls/rec.

    /usr/bin/python3 scripts/make-ocr-lines.py OUT_DIR

Needs Debian's python3-pil and fonts-dejavu (no download). Renders known strings (digits and
Latin words) as dark text on a light background, cropped to the text plus a small margin the
way a detector's box would be, in four DejaVu faces at a few sizes and grey levels (seeded,
deterministic), and writes PaddleOCR's preprocessed inputs:

    OUT/rec_test.npy   [N, 3, 48, 320]  rec input: height 48, width ceil(48 w/h) <= 320,
                                        (x/255 - 0.5)/0.5, zero padding on the right
    OUT/rec_test.json  the N strings
    OUT/cls_test.npy   [2N, 3, 48, 192] cls input (same, width 192): each line upright, then
                                        rotated by 180 degrees
    OUT/cls_test.json  the 2N labels: 0 upright, 1 rotated (the model's class order: 0, 180)
    OUT/calib_rec/<k>/input_0.npy, OUT/calib_cls/<k>/input_0.npy
                       calibration samples [1, 3, 48, W] from OTHER strings and sizes
                       (half of the cls ones rotated)
"""
import json
import math
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONTS = "/usr/share/fonts/truetype/dejavu/"
FACES = ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSans-Bold.ttf"]

TEST = ["2024", "31415", "8675309", "12.50", "07/12/2025", "+49 30 1234", "100%", "42",
        "edge", "runtime", "model", "Hello", "World", "quantize", "Paris", "London",
        "coffee", "garden", "Monday", "OPEN", "EXIT", "Total", "Price 9.99", "Room 204",
        "apple", "window", "number", "Station", "river", "Berlin", "zero", "seven"]
CALIB = ["1987", "5500", "3.75", "26/03", "Tokyo", "house", "train", "yellow", "STOP",
         "Invoice 77", "music", "bridge", "Level 3", "orange", "north", "61 km"]


def render(text, face, size, ink, paper):
    font = ImageFont.truetype(os.path.join(FONTS, face), size)
    l, t, r, b = font.getbbox(text)
    mx, my = max(2, size // 6), max(2, size // 5)
    img = Image.new("RGB", (r - l + 2 * mx, b - t + 2 * my), (paper,) * 3)
    ImageDraw.Draw(img).text((mx - l, my - t), text, font=font, fill=(ink,) * 3)
    return img


def preprocess(img, width):
    """PaddleOCR resize_norm_img: height 48, keep the ratio up to `width`, pad with 0."""
    w, h = img.size
    rw = min(width, int(math.ceil(48 * w / h)))
    a = np.asarray(img.resize((rw, 48), Image.BILINEAR), dtype=np.float32) / 255.0
    a = (a - 0.5) / 0.5
    out = np.zeros((3, 48, width), np.float32)
    out[:, :, :rw] = a.transpose(2, 0, 1)
    return out


def styles(rng):
    return (rng.choice(FACES), rng.choice([28, 32, 40]), rng.randint(0, 60), rng.randint(200, 255))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(7)
    rec, cls, cls_y = [], [], []
    for text in TEST:
        img = render(text, *styles(rng))
        rec.append(preprocess(img, 320))
        cls.append(preprocess(img, 192))
        cls_y.append(0)
    for text in TEST:  # the same lines upside down (a second style draw: not the same picture)
        img = render(text, *styles(rng)).rotate(180)
        cls.append(preprocess(img, 192))
        cls_y.append(1)
    np.save(os.path.join(out, "rec_test.npy"), np.stack(rec))
    np.save(os.path.join(out, "cls_test.npy"), np.stack(cls))
    json.dump(TEST, open(os.path.join(out, "rec_test.json"), "w"))
    json.dump(cls_y, open(os.path.join(out, "cls_test.json"), "w"))
    rng = random.Random(11)
    for k, text in enumerate(CALIB):
        img = render(text, *styles(rng))
        for name, width, pic in (("rec", 320, img), ("cls", 192, img.rotate(180) if k % 2 else img)):
            d = os.path.join(out, "calib_" + name, "%03d" % k)
            os.makedirs(d, exist_ok=True)
            np.save(os.path.join(d, "input_0.npy"), preprocess(pic, width)[None])


if __name__ == "__main__":
    main()
