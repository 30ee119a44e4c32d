#!/usr/bin/env python3
"""Tiny models for the graph-optimizer unit tests (tests/unit/test_opt.c).

Run with onnx 1.17 (PyPI):  python3 tests/data/opt/make.py
Writes *.onnx next to this script. Deterministic (numpy seed 0).
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(0)
F = TensorProto.FLOAT


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def rnd(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def save(name, nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(HERE, name + ".onnx"))


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


N = helper.make_node

# dead nodes: a dead branch, a dead Constant, a dead chain feeding only itself
save("dce", [
    N("Relu", ["x"], ["r"], name="live"),
    N("Sigmoid", ["x"], ["s"], name="dead1"),
    N("Neg", ["s"], ["s2"], name="dead2"),
    N("Constant", [], ["k"], name="deadk", value=init("kv", np.float32(3))),
    N("Add", ["r", "c"], ["y"], name="add"),
], [vi("x", [2, 3])], [vi("y", [2, 3])], [init("c", rnd(2, 3)), init("unused_init", rnd(4))])

# dead-node removal with a subgraph: the If's branches read 'outer' (an outer-scope
# reference); the producer of 'outer' must stay.
then_g = helper.make_graph([N("Identity", ["outer"], ["t_out"], name="then_id")], "then", [],
                           [vi("t_out", [2, 3])])
else_g = helper.make_graph([N("Neg", ["outer"], ["e_out"], name="else_neg")], "else", [],
                           [vi("e_out", [2, 3])])
save("subgraph", [
    N("Relu", ["x"], ["outer"], name="producer"),
    N("ReduceSum", ["x"], ["sum"], name="sum", keepdims=0),
    N("Greater", ["sum", "zero"], ["cond"], name="cond"),
    N("If", ["cond"], ["y"], name="if", then_branch=then_g, else_branch=else_g),
    N("Sigmoid", ["x"], ["unused"], name="dead"),
], [vi("x", [2, 3])], [vi("y", [2, 3])], [init("zero", np.float32(0))])

# Identity / Dropout chains, one ending at a graph output
save("identity", [
    N("Identity", ["x"], ["a"], name="id1"),
    N("Relu", ["a"], ["b"], name="relu"),
    N("Dropout", ["b", "ratio"], ["c"], name="drop"),
    N("Sigmoid", ["c"], ["d"], name="sig"),
    N("Identity", ["d"], ["y"], name="id_out"),
    N("Identity", ["x"], ["z"], name="id_in_out"),  # graph input -> graph output: stays
], [vi("x", [2, 3])], [vi("y", [2, 3]), vi("z", [2, 3])], [init("ratio", np.float32(0.5))])

# BatchNormalization after Conv (with bias), ConvTranspose (group 2, no bias), Gemm (transB)
M, C = 4, 3
save("bn_conv", [
    N("Conv", ["x", "W", "B"], ["c"], name="conv", pads=[1, 1, 1, 1]),
    N("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], name="bn", epsilon=1e-3),
], [vi("x", [1, C, 5, 5])], [vi("y", [1, M, 5, 5])],
   [init("W", rnd(M, C, 3, 3)), init("B", rnd(M)), init("s", rnd(M)), init("b", rnd(M)),
    init("m", rnd(M)), init("v", rnd(M, lo=0.5, hi=2))])
save("bn_convtranspose", [
    N("ConvTranspose", ["x", "W"], ["c"], name="convt", group=2, strides=[2, 2]),
    N("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], name="bn"),
], [vi("x", [1, 4, 3, 3])], [vi("y", [1, 6, 7, 7])],
   [init("W", rnd(4, 3, 3, 3)), init("s", rnd(6)), init("b", rnd(6)), init("m", rnd(6)),
    init("v", rnd(6, lo=0.5, hi=2))])
save("bn_gemm", [
    N("Gemm", ["x", "W", "B"], ["c"], name="gemm", transB=1, beta=0.5),
    N("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], name="bn"),
], [vi("x", [3, 5])], [vi("y", [3, 4])],
   [init("W", rnd(4, 5)), init("B", rnd(4)), init("s", rnd(4)), init("b", rnd(4)),
    init("m", rnd(4)), init("v", rnd(4, lo=0.5, hi=2))])
# BN that must stay: the Conv output has a second consumer
save("bn_shared", [
    N("Conv", ["x", "W"], ["c"], name="conv"),
    N("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], name="bn"),
    N("Relu", ["c"], ["z"], name="relu"),
], [vi("x", [1, 2, 4, 4])], [vi("y", [1, 2, 4, 4]), vi("z", [1, 2, 4, 4])],
   [init("W", rnd(2, 2, 1, 1)), init("s", rnd(2)), init("b", rnd(2)), init("m", rnd(2)),
    init("v", rnd(2, lo=0.5, hi=2))])

# Conv + per-channel Add (bias [M,1,1] from a Constant node), then Conv + scalar Add on the left
save("conv_add", [
    N("Conv", ["x", "W1"], ["c1"], name="conv1"),
    N("Constant", [], ["k1"], name="k1", value=init("k1v", rnd(M, 1, 1))),
    N("Add", ["c1", "k1"], ["a1"], name="add1"),
    N("Conv", ["a1", "W2", "B2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
    N("Add", ["k2", "c2"], ["a2"], name="add2"),
    N("Conv", ["a2", "W3"], ["c3"], name="conv3"),
    N("Add", ["c3", "k3"], ["y"], name="add3"),  # not per-channel: stays
], [vi("x", [1, C, 4, 4])], [vi("y", [1, 2, 4, 4])],
   [init("W1", rnd(M, C, 1, 1)), init("W2", rnd(2, M, 3, 3)), init("B2", rnd(2)),
    init("k2", np.float32(0.25)), init("W3", rnd(2, 2, 1, 1)), init("k3", rnd(1, 2, 4, 1))])

# activations after Conv: every kind, plus one that must not fuse (shared Conv output)
acts = [
    ("Relu", {}, []), ("Clip", {}, ["lo", "hi"]), ("LeakyRelu", {"alpha": 0.1}, []),
    ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, []), ("HardSwish", {}, []),
    ("Sigmoid", {}, []), ("Tanh", {}, []), ("SiLU", {}, []),
]
nodes, inits = [], [init("lo", np.float32(-0.5)), init("hi", np.float32(0.6))]
cur = "x"
for i, (op, attrs, extra) in enumerate(acts):
    w = "W%d" % i
    inits.append(init(w, rnd(2, 2, 3, 3, lo=-0.5, hi=0.5)))
    nodes.append(N("Conv", [cur, w], ["c%d" % i], name="conv%d" % i, pads=[1, 1, 1, 1]))
    if op == "SiLU":
        nodes.append(N("Sigmoid", ["c%d" % i], ["sg%d" % i], name="sig%d" % i))
        nodes.append(N("Mul", ["c%d" % i, "sg%d" % i], ["a%d" % i], name="silu%d" % i))
    else:
        nodes.append(N(op, ["c%d" % i] + extra, ["a%d" % i], name="act%d" % i, **attrs))
    cur = "a%d" % i
nodes.append(N("Conv", [cur, "Wl"], ["cl"], name="convl"))
nodes.append(N("Relu", ["cl"], ["y"], name="relul"))
nodes.append(N("Sigmoid", ["cl"], ["z"], name="sigl"))
inits.append(init("Wl", rnd(2, 2, 1, 1)))
save("act_conv", nodes, [vi("x", [1, 2, 5, 5])], [vi("y", [1, 2, 5, 5]), vi("z", [1, 2, 5, 5])], inits)

# MatMul + bias -> Gemm, then activation on it; a 3-D MatMul + Add must stay MatMul
save("matmul_add", [
    N("MatMul", ["x", "W"], ["mm"], name="mm"),
    N("Add", ["mm", "b"], ["a"], name="bias"),
    N("Relu", ["a"], ["y"], name="relu"),
    N("MatMul", ["x3", "W"], ["mm3"], name="mm3"),
    N("Add", ["mm3", "b"], ["z"], name="bias3"),
], [vi("x", [3, 8]), vi("x3", [2, 3, 8])], [vi("y", [3, 5]), vi("z", [2, 3, 5])],
   [init("W", rnd(8, 5)), init("b", rnd(5))])

# MatMul + Gelu op (opset 20) and MatMul + Tanh
save("act_matmul", [
    N("MatMul", ["x", "W"], ["mm"], name="mm"),
    N("Gelu", ["mm"], ["g"], name="gelu"),
    N("MatMul", ["g", "W2"], ["mm2"], name="mm2"),
    N("Tanh", ["mm2"], ["y"], name="tanh"),
], [vi("x", [3, 8])], [vi("y", [3, 4])], [init("W", rnd(8, 6)), init("W2", rnd(6, 4))], opset=20)

# LayerNorm decomposed (opset 17: ReduceMean axes attribute), x: [2, 3, 8]
save("layernorm", [
    N("ReduceMean", ["x"], ["m"], name="mean", axes=[-1]),
    N("Sub", ["x", "m"], ["d"], name="sub"),
    N("Pow", ["d", "two"], ["p"], name="pow"),
    N("ReduceMean", ["p"], ["v"], name="var", axes=[-1]),
    N("Add", ["v", "eps"], ["ve"], name="addeps"),
    N("Sqrt", ["ve"], ["sd"], name="sqrt"),
    N("Div", ["d", "sd"], ["n"], name="div"),
    N("Mul", ["n", "gamma"], ["g"], name="mul"),
    N("Add", ["g", "beta"], ["y"], name="ln_out"),
], [vi("x", [2, 3, 8])], [vi("y", [2, 3, 8])],
   [init("two", np.float32(2)), init("eps", np.float32(1e-5)), init("gamma", rnd(8)),
    init("beta", rnd(8))])
# opset 18: ReduceMean axes as an input, d*d instead of Pow, no beta
save("layernorm18", [
    N("ReduceMean", ["x", "ax"], ["m"], name="mean"),
    N("Sub", ["x", "m"], ["d"], name="sub"),
    N("Mul", ["d", "d"], ["p"], name="sq"),
    N("ReduceMean", ["p", "ax"], ["v"], name="var"),
    N("Add", ["v", "eps"], ["ve"], name="addeps"),
    N("Sqrt", ["ve"], ["sd"], name="sqrt"),
    N("Div", ["d", "sd"], ["n"], name="div"),
    N("Mul", ["gamma", "n"], ["y"], name="ln_out"),
], [vi("x", [4, 8])], [vi("y", [4, 8])],
   [init("ax", np.array([-1], np.int64)), init("eps", np.float32(1e-6)), init("gamma", rnd(8))],
   opset=18)

# Gelu (erf form) in its three associations; Gelu op needs opset 20 in the runtime but
# the pattern is plain opset 17 ops
s2 = np.float32(np.sqrt(2.0))
save("gelu", [
    # (x * (1 + erf(x / sqrt2))) * 0.5
    N("Div", ["x", "s2"], ["d1"], name="d1"), N("Erf", ["d1"], ["e1"], name="e1"),
    N("Add", ["e1", "one"], ["a1"], name="a1"), N("Mul", ["x", "a1"], ["m1"], name="m1"),
    N("Mul", ["m1", "half"], ["g1"], name="g1"),
    # (x * 0.5) * (1 + erf(x * 1/sqrt2))
    N("Mul", ["g1", "is2"], ["d2"], name="d2"), N("Erf", ["d2"], ["e2"], name="e2"),
    N("Add", ["one", "e2"], ["a2"], name="a2"), N("Mul", ["g1", "half"], ["h2"], name="h2"),
    N("Mul", ["h2", "a2"], ["g2"], name="g2"),
    # x * ((1 + erf(x / sqrt2)) * 0.5)
    N("Div", ["g2", "s2"], ["d3"], name="d3"), N("Erf", ["d3"], ["e3"], name="e3"),
    N("Add", ["e3", "one"], ["a3"], name="a3"), N("Mul", ["a3", "half"], ["h3"], name="h3"),
    N("Mul", ["g2", "h3"], ["y"], name="g3"),
], [vi("x", [2, 7])], [vi("y", [2, 7])],
   [init("s2", s2), init("is2", np.float32(1 / np.sqrt(2.0))), init("one", np.float32(1)),
    init("half", np.float32(0.5))])

# HardSwish as exported by paddle2onnx: x * Clip(x + 3, 0, 6) / 6 (Constant bounds), and
# x * (Clip(3 + x, 0, 6) * (1/6)); each after a Conv with a bias Add
save("hardswish", [
    N("Conv", ["x", "W1"], ["c1"], name="conv1"),
    N("Add", ["c1", "b1"], ["x1"], name="bias1"),
    N("Add", ["x1", "three"], ["a1"], name="add1"),
    N("Constant", [], ["lo"], name="lo", value=init("lov", np.float32(0))),
    N("Constant", [], ["hi"], name="hi", value=init("hiv", np.float32(6))),
    N("Clip", ["a1", "lo", "hi"], ["k1"], name="clip1"),
    N("Mul", ["x1", "k1"], ["m1"], name="mul1"),
    N("Div", ["m1", "six"], ["h1"], name="hs1"),
    N("Conv", ["h1", "W2"], ["x2"], name="conv2"),
    N("Add", ["three", "x2"], ["a2"], name="add2"),
    N("Clip", ["a2", "lo", "hi"], ["k2"], name="clip2"),
    N("Mul", ["k2", "sixth"], ["d2"], name="div2"),
    N("Mul", ["x2", "d2"], ["y"], name="hs2"),
], [vi("x", [1, 2, 4, 4])], [vi("y", [1, 3, 4, 4])],
   [init("W1", rnd(3, 2, 1, 1, lo=-4, hi=4)), init("b1", rnd(1, 3, 1, 1)),
    init("W2", rnd(3, 3, 1, 1, lo=-4, hi=4)), init("three", np.float32(3)),
    init("six", np.float32(6)), init("sixth", np.float32(1 / 6))])

# Transpose / Reshape no-ops
save("reshape", [
    N("Transpose", ["x"], ["t1"], name="t1", perm=[0, 2, 1]),
    N("Transpose", ["t1"], ["t2"], name="t2", perm=[0, 2, 1]),    # cancels
    N("Transpose", ["t2"], ["t3"], name="t3", perm=[1, 0, 2]),
    N("Transpose", ["t3"], ["t4"], name="t4", perm=[0, 2, 1]),    # composes to [1,2,0]
    N("Reshape", ["t4", "s1"], ["r1"], name="r1"),
    N("Reshape", ["r1", "s2"], ["r2"], name="r2"),                # r1 skipped
    N("Reshape", ["r2", "s3"], ["r3"], name="r3"),                # same static shape: removed
    N("Reshape", ["r3", "s3"], ["r6"], name="r6"),                # same static shape: removed
    N("Relu", ["r6"], ["y"], name="relu"),
    N("Reshape", ["x", "s4"], ["z"], name="r4"),                  # 0 copies a dim: kept
    N("Reshape", ["z", "s5"], ["w"], name="r5"),                  # reads x directly
], [vi("x", [2, 3, 4])], [vi("y", [6, 4]), vi("z", [2, 12]), vi("w", [2, 12])],
   [init("s1", np.array([4, 6], np.int64)), init("s2", np.array([6, -1], np.int64)),
    init("s3", np.array([6, 4], np.int64)), init("s4", np.array([0, -1], np.int64)),
    init("s5", np.array([2, 12], np.int64))])

# Channels-last layout (src/opt/layout.c): a small CNN with a residual Add, a squeeze-excite
# block, pooling, Concat, per-channel constants, Slice, Pad, ReduceMean and Softmax; two
# outputs (one read from inside the channels-last region).
save("layout_cnn", [
    N("Conv", ["x", "W1", "B1"], ["c1"], name="conv1", strides=[2, 2], pads=[1, 1, 1, 1]),
    N("Relu", ["c1"], ["r1"], name="relu1"),
    N("Conv", ["r1", "Wd"], ["d"], name="dw", group=8, pads=[1, 1, 1, 1]),
    N("Clip", ["d", "zero", "six"], ["k"], name="clip"),
    N("Conv", ["k", "Wp"], ["pw"], name="pw"),
    N("Add", ["pw", "r1"], ["a"], name="residual"),
    N("GlobalAveragePool", ["a"], ["g"], name="gap"),
    N("Conv", ["g", "Ws1", "Bs1"], ["s1"], name="se1"),
    N("Relu", ["s1"], ["s1r"], name="se_relu"),
    N("Conv", ["s1r", "Ws2"], ["s2"], name="se2"),
    N("Sigmoid", ["s2"], ["se"], name="se_sig"),
    N("Mul", ["a", "se"], ["m"], name="se_mul"),
    N("MaxPool", ["m"], ["mp"], name="maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    N("Conv", ["m", "Wq"], ["q"], name="q", strides=[2, 2], pads=[1, 1, 1, 1]),
    N("Concat", ["mp", "q"], ["cat"], name="cat", axis=1),
    N("Mul", ["cat", "kc"], ["cm"], name="chan_mul"),
    N("Add", ["cm", "half"], ["ca"], name="scalar_add"),
    N("Slice", ["ca", "st", "en", "ax"], ["sl"], name="slice"),
    N("Pad", ["sl", "pads"], ["z"], name="pad"),
    N("AveragePool", ["z"], ["ap"], name="avgpool", kernel_shape=[2, 2], count_include_pad=1,
      pads=[0, 0, 1, 1]),
    N("ReduceMean", ["ap"], ["rm"], name="rmean", axes=[2, 3], keepdims=1),
    N("Softmax", ["rm"], ["sm"], name="softmax", axis=1),
    N("Flatten", ["sm"], ["y"], name="flatten"),
], [vi("x", [1, 3, 9, 9])], [vi("y", [1, 8]), vi("z", [1, 8, 5, 5])],
   [init("W1", rnd(8, 3, 3, 3)), init("B1", rnd(8)), init("Wd", rnd(8, 1, 3, 3)),
    init("zero", np.float32(0)), init("six", np.float32(6)), init("Wp", rnd(8, 8, 1, 1)),
    init("Ws1", rnd(4, 8, 1, 1)), init("Bs1", rnd(4)), init("Ws2", rnd(8, 4, 1, 1)),
    init("Wq", rnd(4, 8, 3, 3)), init("kc", rnd(1, 12, 1, 1)), init("half", np.float32(0.5)),
    init("st", np.array([2], np.int64)), init("en", np.array([10], np.int64)),
    init("ax", np.array([1], np.int64)),
    init("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))], opset=17)

# ShuffleNet's channel shuffle and Split between channels-last convs
save("layout_shuffle", [
    N("Conv", ["x", "W1"], ["c1"], name="conv1"),
    N("Reshape", ["c1", "s5"], ["r5"], name="shuffle_reshape"),
    N("Transpose", ["r5"], ["t5"], name="shuffle_transpose", perm=[0, 2, 1, 3, 4]),
    N("Reshape", ["t5", "s4"], ["sh"], name="shuffle_back"),
    N("Split", ["sh", "sp"], ["h1", "h2"], name="split", axis=1),
    N("Conv", ["h2", "W2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
    N("Relu", ["c2"], ["r2"], name="relu2"),
    N("Concat", ["h1", "r2"], ["y"], name="cat", axis=1),
], [vi("x", [1, 8, 4, 4])], [vi("y", [1, 8, 4, 4])],
   [init("W1", rnd(8, 8, 1, 1)), init("s5", np.array([1, 2, 4, 4, 4], np.int64)),
    init("s4", np.array([1, 8, 4, 4], np.int64)), init("sp", np.array([4, 4], np.int64)),
    init("W2", rnd(4, 4, 3, 3))], opset=17)

# 1-D convolutions and pooling; a Conv whose weights are a graph input stays as it is
save("layout_conv1d", [
    N("Conv", ["x", "W1", "B1"], ["c1"], name="conv1", pads=[1, 1]),
    N("Relu", ["c1"], ["r1"], name="relu1"),
    N("Conv", ["r1", "W2"], ["c2"], name="conv2", strides=[2], dilations=[1]),
    N("MaxPool", ["c2"], ["p"], name="pool", kernel_shape=[2], strides=[1]),
    N("Conv", ["p", "wdyn"], ["y"], name="conv_dynamic_weights"),
], [vi("x", [2, 4, 10]), vi("wdyn", [3, 6, 1])], [vi("y", [2, 3, 4])],
   [init("W1", rnd(6, 4, 3)), init("B1", rnd(6)), init("W2", rnd(6, 6, 1))], opset=17)
# Attention (src/opt/attention.c). attention_bert: the BERT export: Q/K/V projections of x
# [1, 6, 8] split into 2 heads of 4 by Reshape + Transpose (K to [B,H,D,S] directly), scores
# scaled by Mul, Softmax, times V, heads merged by Transpose + Reshape, then a projection.
HB, SB, DB = 2, 6, 4
save("attention_bert", [
    N("MatMul", ["x", "Wq"], ["q"], name="q"),
    N("Reshape", ["q", "shp"], ["q4"], name="rq"),
    N("Transpose", ["q4"], ["qh"], name="tq", perm=[0, 2, 1, 3]),
    N("MatMul", ["x", "Wk"], ["k"], name="k"),
    N("Reshape", ["k", "shp"], ["k4"], name="rk"),
    N("Transpose", ["k4"], ["kt"], name="tk", perm=[0, 2, 3, 1]),
    N("MatMul", ["x", "Wv"], ["v"], name="v"),
    N("Reshape", ["v", "shp"], ["v4"], name="rv"),
    N("Transpose", ["v4"], ["vh"], name="tv", perm=[0, 2, 1, 3]),
    N("MatMul", ["qh", "kt"], ["s"], name="qk"),
    N("Mul", ["s", "scale"], ["ss"], name="scale"),
    N("Softmax", ["ss"], ["p"], name="softmax", axis=-1),
    N("MatMul", ["p", "vh"], ["o"], name="pv"),
    N("Transpose", ["o"], ["ot"], name="to", perm=[0, 2, 1, 3]),
    N("Reshape", ["ot", "shp3"], ["o3"], name="ro"),
    N("MatMul", ["o3", "Wo"], ["y"], name="o"),
], [vi("x", [1, SB, HB * DB])], [vi("y", [1, SB, HB * DB])],
   [init("Wq", rnd(HB * DB, HB * DB)), init("Wk", rnd(HB * DB, HB * DB)),
    init("Wv", rnd(HB * DB, HB * DB)), init("Wo", rnd(HB * DB, HB * DB)),
    init("shp", np.array([1, SB, HB, DB], np.int64)),
    init("shp3", np.array([1, SB, HB * DB], np.int64)), init("scale", np.float32(0.5))])

# attention_mask: head tensors as inputs ([B,H,S,D]), K transposed by perm 0,1,3,2, Div by
# sqrt(D), an additive mask [B,1,1,Sk], output left as [B,H,Sq,Dv]; a second pattern whose
# scores are also a graph output (not fused) and one with Softmax on another axis.
save("attention_mask", [
    N("Transpose", ["k"], ["kt"], name="tk", perm=[0, 1, 3, 2]),
    N("MatMul", ["q", "kt"], ["s"], name="qk"),
    N("Div", ["s", "sqrtd"], ["sd"], name="div"),
    N("Add", ["sd", "mask"], ["sm"], name="mask"),
    N("Softmax", ["sm"], ["p"], name="softmax", axis=3),
    N("MatMul", ["p", "v"], ["y"], name="pv"),
    N("MatMul", ["q", "kt2"], ["s2"], name="qk2"),
    N("Softmax", ["s2"], ["p2"], name="softmax2", axis=-1),
    N("MatMul", ["p2", "v"], ["y2"], name="pv2"),
    N("MatMul", ["q", "kt2"], ["s3"], name="qk3"),
    N("Softmax", ["s3"], ["p3"], name="softmax3", axis=2),
    N("MatMul", ["p3", "v"], ["y3"], name="pv3"),
], [vi("q", [2, 3, 5, 4]), vi("k", [2, 3, 5, 4]), vi("v", [2, 3, 5, 6]), vi("mask", [2, 1, 1, 5]),
    vi("kt2", [2, 3, 4, 5])],
   [vi("y", [2, 3, 5, 6]), vi("y2", [2, 3, 5, 6]), vi("s2", [2, 3, 5, 5]), vi("y3", [2, 3, 5, 6])],
   [init("sqrtd", np.float32(2.0))])
# attention_rank3: [B*H, S, D] tensors (torch bmm style), K transposed by perm 0,2,1, a mask
# [S, S]; the output's heads merged by Transpose 1,0,2.
save("attention_rank3", [
    N("Transpose", ["k"], ["kt"], name="tk", perm=[0, 2, 1]),
    N("MatMul", ["q", "kt"], ["s"], name="qk"),
    N("Mul", ["scale", "s"], ["ss"], name="scale"),
    N("Add", ["mask", "ss"], ["sm"], name="mask"),
    N("Softmax", ["sm"], ["p"], name="softmax", axis=2),
    N("MatMul", ["p", "v"], ["o"], name="pv"),
    N("Transpose", ["o"], ["y"], name="to", perm=[1, 0, 2]),
], [vi("q", [6, 5, 4]), vi("k", [6, 7, 4]), vi("v", [6, 7, 3]), vi("mask", [5, 7])],
   [vi("y", [5, 6, 3])], [init("scale", np.float32(0.3))])

# a graph input read by two convs (each reads it channels-first: _nchw_in) and a MaxPool
# (whose channels-last Transpose stays)
save("layout_two_readers", [
    N("Conv", ["x", "W1"], ["a"], name="conv_a", pads=[1, 1, 1, 1]),
    N("Conv", ["x", "W2"], ["b"], name="conv_b"),
    N("MaxPool", ["x"], ["p"], name="pool", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    N("Add", ["a", "b"], ["s"], name="add"),
    N("Concat", ["s", "p"], ["y"], name="cat", axis=1),
], [vi("x", [1, 3, 6, 5])], [vi("y", [1, 7, 6, 5])],
   [init("W1", rnd(4, 3, 3, 3)), init("W2", rnd(4, 3, 1, 1))], opset=17)
# reductions without keepdims after a channels-last conv: over H and W ([N, C] in both
# layouts) and over C ([N, H, W]) they read the channels-last tensor with no Transpose after
# them; over W alone ([N, C, H] vs [N, H, C]) a Transpose stays before it
save("layout_reduce", [
    N("Conv", ["x", "W1"], ["c"], name="conv", pads=[1, 1, 1, 1]),
    N("Relu", ["c"], ["r"], name="relu"),
    N("ReduceMean", ["r"], ["y1"], name="mean_hw", axes=[2, 3], keepdims=0),
    N("ReduceSum", ["r", "ax_c"], ["y2"], name="sum_c", keepdims=0),
    N("ReduceMax", ["r"], ["y3"], name="max_w", axes=[-1], keepdims=0),
], [vi("x", [1, 3, 6, 5])], [vi("y1", [1, 4]), vi("y2", [1, 6, 5]), vi("y3", [1, 4, 6])],
   [init("W1", rnd(4, 3, 3, 3)), init("ax_c", np.array([1], np.int64))], opset=17)
# constant folding (src/opt/fold.c). float16 weights + Cast feeding a Conv + BatchNormalization
# + Relu, int8 weights + DequantizeLinear (per channel) + Transpose feeding a MatMul + Add, a
# Reshape whose shape is Concat(Unsqueeze(const), const), a Mul of two constants, a small
# ConstantOfShape (folded); an Expand growing 16 floats to 64 K (stays), a Cast of an
# initializer that is also a graph input (stays), a constant graph output (stays).
H16 = TensorProto.FLOAT16
w16 = rnd(4, 3, 3, 3).astype(np.float16)
wq = rng.randint(-127, 128, size=(6, 32)).astype(np.int8)
wq_scale = rng.uniform(0.01, 0.02, size=(6,)).astype(np.float32)
nodes = [
    N("Cast", ["W16"], ["W"], name="cast_w", to=F),
    N("Conv", ["x", "W"], ["c"], name="conv", pads=[1, 1, 1, 1]),
    N("BatchNormalization", ["c", "g", "b", "m", "v"], ["bn"], name="bn"),
    N("Relu", ["bn"], ["r"], name="relu"),
    N("Unsqueeze", ["one", "ax0"], ["one1"], name="unsq"),
    N("Concat", ["one1", "rest"], ["shape"], name="cat_shape", axis=0),
    N("Reshape", ["r", "shape"], ["flat"], name="flat"),
    N("DequantizeLinear", ["Wq", "Wq_scale", "Wq_zp"], ["Wd"], name="dq_w", axis=0),
    N("Transpose", ["Wd"], ["Wt"], name="t_w", perm=[1, 0]),
    N("MatMul", ["flat", "Wt"], ["mm"], name="mm"),
    N("Mul", ["bias_a", "bias_b"], ["bias"], name="bias_mul"),
    N("Add", ["mm", "bias"], ["y"], name="bias_add"),
    N("ConstantOfShape", ["cos_shape"], ["zeros"], name="cos", value=init("cv", np.array([0.5], np.float32))),
    N("Add", ["y", "zeros"], ["y2"], name="add_zeros"),
    N("Expand", ["small", "big_shape"], ["big"], name="expand"),
    N("ReduceSum", ["big"], ["bsum"], name="bsum", keepdims=0),
    N("Add", ["y2", "bsum"], ["z"], name="add_big"),
    N("Cast", ["gin"], ["ginf"], name="cast_gin", to=F),
    N("Add", ["z", "ginf"], ["out"], name="add_gin"),
    N("Neg", ["kconst"], ["kout"], name="neg_const"),
]
g = helper.make_graph(nodes, "fold", [vi("x", [1, 3, 4, 4]), vi("gin", [1], F)],
                      [vi("out", [2, 6]), vi("kout", [3])],
                      [numpy_helper.from_array(w16, "W16"), init("g", rnd(4, lo=0.5, hi=1.5)),
                       init("b", rnd(4)), init("m", rnd(4)), init("v", rnd(4, lo=0.5, hi=1.5)),
                       init("one", np.array(2, np.int64)), init("ax0", np.array([0], np.int64)),
                       init("rest", np.array([-1], np.int64)),
                       init("Wq", wq),
                       init("Wq_scale", wq_scale), init("Wq_zp", np.zeros(6, np.int8)),
                       init("bias_a", rnd(6)), init("bias_b", rnd(6)),
                       init("cos_shape", np.array([2, 6], np.int64)),
                       init("small", rnd(16, 1) * 1e-6), init("big_shape", np.array([16, 4096], np.int64)),
                       init("gin", np.array([0.25], np.float32)), init("kconst", rnd(3))])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, os.path.join(HERE, "fold.onnx"))

# QDQ: Q -> DQ -> Conv(DQ(int8 w)) -> Q is an integer pattern (the weight DQ must stay for the
# QDQ pass, which makes it a QLinearConv); after it DQ -> Conv(DQ(int8 w2)) with a float
# output stays float: that weight DQ folds.
wq1 = rng.randint(-127, 128, size=(4, 3, 3, 3)).astype(np.int8)
wq2 = rng.randint(-127, 128, size=(5, 4, 1, 1)).astype(np.int8)
save("fold_qdq", [
    N("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="q_x"),
    N("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], name="dq_x"),
    N("DequantizeLinear", ["W1q", "W1s"], ["W1"], name="dq_w1", axis=0),
    N("Conv", ["xd", "W1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
    N("QuantizeLinear", ["c1", "cs", "cz"], ["c1q"], name="q_c1"),
    N("DequantizeLinear", ["c1q", "cs", "cz"], ["c1d"], name="dq_c1"),
    N("DequantizeLinear", ["W2q", "W2s"], ["W2"], name="dq_w2", axis=0),
    N("Conv", ["c1d", "W2"], ["y"], name="conv2"),
], [vi("x", [1, 3, 5, 5])], [vi("y", [1, 5, 5, 5])],
   [init("xs", np.float32(0.02)), init("xz", np.uint8(128)), init("W1q", wq1),
    init("W1s", rng.uniform(0.001, 0.003, size=(4,)).astype(np.float32)),
    init("cs", np.float32(0.05)), init("cz", np.uint8(128)), init("W2q", wq2),
    init("W2s", rng.uniform(0.001, 0.003, size=(5,)).astype(np.float32))], opset=13)

# ConvTranspose: kernel = stride, no pads (tiles the output) becomes a 1x1 NhwcConv with
# _up, its Sigmoid fused; an overlapping one (k 3, s 2, pads 1) stays channels-first; a 1-D
# one with kernel = stride 4 converts too
save("layout_convt", [
    N("Conv", ["x", "W1"], ["c"], name="conv", pads=[1, 1, 1, 1]),
    N("Relu", ["c"], ["r"], name="relu"),
    N("ConvTranspose", ["r", "Wt", "Bt"], ["u"], name="up", kernel_shape=[2, 2], strides=[2, 2]),
    N("Sigmoid", ["u"], ["y1"], name="sig"),
    N("ConvTranspose", ["r", "Wo"], ["y2"], name="overlap", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    N("Conv", ["x1", "W3"], ["c1"], name="conv1d", pads=[1, 1]),
    N("ConvTranspose", ["c1", "W4", "B4"], ["y3"], name="up1d", kernel_shape=[4], strides=[4]),
], [vi("x", [1, 3, 6, 5]), vi("x1", [2, 3, 7])], [vi("y1", [1, 5, 12, 10]), vi("y2", [1, 2, 11, 9]), vi("y3", [2, 3, 28])],
   [init("W1", rnd(4, 3, 3, 3)), init("Wt", rnd(4, 5, 2, 2)), init("Bt", rnd(5)), init("Wo", rnd(4, 2, 3, 3)),
    init("W3", rnd(6, 3, 3)), init("W4", rnd(6, 3, 4)), init("B4", rnd(3))], opset=17)
# Conv -> per-channel Mul -> scalar Add -> HardSwish (PP-LCNet's affine blocks) folds into
# the conv and fuses; a grouped ConvTranspose times a per-channel constant (on the left)
# folds; a Mul whose constant varies along W, and one after a conv read twice, stay
save("conv_mul", [
    N("Conv", ["x", "W1", "B1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
    N("Mul", ["c1", "s1"], ["m1"], name="mul1"),
    N("Add", ["m1", "a1"], ["p1"], name="add1"),
    N("HardSwish", ["p1"], ["h1"], name="hs1"),
    N("ConvTranspose", ["h1", "Wt"], ["t"], name="convt", group=2, strides=[2, 2], kernel_shape=[2, 2]),
    N("Mul", ["s2", "t"], ["m2"], name="mul2"),
    N("Conv", ["m2", "W3"], ["c3"], name="conv3"),
    N("Mul", ["c3", "s3"], ["y1"], name="mul3"),  # varies along W: stays
    N("Mul", ["c3", "s4"], ["y2"], name="mul4"),  # c3 read twice: stays
], [vi("x", [1, 3, 4, 4])], [vi("y1", [1, 2, 8, 8]), vi("y2", [1, 2, 8, 8])],
   [init("W1", rnd(4, 3, 3, 3)), init("B1", rnd(4)), init("s1", rnd(1, 4, 1, 1)), init("a1", np.array([0.3], np.float32)),
    init("Wt", rnd(4, 3, 2, 2)), init("s2", rnd(6, 1, 1)), init("W3", rnd(2, 6, 1, 1)), init("s3", rnd(1, 1, 1, 8)),
    init("s4", np.float32(1.5))], opset=17)
print("wrote models to", HERE)

# residual fusion (src/opt/conv_residual.c) after the layout pass:
#   c2 -> Add(r1) -> Relu       fused with the activation ("c2+a1+r2")
#   c3 -> Add(Sigmoid(r2))      fused; z is computed after the conv (node order restored)
#   c5 -> Add(a2), c5 also read by r5: not fused (two readers)
#   c6 [1,8,6,5] + c7 [1,8,6,1]: broadcasting, not fused
#   c8+Relu (activation fused first) -> Add: not fused (act(conv) + z is other math)
save("conv_residual", [
    N("Conv", ["x", "W1", "B1"], ["c1"], name="c1", pads=[1, 1, 1, 1]),
    N("Relu", ["c1"], ["r1"], name="r1"),
    N("Conv", ["r1", "W2", "B2"], ["c2"], name="c2", pads=[1, 1, 1, 1]),
    N("Add", ["c2", "r1"], ["a1"], name="a1"),
    N("Relu", ["a1"], ["r2"], name="r2"),
    N("Conv", ["r2", "W3"], ["c3"], name="c3"),
    N("Sigmoid", ["r2"], ["sg"], name="sg"),
    N("Add", ["c3", "sg"], ["a2"], name="a2"),
    N("Conv", ["a2", "W5"], ["c5"], name="c5"),
    N("Relu", ["c5"], ["y_r5"], name="r5"),
    N("Add", ["c5", "a2"], ["a3"], name="a3"),
    N("Conv", ["a2", "W6"], ["c6"], name="c6"),
    N("Conv", ["x", "W7"], ["c7"], name="c7"),
    N("Add", ["c6", "c7"], ["y_b"], name="a4"),
    N("Conv", ["a2", "W8"], ["c8"], name="c8"),
    N("Relu", ["c8"], ["r8"], name="r8"),
    N("Add", ["r8", "a3"], ["y_act"], name="a5"),
], [vi("x", [1, 8, 6, 5])], [vi("y_b", [1, 8, 6, 5]), vi("y_act", [1, 8, 6, 5]), vi("y_r5", [1, 8, 6, 5])],
   [init("W1", rnd(8, 8, 3, 3)), init("B1", rnd(8)), init("W2", rnd(8, 8, 3, 3)), init("B2", rnd(8)),
    init("W3", rnd(8, 8, 1, 1)), init("W5", rnd(8, 8, 1, 1)), init("W6", rnd(8, 8, 1, 1)),
    init("W7", rnd(8, 8, 1, 5)), init("W8", rnd(8, 8, 1, 1))], opset=17)
