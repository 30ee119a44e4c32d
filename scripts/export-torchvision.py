#!/usr/bin/env python3
"""export-torchvision.py — export torchvision architectures to ONNX for the real-model tests.

    /usr/bin/python3 scripts/export-torchvision.py [--force] [--out .cache/models]

Uses Debian's python3-torch / python3-torchvision (torch 1.13, torchvision 0.14); no hub
download is possible here, so weights are not the pretrained ones. They are made with
numpy's legacy RandomState (stable across numpy versions; torch's RNG is not promised to
be stable across torch versions) with per-layer scales like a trained net:
conv/linear weights He-normal, biases small, and BatchNorm with non-trivial running
statistics so that BN folding is exercised for real. The same script on any machine gives
the same weights, so the committed reference outputs stay valid if Debian's torch changes.

Models (input "input" float32 [1,3,224,224], output "logits" [1,1000]):
    tv_mobilenet_v2.onnx      opset 13
    tv_resnet18.onnx          opset 14
    tv_shufflenet_v2_x1_0.onnx opset 15
    tv_efficientnet_b0.onnx   opset 17
An existing file is kept unless --force.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seeded_init import init_weights  # noqa: E402

MODELS = [
    # (file stem, torchvision constructor, opset, seed)
    ("tv_mobilenet_v2", "mobilenet_v2", 13, 1),
    ("tv_resnet18", "resnet18", 14, 2),
    ("tv_shufflenet_v2_x1_0", "shufflenet_v2_x1_0", 15, 3),
    ("tv_efficientnet_b0", "efficientnet_b0", 17, 4),
]


def export(stem, ctor, opset, seed, out_dir):
    import torch
    import torchvision
    torch.manual_seed(seed)
    model = getattr(torchvision.models, ctor)(weights=None)
    init_weights(model, seed)
    model.eval()
    x = torch.zeros(1, 3, 224, 224)
    path = os.path.join(out_dir, stem + ".onnx")
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, x, tmp, opset_version=opset, input_names=["input"],
                          output_names=["logits"], do_constant_folding=True)
    os.replace(tmp, path)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                    "..", ".cache", "models")))
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("only", nargs="*", help="model stems to export (default: all)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    todo = [m for m in MODELS if (not a.only or m[0] in a.only)
            and (a.force or not os.path.exists(os.path.join(a.out, m[0] + ".onnx")))]
    if not todo:
        return 0
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        print("export-torchvision: %s (apt-get install python3-torch python3-torchvision)" % e,
              file=sys.stderr)
        return 1
    import warnings
    warnings.filterwarnings("ignore")
    for stem, ctor, opset, seed in todo:
        p = export(stem, ctor, opset, seed, a.out)
        if not a.quiet:
            print("export-torchvision: %s (opset %d, %d bytes)" % (p, opset, os.path.getsize(p)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
