#!/usr/bin/env python3
"""make-digits.py — a real, trained model for measuring quantization accuracy.

    /usr/bin/python3 scripts/make-digits.py [--out .cache/digits] [--force]

Trains a small CNN and an MLP on scikit-learn's bundled handwritten digits (1797 8x8 images,
Debian python3-sklearn; no download) with Debian's python3-torch, and writes:

    OUT/digits_cnn.onnx   input "input" [N,1,8,8] float32 in [0,1], output "logits" [N,10]
    OUT/digits_mlp.onnx   input "input" [N,64],                       output "logits" [N,10]
    OUT/calib_cnn/<k>/input_0.npy, OUT/calib_mlp/<k>/input_0.npy
                          128 calibration samples, each [1,...], from the TRAIN split
    OUT/test_cnn.npy [360,1,8,8], OUT/test_mlp.npy [360,64], OUT/test_labels.npy [360] int64
                          the held-out TEST split (stratified, 20 %)

Deterministic (fixed seeds, one thread). The torch packages are development tools only:
scripts/setup-test.sh style, they come from Debian (apt-get install python3-torch
python3-sklearn). Evaluate with scripts/eval-digits.py.
"""
import argparse
import os
import subprocess
import sys


def ensure_packages():
    try:
        import sklearn  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        if os.geteuid() != 0:
            sys.exit("make-digits: needs python3-torch and python3-sklearn (apt-get install them)")
        subprocess.run(["apt-get", "install", "-y", "-q", "python3-torch", "python3-sklearn"],
                       stdout=subprocess.DEVNULL, check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".cache/digits")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--epochs", type=int, default=40)
    a = ap.parse_args()
    if not a.force and all(os.path.exists(os.path.join(a.out, f))
                           for f in ("digits_cnn.onnx", "digits_mlp.onnx", "test_labels.npy")):
        return
    ensure_packages()
    import numpy as np
    import torch
    from torch import nn
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    torch.manual_seed(0)
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)

    cnn = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
    mlp = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))

    def train(model, xs, ys):
        opt = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs)
        xt, yt = torch.from_numpy(xs), torch.from_numpy(ys.astype(np.int64))
        g = torch.Generator().manual_seed(1)
        for _ in range(a.epochs):
            model.train()
            perm = torch.randperm(len(xt), generator=g)
            for i in range(0, len(xt), 64):
                idx = perm[i:i + 64]
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
            sched.step()
        model.eval()

    def acc(model, xs, ys):
        with torch.no_grad():
            return float((model(torch.from_numpy(xs)).argmax(1).numpy() == ys).mean())

    os.makedirs(a.out, exist_ok=True)
    for name, model, shape in (("cnn", cnn, (1, 8, 8)), ("mlp", mlp, (64,))):
        xtr = Xtr.reshape((-1,) + shape)
        xte = Xte.reshape((-1,) + shape)
        train(model, xtr, ytr)
        print(f"make-digits: {name} torch accuracy train {acc(model, xtr, ytr):.4f} test {acc(model, xte, yte):.4f}")
        path = os.path.join(a.out, f"digits_{name}.onnx")
        torch.onnx.export(model, torch.from_numpy(xte[:1]), path, opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        np.save(os.path.join(a.out, f"test_{name}.npy"), xte)
        rng = np.random.RandomState(0)
        pick = rng.choice(len(xtr), 128, replace=False)
        for k, i in enumerate(sorted(pick)):
            d = os.path.join(a.out, f"calib_{name}", f"{k:03d}")
            os.makedirs(d, exist_ok=True)
            np.save(os.path.join(d, "input_0.npy"), xtr[i:i + 1])
    np.save(os.path.join(a.out, "test_labels.npy"), yte.astype(np.int64))


if __name__ == "__main__":
    main()
