/*
 * Kernel interface. Every operator is an er_op_def with two functions:
 *
 *   infer(ctx): validate attributes and input types/shapes, then set each output's
 *               dtype, rank and dims (er_tensor_set_shape), and ctx->scratch_bytes if
 *               the kernel needs temporary memory. ctx->in[i]->data is non-NULL only
 *               when the input's VALUES are known (constants, folded shape subgraphs,
 *               or at run time in dynamic mode). An op whose output shape depends on
 *               input values that are not known returns er_needs_data(ctx) — the
 *               planner then infers it again at run time with the data present.
 *   run(ctx):   compute outputs. Inputs and outputs have data; output memory is
 *               preallocated with exactly the inferred shape. Must not allocate.
 *
 * Both return NULL on success or an er_status (the executor prefixes node name and op).
 * Optional inputs/outputs that are absent are NULL in ctx->in / ctx->out.
 * Kernels never include host headers (stdio, stdlib): they are device code.
 */
#ifndef ER_KERNELS_KERNEL_H
#define ER_KERNELS_KERNEL_H
#include "base/tensor.h"
#include "base/threads.h"
#include "ir/ir.h"
#include "kernels/dispatch.h"

typedef struct er_kctx er_kctx;
typedef er_status (*er_kernel_fn)(er_kctx *ctx);

enum {
  ER_OP_SHAPE_ONLY = 1u << 0,   /* output values depend only on input shapes (Shape, Size) */
  ER_OP_NO_FOLD = 1u << 1,      /* never constant-fold (random ops) */
  ER_OP_CONTROL_FLOW = 1u << 2, /* runs subgraphs through ctx->exec (If, Loop, Scan) */
  ER_OP_INPLACE = 1u << 3,      /* output 0 may share memory with input 0 when they have the
                                   same byte size: the kernel reads element i of input 0
                                   before writing element i of output 0, and nothing else */
  ER_OP_VIEW = 1u << 4,         /* when output 0 has input 0's dtype and byte size, it holds
                                   exactly input 0's bytes (Reshape, Squeeze, Identity...):
                                   the planner may give it input 0's memory and skip the run */
  ER_OP_PREPARE_ANY_THREAD = 1u << 5 /* prepare only reads the node's inputs and attributes and
                                   writes its own state and ctx->consumed (no thread pool, no
                                   shared memory): the planner may run several such prepares
                                   at once on the session's threads */
};

typedef struct er_op_def {
  const char *op_type;
  const char *domain;   /* "" = ai.onnx */
  int min_opset;        /* lowest opset version of the domain this kernel handles */
  int max_opset;        /* highest (inclusive); 0 = no upper limit */
  er_kernel_fn infer;
  er_kernel_fn run;
  unsigned flags;
  /* Optional, called once after planning (static graphs) or before each run (dynamic):
   * fill ctx->state (ctx->state_bytes requested by infer) from constant inputs, e.g. pack
   * weights. Inputs whose values are not constant have data NULL here. */
  er_kernel_fn prepare;
} er_op_def;

struct er_exec; /* runtime executor, opaque to kernels */

struct er_kctx {
  const er_node *node;
  int opset;
  int n_in, n_out;
  er_tensor **in;
  er_tensor **out;
  size_t scratch_bytes; /* infer: request; run: bytes available at scratch */
  void *scratch;
  struct er_exec *exec; /* control-flow ops only */
  er_threadpool *threads; /* may be NULL: single thread */
  const er_microkernels *mk; /* inner loops for this CPU (never NULL at run) */
  size_t state_bytes;   /* infer: persistent per-node memory request (see prepare) */
  void *state;          /* prepare and run: that memory */
  unsigned consumed;    /* prepare: set bit k when run() will not read input k's data again
                           (its values now live in state, e.g. packed weights); the host may
                           then drop the pages of a constant no other node reads. Zeroed
                           before each prepare; inputs >= 32 cannot be marked. */
  /* Strided output (the planner's in-place channel Concat, runtime/exec.c): infer sets
   * out_ld_ok = 1 when run() can write output 0 as rows of its last dimension out_ld
   * elements apart; the planner then may set out_ld (> the last dim; 0 = contiguous), and
   * output 0's data points at the first row inside a larger buffer. Both are zeroed before
   * infer. An observer reading output values must read such an output row by row. */
  int out_ld_ok;
  int64_t out_ld;
};

/* Split [0, n) over the session's threads in contiguous chunks of >= grain indices; each
 * index must be computed independently of the split so results are bit-identical for any
 * thread count. Runs inline when there is no pool. */
static inline void er_parallel_for(const er_kctx *c, int64_t n, int64_t grain, er_range_fn fn, void *arg) {
  er_threadpool_run(c->threads, n, grain, fn, arg);
}

/* ---- attributes ---- */
int64_t er_attr_int(const er_kctx *c, const char *name, int64_t def);
float er_attr_float(const er_kctx *c, const char *name, float def);
const char *er_attr_str(const er_kctx *c, const char *name, const char *def);
/* Count of an INTS/FLOATS attribute, -1 if absent; *out points to model-owned data. */
int er_attr_ints(const er_kctx *c, const char *name, const int64_t **out);
int er_attr_floats(const er_kctx *c, const char *name, const float **out);
static inline const er_attr *er_attr_get(const er_kctx *c, const char *name) {
  return er_node_attr(c->node, name);
}

/* ---- helpers ---- */
static inline er_tensor *er_in(const er_kctx *c, int i) { return i < c->n_in ? c->in[i] : 0; }
static inline er_tensor *er_out(const er_kctx *c, int i) { return i < c->n_out ? c->out[i] : 0; }
static inline int er_in_known(const er_kctx *c, int i) { return i < c->n_in && c->in[i] && c->in[i]->data; }
er_status er_needs_data(const er_kctx *c);
/* Check the count of inputs present (trailing absent ones excluded) is within [lo, hi]. */
er_status er_check_inputs(const er_kctx *c, int lo, int hi);
/* Error unless in[i] is present and has one of the listed dtypes (0-terminated list). */
er_status er_check_type(const er_kctx *c, int i, const int *allowed);
/* Read a 1-D (or scalar) integer tensor's values as int64 (any int dtype). */
er_status er_read_ints(const er_tensor *t, int64_t *out, int cap, int *out_n);

/* ---- registry ---- */
const er_op_def *er_op_find(const char *domain, const char *op_type, int opset);
/* Any kernel for (domain, op_type) regardless of opset; used for error messages. */
const er_op_def *er_op_find_any(const char *domain, const char *op_type);
/* Iterate all registered ops: returns NULL past the end. */
const er_op_def *er_op_at(int index);
/* 1 when this library is a selective-op build (make OPS=FILE): a missing op may only be left out. */
int er_op_build_selective(void);

/* Each family file defines one array, terminated by an entry with op_type NULL; each entry is
 * written ER_OPDEF(OpType, {...}) (no comma after it).  A selective-op build (make OPS=FILE,
 * see Makefile) compiles the family files with -DER_OPS_SELECTED and a generated header that
 * defines ER_OPSEL_<OpType> as 1 for each op type kept: the other entries compile to nothing,
 * so their kernels are never referenced and the compiler/linker drop them.  Keyed on the op
 * type alone (all domains and opsets of a kept op type stay). */
#define ER_OPSEL_CAT_(a, b) a##b
#define ER_OPSEL_CAT(a, b) ER_OPSEL_CAT_(a, b)
#ifdef ER_OPS_SELECTED
#define ER_OPSEL_PROBE_1 ~, 1
#define ER_OPSEL_ARG2_(a, b, ...) b
#define ER_OPSEL_ARG2(...) ER_OPSEL_ARG2_(__VA_ARGS__)
#define ER_OPSEL_IS1(x) ER_OPSEL_ARG2(ER_OPSEL_CAT(ER_OPSEL_PROBE_, x), 0, ~)
#define ER_OPSEL_KEEP_1(...) __VA_ARGS__,
#define ER_OPSEL_KEEP_0(...)
#define ER_OPDEF(name, ...) ER_OPSEL_CAT(ER_OPSEL_KEEP_, ER_OPSEL_IS1(ER_OPSEL_##name))(__VA_ARGS__)
#else
#define ER_OPDEF(name, ...) __VA_ARGS__,
#endif
extern const er_op_def er_ops_elementwise[];
extern const er_op_def er_ops_conv[];     /* conv, pooling, normalization */
extern const er_op_def er_ops_linalg[];   /* gemm, matmul, einsum, reductions, softmax, topk, cumsum */
extern const er_op_def er_ops_shape[];    /* shape and indexing family */
extern const er_op_def er_ops_rnn[];      /* RNN, GRU, LSTM */
extern const er_op_def er_ops_quant[];    /* quantization ops */
extern const er_op_def er_ops_signal[];   /* DFT, STFT, windows, mel, NMS and misc */
extern const er_op_def er_ops_sequence[]; /* sequences and optionals */
extern const er_op_def er_ops_control[];  /* If, Loop, Scan (runtime/) */
extern const er_op_def er_ops_ml[];      /* TfIdfVectorizer and ai.onnx.ml ops */
extern const er_op_def er_ops_nhwc[];    /* channels-last conv and pooling (kernels/nhwc.h) */
#endif
