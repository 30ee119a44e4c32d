/*
 * Internal integer ops (domain "edgerun"), created by the QDQ pass (src/opt/qdq.c) from
 * standard QDQ patterns; never written to files. Kernels: src/kernels/ref/ops_quant.c (op
 * table), quant_conv.c, quant_gemm.c, quant_ops.c, quant_pool.c, over the q8 micro-kernels
 * (kernels/q8.h). Quantization follows ONNX: real = scale * (q - zero_point). Integer results
 * are exact int32 sums; requantization is float (kernels/q8.h), the same on every ISA.
 *
 * Fused activation on QGemm, NhwcQLinearConv, QLinearConv and QLinearAdd: attributes
 * _act/_act_a/_act_b (ER_ACT_RELU, or ER_ACT_CLIP with bounds a, b in the real domain) clamp
 * the quantized output: Relu q >= zp, Clip rint(a/y_scale) + zp <= q <= rint(b/y_scale) + zp
 * (within the type's range). Other activations are an error.
 *
 *   NhwcQLinearConv  exactly QLinearConv's inputs (x, x_scale, x_zero_point, w, w_scale,
 *           w_zero_point, y_scale, y_zero_point, B?) and attributes (auto_pad, dilations, group,
 *           kernel_shape, pads, strides) plus _act, with x and y channels-last:
 *           x [N, H, W, C] (or [N, W, C]), y [N, OH, OW, M] (or [N, OW, M]); w stays in ONNX
 *           layout [M, C/group, kH, kW] (packed in prepare). Same values as
 *           Transpose(QLinearConv(Transpose(x))), bit for bit. Opset 1. Fast for 1 or 2
 *           spatial dims, any group (depthwise with multiplier 1 on its own kernel); 3-D convs
 *           and non-constant weights run the reference loops.
 *
 *   QGemm   inputs: A (uint8|int8, [..., K]), A_scale (f32 scalar), A_zero_point (scalar, A's
 *                   type), B (uint8|int8 constant [K, N]), B_scale (f32 scalar or [N]),
 *                   B_zero_point (B's type, scalar or [N]; any value), bias (int32 [N] at scale
 *                   A_scale * B_scale[n], or "" = absent), Y_scale (f32 scalar), Y_zero_point
 *                   (scalar, uint8|int8: the output type)
 *           output: Y [..., N];  attrs: _act/_act_a/_act_b
 *           A QDQ MatMul or Gemm (transB folded into B, alpha = beta = 1) becomes QGemm.
 *
 *   QLinearAdd (also registered as com.microsoft QLinearAdd, ONNX Runtime's contrib op)
 *           inputs: A, A_scale, A_zero_point?, B, B_scale, B_zero_point?, C_scale, C_zero_point?
 *           (A, B, C of one 8-bit type, scales and zero points scalars); numpy broadcasting;
 *           C = clamp(rint(a_s/c_s * (A - A_zp) + b_s/c_s * (B - B_zp)) + C_zp) in float32 (two
 *           products and one sum, each rounded once); attrs: _act. The QDQ pass also uses it as
 *           a requantize for DQ -> Relu|Clip -> Q (B = a zero).
 *
 *   QLinearGlobalAveragePool (also com.microsoft)  inputs X, x_scale, x_zero_point, y_scale,
 *           y_zero_point; attr channels_last (0: X [N, C, ...], 1: X [N, ..., C]); output with
 *           spatial dims 1. acc = sum(X) - x_zp * S (int32, S = spatial size),
 *           Y = clamp(rint((float)acc * (x_s / (y_s * S))) + y_zp).
 *
 *   com.microsoft NhwcMaxPool  (ONNX Runtime's contrib op, 8-bit only here) MaxPool on a
 *           channels-last uint8/int8 X [N, H, W, C] with MaxPool's attributes, no Indices.
 *
 *   QuantizeLinear (edgerun)  QuantizeLinear to channels-last: inputs x (float32 [N, C,
 *           spatial...]), y_scale (f32 scalar), y_zero_point (optional uint8|int8 scalar: the
 *           output type, else uint8); attribute channels_last (must be 1); output y [N,
 *           spatial..., C] = Transpose(QuantizeLinear(x)) with the channels moved last. The QDQ
 *           pass makes it from QuantizeLinear -> Transpose at the input of a channels-last chain.
 *
 *   MatMulQ4  weight-only 4-bit MatMul: Y = A * W, W[k][n] = (q[k][n] - z[b][n]) * s[b][n],
 *           b = k / block_size.
 *           inputs: A (float32 [..., K]), B (uint8 [K, ceil(N/2)]: each row's 4-bit values two
 *                   per byte, low nibble first, as ONNX packs them), scales (f32
 *                   [ceil(K/block_size), N]), zero_points (optional, int8 for signed / uint8,
 *                   [ceil(K/block_size), N], one 4-bit value per byte), bias (optional f32 [N])
 *           attrs:  K, N, block_size (>= 1; K for per-column scales), signed (1: int4, 0: uint4)
 *           output: float32 [..., N]. The kernel (f32_q4_gemm) unpacks the nibbles inside its
 *                   loop (float sums: within rounding of the reference, same bits for any
 *                   thread count).
 *           From MatMul(A, DequantizeLinear(int4/uint4 constant [K, N], blocks along axis 0,
 *           or per column / per tensor)). The QDQ pass makes B by packing the importer's
 *           unpacked copy (the importer stores 4-bit initializers one per byte): the run uses
 *           the packed copy only.
 */
#ifndef ER_KERNELS_QOPS_H
#define ER_KERNELS_QOPS_H
#define ER_DOMAIN_EDGERUN "edgerun"
#define ER_OP_NHWC_QLINEARCONV "NhwcQLinearConv"
#define ER_OP_QGEMM "QGemm"
#define ER_OP_MATMULQ4 "MatMulQ4"
#endif
