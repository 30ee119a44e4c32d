"""Seeded weight initialisation shared by scripts/export-torchvision.py and
bench/export-extra.py (development tools; no pretrained weights can be downloaded here)."""
import numpy as np


def init_weights(model, seed):
    """Fill every parameter and buffer deterministically from numpy's RandomState (independent
    of torch's RNG and version). Conv2d/Linear: He/LeCun-scaled normals; BatchNorm2d: real
    running statistics; LayerNorm, Embedding, LSTM also covered. Any tensor left unset is an
    error."""
    import torch
    rs = np.random.RandomState(seed)
    done = set()

    def put(t, arr):
        with torch.no_grad():
            t.copy_(torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)).reshape(t.shape))

    for mname, m in model.named_modules():
        pre = mname + "." if mname else ""
        if isinstance(m, torch.nn.Conv2d):
            fan_in = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            put(m.weight, rs.standard_normal(m.weight.shape) * np.sqrt(2.0 / fan_in))
            done.add(pre + "weight")
            if m.bias is not None:
                put(m.bias, rs.standard_normal(m.bias.shape) * 0.01)
                done.add(pre + "bias")
        elif isinstance(m, torch.nn.Linear):
            put(m.weight, rs.standard_normal(m.weight.shape) * np.sqrt(1.0 / m.in_features))
            done.add(pre + "weight")
            if m.bias is not None:
                put(m.bias, rs.standard_normal(m.bias.shape) * 0.01)
                done.add(pre + "bias")
        elif isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            put(m.weight, rs.uniform(0.5, 1.0, n))
            put(m.bias, rs.standard_normal(n) * 0.1)
            put(m.running_mean, rs.standard_normal(n) * 0.1)
            put(m.running_var, rs.uniform(0.5, 2.0, n))
            done.update(pre + s for s in ("weight", "bias", "running_mean", "running_var",
                                          "num_batches_tracked"))
        elif isinstance(m, torch.nn.LayerNorm):
            put(m.weight, 1.0 + rs.standard_normal(m.weight.shape) * 0.05)
            put(m.bias, rs.standard_normal(m.bias.shape) * 0.02)
            done.update((pre + "weight", pre + "bias"))
        elif isinstance(m, torch.nn.Embedding):
            put(m.weight, rs.standard_normal(m.weight.shape) * 0.02)
            done.add(pre + "weight")
        elif isinstance(m, torch.nn.LSTM):
            k = 1.0 / np.sqrt(m.hidden_size)
            for pname, p in m.named_parameters():
                put(p, rs.uniform(-k, k, p.shape))
                done.add(pre + pname)
    missed = [k for k in model.state_dict() if k not in done]
    if missed:
        raise SystemExit("init_weights: uninitialised tensors: %s" % missed[:5])
