#!/usr/bin/env python3
"""Tiny models for the quantizer tests (tests/unit/test_quantize.c, tests/tools/quantize.sh).

Run with onnx 1.17 (PyPI):  python3 tests/data/quant/make.py
Writes *.onnx next to this script. Deterministic (numpy RandomState(0)).

  cnn.onnx       Conv+BN -> Relu -> MaxPool -> Flatten -> MatMul + Add (opset 13), x [1,3,8,8]
  branches.onnx  two Convs -> Add -> Relu; Conv -> Clip(0,6); Concat; Reshape; a Tanh (no int8
                 form); GlobalAveragePool; Gemm transB=1 with bias; an intermediate value that
                 is also a graph output (opset 13), x [1,4,6,6]
  mlp.onnx       MatMul [1,64]x[64,32] -> Relu -> Gemm transB=1 [32->10] (opset 17), x [1,64]
  lstm.onnx      LSTM (hidden 8) -> MatMul head (opset 14), x [5,1,4]
  old.onnx       opset 9: Conv, Clip with min/max attributes, Unsqueeze/Squeeze with axes
                 attributes, Softmax(axis 1) on 2-D, x [1,2,5,5]
  nothing.onnx   Add and Relu only: nothing to quantize, x [1,8]
  two_in.onnx    two inputs a [1,16], b [1,16] -> Add -> MatMul (opset 13)
  if.onnx        Conv -> Relu -> If (cond: batch == 1, always true); then: Conv (branch weight)
                 -> Relu -> Conv (weight from the main graph) -> Add of the main graph's Relu;
                 else (never runs): Conv; the If output -> Flatten -> Gemm (opset 13), x [1,4,6,6]
  loop.onnx      Loop 3 times h = Relu(MatMul(h, w)) (w in the main graph, h carried) ->
                 MatMul head (opset 13), x [1,16]
  seq.onnx       MatMul [1,4,16]x[16,8] + Add bias (a 3-D activation, as in transformers), x [1,4,16]
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
    return numpy_helper.from_array(np.asarray(arr), name)


def rnd(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def save(name, nodes, inputs, outputs, inits=(), opset=13, ir=7):
    g = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(HERE, name + ".onnx"))


# cnn: BN folded into the Conv, Relu folded into its range, MaxPool/Flatten share scales,
# MatMul+Add becomes Gemm with an int32 bias
save("cnn", [
    N("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
    N("BatchNormalization", ["c1", "g", "beta", "mean", "var"], ["bn"], name="bn1"),
    N("Relu", ["bn"], ["r1"], name="relu1"),
    N("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
    N("Flatten", ["p1"], ["f"], name="flatten"),
    N("MatMul", ["f", "w2"], ["m"], name="fc"),
    N("Add", ["m", "b2"], ["y"], name="fc_bias"),
], [vi("x", [1, 3, 8, 8])], [vi("y", [1, 10])], [
    init("w1", rnd(8, 3, 3, 3, scale=0.3)), init("b1", rnd(8, scale=0.1)),
    init("g", (1 + rnd(8, scale=0.1))), init("beta", rnd(8, scale=0.1)),
    init("mean", rnd(8, scale=0.1)), init("var", (0.5 + np.abs(rnd(8))).astype(np.float32)),
    init("w2", rnd(128, 10, scale=0.1)), init("b2", rnd(10, scale=0.1)),
])

save("branches", [
    N("Conv", ["x", "wa", "ba"], ["a"], name="conv_a", pads=[1, 1, 1, 1]),
    N("Conv", ["x", "wb", "bb"], ["b"], name="conv_b", pads=[1, 1, 1, 1]),
    N("Add", ["a", "b"], ["s"], name="add"),
    N("Relu", ["s"], ["r"], name="relu"),
    N("Conv", ["r", "wc", "bc"], ["c"], name="conv_c"),
    N("Clip", ["c", "lo", "hi"], ["cc"], name="clip6"),
    N("Tanh", ["r"], ["t"], name="tanh"),
    N("Concat", ["cc", "t"], ["cat"], name="concat", axis=1),
    N("GlobalAveragePool", ["cat"], ["gap"], name="gap"),
    N("Reshape", ["gap", "shape"], ["flat"], name="reshape"),
    N("Gemm", ["flat", "wd", "bd"], ["y"], name="head", transB=1),
], [vi("x", [1, 4, 6, 6])], [vi("y", [1, 5]), vi("r", [1, 6, 6, 6])], [
    init("wa", rnd(6, 4, 3, 3, scale=0.3)), init("ba", rnd(6, scale=0.1)),
    init("wb", rnd(6, 4, 3, 3, scale=0.3)), init("bb", rnd(6, scale=0.1)),
    init("wc", rnd(6, 6, 1, 1, scale=0.5)), init("bc", rnd(6, scale=0.1)),
    init("lo", np.float32(0)), init("hi", np.float32(6)),
    init("shape", np.array([1, 12], np.int64)),
    init("wd", rnd(5, 12, scale=0.3)), init("bd", rnd(5, scale=0.1)),
])

save("mlp", [
    N("MatMul", ["x", "w1"], ["h"], name="fc1"),
    N("Relu", ["h"], ["r"], name="relu"),
    N("Gemm", ["r", "w2", "b2"], ["y"], name="fc2", transB=1),
], [vi("x", [1, 64])], [vi("y", [1, 10])], [
    init("w1", rnd(64, 32, scale=0.2)), init("w2", rnd(10, 32, scale=0.2)), init("b2", rnd(10, scale=0.1)),
], opset=17, ir=8)

H = 8
save("lstm", [
    N("LSTM", ["x", "W", "R", "B"], ["Y", "Yh"], name="lstm", hidden_size=H),
    N("Squeeze", ["Yh", "ax0"], ["h"], name="squeeze"),
    N("MatMul", ["h", "wo"], ["y"], name="head"),
], [vi("x", [5, 1, 4])], [vi("y", [1, 3])], [
    init("W", rnd(1, 4 * H, 4, scale=0.4)), init("R", rnd(1, 4 * H, H, scale=0.4)),
    init("B", rnd(1, 8 * H, scale=0.1)), init("ax0", np.array([0], np.int64)),
    init("wo", rnd(H, 3, scale=0.5)),
], opset=14)

save("old", [
    N("Conv", ["x", "w", "b"], ["c"], name="conv"),
    N("Clip", ["c"], ["cl"], name="clip", min=0.0, max=6.0),
    N("Flatten", ["cl"], ["f"], name="flatten"),
    N("Unsqueeze", ["f"], ["u"], name="unsqueeze", axes=[0]),
    N("Squeeze", ["u"], ["sq"], name="squeeze", axes=[0]),
    N("Softmax", ["sq"], ["y"], name="softmax", axis=1),
], [vi("x", [1, 2, 5, 5])], [vi("y", [1, 27])], [
    init("w", rnd(3, 2, 3, 3, scale=0.4)), init("b", rnd(3, scale=0.1)),
], opset=9, ir=4)

save("nothing", [
    N("Add", ["x", "k"], ["a"], name="add"),
    N("Relu", ["a"], ["y"], name="relu"),
], [vi("x", [1, 8])], [vi("y", [1, 8])], [init("k", rnd(1, 8))])

save("two_in", [
    N("Add", ["a", "b"], ["s"], name="add"),
    N("MatMul", ["s", "w"], ["y"], name="mm"),
], [vi("a", [1, 16]), vi("b", [1, 16])], [vi("y", [1, 4])], [init("w", rnd(16, 4, scale=0.3))])

# if: quantization inside If branches (outer-scope activation and weight, a branch that never
# runs, an If output read by a quantized Gemm)
then_g = helper.make_graph([
    N("Conv", ["r0", "wt", "bt"], ["t1"], name="then_conv1", pads=[1, 1, 1, 1]),
    N("Relu", ["t1"], ["t2"], name="then_relu"),
    N("Conv", ["t2", "wo", "bo"], ["t3"], name="then_conv2"),
    N("Add", ["t3", "r0"], ["tout"], name="then_add"),
], "then_body", [], [vi("tout", [1, 6, 6, 6])], [init("wt", rnd(6, 6, 3, 3, scale=0.2)), init("bt", rnd(6, scale=0.1))])
else_g = helper.make_graph([
    N("Conv", ["r0", "we"], ["eout"], name="else_conv"),
], "else_body", [], [vi("eout", [1, 6, 6, 6])], [init("we", rnd(6, 6, 1, 1, scale=0.4))])
save("if", [
    N("Conv", ["x", "w0", "b0"], ["c0"], name="conv0", pads=[1, 1, 1, 1]),
    N("Relu", ["c0"], ["r0"], name="relu0"),
    N("Shape", ["x"], ["shp"], name="shape"),
    N("Gather", ["shp", "zero"], ["batch"], name="batch", axis=0),
    N("Equal", ["batch", "one"], ["cond"], name="is_one"),
    N("If", ["cond"], ["yif"], name="branch", then_branch=then_g, else_branch=else_g),
    N("Flatten", ["yif"], ["f"], name="flatten"),
    N("Gemm", ["f", "wd", "bd"], ["y"], name="head", transB=1),
], [vi("x", [1, 4, 6, 6])], [vi("y", [1, 5])], [
    init("w0", rnd(6, 4, 3, 3, scale=0.3)), init("b0", rnd(6, scale=0.1)),
    init("wo", rnd(6, 6, 1, 1, scale=0.4)), init("bo", rnd(6, scale=0.1)),
    init("zero", np.array(0, np.int64)), init("one", np.array(1, np.int64)),
    init("wd", rnd(5, 216, scale=0.1)), init("bd", rnd(5, scale=0.1)),
])

# loop: a carried value (a body input) and a weight of the main graph read inside the body
body = helper.make_graph([
    N("Identity", ["cond_in"], ["cond_out"], name="body_cond"),
    N("MatMul", ["h", "w"], ["hm"], name="body_matmul"),
    N("Relu", ["hm"], ["h_out"], name="body_relu"),
], "loop_body", [vi("iter", [], TensorProto.INT64), vi("cond_in", [], TensorProto.BOOL), vi("h", [1, 16])],
    [vi("cond_out", [], TensorProto.BOOL), vi("h_out", [1, 16])])
save("loop", [
    N("Loop", ["trips", "", "x"], ["hl"], name="loop", body=body),
    N("MatMul", ["hl", "w2"], ["y"], name="head"),
], [vi("x", [1, 16])], [vi("y", [1, 4])], [
    init("trips", np.array(3, np.int64)), init("w", rnd(16, 16, scale=0.35)), init("w2", rnd(16, 4, scale=0.3)),
])

# seq: MatMul + Add on a 3-D activation (tokens): stays MatMul + Add in the written file
# (the runtime's MatMul-with-bias fusion is edgerun-internal)
save("seq", [
    N("MatMul", ["x", "w"], ["m"], name="proj"),
    N("Add", ["m", "b"], ["y"], name="proj_bias"),
], [vi("x", [1, 4, 16])], [vi("y", [1, 4, 8])], [init("w", rnd(16, 8, scale=0.3)), init("b", rnd(8, scale=0.1))])
