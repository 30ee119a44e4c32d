#!/usr/bin/env python3
"""Generate the small ONNX models used by tests/unit/test_onnx_import.c.

Run from anywhere: python3 tests/data/import/make.py  (needs the onnx package, 1.17).
The outputs are committed; rerun only when changing a model.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = [helper.make_opsetid("", 17)]


def save(model, name, check=True):
    if check:
        onnx.checker.check_model(model)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(model.SerializeToString())


def model(graph, opsets=OPSET, **kw):
    m = helper.make_model(graph, opset_imports=opsets, producer_name="make.py", **kw)
    m.producer_version = "1"
    m.ir_version = 8
    return m


def raw_tensor(name, dtype, dims, data):
    """A TensorProto without the helper's size checks (for malformed tensors)."""
    t = TensorProto()
    t.name = name
    t.data_type = dtype
    t.dims.extend(dims)
    t.raw_data = data
    return t


def tiny():
    """y = Relu(x + w): symbolic batch dim, w an initializer that is also a graph input."""
    w = numpy_helper.from_array(np.arange(4, dtype=np.float32).reshape(1, 4), "w")
    g = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["s"], name="add"),
         helper.make_node("Relu", ["s"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
        [w])
    save(model(g), "tiny.onnx")


def unsorted():
    """Nodes listed out of order: c = Relu(b); b = Relu(a); a = Relu(x)."""
    g = helper.make_graph(
        [helper.make_node("Relu", ["b"], ["c"], name="n_c"),
         helper.make_node("Relu", ["x"], ["a"], name="n_a"),
         helper.make_node("Relu", ["a"], ["b"], name="n_b")],
        "unsorted",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [2])])
    save(model(g), "unsorted.onnx", check=False)


def bad_graphs():
    x = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])]
    y = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])]
    g = helper.make_graph(
        [helper.make_node("Add", ["x", "b"], ["a"], name="first"),
         helper.make_node("Relu", ["a"], ["b"], name="second"),
         helper.make_node("Relu", ["a"], ["y"], name="third")], "cycle", x, y)
    save(model(g), "cycle.onnx", check=False)
    g = helper.make_graph([helper.make_node("Add", ["x", "ghost"], ["y"], name="adder")],
                          "missing", x, y)
    save(model(g), "missing_input.onnx", check=False)
    g = helper.make_graph([helper.make_node("NoSuchOp", ["x"], ["y"], name="mystery")],
                          "unsupported", x, y)
    save(model(g), "unsupported_op.onnx", check=False)
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r1"),
                           helper.make_node("Relu", ["x"], ["y"], name="r2")], "dup", x, y)
    save(model(g), "two_producers.onnx", check=False)
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["z"], name="r1")], "noout", x, y)
    save(model(g), "undefined_output.onnx", check=False)
    g = helper.make_graph([helper.make_node("Foo", ["x"], ["y"], name="f", domain="com.example")],
                          "nodomain", x, y)
    save(model(g), "no_opset.onnx", check=False)
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r")], "dupinit", x, y,
                          [numpy_helper.from_array(np.zeros(2, np.float32), "w"),
                           numpy_helper.from_array(np.ones(2, np.float32), "w")])
    save(model(g), "dup_init.onnx", check=False)
    n = helper.make_node("Constant", [], ["y"], name="c")
    a = helper.make_attribute_ref("value_float", onnx.AttributeProto.FLOAT)
    a.ref_attr_name = "alpha"
    n.attribute.append(a)
    g = helper.make_graph([n], "refout", [], y)
    save(model(g), "ref_outside.onnx", check=False)
    # absurd dims: 2^40 x 2^40 floats with 8 bytes of data
    t = raw_tensor("huge", TensorProto.FLOAT, [1 << 40, 1 << 40], b"\0" * 8)
    g = helper.make_graph([helper.make_node("Add", ["x", "huge"], ["y"])], "absurd", x, y, [t])
    save(model(g), "absurd_dims.onnx", check=False)
    t = raw_tensor("neg", TensorProto.FLOAT, [-3, 2], b"")
    g = helper.make_graph([helper.make_node("Add", ["x", "neg"], ["y"])], "neg", x, y, [t])
    save(model(g), "negative_dim.onnx", check=False)
    t = raw_tensor("w", TensorProto.FLOAT, [4, 4], b"\0" * 10)
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "short", x, y, [t])
    save(model(g), "short_raw.onnx", check=False)


def external():
    """Weights in a side file: w (offset 0) and v (offset 64, unaligned copy at 66)."""
    data = np.arange(16, dtype=np.float32)
    blob = data.tobytes() + np.array([7, 8, 9], dtype=np.float32).tobytes()
    with open(os.path.join(HERE, "external.bin"), "wb") as f:
        f.write(blob)

    def ext(name, dims, location, offset, length):
        t = TensorProto()
        t.name = name
        t.data_type = TensorProto.FLOAT
        t.dims.extend(dims)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", offset), ("length", length)):
            if v is not None:
                e = t.external_data.add()
                e.key, e.value = k, str(v)
        return t

    x = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])]
    y = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 4])]
    nodes = [helper.make_node("Add", ["x", "w"], ["y"])]
    for name, t in (("external.onnx", ext("w", [4, 4], "external.bin", 0, 64)),
                    ("external_eof.onnx", ext("w", [4, 4], "external.bin", 64, 64)),
                    ("external_escape.onnx", ext("w", [4, 4], "../import/external.bin", 0, 64)),
                    ("external_absolute.onnx", ext("w", [4, 4], "/etc/passwd", 0, 64)),
                    ("external_missing.onnx", ext("w", [4, 4], "no_such_file.bin", 0, 64))):
        g = helper.make_graph(nodes, "ext", x, y, [t])
        save(model(g), name, check=False)
    g = helper.make_graph([helper.make_node("Add", ["x", "v"], ["y"])], "ext2",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
                          [ext("v", [3], "external.bin", 64, None)])
    save(model(g), "external_tail.onnx", check=False)


def subgraph():
    """If whose branches use main-graph values; the then-branch nests another If that
    uses a main-graph value two levels up (outer chain)."""
    inner_then = helper.make_graph([helper.make_node("Add", ["a", "b"], ["it"], name="inner_add")],
                                   "inner_then", [],
                                   [helper.make_tensor_value_info("it", TensorProto.FLOAT, [2])])
    inner_else = helper.make_graph([helper.make_node("Relu", ["b"], ["ie"], name="inner_relu")],
                                   "inner_else", [],
                                   [helper.make_tensor_value_info("ie", TensorProto.FLOAT, [2])])
    then_g = helper.make_graph(
        [helper.make_node("If", ["c"], ["t"], name="inner_if", then_branch=inner_then,
                          else_branch=inner_else)],
        "then_g", [], [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2])])
    else_g = helper.make_graph([helper.make_node("Relu", ["a"], ["e"], name="else_relu")],
                               "else_g", [],
                               [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2])])
    g = helper.make_graph(
        [helper.make_node("If", ["c"], ["y"], name="outer_if", then_branch=then_g,
                          else_branch=else_g),
         helper.make_node("Relu", ["x"], ["a"], name="make_a"),
         helper.make_node("Relu", ["a"], ["b"], name="make_b")],
        "subgraph",
        [helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    save(model(g), "subgraph.onnx", check=False)  # nodes deliberately out of order


def function():
    """Model-local function custom.ScaleAdd(X, Y) = (X + Y) * alpha, alpha by
    ref_attr_name with a default of 2.0; called twice (once with alpha=3)."""
    body = [
        helper.make_node("Add", ["X", "Y"], ["s"]),
        helper.make_node("Constant", [], ["k"]),
        helper.make_node("Mul", ["s", "k"], ["Z"]),
    ]
    attr = helper.make_attribute_ref("value_float", onnx.AttributeProto.FLOAT)
    attr.ref_attr_name = "alpha"
    body[1].attribute.append(attr)
    fn = helper.make_function("custom", "ScaleAdd", ["X", "Y"], ["Z"], body,
                              [helper.make_opsetid("", 17)], attributes=[],
                              attribute_protos=[helper.make_attribute("alpha", 2.0)])
    g = helper.make_graph(
        [helper.make_node("ScaleAdd", ["x", "x"], ["u"], name="call1", domain="custom"),
         helper.make_node("ScaleAdd", ["u", "x"], ["y"], name="call2", domain="custom",
                          alpha=3.0)],
        "fn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    m = model(g, opsets=OPSET + [helper.make_opsetid("custom", 1)], functions=[fn])
    save(m, "function.onnx")


def tensors():
    """Constants in the less common encodings: int32_data for float16/int8/bool/int4,
    uint64_data, int64_data, double_data, raw int4."""
    cs = [
        ("f16", helper.make_tensor("f16", TensorProto.FLOAT16, [3],
                                   np.array([1.5, -2, 65504], dtype=np.float16))),
        ("i8", helper.make_tensor("i8", TensorProto.INT8, [3], [-128, 0, 127])),
        ("bo", helper.make_tensor("bo", TensorProto.BOOL, [3], [True, False, True])),
        ("i4", helper.make_tensor("i4", TensorProto.INT4, [3], [-8, 7, -1])),
        ("u4raw", raw_tensor("u4raw", TensorProto.UINT4, [3], bytes([0x21, 0x0f]))),
        ("u64", helper.make_tensor("u64", TensorProto.UINT64, [2], [1, 1 << 63])),
        ("i64", helper.make_tensor("i64", TensorProto.INT64, [2], [-5, 1 << 40])),
        ("f64", helper.make_tensor("f64", TensorProto.DOUBLE, [2], [0.25, -1e300])),
        ("bf16", helper.make_tensor("bf16", TensorProto.BFLOAT16, [1], [1.5])),
    ]
    g = helper.make_graph(
        [helper.make_node("Constant", [], [n], name="c_" + n, value=t) for n, t in cs],
        "tensors", [], [helper.make_tensor_value_info(n, t.data_type, list(t.dims))
                        for n, t in cs])
    save(model(g, opsets=[helper.make_opsetid("", 21)], ), "tensors.onnx", check=False)


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num, payload):
    """A length-delimited protobuf field."""
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def deep():
    """If nested 40 levels deep (120 message levels): beyond the reader's nesting limit.
    Serialized by hand because the protobuf library refuses such depth itself."""
    out_vi = helper.make_tensor_value_info("o", TensorProto.FLOAT, [2]).SerializeToString()
    sub = helper.make_graph([helper.make_node("Relu", ["x"], ["o"])], "leaf", [],
                            [helper.make_tensor_value_info("o", TensorProto.FLOAT, [2])])
    g = sub.SerializeToString()
    for _ in range(40):
        attr = _field(1, b"then_branch") + _varint(20 << 3) + _varint(5) + _field(6, g)
        node = _field(1, b"c") + _field(2, b"o") + _field(4, b"If") + _field(5, attr)
        g = _field(1, node) + _field(2, b"lvl") + _field(12, out_vi)
    m = model(helper.make_graph([], "placeholder", [], []))
    m.ClearField("graph")
    with open(os.path.join(HERE, "deep.onnx"), "wb") as f:
        f.write(m.SerializeToString() + _field(7, g))


def tensor_pb():
    t = numpy_helper.from_array(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32), "input_0")
    with open(os.path.join(HERE, "tensor.pb"), "wb") as f:
        f.write(t.SerializeToString())


if __name__ == "__main__":
    tiny()
    unsorted()
    bad_graphs()
    external()
    subgraph()
    function()
    tensors()
    deep()
    tensor_pb()
