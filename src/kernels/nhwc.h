/*
 * Channels-last (NHWC) internal ops, domain "edgerun" (ER_DOMAIN_EDGERUN). They are created
 * only by the layout pass (src/opt/layout.c), which rewrites float32 Conv / pooling nodes
 * into these ops with Transpose nodes at the region borders and then pushes and cancels the
 * Transposes through layout-agnostic ops. Never written to files.
 *
 * Why channels-last: a 1x1 convolution is then a plain GEMM (pixels x Cin) * (Cin x Cout)
 * over packed weights, a KxK one is a GEMM over per-tile gathered rows whose inner
 * dimension (Cin) is contiguous, depthwise and pooling vectorize across channels for any
 * stride, dilation or plane size, and int8 dot products find 4 consecutive channels.
 *
 * Shapes: spatial rank nsp is 1 or 2. X is [N, W, C] (nsp 1) or [N, H, W, C] (nsp 2).
 * All ops are float32 only.
 *
 *   NhwcConv    inputs: X, W (constant, ONNX layout [M, C/group, kH, kW] or [M, C/group, kW]
 *                       for nsp 1 -- the kernel repacks it in prepare), B (optional [M])
 *                       Z (optional residual, exactly Y's shape and float32): added to the
 *                       finished conv + B before the activation, y = act(conv + B + Z), on rows
 *                       still in cache (made by src/opt/conv_residual.c; not with _up)
 *               attrs:  exactly Conv's: auto_pad, dilations, group, kernel_shape, pads,
 *                       strides; plus the fused activation _act/_act_a/_act_b (ER_ACT_*,
 *                       applied in the epilogue)
 *               _algo (optional, for tests and benchmarks): 0 (default) the kernel's choice,
 *                       1 the gathered-rows GEMM for any non-depthwise conv, 2 Winograd
 *                       (2-D 3x3 stride-1 dilation-1 group-1 convs only)
 *               _nchw_in (optional, set by the layout pass on a conv that reads a graph input):
 *                       1 = X is channels-first [N, C, H, W] (or [N, C, W]), the model's own
 *                       input, so no Transpose (and no arena copy) is needed before the
 *                       first conv. The gathered-rows GEMM gathers straight from the channel
 *                       planes; the other paths first copy X channels-last into scratch.
 *                       Same results as the channels-last form (bit for bit on the GEMM).
 *               _up (optional, set by the layout pass for a ConvTranspose whose kernel tiles
 *                       its output: strides = kernel, no pads, group 1): [uh, uw] on a 1x1
 *                       stride-1 unpadded group-1 conv with M = uh*uw*Mo output channels:
 *                       input pixel (h, w) writes output pixels (h*uh + i, w*uw + j), channel m
 *                       from GEMM column (i*uw + j)*Mo + m; Y is [N, H*uh, W*uw, Mo].
 *               output: Y [N, OH, OW, M] (or [N, OW, M]); OH/OW as ONNX Conv computes them.
 *               Equal (within float rounding) to Transpose(Conv(Transpose(X, to NCHW)),
 *               to NHWC) with the activation applied.
 *   NhwcMaxPool / NhwcAveragePool
 *               input X; attrs exactly the ONNX pool's (auto_pad, ceil_mode, dilations
 *               (MaxPool), kernel_shape, pads, strides, count_include_pad (AveragePool),
 *               storage_order ignored); one output Y [N, OH, OW, C]. (MaxPool's Indices
 *               output is not supported: the layout pass leaves such nodes alone.)
 *   NhwcGlobalAveragePool / NhwcGlobalMaxPool
 *               input X; output [N, 1, 1, C] (or [N, 1, C] for nsp 1).
 *
 * The opset of these ops is 1 (they have one version).
 */
#ifndef ER_KERNELS_NHWC_H
#define ER_KERNELS_NHWC_H
#include "kernels/kernel.h"
#include "kernels/qops.h"
#define ER_OP_NHWC_CONV "NhwcConv"
#define ER_OP_NHWC_MAXPOOL "NhwcMaxPool"
#define ER_OP_NHWC_AVGPOOL "NhwcAveragePool"
#define ER_OP_NHWC_GAVGPOOL "NhwcGlobalAveragePool"
#define ER_OP_NHWC_GMAXPOOL "NhwcGlobalMaxPool"

/* The algorithm NhwcConv runs for the node and inputs of c (for tests, benchmarks and
 * profiles): "pointwise" (1x1 GEMM on the input rows), "gemm" (gathered rows), "depthwise",
 * "depthwise-multiplier" (portable loop), "winograd"; NULL when the node is invalid. */
const char *er_nhwc_conv_path(const er_kctx *c);
#endif
