#!/usr/bin/env python3
"""Tiny models for the compression unit tests (tests/unit/test_compress.c).

Run with onnx 1.17 (PyPI):  python3 tests/data/compress/make.py
Writes *.onnx next to this script. Deterministic (numpy seed 0).

The prune models have "dead" output channels: every weight and bias of some channels is 0
(and what follows them keeps them 0), so those channels have the smallest L1 norm and
removing them must leave the outputs unchanged up to rounding. The factorize models have
weights of low rank, so a rank at least that large must reproduce them.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(0)
F = TensorProto.FLOAT
N = helper.make_node


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr, np.float32) if np.asarray(arr).dtype.kind == "f" else np.asarray(arr), name)


def rnd(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def conv_w(m, c, k, dead=(), scale=1.0):
    w = rnd(m, c, k, k) * scale
    b = rnd(m)
    for ch in dead:
        w[ch] = 0
        b[ch] = 0
    return w, b


def save(name, nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8 if opset > 9 else 4
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, os.path.join(HERE, name + ".onnx"))


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


# chain: Conv -> BatchNormalization -> Relu -> depthwise Conv -> Clip -> Conv -> Add(per-channel)
#        -> MaxPool -> GlobalAveragePool -> Flatten -> Gemm(transB)
wa, ba = conv_w(8, 3, 3, dead=(1, 3, 5, 7))
bn = [rnd(8, lo=0.5, hi=1.5), rnd(8), rnd(8), rnd(8, lo=0.5, hi=2.0)]
for ch in (1, 3, 5, 7):  # BN of 0 stays 0: bias = mean * scale / sqrt(var + eps)
    bn[1][ch] = bn[2][ch] * bn[0][ch] / np.sqrt(bn[3][ch] + 1e-5)
wd, bd = conv_w(8, 1, 3, dead=(1, 3, 5, 7))
wd[0] = rnd(1, 3, 3)
wb, bb = conv_w(6, 8, 1, dead=(0, 2, 4))
add_c = rnd(6, 1, 1)
add_c[[0, 2, 4]] = 0
save("chain",
     [N("Conv", ["x", "wa", "ba"], ["a"], name="conv_a", pads=[1, 1, 1, 1]),
      N("BatchNormalization", ["a", "s", "bias", "mean", "var"], ["a_bn"], name="bn"),
      N("Relu", ["a_bn"], ["a_r"]),
      N("Conv", ["a_r", "wd", "bd"], ["d"], name="dw", group=8, pads=[1, 1, 1, 1]),
      N("Constant", [], ["lo"], value=helper.make_tensor("lo", F, [], [0.0])),
      N("Constant", [], ["hi"], value=helper.make_tensor("hi", F, [], [6.0])),
      N("Clip", ["d", "lo", "hi"], ["d_c"]),
      N("Conv", ["d_c", "wb", "bb"], ["b"], name="conv_b"),
      N("Add", ["b", "add_c"], ["b_a"], name="add_c"),
      N("MaxPool", ["b_a"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
      N("GlobalAveragePool", ["p"], ["g"]),
      N("Flatten", ["g"], ["f"], axis=1),
      N("Gemm", ["f", "wg", "bg"], ["y"], name="fc", transB=1)],
     [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4])],
     [init("wa", wa), init("ba", ba), init("s", bn[0]), init("bias", bn[1]), init("mean", bn[2]),
      init("var", bn[3]), init("wd", wd), init("bd", bd), init("wb", wb), init("bb", bb), init("add_c", add_c),
      init("wg", rnd(4, 6)), init("bg", rnd(4))])

# residual + squeeze-and-excitation: conv1 and conv2 meet in an Add, the SE branch's last conv
# meets them in a Mul: one group of three convs losing the same channels (2 and 5 are dead in all).
dead = (2, 5)
w1, b1 = conv_w(6, 4, 3, dead=dead)
w2, b2 = conv_w(6, 6, 3, dead=dead)
ws1, bs1 = conv_w(3, 6, 1, dead=(1,))
ws2, bs2 = conv_w(6, 3, 1)
w3, b3 = conv_w(5, 6, 1)
save("residual",
     [N("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
      N("Relu", ["c1"], ["r1"]),
      N("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
      N("Add", ["r1", "c2"], ["s"], name="residual_add"),
      N("GlobalAveragePool", ["s"], ["sq"]),
      N("Conv", ["sq", "ws1", "bs1"], ["e1"], name="se_reduce"),
      N("Relu", ["e1"], ["e1r"]),
      N("Conv", ["e1r", "ws2", "bs2"], ["e2"], name="se_expand"),
      N("Sigmoid", ["e2"], ["gate"]),
      N("Mul", ["s", "gate"], ["m"], name="se_mul"),
      N("Conv", ["m", "w3", "b3"], ["y"], name="conv3")],
     [vi("x", [1, 4, 6, 6])], [vi("y", [1, 5, 6, 6])],
     [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2), init("ws1", ws1), init("bs1", bs1),
      init("ws2", ws2), init("bs2", bs2), init("w3", w3), init("b3", b3)])
# (se_expand's channels 2 and 5 stay random: the Mul multiplies them with s, which is 0 there)

# concat + flatten of a 2x2 map into MatMul rows
wa, ba = conv_w(4, 2, 1, dead=(0, 1))
wb, bb = conv_w(6, 2, 1, dead=(1, 2, 3))
wc, bc = conv_w(6, 10, 1, dead=(4, 0, 5))
save("concat",
     [N("Conv", ["x", "wa", "ba"], ["a"], name="conv_a"),
      N("Conv", ["x", "wb", "bb"], ["b"], name="conv_b"),
      N("Concat", ["a", "b"], ["ab"], axis=1),
      N("Relu", ["ab"], ["abr"]),
      N("Conv", ["abr", "wc", "bc"], ["c"], name="conv_c"),
      N("Flatten", ["c"], ["f"], axis=1),
      N("MatMul", ["f", "wm"], ["y"], name="fc")],
     [vi("x", [1, 2, 2, 2])], [vi("y", [1, 3])],
     [init("wa", wa), init("ba", ba), init("wb", wb), init("bb", bb), init("wc", wc), init("bc", bc),
      init("wm", rnd(24, 3))])

# blocked: a residual Add with the graph input (channels not tracked), a conv feeding a graph
# output, and a conv read by a Transpose
w1, b1 = conv_w(4, 4, 1)
w2, b2 = conv_w(3, 4, 1)
w3, b3 = conv_w(2, 4, 1)
save("blocked",
     [N("Conv", ["x", "w1", "b1"], ["c1"], name="conv1"),
      N("Add", ["c1", "x"], ["s"], name="add_input"),
      N("Conv", ["s", "w2", "b2"], ["y"], name="conv_out"),
      N("Conv", ["s", "w3", "b3"], ["c3"], name="conv_t"),
      N("Transpose", ["c3"], ["z"], name="transpose", perm=[0, 2, 3, 1])],
     [vi("x", [1, 4, 3, 3])], [vi("y", [1, 3, 3, 3]), vi("z", [1, 3, 3, 2])],
     [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2), init("w3", w3), init("b3", b3)])


# factorize: Gemm(transB, alpha, beta, C) with a rank-4 weight, then MatMul with a rank-3 weight;
# two MatMuls sharing one weight; a small MatMul
def low_rank(k, n, r):
    return (rnd(k, r) @ rnd(r, n)).astype(np.float32)


save("lowrank",
     [N("Gemm", ["x", "w1", "c1"], ["h"], name="gemm", transB=1, alpha=0.5, beta=2.0),
      N("Relu", ["h"], ["hr"]),
      N("MatMul", ["hr", "w2"], ["y"], name="matmul"),
      N("MatMul", ["hr", "ws"], ["s1"], name="shared1"),
      N("MatMul", ["s1", "ws2"], ["s2"], name="shared2"),
      N("MatMul", ["hr", "wsmall"], ["z"], name="small")],
     [vi("x", [2, 64])], [vi("y", [2, 40]), vi("s2", [2, 48]), vi("z", [2, 4])],
     [init("w1", low_rank(48, 64, 4)), init("c1", rnd(48)), init("w2", low_rank(48, 40, 3)),
      init("ws", low_rank(48, 48, 2)), init("ws2", low_rank(48, 48, 2)), init("wsmall", rnd(48, 4))])
# shared2 really shares: point it at ws
m = onnx.load(os.path.join(HERE, "lowrank.onnx"))
for n in m.graph.node:
    if n.name == "shared2":
        n.input[1] = "ws"
m.graph.initializer.remove([i for i in m.graph.initializer if i.name == "ws2"][0])
onnx.checker.check_model(m, full_check=True)
onnx.save(m, os.path.join(HERE, "lowrank.onnx"))

# opset 9: Gemm needs its C input
save("lowrank9",
     [N("Gemm", ["x", "w1", "c1"], ["y"], name="gemm", alpha=1.5, beta=0.5)],
     [vi("x", [3, 64])], [vi("y", [3, 50])],
     [init("w1", low_rank(64, 50, 5)), init("c1", rnd(50))], opset=9)

# BatchNormalization after a conv scales the channel importance: channel 0 has tiny conv
# weights but a large BN scale, channel 1 the reverse; channel 1 must go first
w1, b1 = conv_w(4, 2, 1)
w1[0] *= 0.01
g = np.ones(4, np.float32)
g[0], g[1] = 1000.0, 0.001
w2, b2 = conv_w(2, 4, 1)
save("bn_rank",
     [N("Conv", ["x", "w1", "b1"], ["c"], name="conv1"),
      N("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["n"]),
      N("Relu", ["n"], ["r"]),
      N("Conv", ["r", "w2", "b2"], ["y"], name="conv2")],
     [vi("x", [1, 2, 2, 2])], [vi("y", [1, 2, 2, 2])],
     [init("w1", w1), init("b1", b1), init("g", g), init("beta", rnd(4)), init("mean", rnd(4)),
      init("var", rnd(4, lo=0.5, hi=1.5)), init("w2", w2), init("b2", b2)])
