/*
 * Graph optimization passes over the IR (host code). Run right after import, before any
 * session is created. Every pass preserves results exactly or within float rounding
 * (folded BatchNormalization weights, recognized LayerNorm/Gelu patterns).
 *
 * Passes (one file each in src/opt/):
 *   dce.c         dead-node removal (nodes that reach no graph output)
 *   constants.c   Constant nodes -> initializers (so the other passes see their values)
 *   identity.c    Identity / inference Dropout elimination
 *   bn_fold.c     BatchNormalization folded into a preceding Conv / ConvTranspose / Gemm
 *   conv_add.c    Conv + per-channel constant Add folded into Conv's bias
 *   patterns.c    LayerNorm, erf-Gelu and x*Clip(x+3,0,6)/6 subgraphs -> LayerNormalization /
 *                 Gelu / HardSwish
 *   matmul_add.c  MatMul + constant [N] Add -> Gemm (A 2-D)
 *   act_fuse.c    Conv/ConvTranspose/Gemm/MatMul + activation -> attributes _act, _act_a,
 *                 _act_b (ER_ACT_* of kernels/dispatch.h) on the producer
 *   reshape.c     Transpose∘Transpose, Reshape∘Reshape, no-op Reshape elimination
 *   layout.c      float Conv / pooling -> channels-last internal ops (kernels/nhwc.h) with
 *                 Transposes pushed through layout-agnostic ops and cancelled
 *                 (ER_LAYOUT=0 in the environment skips it)
 *   qdq.c         QDQ patterns (DequantizeLinear -> Conv/MatMul/Gemm/Add/... -> QuantizeLinear)
 *                 -> integer ops (QLinearConv, QGemm, QLinearAdd, ...; kernels/qops.h)
 *   fold.c        nodes whose inputs are all initializers (Cast of float16 weights,
 *                 DequantizeLinear of weights feeding float ops, Transpose/Reshape/... of
 *                 constants) evaluated with their kernels into initializers; runs after
 *                 qdq.c, so DQs of integer patterns are never folded (outputs growing
 *                 more than 4x their inputs and past 64 KiB stay nodes)
 *   sparse.c      ER_SPARSE=0/1: `_sparse` on every Gemm/MatMul/NhwcConv (kernels/sparse.h)
 *   attention.c   MatMul -> scale -> [mask] -> Softmax -> MatMul (and the head Transposes
 *                 around it) -> one edgerun Attention op (kernels/attention.h); part of
 *                 ER_OPT_PATTERNS
 *   conv_residual.c  NhwcConv -> Add(same-shape z) [-> activation] -> one NhwcConv with the
 *                 residual input Z added in its epilogue (runs after layout.c, with
 *                 ER_OPT_LAYOUT; ER_FUSE_ADD=0 in the environment skips it)
 * Subgraphs (If/Loop/Scan bodies) get every pass except dead-node removal; node counts in
 * the stats include subgraphs.
 *
 * Environment: ER_OPT=0 disables er_optimize (to compare results or timings).
 */
#ifndef ER_OPT_OPT_H
#define ER_OPT_OPT_H
#include "import/model.h"

enum {
  ER_OPT_DCE = 1u << 0,
  ER_OPT_IDENTITY = 1u << 1,
  ER_OPT_BN_FOLD = 1u << 2,
  ER_OPT_CONV_ADD = 1u << 3,
  ER_OPT_PATTERNS = 1u << 4,
  ER_OPT_MATMUL_ADD = 1u << 5,
  ER_OPT_ACT_FUSE = 1u << 6,
  ER_OPT_RESHAPE = 1u << 7,
  ER_OPT_CONSTANTS = 1u << 8,
  ER_OPT_LAYOUT = 1u << 9,
  ER_OPT_QDQ = 1u << 10,
  ER_OPT_FOLD = 1u << 11,
  ER_OPT_ALL = 0xfffu
};

/* Flags for er_optimize_ex. */
enum {
  /* Fuse activations / build Gemm even where the kernel does not read _act yet (tests). */
  ER_OPT_F_FORCE_ACT = 1u << 0,
  /* Only rewrites whose result is standard ONNX (tools that write the model, e.g. quantize):
   * MatMul + Add still becomes Gemm (A 2-D), but no MatMul takes an internal _bias. */
  ER_OPT_F_STANDARD = 1u << 1
};

typedef struct er_opt_stats {
  int nodes_before, nodes_after;
  int removed_dead, constants, removed_identity, folded_bn, folded_conv_add, layernorms, gelus, hardswishes,
      matmul_gemm, fused_act, reshapes, layouts;
  int qdq; /* QDQ patterns rewritten to integer ops */
  int attentions; /* attention.c (with ER_OPT_PATTERNS) */
  int folded; /* fold.c: nodes evaluated into initializers */
  int sparse_marked; /* sparse.c: nodes given _sparse from ER_SPARSE */
  int conv_residuals; /* conv_residual.c: Adds (and activations) fused into NhwcConv (with ER_OPT_LAYOUT) */
} er_opt_stats;

/* 1 if er_optimize fuses activations into op_type ("Conv", "ConvTranspose", "Gemm",
 * "MatMul"; "Gemm" also enables MatMul+Add -> Gemm): its kernel reads _act. */
int er_opt_act_enabled(const char *op_type);

/* Level 0: nothing; 1 (default): every safe pass. Honors ER_OPT=0. */
er_status er_optimize(er_imported *m, int level);
/* Run the selected passes (ER_OPT_* mask) with flags (ER_OPT_F_*); stats may be NULL.
 * Ignores ER_OPT. */
er_status er_optimize_ex(er_imported *m, unsigned passes, unsigned flags, er_opt_stats *stats);
#endif
