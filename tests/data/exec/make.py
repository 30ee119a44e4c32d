#!/usr/bin/env python3
"""Generate the small ONNX models used by tests/unit/test_exec.c (control flow planning).

Run from anywhere: python3 tests/data/exec/make.py  (needs the onnx package, 1.17).
The outputs are committed; rerun only when changing a model.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
N = helper.make_node


def vi(name, shape, dt=TensorProto.FLOAT):
    if shape is None:  # type only, no shape
        return helper.make_value_info(name, helper.make_tensor_type_proto(dt, None))
    return helper.make_tensor_value_info(name, dt, shape)


def save(name, nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="make.py")
    m.ir_version = 8
    # not onnx.checker: it wants shapes on every graph output, and these leave some out
    with open(os.path.join(HERE, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def branch(name, nodes, out, shape):
    return helper.make_graph(nodes, name, [], [vi(out, shape)])


# If on a run-time condition whose branches give the same shape: planned statically.
# 'a' is read only inside the branches; 'b' (same size, made after 'a') must not take a's
# memory while the If still needs it.
save("if_same", [
    N("Relu", ["x"], ["a"], name="relu"),
    N("Neg", ["x"], ["b"], name="neg"),
    N("If", ["c"], ["y"], name="if",
      then_branch=branch("then", [N("Add", ["a", "a"], ["t"], name="then_add")], "t", [4]),
      else_branch=branch("else", [N("Mul", ["a", "a"], ["e"], name="else_mul")], "e", [4])),
], [vi("x", [4]), vi("c", [], TensorProto.BOOL)], [vi("y", [4]), vi("b", [4])])

# Branches with different shapes: dynamic mode.
save("if_diff", [
    N("Relu", ["x"], ["a"], name="relu"),
    N("If", ["c"], ["y"], name="if",
      then_branch=branch("then", [N("Add", ["a", "a"], ["t"], name="then_add")], "t", [4]),
      else_branch=branch("else", [N("Concat", ["a", "a"], ["e"], name="else_cat", axis=0)],
                         "e", [8])),
], [vi("x", [4]), vi("c", [], TensorProto.BOOL)], [vi("y", None)])

# The else branch cannot run with x of 4 elements (Reshape to [3, -1]); the If is planned
# from the then branch, and taking the else branch reports the Reshape's error.
save("if_fails", [
    N("Relu", ["x"], ["a"], name="relu"),
    N("If", ["c"], ["y"], name="if",
      then_branch=branch("then", [N("Add", ["a", "a"], ["t"], name="then_add")], "t", None),
      else_branch=branch("else", [N("Reshape", ["a", "s"], ["e"], name="else_reshape")], "e",
                         None)),
], [vi("x", ["n"]), vi("c", [], TensorProto.BOOL)], [vi("y", None)],
   [init("s", np.array([3, -1], np.int64))])

# The condition is a shape fact (x has 4 elements), folded at plan time: only the taken
# branch is planned, so the branches may differ in shape.
save("if_const", [
    N("Shape", ["x"], ["sh"], name="shape"),
    N("Equal", ["sh", "four"], ["eq"], name="eq"),
    N("Squeeze", ["eq"], ["c"], name="sq"),
    N("If", ["c"], ["y"], name="if",
      then_branch=branch("then", [N("Neg", ["x"], ["t"], name="then_neg")], "t", None),
      else_branch=branch("else", [N("Reshape", ["x", "s"], ["e"], name="else_reshape")], "e",
                         None)),
], [vi("x", ["n"])], [vi("y", None)],
   [init("four", np.array([4], np.int64)), init("s", np.array([3, -1], np.int64))])

# Packed weights large enough (>= 64 KiB) for the host to drop their pages after packing
# (tests/unit/test_api.c loads it from a deliberately misaligned buffer, so every tensor is
# copied at import): Conv 64 -> 128 (3x3, 288 KiB), Conv 1x1 128 -> 128 (64 KiB), Gemm.
rng = np.random.RandomState(7)
save("packed_weights", [
    N("Conv", ["x", "W1", "B1"], ["c1"], pads=[1, 1, 1, 1]),
    N("Relu", ["c1"], ["r1"]),
    N("Conv", ["r1", "W2"], ["c2"]),
    N("GlobalAveragePool", ["c2"], ["g"]),
    N("Flatten", ["g"], ["f"]),
    N("Gemm", ["f", "W3"], ["y"], transB=1),
], [vi("x", ["n", 64, 6, 6])], [vi("y", ["n", 256])],
    [numpy_helper.from_array((rng.randn(128, 64, 3, 3) * 0.05).astype(np.float32), "W1"),
     numpy_helper.from_array((rng.randn(128) * 0.1).astype(np.float32), "B1"),
     numpy_helper.from_array((rng.randn(128, 128, 1, 1) * 0.1).astype(np.float32), "W2"),
     numpy_helper.from_array((rng.randn(256, 128) * 0.1).astype(np.float32), "W3")])

# In-place Concat (runtime/exec.c plan_concat_views): channels-last Concats of NhwcConv
# outputs (pointwise, gathered GEMM, depthwise, Winograd paths) written in place with a row
# stride; a Concat on axis 0 of MatMul outputs (contiguous blocks); two that must copy: an
# input also read by an Add, and a last-axis Concat of MatMuls (no strided writes); a
# last-axis Concat of two Slices (one with a negative step), which write rows with a stride.
rng = np.random.RandomState(11)
def w(*shape):
    return (rng.randn(*shape) * 0.3).astype(np.float32)
save("concat_views", [
    N("Conv", ["x", "Wa"], ["a"], name="conv_a"),
    N("Conv", ["x", "Wb", "Bb"], ["b"], name="conv_b", pads=[1, 1, 1, 1]),
    N("Conv", ["x", "Wc"], ["c"], name="conv_c", group=3, pads=[1, 1, 1, 1]),
    N("Concat", ["a", "b", "c"], ["y1"], name="cat1", axis=1),
    N("Conv", ["x", "Wt"], ["t"], name="conv_t"),
    N("Conv", ["t", "We"], ["e"], name="conv_e", pads=[1, 1, 1, 1]),
    N("Conv", ["t", "Wf"], ["f"], name="conv_f"),
    N("Concat", ["e", "f"], ["y2"], name="cat2", axis=1),
    N("Conv", ["x", "Wg"], ["g"], name="conv_g"),
    N("Add", ["g", "one"], ["h"], name="add_h"),
    N("Concat", ["g", "h"], ["y3"], name="cat3", axis=1),
    N("MatMul", ["x2", "W1"], ["m1"], name="mm1"),
    N("MatMul", ["x3", "W1"], ["m3"], name="mm3"),
    N("Concat", ["m1", "m3"], ["y4"], name="cat4", axis=0),
    N("MatMul", ["x2", "W2"], ["n1"], name="mm_n1"),
    N("MatMul", ["x2", "W3"], ["n2"], name="mm_n2"),
    N("Concat", ["n1", "n2"], ["y5"], name="cat5", axis=1),
    N("Slice", ["x2", "s1b", "s1e", "ax1"], ["s1"], name="slice_s1"),
    N("Slice", ["x2", "s2b", "s2e", "ax1", "s2s"], ["s2"], name="slice_s2"),
    N("Concat", ["s1", "s2"], ["y6"], name="cat6", axis=1),
], [vi("x", [1, 3, 17, 16]), vi("x2", [4, 6]), vi("x3", [2, 6])],
   [vi("y1", [1, 14, 17, 16]), vi("y2", [1, 24, 17, 16]), vi("y3", [1, 8, 17, 16]), vi("y4", [6, 5]),
    vi("y5", [4, 5]), vi("y6", [4, 5])],
   [numpy_helper.from_array(w(5, 3, 1, 1), "Wa"), numpy_helper.from_array(w(6, 3, 3, 3), "Wb"),
    numpy_helper.from_array(w(6), "Bb"), numpy_helper.from_array(w(3, 1, 3, 3), "Wc"),
    numpy_helper.from_array(w(16, 3, 1, 1), "Wt"), numpy_helper.from_array(w(16, 16, 3, 3), "We"),
    numpy_helper.from_array(w(8, 16, 1, 1), "Wf"), numpy_helper.from_array(w(4, 3, 1, 1), "Wg"),
    numpy_helper.from_array(np.array([1.0], np.float32), "one"), numpy_helper.from_array(w(6, 5), "W1"),
    numpy_helper.from_array(w(6, 3), "W2"), numpy_helper.from_array(w(6, 2), "W3"),
    init("s1b", [0]), init("s1e", [3]), init("ax1", [1]), init("s2b", [5]), init("s2e", [1]),
    init("s2s", [-2])])
