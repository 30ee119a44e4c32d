#!/usr/bin/env python3
"""export-extra.py — export the extra benchmark architectures to ONNX (seeded random weights).

    /usr/bin/python3 bench/export-extra.py [--force] [--quiet] [--out .cache/models/bench] [STEM...]

Uses Debian's python3-torch / python3-torchvision (torch 1.13, torchvision 0.14). No hub
download is possible here, so the weights are not trained ones: every parameter is drawn from
numpy's legacy RandomState(seed) (stable across numpy versions, unlike torch's RNG) with
per-layer scales like a trained net (He-normal conv/linear, BatchNorm with non-trivial running
statistics, LayerNorm near identity, LSTM uniform(+-1/sqrt(hidden)), embeddings N(0, 0.02)).
Speed does not depend on the weight values; the seeds only make files reproducible.

Models written to --out (default .cache/models/bench/):
    mobilenet_v3_small.onnx  torchvision mobilenet_v3_small   input [1,3,224,224]  opset 13
    squeezenet1_1.onnx       torchvision squeezenet1_1        input [1,3,224,224]  opset 13
    mnasnet1_0.onnx          torchvision mnasnet1_0           input [1,3,224,224]  opset 13
    dscnn_kws.onnx           DS-CNN (S) keyword spotting, 'Hello Edge' / MLPerf Tiny shape:
                             MFCC [1,1,49,10] -> conv 10x4/2 (64) -> 4 x (dw3x3 + pw64), BN,
                             ReLU -> avgpool -> FC 12                               opset 13
    lstm_ts.onnx             time-series LSTM: [1,128,8] -> 2-layer LSTM(64) -> FC 1 opset 14
    tinybert.onnx            transformer encoder, TinyBERT-4 size: input_ids int64 [1,128],
                             vocab 30522, 4 layers, hidden 312, 12 heads, FFN 1200, GELU(erf),
                             post-LayerNorm; output last hidden state [1,128,312]   opset 17
An existing file is kept unless --force.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../scripts"))
from seeded_init import init_weights  # noqa: E402


def make_dscnn():
    import torch.nn as nn

    def bn_relu(c):
        return [nn.BatchNorm2d(c), nn.ReLU()]

    layers = [nn.Conv2d(1, 64, (10, 4), stride=(2, 2), padding=(5, 1))] + bn_relu(64)
    for _ in range(4):
        layers += [nn.Conv2d(64, 64, 3, padding=1, groups=64)] + bn_relu(64)
        layers += [nn.Conv2d(64, 64, 1)] + bn_relu(64)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 12)]
    return nn.Sequential(*layers)


def make_lstm():
    import torch.nn as nn

    class LstmTs(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(8, 64, num_layers=2, batch_first=True)
            self.head = nn.Linear(64, 1)

        def forward(self, x):
            y, _ = self.lstm(x)
            return self.head(y[:, -1, :])

    return LstmTs()


def make_tinybert():
    import torch
    import torch.nn as nn

    H, HEADS, FFN, LAYERS, SEQ, VOCAB = 312, 12, 1200, 4, 128, 30522
    D = H // HEADS

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(H, H) for _ in range(4))
            self.ln1 = nn.LayerNorm(H, eps=1e-12)
            self.ff1, self.ff2 = nn.Linear(H, FFN), nn.Linear(FFN, H)
            self.ln2 = nn.LayerNorm(H, eps=1e-12)

        def forward(self, x):
            def heads(t):
                return t.reshape(1, SEQ, HEADS, D).permute(0, 2, 1, 3)
            q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
            a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (1.0 / D ** 0.5), dim=-1)
            ctx = torch.matmul(a, v).permute(0, 2, 1, 3).reshape(1, SEQ, H)
            x = self.ln1(x + self.o(ctx))
            return self.ln2(x + self.ff2(torch.nn.functional.gelu(self.ff1(x))))

    class TinyBert(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(VOCAB, H)
            self.pos = nn.Embedding(SEQ, H)
            self.ln = nn.LayerNorm(H, eps=1e-12)
            self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
            self.register_buffer("pos_ids", torch.arange(SEQ).unsqueeze(0), persistent=False)

        def forward(self, ids):
            x = self.ln(self.tok(ids) + self.pos(self.pos_ids))
            for layer in self.layers:
                x = layer(x)
            return x

    return TinyBert()


def tv(ctor):
    def make():
        import torchvision
        return getattr(torchvision.models, ctor)(weights=None)
    return make


MODELS = [
    # (stem, constructor, example input (shape, dtype), input name, output name, opset, seed)
    ("mobilenet_v3_small", tv("mobilenet_v3_small"), ((1, 3, 224, 224), "f"), "input", "logits", 13, 11),
    ("squeezenet1_1", tv("squeezenet1_1"), ((1, 3, 224, 224), "f"), "input", "logits", 13, 12),
    ("mnasnet1_0", tv("mnasnet1_0"), ((1, 3, 224, 224), "f"), "input", "logits", 13, 13),
    ("dscnn_kws", make_dscnn, ((1, 1, 49, 10), "f"), "mfcc", "logits", 13, 14),
    ("lstm_ts", make_lstm, ((1, 128, 8), "f"), "series", "forecast", 14, 15),
    ("tinybert", make_tinybert, ((1, 128), "i"), "input_ids", "hidden", 17, 16),
]


def export(stem, make, example, in_name, out_name, opset, seed, out_dir):
    import torch
    torch.manual_seed(seed)
    model = make()
    init_weights(model, seed)
    model.eval()
    shape, kind = example
    x = torch.zeros(*shape) if kind == "f" else torch.ones(*shape, dtype=torch.int64)
    path = os.path.join(out_dir, stem + ".onnx")
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, x, tmp, opset_version=opset, input_names=[in_name],
                          output_names=[out_name], do_constant_folding=True)
    os.replace(tmp, path)
    return path


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.normpath(os.path.join(here, "..", ".cache", "models", "bench")))
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("only", nargs="*", help="model stems to export (default: all)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    unknown = [s for s in a.only if s not in [m[0] for m in MODELS]]
    if unknown:
        print("export-extra: unknown model(s): %s" % ", ".join(unknown), file=sys.stderr)
        return 2
    todo = [m for m in MODELS if (not a.only or m[0] in a.only)
            and (a.force or not os.path.exists(os.path.join(a.out, m[0] + ".onnx")))]
    if not todo:
        return 0
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        print("export-extra: %s (run with Debian's /usr/bin/python3; apt-get install python3-torch "
              "python3-torchvision)" % e, file=sys.stderr)
        return 1
    import warnings
    warnings.filterwarnings("ignore")
    rc = 0
    for m in todo:
        try:
            p = export(*m, a.out)
        except Exception as e:  # keep going: one failed export should not block the others
            print("export-extra: %s failed: %s" % (m[0], e), file=sys.stderr)
            rc = 1
            continue
        if not a.quiet:
            print("export-extra: %s (opset %d, %d bytes)" % (p, m[5], os.path.getsize(p)))
    return rc


if __name__ == "__main__":
    sys.exit(main())
