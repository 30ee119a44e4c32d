/*
 * Post-training quantization of an imported model into a standard ONNX QDQ model (host).
 *
 *   er_quantize(m, calib, opts, report)
 *
 * 1. Prepares the graph with the exact passes (dead nodes, Constant -> initializer,
 *    Identity, BatchNormalization folding, Conv+Add bias, MatMul+Add -> Gemm, redundant
 *    Reshape/Transpose), never the fused activations (not standard ONNX).
 * 2. Upgrades the default-domain opset when the output needs a newer one (13 for per-channel
 *    QuantizeLinear/DequantizeLinear, 21 for block-wise int4), rewriting the nodes whose
 *    inputs changed (src/quant/opset.c).
 * 3. Plans which nodes are quantized (src/quant/qdq.c): Conv, ConvTranspose (group 1), Gemm,
 *    MatMul always; Add, Mul, Concat, GlobalAveragePool when one of their inputs already
 *    carries a quantized value; Reshape, Transpose, Flatten, Squeeze, Unsqueeze, MaxPool,
 *    AveragePool then share their input's scale and zero point (ONNX Runtime drops their
 *    Q/DQ pairs); a Relu, or a Clip whose bounds enclose 0, fed only by a quantized node is
 *    folded into that node's output range (the quantized output saturates exactly where the
 *    activation would clip). Everything else stays float and is listed with a reason.
 * 4. Static mode: runs the float model over the calibration set and observes every float
 *    activation that gets a Q/DQ pair (src/quant/observe.c), then chooses ranges (calib.h).
 * 5. Rewrites: activations get QuantizeLinear -> DequantizeLinear (uint8 asymmetric by
 *    default, int8 with opts.act_dtype); weights are stored int8 symmetric ([-127, 127]),
 *    per output channel (Conv axis 0, ConvTranspose axis 1, MatMul [K,N] axis 1, Gemm axis 0
 *    with transB else 1) or per tensor, behind a DequantizeLinear; biases of Conv and Gemm
 *    are int32 with scale input_scale * weight_scale and zero point 0.
 *
 * Dynamic mode (opts.dynamic): weights only — Conv, ConvTranspose, Gemm, MatMul, LSTM/GRU/RNN
 * (W, R) and Gather tables become int8 + DequantizeLinear; activations stay float; no
 * calibration. With opts.qoperator, MatMul/Gemm with a constant 2-D weight take ONNX
 * Runtime's dynamic form instead: the input is quantized at run time (DynamicQuantizeLinear,
 * uint8, shared by every MatMul reading it), MatMulInteger with the int8 [K, N] weight
 * (symmetric, per column or per tensor), the int32 result Cast to float and multiplied by
 * input scale x weight scale, then the Gemm bias added. Gather tables stay float there (ONNX
 * Runtime dequantizes a whole int8 table on every run: tinybert's 38 MB embedding makes the
 * weight-only file 1.8x slower than float in ORT). INT4 (opts.int4): MatMul/Gemm weights int4 symmetric in blocks of
 * opts.block_size along K (DequantizeLinear opset 21 with block_size), other weights int8
 * as in dynamic mode; weight-only. fp16 (opts.fp16): every remaining float32 weight
 * (>= 16 elements, values within float16 range, not a Q/DQ scale, not a shape-like input)
 * is stored as float16 followed by a Cast to float32; the model still computes in float32.
 */
#ifndef ER_QUANT_QUANTIZE_H
#define ER_QUANT_QUANTIZE_H
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "import/model.h"
#include "io/dataset.h"

typedef struct er_quant_options {
  int method;          /* ER_CALIB_* (calib.h) */
  double percentile;   /* for ER_CALIB_PERCENTILE (default 99.99) */
  int per_channel;     /* 1 (default): per-channel weights; 0: per tensor */
  int act_dtype;       /* ER_U8 (default) or ER_I8 */
  int dynamic;         /* weights only (no calibration) */
  int qoperator;       /* with dynamic: MatMul/Gemm in ONNX Runtime's dynamic QOperator form
                          (DynamicQuantizeLinear + MatMulInteger + Mul by the scales, + Add
                          of a Gemm bias); other weights as in the weight-only form */
  int int4;            /* int4 block-wise MatMul/Gemm weights (weight-only) */
  int block_size;      /* int4 block (default 64; >= 16, power of two) */
  int fp16;            /* remaining float weights stored as float16 + Cast */
  int n_exclude;
  const char *const *exclude; /* node names kept float */
  /* progress over calibration samples (may be NULL) */
  void (*progress)(void *user, int done, int total);
  void *progress_user;
} er_quant_options;

void er_quant_options_default(er_quant_options *o);

/* What happened to one node of the prepared graph. */
enum {
  ER_QN_QUANTIZED = 1, /* inputs/outputs go through Q/DQ (or weights through DQ) */
  ER_QN_FOLDED = 2,    /* Relu/Clip removed: folded into its producer's output range */
  ER_QN_FLOAT = 3,     /* left in float: see reason */
  ER_QN_OTHER = 4      /* no float data (shape arithmetic, integer ops): not counted */
};

typedef struct er_quant_node {
  const char *name, *op_type;
  int status;          /* ER_QN_* */
  const char *reason;  /* for FLOAT / FOLDED */
} er_quant_node;

typedef struct er_quant_report {
  int n_nodes;
  er_quant_node *nodes;       /* the prepared graph's nodes, heap (er_quant_report_free) */
  int n_quantized, n_folded, n_float;
  int n_qdq_pairs;            /* activation QuantizeLinear/DequantizeLinear pairs */
  int n_weights;              /* weight tensors quantized (or cast to float16) */
  int64_t weight_bytes_before, weight_bytes_after; /* all initializers */
  int opset_before, opset_after;
  int n_samples;              /* calibration samples run */
  const char *mode;           /* "static", "dynamic", "int4", "fp16" */
} er_quant_report;

void er_quant_report_free(er_quant_report *r);

/* Does the model (main graph or a subgraph) have a node called name? */
int er_quant_has_node(const er_imported *m, const char *name);

/* Quantize m in place (its IR is rewritten; write it with er_onnx_write_file). calib is
 * required in static mode and ignored otherwise. Errors: ER_INVALID_ARGUMENT for bad
 * options or calibration data (naming the sample file), ER_UNSUPPORTED when the model has
 * nothing to quantize or cannot be brought to the needed opset. */
er_status er_quantize(er_imported *m, const er_dataset *calib, const er_quant_options *opts,
                      er_quant_report *report);
#endif
