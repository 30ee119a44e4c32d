#!/usr/bin/env python3
"""Print the distinct float Conv shapes of the benchmark models as the C table of
bench/kernels/nhwc_layers.c (model, C, H, W, M, kernel, stride, pad, group, fused activation,
count). Run from the repository root: python3 bench/kernels/conv_shapes.py"""
import onnx
from onnx import helper, shape_inference

MODELS = [("mobilenet_v2", "tv_mobilenet_v2"), ("resnet18", "tv_resnet18"), ("efficientnet_b0", "tv_efficientnet_b0")]


def activation(graph, out):
    users = [n for n in graph.node if out in n.input]
    if len(users) == 1:
        u = users[0]
        if u.op_type == "Relu":
            return "RELU"
        if u.op_type == "Clip":
            return "CLIP6"
        if u.op_type == "Sigmoid":
            return "SIGMOID"
    if len(users) == 2 and {u.op_type for u in users} == {"Sigmoid", "Mul"}:
        return "SILU"
    return "NONE"


for short, name in MODELS:
    m = shape_inference.infer_shapes(onnx.load(f".cache/models/{name}.onnx"))
    g = m.graph
    vi = {v.name: v for v in list(g.value_info) + list(g.input)}
    inits = {i.name: i for i in g.initializer}
    seen = {}
    for n in g.node:
        if n.op_type != "Conv":
            continue
        xd = [d.dim_value for d in vi[n.input[0]].type.tensor_type.shape.dim]
        w = inits[n.input[1]].dims
        at = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        key = (xd[1], xd[2], xd[3], w[0], w[2], at.get("strides", [1])[0], at.get("pads", [0])[0],
               at.get("group", 1), activation(g, n.output[0]))
        seen[key] = seen.get(key, 0) + 1
    for k, cnt in seen.items():
        print('    {"%s", %d, %d, %d, %d, %d, %d, %d, %d, ER_ACT_%s, %d},' % ((short,) + k[:8] + (k[8], cnt)))
