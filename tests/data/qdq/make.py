#!/usr/bin/env python3
"""Small QDQ models for the QDQ pass and integer-kernel tests (tests/unit/test_qdq.c).

Run from the repo root with onnx 1.17 and onnxruntime 1.20.1 (PyPI):
    python3 tests/data/qdq/make.py
For each case: a float model built here, quantized by onnxruntime.quantization.quantize_static
(QDQ format) on seeded random calibration data, then run by ONNX Runtime (all graph
optimizations: it fuses the same QDQ patterns) on a seeded input. Writes NAME.onnx,
NAME.input.npy, NAME.output.npy and one line "NAME STEP" per case in cases.txt, where STEP is
the output's quantization step (the scale of the DequantizeLinear that produces it).
Deterministic (numpy seeds, one thread).
"""
import os
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

HERE = os.path.dirname(os.path.abspath(__file__))
F = TensorProto.FLOAT
N = helper.make_node


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


class Reader(CalibrationDataReader):
    def __init__(self, name, shape, n=8, seed=1):
        rs = np.random.RandomState(seed)
        self.items = iter([{name: rs.uniform(-1, 1, shape).astype(np.float32)} for _ in range(n)])

    def get_next(self):
        return next(self.items, None)


def build(name, nodes, in_shape, out_name, out_shape, inits, opset=13):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", F, in_shape)],
                          [helper.make_tensor_value_info(out_name, F, out_shape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


def make(name, model, in_shape, act=QuantType.QUInt8, per_channel=False, extra=None):
    with tempfile.TemporaryDirectory() as tmp:
        fp = os.path.join(tmp, "f.onnx")
        onnx.save(model, fp)
        out = os.path.join(HERE, name + ".onnx")
        quantize_static(fp, out, Reader("x", in_shape), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                        activation_type=act, weight_type=QuantType.QInt8, extra_options=extra or {})
    q = onnx.load(out)
    x = np.random.RandomState(7).uniform(-1, 1, in_shape).astype(np.float32)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    y = ort.InferenceSession(out, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.save(os.path.join(HERE, name + ".input.npy"), x)
    np.save(os.path.join(HERE, name + ".output.npy"), y)
    # the output's quantization step: scale of the DequantizeLinear producing the graph output
    inits = {i.name: numpy_helper.to_array(i) for i in q.graph.initializer}
    step = 0.0
    for n in q.graph.node:
        if n.op_type == "DequantizeLinear" and n.output[0] == q.graph.output[0].name:
            step = float(inits[n.input[1]].reshape(-1)[0])
    assert step > 0, name
    return "%s %.9g\n" % (name, step)


rng = np.random.RandomState(0)


def w(*shape, s=0.5):
    return rng.uniform(-s, s, shape).astype(np.float32)


lines = []

# Conv chain: 3x3 pad 1 + Relu, 3x3 stride 2 + Clip(0, 6) (ReLU6), 5x3 dilated asymmetric pads, 1x1
m = build("conv_chain", [
    N("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
    N("Relu", ["c1"], ["r1"]),
    N("Conv", ["r1", "w2", "b2"], ["c2"], strides=[2, 2], pads=[1, 1, 1, 1]),
    N("Clip", ["c2", "lo", "hi"], ["r2"]),
    N("Conv", ["r2", "w3", "b3"], ["c3"], dilations=[2, 1], pads=[2, 0, 1, 1]),
    N("Conv", ["c3", "w4"], ["y"]),
], [1, 3, 13, 13], "y", [1, 5, 2, 6], [init("w1", w(8, 3, 3, 3)), init("b1", w(8)), init("w2", w(16, 8, 3, 3, s=0.3)),
                         init("b2", w(16)), init("lo", 0.0), init("hi", 6.0), init("w3", w(12, 16, 5, 3, s=0.2)),
                         init("b3", w(12)), init("w4", w(5, 12, 1, 1))])
lines.append(make("conv_chain_u8", m, [1, 3, 13, 13]))
lines.append(make("conv_chain_s8_pc", m, [1, 3, 13, 13], act=QuantType.QInt8, per_channel=True))
# the same with the Relu / Clip nodes kept between the convolutions and their QuantizeLinear
lines.append(make("conv_chain_act_u8", m, [1, 3, 13, 13], extra={"QDQKeepRemovableActivations": True}))
lines.append(make("conv_chain_act_s8", m, [1, 3, 13, 13], act=QuantType.QInt8, per_channel=True,
                  extra={"QDQKeepRemovableActivations": True}))

# MobileNet-like block: 1x1 expand + ReLU6, depthwise 3x3 (stride 1 and 2), 1x1 project,
# residual Add, then GlobalAveragePool, Flatten, Gemm (transB)
m = build("mbblock", [
    N("Conv", ["x", "we", "be"], ["e"]),
    N("Clip", ["e", "lo", "hi"], ["e6"]),
    N("Conv", ["e6", "wd", "bd"], ["d"], group=24, pads=[1, 1, 1, 1]),
    N("Clip", ["d", "lo", "hi"], ["d6"]),
    N("Conv", ["d6", "wp", "bp"], ["p"]),
    N("Add", ["x", "p"], ["a"]),
    N("Conv", ["a", "wd2", "bd2"], ["d2"], group=8, strides=[2, 2], pads=[1, 1, 1, 1]),
    N("Relu", ["d2"], ["r"]),
    N("GlobalAveragePool", ["r"], ["g"]),
    N("Flatten", ["g"], ["f"]),
    N("Gemm", ["f", "wg", "bg"], ["y"], transB=1),
], [1, 8, 10, 10], "y", [1, 5], [init("we", w(24, 8, 1, 1)), init("be", w(24)), init("lo", 0.0), init("hi", 6.0),
                         init("wd", w(24, 1, 3, 3)), init("bd", w(24)), init("wp", w(8, 24, 1, 1, s=0.2)),
                         init("bp", w(8)), init("wd2", w(8, 1, 3, 3)), init("bd2", w(8)), init("wg", w(5, 8)),
                         init("bg", w(5))])
lines.append(make("mbblock_u8_pc", m, [1, 8, 10, 10], per_channel=True))
lines.append(make("mbblock_s8", m, [1, 8, 10, 10], act=QuantType.QInt8))

# Digits-sized CNN (8x8 input): Conv + Relu, MaxPool, Conv + Relu, Reshape, MatMul + Add
m = build("digits", [
    N("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
    N("Relu", ["c1"], ["r1"]),
    N("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
    N("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
    N("Relu", ["c2"], ["r2"]),
    N("Reshape", ["r2", "shape"], ["f"]),
    N("MatMul", ["f", "wm"], ["mm"]),
    N("Add", ["mm", "bm"], ["y"]),
], [2, 1, 8, 8], "y", [2, 10], [init("w1", w(8, 1, 3, 3)), init("b1", w(8)), init("w2", w(16, 8, 3, 3, s=0.25)),
                       init("b2", w(16)), numpy_helper.from_array(np.array([2, 256], np.int64), "shape"),
                       init("wm", w(256, 10, s=0.1)), init("bm", w(10))])
lines.append(make("digits_u8", m, [2, 1, 8, 8]))
lines.append(make("digits_s8_pc", m, [2, 1, 8, 8], act=QuantType.QInt8, per_channel=True))

# SqueezeNet fire module: two expand convs concatenated (different scales: QLinearConcat),
# MaxPool with ceil_mode, GlobalAveragePool
m = build("fire", [
    N("Conv", ["x", "ws", "bs"], ["s"]),
    N("Relu", ["s"], ["sr"]),
    N("Conv", ["sr", "we1", "be1"], ["e1"]),
    N("Relu", ["e1"], ["e1r"]),
    N("Conv", ["sr", "we3", "be3"], ["e3"], pads=[1, 1, 1, 1]),
    N("Relu", ["e3"], ["e3r"]),
    N("Concat", ["e1r", "e3r"], ["cat"], axis=1),
    N("MaxPool", ["cat"], ["mp"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
    N("GlobalAveragePool", ["mp"], ["y"]),
], [1, 12, 9, 9], "y", [1, 20, 1, 1], [init("ws", w(6, 12, 1, 1)), init("bs", w(6)), init("we1", w(8, 6, 1, 1)),
                                      init("be1", w(8)), init("we3", w(12, 6, 3, 3, s=0.3)), init("be3", w(12))])
lines.append(make("fire_u8", m, [1, 12, 9, 9]))

# MatMul chain on 3-D activations, per-channel weights
m = build("mlp", [
    N("MatMul", ["x", "w1"], ["m1"]),
    N("Add", ["m1", "b1"], ["a1"]),
    N("Relu", ["a1"], ["r1"]),
    N("MatMul", ["r1", "w2"], ["y"]),
], [2, 5, 16], "y", [2, 5, 7], [init("w1", w(16, 40)), init("b1", w(40)), init("w2", w(40, 7, s=0.3))])
lines.append(make("mlp_u8_pc", m, [2, 5, 16], per_channel=True))


def manual(name, act_type):
    """Hand-made QDQ: Conv -> Relu -> Q and Conv -> Clip(-0.4, 0.9) -> Q with output zero
    points that are not the range minimum, so the activations stay (ONNX Runtime then runs
    these Convs in float; the QDQ pass fuses the activations as clamps)."""
    t = TensorProto.UINT8 if act_type == "u8" else TensorProto.INT8
    npt = np.uint8 if act_type == "u8" else np.int8
    zp = lambda v: numpy_helper.from_array(np.array(v, npt))
    w1, w2 = w(6, 3, 3, 3), w(4, 6, 3, 3, s=0.3)
    b1, b2 = w(6), w(4)
    inits = [init("sx", 0.01), zp(128 if act_type == "u8" else 0), init("s1", 0.02), init("s2", 0.015)]
    inits[1].name = "zx"
    z1, z2 = zp(20 if act_type == "u8" else -100), zp(150 if act_type == "u8" else 23)
    z1.name, z2.name = "z1", "z2"
    inits += [z1, z2, init("lo", -0.4), init("hi", 0.9)]
    nodes = [N("QuantizeLinear", ["x", "sx", "zx"], ["xq"]), N("DequantizeLinear", ["xq", "sx", "zx"], ["xd"])]
    for i, (wt, bt, k) in enumerate([(w1, b1, 1), (w2, b2, 2)], 1):
        ws = (np.abs(wt).reshape(wt.shape[0], -1).max(1) / 127).astype(np.float32)
        wq = np.clip(np.rint(wt / ws[:, None, None, None]), -127, 127).astype(np.int8)
        xs = 0.01 if i == 1 else 0.02
        bq = np.rint(bt / (xs * ws)).astype(np.int32)
        inits += [numpy_helper.from_array(wq, "w%dq" % i), init("w%ds" % i, ws), numpy_helper.from_array(np.zeros(len(ws), np.int8), "w%dz" % i),
                  numpy_helper.from_array(bq, "b%dq" % i), init("b%ds" % i, (np.float32(xs) * ws).astype(np.float32)),
                  numpy_helper.from_array(np.zeros(len(ws), np.int32), "b%dz" % i)]
        src = "xd" if i == 1 else "h1d"
        nodes += [N("DequantizeLinear", ["w%dq" % i, "w%ds" % i, "w%dz" % i], ["w%dd" % i], axis=0),
                  N("DequantizeLinear", ["b%dq" % i, "b%ds" % i, "b%dz" % i], ["b%dd" % i], axis=0),
                  N("Conv", [src, "w%dd" % i, "b%dd" % i], ["c%d" % i], pads=[1, 1, 1, 1])]
        if i == 1:
            nodes += [N("Relu", ["c1"], ["a1"]), N("QuantizeLinear", ["a1", "s1", "z1"], ["h1q"]),
                      N("DequantizeLinear", ["h1q", "s1", "z1"], ["h1d"])]
        else:
            nodes += [N("Clip", ["c2", "lo", "hi"], ["a2"]), N("QuantizeLinear", ["a2", "s2", "z2"], ["yq"]),
                      N("DequantizeLinear", ["yq", "s2", "z2"], ["y"])]
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", F, [1, 3, 7, 7])],
                          [helper.make_tensor_value_info("y", F, [1, 4, 7, 7])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    out = os.path.join(HERE, name + ".onnx")
    onnx.save(m, out)
    x = np.random.RandomState(7).uniform(-1, 1, [1, 3, 7, 7]).astype(np.float32)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    y = ort.InferenceSession(out, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.save(os.path.join(HERE, name + ".input.npy"), x)
    np.save(os.path.join(HERE, name + ".output.npy"), y)
    return "%s %.9g\n" % (name, 0.015)


def int4(name):
    """Weight-only 4-bit MatMuls (DequantizeLinear opset 21, blocks along K) -> MatMulQ4:
    int4 with zero points, block 32; uint4 with zero points, block 16 (K = 40: a partial
    block); uint4 per column without zero points. Output compared to 1e-5 of its range."""
    K1, N1, N2, N3 = 64, 40, 24, 10
    nodes, inits = [], []

    def q4(wname, K, Nc, block, signed, zp):
        wt = rng.uniform(-1, 1, (K, Nc)).astype(np.float32)
        nbk = (K + block - 1) // block if block else 1
        lo, hi = (-8, 7) if signed else (0, 15)
        if block:
            s = np.array([np.abs(wt[b * block:(b + 1) * block]).max(0) for b in range(nbk)], np.float32) / 7 + 1e-3
            z = rng.randint(lo, hi + 1, (nbk, Nc)) if zp else np.zeros((nbk, Nc), int)
            q = np.clip(np.rint(wt / np.repeat(s, block, 0)[:K]) + np.repeat(z, block, 0)[:K], lo, hi)
        else:
            s = (np.abs(wt).max(0) / 7 + 1e-3).astype(np.float32)
            z = np.zeros(Nc, int)
            q = np.clip(np.rint(wt / s), lo, hi)
        dt = TensorProto.INT4 if signed else TensorProto.UINT4
        inits.append(helper.make_tensor(wname + "_q", dt, list(q.shape), q.astype(int).flatten().tolist()))
        inits.append(numpy_helper.from_array(s.astype(np.float32), wname + "_s"))
        ins = [wname + "_q", wname + "_s"]
        if zp:
            inits.append(helper.make_tensor(wname + "_z", dt, list(z.shape), z.astype(int).flatten().tolist()))
            ins.append(wname + "_z")
        attrs = {"axis": 0, "block_size": block} if block else {"axis": 1}
        nodes.append(N("DequantizeLinear", ins, [wname], **attrs))

    q4("w1", K1, N1, 32, True, True)
    q4("w2", N1, N2, 16, False, True)
    q4("w3", N2, N3, 0, False, False)
    inits.append(init("b1", w(N1)))
    nodes += [N("MatMul", ["x", "w1"], ["m1"]), N("Add", ["m1", "b1"], ["a1"]), N("Relu", ["a1"], ["r1"]),
              N("MatMul", ["r1", "w2"], ["m2"]), N("MatMul", ["m2", "w3"], ["y"])]
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", F, [3, K1])],
                          [helper.make_tensor_value_info("y", F, [3, N3])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    onnx.checker.check_model(m, full_check=True)
    out = os.path.join(HERE, name + ".onnx")
    onnx.save(m, out)
    x = np.random.RandomState(7).uniform(-1, 1, [3, K1]).astype(np.float32)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    # ORT's optimizer would fuse DQ + MatMul into MatMulNBits, which by default quantizes A to
    # int8 (accuracy level 4, ~0.5% off here); the reference is the model's float semantics
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    y = ort.InferenceSession(out, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.save(os.path.join(HERE, name + ".input.npy"), x)
    np.save(os.path.join(HERE, name + ".output.npy"), y)
    return "%s %.9g\n" % (name, 1e-5 * float(np.abs(y).max()))


def embed(name, gran):
    """DequantizeLinear(int8/uint8 table [20, 8]) -> Gather(indices x int64 [2, 5]): the QDQ
    pass gathers the 8-bit rows first (per row / per column / per tensor quantization)."""
    rs = np.random.RandomState(11)
    V, D = 20, 8
    u8 = gran == "row"
    q = rs.randint(0, 256, (V, D)).astype(np.uint8) if u8 else rs.randint(-128, 128, (V, D)).astype(np.int8)
    n = V if gran == "row" else D if gran == "col" else 1
    s = rs.uniform(0.01, 0.1, n).astype(np.float32)
    inits = [numpy_helper.from_array(q, "T"), numpy_helper.from_array(s if n > 1 else s.reshape(()), "s")]
    ins = ["T", "s"]
    if u8:
        inits.append(numpy_helper.from_array(rs.randint(0, 256, n).astype(np.uint8), "z"))
        ins.append("z")
    nodes = [N("DequantizeLinear", ins, ["t"], axis=0 if gran == "row" else 1),
             N("Gather", ["t", "x"], ["y"], axis=0)]
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.INT64, [2, 5])],
                          [helper.make_tensor_value_info("y", F, [2, 5, D])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    out = os.path.join(HERE, name + ".onnx")
    onnx.save(m, out)
    unoptimized_ref(name, out, np.random.RandomState(7).randint(0, V, (2, 5)).astype(np.int64))
    return "%s %.9g\n" % (name, float(s.min()))


def unoptimized_ref(name, out, x):
    """Runs out (ONNX Runtime, one thread, no graph optimizations: the model's own semantics)
    on x and saves NAME.input.npy / NAME.output.npy; returns the output."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    y = ort.InferenceSession(out, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.save(os.path.join(HERE, name + ".input.npy"), x)
    np.save(os.path.join(HERE, name + ".output.npy"), y)
    return y


def dynamic(name, per_channel):
    """ONNX Runtime's dynamic quantization (quantize_dynamic, QOperator: DynamicQuantizeLinear ->
    MatMulInteger -> Cast -> Mul(a_scale * b_scale) -> Add(bias)) of a 2-layer MLP; the QDQ
    pass makes MatMulIntegerToFloat of each chain (ORT fuses it likewise)."""
    from onnxruntime.quantization import quantize_dynamic
    rs = np.random.RandomState(5)
    K1, N1, N2 = 40, 48, 24
    inits = [init("w1", rs.uniform(-0.5, 0.5, (K1, N1))), init("b1", rs.uniform(-0.2, 0.2, N1)),
             init("w2", rs.uniform(-0.5, 0.5, (N1, N2))), init("b2", rs.uniform(-0.2, 0.2, N2))]
    nodes = [N("MatMul", ["x", "w1"], ["m1"]), N("Add", ["m1", "b1"], ["a1"]), N("Relu", ["a1"], ["r1"]),
             N("MatMul", ["r1", "w2"], ["m2"]), N("Add", ["m2", "b2"], ["y"])]
    model = build(name, nodes, [2, 3, K1], "y", [2, 3, N2], inits)
    with tempfile.TemporaryDirectory() as tmp:
        fp = os.path.join(tmp, "f.onnx")
        onnx.save(model, fp)
        out = os.path.join(HERE, name + ".onnx")
        quantize_dynamic(fp, out, weight_type=QuantType.QInt8, per_channel=per_channel)
    y = unoptimized_ref(name, out, np.random.RandomState(7).uniform(-1, 1, [2, 3, K1]).astype(np.float32))
    return "%s %.9g\n" % (name, 1e-6 * float(np.abs(y).max()))


lines.append(int4("mlp_int4"))
lines.append(dynamic("mlp_dynamic", False))
lines.append(dynamic("mlp_dynamic_pc", True))
lines.append(embed("embed_row_u8", "row"))
lines.append(embed("embed_col_s8", "col"))
lines.append(embed("embed_tensor_s8", "tensor"))
lines.append(manual("manual_act_u8", "u8"))
lines.append(manual("manual_act_s8", "s8"))

with open(os.path.join(HERE, "cases.txt"), "w") as f:
    f.write("".join(lines))
print("".join(lines), end="")
