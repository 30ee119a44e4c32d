/*
 * Internal integer ops (domain "edgerun"), created only by the QDQ pass (src/opt/qdq.c) from
 * standard QDQ patterns; never written to files. Their kernels live beside the standard
 * quantized ops (src/kernels/ref/ops_quant.c). Quantization follows ONNX:
 * real = scale * (q - zero_point).
 *
 *   QGemm   inputs: A (uint8|int8, [..., K]), A_scale (f32 scalar), A_zero_point (scalar),
 *                   B (int8 constant [K, N]), B_scale (f32 scalar or [N]),
 *                   B_zero_point (int8 scalar or [N], must be 0 for the fast path),
 *                   bias (int32 constant [N], scale A_scale*B_scale, optional: "" = absent),
 *                   Y_scale (f32 scalar), Y_zero_point (scalar, dtype of Y)
 *           output: Y (dtype of Y_zero_point, [..., N])
 *           attrs:  _act/_act_a/_act_b (ER_ACT_RELU or ER_ACT_CLIP, clamps applied in the
 *                   real domain before quantizing Y)
 *           A QDQ MatMul or Gemm (transB folded into B, alpha = beta = 1) becomes QGemm.
 *
 *   MatMulQ4  weight-only 4-bit MatMul: float A [..., K] times B = dequantized 4-bit weights.
 *           inputs: A (float32), B (int4 or uint4 constant [K, N]), B_scale (f32
 *                   [ceil(K/block), N]), B_zero_point (optional, same type/shape as B_scale's
 *                   layout, 4-bit), bias (optional f32 [N])
 *           attrs:  block_size (int, >= 16, blocks run along K)
 *           output: float32 [..., N]. The kernel unpacks nibbles inside the GEMM loop; the
 *                   weights stay 4-bit in memory.
 *           From DequantizeLinear(int4, axis 0, block_size) -> MatMul (opset 21).
 */
#ifndef ER_KERNELS_QOPS_H
#define ER_KERNELS_QOPS_H
#define ER_DOMAIN_EDGERUN "edgerun"
#define ER_OP_NHWC_QLINEARCONV "NhwcQLinearConv"
#define ER_OP_QGEMM "QGemm"
#define ER_OP_MATMULQ4 "MatMulQ4"
#endif
