/* QDQ pass: standard QDQ patterns (what ONNX Runtime's quantize_static writes) become integer
 * ops, so a quantized model runs on 8-bit kernels instead of dequantize -> float -> quantize.
 *
 *   DQ(x) -> Conv(DQ(w const), bias) [-> Relu | Clip] -> Q      QLinearConv (+ _act)
 *   DQ(a) -> MatMul(DQ(b const 2-D)) [-> act] -> Q              QGemm (edgerun)
 *   DQ(a) -> Gemm(DQ(b const), bias) [-> act] -> Q              QGemm (transB folded into B)
 *   DQ(a), DQ(b) -> Add [-> act] -> Q                           QLinearAdd (edgerun)
 *   DQ(x) -> GlobalAveragePool -> Q                             QLinearGlobalAveragePool (edgerun)
 *   DQ(x) -> Relu | Clip -> Q                                   QLinearAdd(x, 0) + _act (a requantize)
 *   DQ(x_1), DQ(x_2), ... -> Concat -> Q                        QLinearConcat (edgerun)
 *   MatMul(A float, DQ(int4/uint4 constant B, blocks along K))  MatMulQ4 (edgerun, weights 4-bit)
 *   DQ(x) -> MaxPool | Reshape | Flatten | Transpose | Squeeze | Unsqueeze -> Q, Q with the
 *            same scale, zero point and type as DQ               the op on the 8-bit tensor
 * x, a and y are per-tensor uint8/int8; weights int8/uint8, per-tensor or per output channel.
 * bias: DQ(int32) whose scale is exactly x_scale * w_scale[m] (float32) and zero point 0 is
 * used as it is; any other bias (float, or another scale) is requantized to int32 at scale
 * x_scale * w_scale[m], rounding half to even (an error of at most half an accumulator unit).
 * A fused Relu / Clip becomes a clamp of the quantized output (kernels/qops.h).
 * Q -> DQ pairs at the borders of these regions stay (QuantizeLinear / DequantizeLinear run
 * on fast kernels); DQ nodes whose outputs nobody reads any more are removed by dead-node
 * elimination.
 *
 * Results: the integer ops compute exactly the int32 sums of the float graph's products
 * and round once to the output's grid, as ONNX Runtime's own QDQ fusion does, so outputs
 * agree with ORT's within one quantization step of each output (tests/data/qdq).
 * Environment: ER_QDQ=0 skips this pass. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernel.h"
#include "kernels/qops.h"
#include "opt/ir_edit.h"

#define OOM() ER_ERR(ER_OUT_OF_MEMORY, "out of memory in the QDQ pass")

/* Quantization parameters of a DequantizeLinear input / QuantizeLinear output. */
typedef struct qp {
  int x;      /* the quantized value */
  int s, z;   /* scale and zero point values (z may be -1) */
  int type;   /* ER_U8 / ER_I8 (or another integer type for weights) */
  int64_t n;  /* scale entries: 1 per-tensor */
  int axis;   /* normalized axis when n > 1 */
} qp;

static const er_value *val(const opt_ctx *c, int v) { return &c->g->values[v]; }

static int is_const(const opt_ctx *c, int v) {
  return v >= 0 && val(c, v)->kind == ER_VALUE_INITIALIZER && val(c, v)->data && val(c, v)->rank >= 0;
}

static int64_t numel(const opt_ctx *c, int v) { return er_shape_numel(val(c, v)->dims, val(c, v)->rank); }

static int is8(int t) { return t == ER_U8 || t == ER_I8; }

static int zp_at(const opt_ctx *c, const qp *q, int64_t i) {
  if (q->z < 0) return 0;
  return (int)er_load_i64(val(c, q->z)->data, val(c, q->z)->dtype, (size_t)(numel(c, q->z) > 1 ? i : 0));
}
static float scale_at(const opt_ctx *c, const qp *q, int64_t i) {
  return ((const float *)val(c, q->s)->data)[numel(c, q->s) > 1 ? i : 0];
}

/* Common checks of a Q / DQ node's scale and zero point. */
static int q_common(const opt_ctx *c, const er_node *n, qp *q) {
  if (n->n_inputs < 2 || n->n_outputs < 1 || n->outputs[0] < 0) return 0;
  if (n->opset >= 21 && opt_attr_int(n, "block_size", 0) != 0) return 0;
  q->s = n->inputs[1];
  q->z = n->n_inputs >= 3 ? n->inputs[2] : -1;
  if (!is_const(c, q->s) || val(c, q->s)->dtype != ER_F32) return 0;
  if (q->z >= 0 && (!is_const(c, q->z) || numel(c, q->z) != numel(c, q->s))) return 0;
  q->n = numel(c, q->s);
  const float *s = (const float *)val(c, q->s)->data;
  for (int64_t i = 0; i < q->n; i++)
    if (!(s[i] > 0) || !isfinite(s[i])) return 0; /* the integer kernels need finite positive scales */
  return q->n >= 1;
}

/* The DequantizeLinear producing v, with its parameters (per-tensor unless per_axis_ok). */
static er_node *dq_of(const opt_ctx *c, int v, qp *q, int per_axis_ok) {
  er_node *d = opt_producer(c, v);
  if (!d || !opt_is(d, "DequantizeLinear") || d->outputs[0] != v || !q_common(c, d, q)) return NULL;
  q->x = d->inputs[0];
  if (q->z >= 0) {
    q->type = val(c, q->z)->dtype;
  } else if (is_const(c, q->x)) {
    q->type = val(c, q->x)->dtype;
  } else {
    er_node *p = opt_producer(c, q->x); /* type from the QuantizeLinear that made x */
    if (!p || !opt_is(p, "QuantizeLinear") || p->n_inputs < 3 || p->inputs[2] < 0) return NULL;
    q->type = val(c, p->inputs[2])->dtype;
  }
  if (is_const(c, q->x) && val(c, q->x)->dtype != q->type) return NULL;
  q->axis = 0;
  if (q->n > 1) {
    if (!per_axis_ok || !is_const(c, q->x) || val(c, q->s)->rank != 1) return NULL;
    int r = val(c, q->x)->rank;
    int64_t a = opt_attr_int(d, "axis", 1);
    if (a < 0) a += r;
    if (a < 0 || a >= r || val(c, q->x)->dims[a] != q->n) return NULL;
    q->axis = (int)a;
  }
  return d;
}

/* A per-tensor 8-bit QuantizeLinear node and its parameters. */
static int q_node(const opt_ctx *c, const er_node *n, qp *q) {
  if (!opt_is(n, "QuantizeLinear") || !q_common(c, n, q) || q->n != 1) return 0;
  if (n->opset >= 19 && opt_attr_int(n, "output_dtype", 0) != 0) return 0;
  q->type = q->z >= 0 ? val(c, q->z)->dtype : ER_U8;
  q->x = n->outputs[0];
  return is8(q->type);
}

static int same_q(const opt_ctx *c, const qp *a, const qp *b) {
  return a->type == b->type && a->n == 1 && b->n == 1 && scale_at(c, a, 0) == scale_at(c, b, 0) &&
         zp_at(c, a, 0) == zp_at(c, b, 0);
}

/* The consumer chain of a float result y: [Relu | Clip(const)] -> QuantizeLinear. Sets the
 * activation (ER_ACT_NONE / RELU / CLIP with bounds), the Q node and, if any, the act node. */
static int q_after(opt_ctx *c, int y, qp *q, er_node **qn, er_node **actn, int *act, float *a, float *b) {
  *actn = NULL;
  *act = ER_ACT_NONE;
  *a = -INFINITY, *b = INFINITY;
  er_node *n = opt_sole_consumer(c, y, NULL);
  if (!n || n->inputs[0] != y) return 0;
  if (opt_is(n, "Relu") || opt_is(n, "Clip")) {
    if (n->n_outputs != 1 || n->outputs[0] < 0) return 0;
    if (opt_is(n, "Relu")) {
      *act = ER_ACT_RELU;
    } else {
      *act = ER_ACT_CLIP;
      double v;
      if (n->opset < 11) {
        *a = opt_attr_float(n, "min", -INFINITY);
        *b = opt_attr_float(n, "max", INFINITY);
      } else {
        if (n->n_inputs >= 2 && n->inputs[1] >= 0) {
          if (!opt_const_scalar(c, n->inputs[1], &v)) return 0;
          *a = (float)v;
        }
        if (n->n_inputs >= 3 && n->inputs[2] >= 0) {
          if (!opt_const_scalar(c, n->inputs[2], &v)) return 0;
          *b = (float)v;
        }
      }
    }
    *actn = n;
    n = opt_sole_consumer(c, n->outputs[0], NULL);
    if (!n) return 0;
  }
  if (!q_node(c, n, q)) return 0;
  *qn = n;
  return 1;
}

/* Zero point value of q as an input: the existing one or a new 0 of q->type. */
static int zp_input(opt_ctx *c, const qp *q, const char *base) {
  if (q->z >= 0) return q->z;
  int64_t zero = 0;
  return opt_new_init(c, opt_join_name(c, base, "zero_point"), q->type, 0, NULL, &zero);
}

/* int32 bias for accumulators at scale xs * ws[m]: the DQ(int32) input itself when its scale
 * is exactly that and its zero point 0, else requantized from the real values. -1 on OOM,
 * -2 when b is neither. M outputs; the new initializer is named after base. */
static int bias_input(opt_ctx *c, int b, float xs, const qp *w, int64_t M, const char *base) {
  qp bq;
  er_node *bd = b >= 0 ? dq_of(c, b, &bq, 1) : NULL;
  const float *bf = NULL;
  int64_t nb = 0;
  if (bd) {
    if (!is_const(c, bq.x) || val(c, bq.x)->dtype != ER_I32 || numel(c, bq.x) != M) return -2;
    int exact = 1;
    for (int64_t m = 0; m < M && exact; m++)
      exact = zp_at(c, &bq, m) == 0 && scale_at(c, &bq, m) == xs * scale_at(c, w, m);
    if (exact) return bq.x;
  } else {
    bf = opt_const_f32(c, b, &nb);
    if (!bf || (nb != M && nb != 1)) return -2;
  }
  int32_t *q = (int32_t *)malloc(sizeof(int32_t) * (size_t)(M + 1));
  if (!q) return -1;
  for (int64_t m = 0; m < M; m++) {
    float real = bd ? (float)(er_load_i64(val(c, bq.x)->data, ER_I32, (size_t)m) - zp_at(c, &bq, m)) * scale_at(c, &bq, m)
                    : bf[nb == 1 ? 0 : m];
    double r = rint((double)real / ((double)xs * (double)scale_at(c, w, m)));
    q[m] = r > 2147483647.0 ? 2147483647 : r < -2147483648.0 ? (int32_t)-2147483647 - 1 : (int32_t)r;
  }
  int v = opt_new_init(c, opt_join_name(c, base, "bias_i32"), ER_I32, 1, &M, q);
  free(q);
  return v;
}

static int set_act(opt_ctx *c, er_node *n, int act, float a, float b) {
  if (act == ER_ACT_NONE) return 0;
  return opt_set_attr_int(c, n, "_act", act) || opt_set_attr_float(c, n, "_act_a", a) ||
         opt_set_attr_float(c, n, "_act_b", b);
}

/* Turn n into op (domain, opset) with the given inputs, producing the Q node's output. */
static er_status rewrite(opt_ctx *c, er_node *n, const char *domain, const char *op, int opset, int n_in,
                         const int *ins, er_node *qn, er_node *actn) {
  const er_op_def *d = er_op_find(domain, op, opset);
  if (!d) return ER_ERR(ER_INTERNAL, "QDQ pass: no kernel for %s", op);
  if (opt_set_inputs(c, n, n_in, ins) != 0) return OOM();
  n->op_type = op;
  n->domain = domain;
  n->opset = opset;
  n->op = d;
  int y = qn->outputs[0];
  opt_kill(c, qn);
  if (actn) opt_kill(c, actn);
  opt_set_output(c, n, 0, y);
  const char *nm = opt_join_name(c, n->name, "quant");
  if (nm) n->name = nm;
  return NULL;
}

/* rewrite() for a new internal op: attributes replaced by the fused activation */
static er_status rewrite_act(opt_ctx *c, er_node *n, const char *op, int n_in, const int *ins, er_node *qn,
                             er_node *actn, int act, float a, float b, int *done) {
  opt_clear_attrs(n);
  ER_RETURN_IF_ERROR(rewrite(c, n, ER_DOMAIN_EDGERUN, op, 1, n_in, ins, qn, actn));
  if (set_act(c, n, act, a, b)) return OOM();
  *done = 1;
  return NULL;
}

/* ---------------------------------------------------------------- patterns */

static er_status fuse_conv(opt_ctx *c, er_node *n, int *done) {
  qp x, w, y;
  er_node *qn, *actn;
  int act;
  float a, b;
  if (n->n_inputs < 2 || n->n_outputs != 1 || n->outputs[0] < 0 || er_node_attr(n, "_act")) return NULL;
  if (!dq_of(c, n->inputs[0], &x, 0) || !is8(x.type)) return NULL;
  if (!dq_of(c, n->inputs[1], &w, 1) || !is8(w.type) || !is_const(c, w.x) || val(c, w.x)->rank < 3) return NULL;
  int64_t M = val(c, w.x)->dims[0];
  if (w.n > 1 && w.axis != 0) return NULL;
  if (!q_after(c, n->outputs[0], &y, &qn, &actn, &act, &a, &b)) return NULL;
  float xs = scale_at(c, &x, 0);
  int bias = -1;
  if (n->n_inputs >= 3 && n->inputs[2] >= 0) {
    bias = bias_input(c, n->inputs[2], xs, &w, M, n->name);
    if (bias == -2) return NULL;
    if (bias < 0) return OOM();
  }
  int xz = zp_input(c, &x, n->name), wz = zp_input(c, &w, n->name), yz = zp_input(c, &y, n->name);
  if (xz < 0 || wz < 0 || yz < 0) return OOM();
  int ins[9] = {x.x, x.s, xz, w.x, w.s, wz, y.s, yz, bias};
  ER_RETURN_IF_ERROR(rewrite(c, n, "", "QLinearConv", n->opset < 10 ? 10 : n->opset, bias >= 0 ? 9 : 8, ins, qn, actn));
  if (set_act(c, n, act, a, b)) return OOM();
  *done = 1;
  return NULL;
}

/* MatMul / Gemm with a constant 2-D weight -> QGemm */
static er_status fuse_gemm(opt_ctx *c, er_node *n, int *done) {
  qp x, w, y;
  er_node *qn, *actn;
  int act;
  float a, b;
  int gemm = opt_is(n, "Gemm");
  if (n->n_inputs < 2 || n->n_outputs != 1 || n->outputs[0] < 0 || er_node_attr(n, "_act")) return NULL;
  int tb = 0;
  if (gemm) {
    if (opt_attr_int(n, "transA", 0) || opt_attr_float(n, "alpha", 1.0f) != 1.0f) return NULL;
    if (n->n_inputs >= 3 && n->inputs[2] >= 0 && opt_attr_float(n, "beta", 1.0f) != 1.0f) return NULL;
    tb = opt_attr_int(n, "transB", 0) != 0;
  }
  if (!dq_of(c, n->inputs[0], &x, 0) || !is8(x.type)) return NULL;
  if (!dq_of(c, n->inputs[1], &w, 1) || !is8(w.type) || !is_const(c, w.x) || val(c, w.x)->rank != 2) return NULL;
  const er_value *wv = val(c, w.x);
  int64_t K = wv->dims[tb ? 1 : 0], N = wv->dims[tb ? 0 : 1];
  if (w.n > 1 && w.axis != (tb ? 0 : 1)) return NULL;
  if (!q_after(c, n->outputs[0], &y, &qn, &actn, &act, &a, &b)) return NULL;
  float xs = scale_at(c, &x, 0);
  int bias = -1;
  if (gemm && n->n_inputs >= 3 && n->inputs[2] >= 0) {
    int bv = n->inputs[2];
    if (is_const(c, bv) && val(c, bv)->rank == 2 && val(c, bv)->dims[0] == 1) { /* [1, N] float */
      const float *bf = opt_const_f32(c, bv, NULL);
      if (!bf) return NULL;
      int flat = opt_new_init_f32(c, opt_join_name(c, n->name, "bias"), 1, &N, bf);
      if (flat < 0) return OOM();
      bv = flat;
    }
    bias = bias_input(c, bv, xs, &w, N, n->name);
    if (bias == -2) return NULL;
    if (bias < 0) return OOM();
  }
  int wk = w.x;
  if (tb) { /* B^T as a [K, N] constant */
    const unsigned char *src = (const unsigned char *)val(c, w.x)->data;
    unsigned char *t = (unsigned char *)malloc((size_t)(K * N) + 1);
    if (!t) return OOM();
    for (int64_t k = 0; k < K; k++)
      for (int64_t j = 0; j < N; j++) t[k * N + j] = src[j * K + k];
    int64_t dims[2] = {K, N};
    wk = opt_new_init(c, opt_join_name(c, val(c, w.x)->name, "T"), w.type, 2, dims, t);
    free(t);
    if (wk < 0) return OOM();
  }
  int xz = zp_input(c, &x, n->name), wz = zp_input(c, &w, n->name), yz = zp_input(c, &y, n->name);
  if (xz < 0 || wz < 0 || yz < 0) return OOM();
  int ins[9] = {x.x, x.s, xz, wk, w.s, wz, bias, y.s, yz};
  return rewrite_act(c, n, ER_OP_QGEMM, 9, ins, qn, actn, act, a, b, done);
}

static er_status fuse_add(opt_ctx *c, er_node *n, int *done) {
  qp p, q, y;
  er_node *qn, *actn;
  int act;
  float a, b;
  if (n->n_inputs != 2 || n->n_outputs != 1 || n->outputs[0] < 0) return NULL;
  if (!dq_of(c, n->inputs[0], &p, 0) || !dq_of(c, n->inputs[1], &q, 0)) return NULL;
  if (!q_after(c, n->outputs[0], &y, &qn, &actn, &act, &a, &b)) return NULL;
  if (!is8(p.type) || p.type != q.type || p.type != y.type) return NULL;
  int pz = zp_input(c, &p, n->name), qz = zp_input(c, &q, n->name), yz = zp_input(c, &y, n->name);
  if (pz < 0 || qz < 0 || yz < 0) return OOM();
  int ins[8] = {p.x, p.s, pz, q.x, q.s, qz, y.s, yz};
  return rewrite_act(c, n, "QLinearAdd", 8, ins, qn, actn, act, a, b, done);
}

static er_status fuse_gap(opt_ctx *c, er_node *n, int *done) {
  qp x, y;
  if (n->n_inputs != 1 || n->n_outputs != 1 || n->outputs[0] < 0) return NULL;
  if (!dq_of(c, n->inputs[0], &x, 0) || !is8(x.type)) return NULL;
  er_node *qn = opt_sole_consumer(c, n->outputs[0], NULL);
  if (!qn || !q_node(c, qn, &y) || y.type != x.type) return NULL;
  int xz = zp_input(c, &x, n->name), yz = zp_input(c, &y, n->name);
  if (xz < 0 || yz < 0) return OOM();
  int ins[5] = {x.x, x.s, xz, y.s, yz};
  ER_RETURN_IF_ERROR(rewrite(c, n, ER_DOMAIN_EDGERUN, "QLinearGlobalAveragePool", 1, 5, ins, qn, NULL));
  *done = 1;
  return NULL;
}

/* DQ(x) -> Relu | Clip -> Q: a requantization with a clamp, done as QLinearAdd(x, 0) (the
 * second operand is x's zero point, so it adds exactly 0) with the activation fused. */
static er_status fuse_act(opt_ctx *c, er_node *n, int *done) {
  qp x, y;
  er_node *qn, *actn;
  int act;
  float a, b;
  if (n->n_inputs < 1 || n->n_outputs != 1 || !dq_of(c, n->inputs[0], &x, 0) || !is8(x.type)) return NULL;
  /* q_after starting at the DQ's output: the activation is n itself */
  if (opt_sole_consumer(c, n->inputs[0], NULL) != n) return NULL;
  if (!q_after(c, n->inputs[0], &y, &qn, &actn, &act, &a, &b) || actn != n || y.type != x.type) return NULL;
  int xz = zp_input(c, &x, n->name), yz = zp_input(c, &y, n->name);
  if (xz < 0 || yz < 0) return OOM();
  int ins[8] = {x.x, x.s, xz, xz, x.s, xz, y.s, yz};
  return rewrite_act(c, n, "QLinearAdd", 8, ins, qn, NULL, act, a, b, done);
}

/* DQ(x_1), DQ(x_2), ... -> Concat -> Q: QLinearConcat (each input requantized to Q's grid
 * unless it is on it already) */
static er_status fuse_concat(opt_ctx *c, er_node *n, int *done) {
  qp y, x;
  if (n->n_inputs < 1 || n->n_inputs > 64 || n->n_outputs != 1 || n->outputs[0] < 0) return NULL;
  er_node *qn = opt_sole_consumer(c, n->outputs[0], NULL);
  if (!qn || !q_node(c, qn, &y)) return NULL;
  for (int k = 0; k < n->n_inputs; k++)
    if (!dq_of(c, n->inputs[k], &x, 0) || x.type != y.type) return NULL;
  int ins[2 + 3 * 64];
  int yz = zp_input(c, &y, n->name);
  if (yz < 0) return OOM();
  ins[0] = y.s, ins[1] = yz;
  for (int k = 0; k < n->n_inputs; k++) {
    dq_of(c, n->inputs[k], &x, 0);
    int xz = zp_input(c, &x, n->name);
    if (xz < 0) return OOM();
    ins[2 + 3 * k] = x.x, ins[3 + 3 * k] = x.s, ins[4 + 3 * k] = xz;
  }
  int64_t axis = opt_attr_int(n, "axis", 0);
  opt_clear_attrs(n);
  if (opt_set_attr_int(c, n, "axis", axis)) return OOM();
  ER_RETURN_IF_ERROR(rewrite(c, n, ER_DOMAIN_EDGERUN, "QLinearConcat", 1, 2 + 3 * n->n_inputs, ins, qn, NULL));
  *done = 1;
  return NULL;
}

/* MatMul(A, DQ(4-bit constant B [K, N], blocks along K | per column | per tensor)) ->
 * MatMulQ4(A, B packed two per byte, scales [blocks, N], zero points [blocks, N]) */
static er_status fuse_q4(opt_ctx *c, er_node *n, int *done) {
  if (n->n_inputs != 2 || n->n_outputs != 1 || n->outputs[0] < 0 || er_node_attr(n, "_act")) return NULL;
  er_node *d = opt_producer(c, n->inputs[1]);
  if (!d || !opt_is(d, "DequantizeLinear") || d->n_inputs < 2 || d->outputs[0] != n->inputs[1]) return NULL;
  int b = d->inputs[0], sv = d->inputs[1], zv = d->n_inputs >= 3 ? d->inputs[2] : -1;
  if (!is_const(c, b) || (val(c, b)->dtype != ER_I4 && val(c, b)->dtype != ER_U4) || val(c, b)->rank != 2) return NULL;
  if (!is_const(c, sv) || val(c, sv)->dtype != ER_F32) return NULL;
  if (zv >= 0 && (!is_const(c, zv) || val(c, zv)->dtype != val(c, b)->dtype || numel(c, zv) != numel(c, sv))) return NULL;
  const int sg = val(c, b)->dtype == ER_I4;
  const int64_t K = val(c, b)->dims[0], N = val(c, b)->dims[1], ns = numel(c, sv);
  int64_t block = d->opset >= 21 ? opt_attr_int(d, "block_size", 0) : 0, axis = opt_attr_int(d, "axis", 1);
  if (axis < 0) axis += 2;
  int64_t nb;
  int percol; /* scale layout: [nb, N] (1) or one value (0) */
  if (block > 0) {
    nb = (K + block - 1) / block;
    if (axis != 0 || val(c, sv)->rank != 2 || val(c, sv)->dims[0] != nb || val(c, sv)->dims[1] != N) return NULL;
    percol = 1;
  } else if (ns == 1) {
    block = K, nb = 1, percol = 0;
  } else if (axis == 1 && ns == N) {
    block = K, nb = 1, percol = 1;
  } else {
    return NULL;
  }
  const float *sd = (const float *)val(c, sv)->data;
  for (int64_t i = 0; i < ns; i++)
    if (!isfinite(sd[i])) return NULL;
  /* packed weights, scales and zero points as [nb, N] */
  const int64_t rb = (N + 1) / 2;
  unsigned char *pk = (unsigned char *)calloc((size_t)(K * rb) + 1, 1);
  float *sc = (float *)malloc(sizeof(float) * (size_t)(nb * N) + 1);
  signed char *zp = zv >= 0 ? (signed char *)malloc((size_t)(nb * N) + 1) : NULL;
  if (!pk || !sc || (zv >= 0 && !zp)) {
    free(pk), free(sc), free(zp);
    return OOM();
  }
  const signed char *q = (const signed char *)val(c, b)->data;
  for (int64_t k = 0; k < K; k++)
    for (int64_t j = 0; j < N; j++) pk[k * rb + j / 2] |= (unsigned char)((q[k * N + j] & 0xf) << (4 * (j & 1)));
  for (int64_t i = 0; i < nb * N; i++) {
    sc[i] = sd[percol ? i : 0];
    if (zp) zp[i] = ((const signed char *)val(c, zv)->data)[percol ? i : 0];
  }
  int64_t pd[2] = {K, rb}, sdims[2] = {nb, N};
  const char *base = val(c, b)->name;
  int pv = opt_new_init(c, opt_join_name(c, base, "q4"), ER_U8, 2, pd, pk);
  int svn = opt_new_init(c, opt_join_name(c, base, "q4_scale"), ER_F32, 2, sdims, sc);
  int zvn = zp ? opt_new_init(c, opt_join_name(c, base, "q4_zero_point"), sg ? ER_I8 : ER_U8, 2, sdims, zp) : -1;
  free(pk), free(sc), free(zp);
  if (pv < 0 || svn < 0 || (zp && zvn < 0)) return OOM();
  const er_op_def *op = er_op_find(ER_DOMAIN_EDGERUN, ER_OP_MATMULQ4, 1);
  int ins[4] = {n->inputs[0], pv, svn, zvn};
  if (!op || opt_set_inputs(c, n, zvn >= 0 ? 4 : 3, ins)) return OOM();
  opt_clear_attrs(n);
  n->op_type = ER_OP_MATMULQ4, n->domain = ER_DOMAIN_EDGERUN, n->opset = 1, n->op = op;
  if (opt_set_attr_int(c, n, "K", K) || opt_set_attr_int(c, n, "N", N) || opt_set_attr_int(c, n, "block_size", block) ||
      opt_set_attr_int(c, n, "signed", sg))
    return OOM();
  *done = 1;
  return NULL;
}

/* Gather(DequantizeLinear(8-bit constant table [V, D]), indices) along axis 0 (an embedding):
 * gather the 8-bit rows first and dequantize only those, so the table stays 8-bit in memory
 * (bit-identical: each element is (float)(q - z) * s either way).
 *   per tensor / per column:  DequantizeLinear(Gather(T, idx), s, z) (axis -1 per column)
 *   per row:                  Mul(Sub(Cast(Gather(T, idx)), Cast(Unsqueeze(Gather(z, idx)))),
 *                                 Unsqueeze(Gather(s, idx)))   (no zero point: no Sub) */
static er_status fuse_gather(opt_ctx *c, er_node *n, int *done) {
  if (n->n_inputs != 2 || n->n_outputs != 1 || n->outputs[0] < 0 || opt_attr_int(n, "axis", 0) != 0) return NULL;
  er_node *d = opt_producer(c, n->inputs[0]);
  if (!d || !opt_is(d, "DequantizeLinear") || d->n_inputs < 2 || opt_sole_consumer(c, n->inputs[0], NULL) != n)
    return NULL;
  const int t = d->inputs[0], sv = d->inputs[1], zv = d->n_inputs > 2 ? d->inputs[2] : -1;
  if (!is_const(c, t) || val(c, t)->rank != 2 || !is8(val(c, t)->dtype) || !is_const(c, sv) ||
      val(c, sv)->dtype != ER_F32 || (zv >= 0 && (!is_const(c, zv) || numel(c, zv) != numel(c, sv))))
    return NULL;
  if ((d->opset >= 21 && opt_attr_int(d, "block_size", 0)) || (d->opset >= 23 && opt_attr_int(d, "output_dtype", 0)))
    return NULL;
  const int64_t V = val(c, t)->dims[0], D = val(c, t)->dims[1], ns = numel(c, sv);
  int64_t axis = opt_attr_int(d, "axis", 1);
  axis = axis < 0 ? axis + 2 : axis;
  const int per_row = ns > 1 && axis == 0 && ns == V;
  if (ns > 1 && !(axis == 1 && ns == D) && !per_row) return NULL;
  const int idx = n->inputs[1], y = n->outputs[0];
  const char *base = n->name;
  /* n becomes Gather(T, idx) -> gq */
  int gq = opt_new_value(c, opt_join_name(c, base, "q"), ER_VALUE_NODE);
  if (gq < 0) return OOM();
  n = opt_producer(c, y);
  opt_set_input(c, n, 0, t);
  opt_set_output(c, n, 0, gq);
  if (!per_row) {
    int ins[3] = {gq, sv, zv};
    int k = opt_add_node(c, "", "DequantizeLinear", 13, opt_join_name(c, base, "dq"), zv >= 0 ? 3 : 2, ins, 1, &y);
    if (k < 0 || (ns > 1 && opt_set_attr_int(c, &c->g->nodes[k], "axis", -1))) return OOM();
    *done = 1;
    return NULL;
  }
  const int64_t one = 1, minus1 = -1;
  int axes = opt_new_init(c, opt_join_name(c, base, "axes"), ER_I64, 1, &one, &minus1);
  int gs = opt_new_value(c, opt_join_name(c, base, "s"), ER_VALUE_NODE);
  int us = opt_new_value(c, opt_join_name(c, base, "s_col"), ER_VALUE_NODE);
  int fq = opt_new_value(c, opt_join_name(c, base, "qf"), ER_VALUE_NODE);
  if (axes < 0 || gs < 0 || us < 0 || fq < 0) return OOM();
  int in2[2] = {sv, idx}, un[2] = {gs, axes};
  int k1 = opt_add_node(c, "", "Gather", 13, opt_join_name(c, base, "gather_s"), 2, in2, 1, &gs);
  int k2 = opt_add_node(c, "", "Unsqueeze", 13, opt_join_name(c, base, "unsqueeze_s"), 2, un, 1, &us);
  int k3 = opt_add_node(c, "", "Cast", 13, opt_join_name(c, base, "cast_q"), 1, &gq, 1, &fq);
  if (k1 < 0 || k2 < 0 || k3 < 0 || opt_set_attr_int(c, &c->g->nodes[k3], "to", ER_F32)) return OOM();
  int diff = fq;
  if (zv >= 0) {
    int gz = opt_new_value(c, opt_join_name(c, base, "z"), ER_VALUE_NODE);
    int uz = opt_new_value(c, opt_join_name(c, base, "z_col"), ER_VALUE_NODE);
    int fz = opt_new_value(c, opt_join_name(c, base, "zf"), ER_VALUE_NODE);
    diff = opt_new_value(c, opt_join_name(c, base, "centered"), ER_VALUE_NODE);
    if (gz < 0 || uz < 0 || fz < 0 || diff < 0) return OOM();
    int inz[2] = {zv, idx}, unz[2] = {gz, axes}, sub[2] = {fq, fz};
    int k4 = opt_add_node(c, "", "Gather", 13, opt_join_name(c, base, "gather_z"), 2, inz, 1, &gz);
    int k5 = opt_add_node(c, "", "Unsqueeze", 13, opt_join_name(c, base, "unsqueeze_z"), 2, unz, 1, &uz);
    int k6 = opt_add_node(c, "", "Cast", 13, opt_join_name(c, base, "cast_z"), 1, &uz, 1, &fz);
    int k7 = opt_add_node(c, "", "Sub", 14, opt_join_name(c, base, "sub_z"), 2, sub, 1, &diff);
    if (k4 < 0 || k5 < 0 || k6 < 0 || k7 < 0 || opt_set_attr_int(c, &c->g->nodes[k6], "to", ER_F32)) return OOM();
  }
  int mul[2] = {diff, us};
  if (opt_add_node(c, "", "Mul", 14, opt_join_name(c, base, "scale"), 2, mul, 1, &y) < 0) return OOM();
  *done = 1;
  return NULL;
}

/* 1 if v is a float32 scalar (a constant, or a value the planner found to have one element) */
static int f32_scalar(const opt_ctx *c, int v) {
  if (v < 0) return 0;
  if (is_const(c, v)) return val(c, v)->dtype == ER_F32 && numel(c, v) == 1;
  if (opt_dtype(c, v) != ER_F32 || opt_rank(c, v) < 0) return 0;
  for (int d = 0; d < opt_rank(c, v); d++)
    if (c->vi_dims[v][d] != 1) return 0;
  return 1;
}

/* MatMulInteger(A, B const [K, N], a_zp, b_zp) -> Cast(float) -> Mul(., Mul(a_scale, b_scale))
 * [-> Add(., bias const [N])] (ONNX Runtime's dynamic quantization, edgerun quantize --dynamic
 * --format qoperator) -> com.microsoft MatMulIntegerToFloat(A, B, a_scale, b_scale, a_zp,
 * b_zp, bias): the int32 sums become floats in the GEMM's tiles, with the same two roundings. */
static er_status fuse_mmi(opt_ctx *c, er_node *n, int *done) {
  if (n->n_inputs < 2 || n->n_outputs != 1 || n->outputs[0] < 0) return NULL;
  const int b = n->inputs[1], N = is_const(c, b) && val(c, b)->rank == 2 ? (int)val(c, b)->dims[1] : -1;
  if (N < 0) return NULL;
  er_node *cast = opt_sole_consumer(c, n->outputs[0], NULL);
  if (!cast || !opt_is(cast, "Cast") || opt_attr_int(cast, "to", 0) != ER_F32 || cast->outputs[0] < 0) return NULL;
  int slot;
  er_node *mul = opt_sole_consumer(c, cast->outputs[0], &slot);
  if (!mul || !opt_is(mul, "Mul") || mul->n_inputs != 2 || mul->outputs[0] < 0) return NULL;
  er_node *sm = opt_producer(c, mul->inputs[1 - slot]);
  if (!sm || !opt_is(sm, "Mul") || sm->n_inputs != 2) return NULL;
  int as = sm->inputs[0], bs = sm->inputs[1];
  if (!f32_scalar(c, as)) as = sm->inputs[1], bs = sm->inputs[0];
  if (!f32_scalar(c, as) || !is_const(c, bs) || val(c, bs)->dtype != ER_F32 ||
      !(numel(c, bs) == 1 || (val(c, bs)->rank == 1 && numel(c, bs) == N)))
    return NULL;
  if (numel(c, bs) == 1 && !f32_scalar(c, sm->inputs[0] == as ? sm->inputs[1] : sm->inputs[0])) return NULL;
  /* an Add of a constant float [N] right after: the bias */
  int y = mul->outputs[0], bias = -1;
  er_node *add = opt_sole_consumer(c, y, &slot);
  if (add && opt_is(add, "Add") && add->n_inputs == 2 && add->outputs[0] >= 0) {
    int bv = add->inputs[1 - slot];
    if (is_const(c, bv) && val(c, bv)->dtype == ER_F32 && val(c, bv)->rank == 1 && val(c, bv)->dims[0] == N &&
        opt_rank(c, add->outputs[0]) == opt_rank(c, y))
      bias = bv;
    else
      add = NULL;
  } else {
    add = NULL;
  }
  const er_op_def *d = er_op_find("com.microsoft", "MatMulIntegerToFloat", 1);
  if (!d) return NULL;
  int ins[7] = {n->inputs[0], b, as, bs, n->n_inputs > 2 ? n->inputs[2] : -1, n->n_inputs > 3 ? n->inputs[3] : -1, bias};
  int out = add ? add->outputs[0] : y;
  opt_kill(c, cast);
  opt_kill(c, mul);
  if (add) opt_kill(c, add);
  if (opt_set_inputs(c, n, bias >= 0 ? 7 : 6, ins)) return OOM();
  opt_clear_attrs(n);
  n->op_type = "MatMulIntegerToFloat", n->domain = "com.microsoft", n->opset = 1, n->op = d;
  opt_set_output(c, n, 0, out);
  *done = 1;
  return NULL;
}

/* Data-movement ops between a DQ and a Q with the same parameters run on the 8-bit data. */
static int moves_data(const er_node *n) {
  return opt_is(n, "MaxPool") || opt_is(n, "Reshape") || opt_is(n, "Flatten") || opt_is(n, "Transpose") ||
         opt_is(n, "Squeeze") || opt_is(n, "Unsqueeze");
}

static er_status drop_qdq(opt_ctx *c, er_node *n, int *done) {
  qp x, y;
  if (n->n_inputs < 1 || n->n_outputs != 1 || n->outputs[0] < 0) return NULL;
  if (!dq_of(c, n->inputs[0], &x, 0) || !is8(x.type)) return NULL;
  er_node *qn = opt_sole_consumer(c, n->outputs[0], NULL);
  if (!qn || !q_node(c, qn, &y) || !same_q(c, &x, &y)) return NULL;
  int out = qn->outputs[0];
  opt_set_input(c, n, 0, x.x);
  opt_kill(c, qn);
  opt_set_output(c, n, 0, out);
  *done = 1;
  return NULL;
}

/* ---------------------------------------------------------------- channels-last integer convs
 *
 * Until the layout pass (layout.c) routes integer convolutions, this pass makes them
 * channels-last itself: every 2-D QLinearConv becomes NhwcQLinearConv between Transposes
 * (to [N,H,W,C] before, back to [N,C,H,W] after), then Transpose pairs that undo each other
 * cancel, and the back-Transposes move below QLinearAdd (both inputs channels-last),
 * QLinearConcat of channels (axis 1 -> 3), 8-bit MaxPool (-> com.microsoft NhwcMaxPool) and
 * into QLinearGlobalAveragePool (channels_last = 1),
 * so a chain of integer ops runs channels-last with Transposes only at its borders.
 * ER_QDQ_NHWC=0 keeps them channels-first. */
static const int64_t TO_LAST[4] = {0, 2, 3, 1}, TO_FIRST[4] = {0, 3, 1, 2};

static int is_perm(const er_node *n, const int64_t *p) {
  if (!opt_is(n, "Transpose") || n->n_inputs != 1 || n->n_outputs != 1) return 0;
  const er_attr *a = er_node_attr(n, "perm");
  if (!a || a->type != ER_ATTR_INTS || a->n != 4) return 0;
  for (int i = 0; i < 4; i++)
    if (a->ints[i] != p[i]) return 0;
  return 1;
}

/* y = Transpose(x, perm) as a new node; -1 on OOM. Invalidates node pointers. */
static int add_transpose(opt_ctx *c, int x, int y, const int64_t *perm, const char *name) {
  int i = opt_add_node(c, "", "Transpose", 13, name, 1, &x, 1, &y);
  if (i < 0 || opt_set_attr_ints(c, &c->g->nodes[i], "perm", 4, perm)) return -1;
  return i;
}

/* The input of the TO_FIRST Transpose producing v, or -1. */
static int from_first(const opt_ctx *c, int v) {
  er_node *t = opt_producer(c, v);
  return t && is_perm(t, TO_FIRST) ? t->inputs[0] : -1;
}

/* The channels-last form of v for an elementwise op: the input of the TO_FIRST Transpose
 * that made v, the output of a TO_LAST Transpose already reading v, or v itself when it is
 * a one-element constant; -1 if none. *moved tells whether v came through a TO_FIRST. */
static int last_form(const opt_ctx *c, int v, int *moved) {
  int a = from_first(c, v);
  *moved = a >= 0;
  if (a >= 0) return a;
  if (is_const(c, v) && numel(c, v) == 1) return v;
  er_node *cons[16];
  int k = opt_consumers(c, v, cons, 16);
  for (int i = 0; i < k && i < 16; i++)
    if (is_perm(cons[i], TO_LAST) && cons[i]->inputs[0] == v) return cons[i]->outputs[0];
  return -1;
}

/* Give node i a channels-last output: its output y becomes Transpose(new value, TO_FIRST). */
static er_status relayout_output(opt_ctx *c, int i, int *out_new) {
  er_node *n = &c->g->nodes[i];
  int y = n->outputs[0];
  int yt = opt_new_value(c, opt_join_name(c, c->g->values[y].name, "nhwc"), ER_VALUE_NODE);
  if (yt < 0) return OOM();
  n = &c->g->nodes[i];
  opt_set_output(c, n, 0, yt);
  if (add_transpose(c, yt, y, TO_FIRST, opt_join_name(c, n->name, "to_nchw")) < 0) return OOM();
  *out_new = yt;
  return NULL;
}

/* QuantizeLinear(float32 x, per tensor) -> Transpose(TO_LAST) at the input of a
 * channels-last chain: one edgerun QuantizeLinear with channels_last = 1 (kernels/qops.h),
 * which quantizes and interleaves the channels in one pass. */
static er_status quantize_to_last(opt_ctx *c, int *count) {
  const er_op_def *d = er_op_find(ER_DOMAIN_EDGERUN, "QuantizeLinear", 1);
  for (int i = 0; d && i < c->g->n_nodes; i++) {
    er_node *t = &c->g->nodes[i];
    if (c->dead[i] || !is_perm(t, TO_LAST) || t->outputs[0] < 0) continue;
    int v = t->inputs[0];
    er_node *q = opt_producer(c, v);
    er_node *cons[8]; /* readers left without readers (the DequantizeLinear a fusion replaced) go first */
    int nc = opt_consumers(c, v, cons, 8);
    for (int k = 0; k < nc && k < 8; k++) {
      int unread = cons[k] != t;
      for (int o = 0; o < cons[k]->n_outputs && unread; o++) unread = cons[k]->outputs[o] < 0 || opt_refs(c, cons[k]->outputs[o]) == 0;
      if (unread) opt_kill(c, cons[k]);
    }
    if (!q || !opt_is(q, "QuantizeLinear") || q->n_outputs != 1 || opt_sole_consumer(c, v, NULL) != t) continue;
    int xt = val(c, q->inputs[0])->dtype ? val(c, q->inputs[0])->dtype : opt_dtype(c, q->inputs[0]);
    if (q->n_inputs < 2 || xt != ER_F32 || !is_const(c, q->inputs[1]) ||
        val(c, q->inputs[1])->dtype != ER_F32 || numel(c, q->inputs[1]) != 1)
      continue;
    int zp = q->n_inputs > 2 ? q->inputs[2] : -1, zt = zp >= 0 ? val(c, zp)->dtype : ER_U8;
    if (zp >= 0 && (!is_const(c, zp) || numel(c, zp) != 1)) continue;
    if ((zt != ER_U8 && zt != ER_I8) || opt_attr_int(q, "block_size", 0) != 0) continue;
    int64_t odt = opt_attr_int(q, "output_dtype", 0);
    if (odt && odt != zt) continue;
    int y = t->outputs[0];
    opt_kill(c, t);
    opt_set_output(c, q, 0, y);
    opt_clear_attrs(q);
    q->op_type = "QuantizeLinear", q->domain = ER_DOMAIN_EDGERUN, q->opset = 1, q->op = d;
    if (opt_set_attr_int(c, q, "channels_last", 1)) return OOM();
    (*count)++;
  }
  return NULL;
}

static er_status channels_last(opt_ctx *c, int *count) {
  const char *env = getenv("ER_QDQ_NHWC");
  if (env && !strcmp(env, "0")) return NULL;
  const er_op_def *d = er_op_find(ER_DOMAIN_EDGERUN, ER_OP_NHWC_QLINEARCONV, 1);
  const er_op_def *mp = er_op_find("com.microsoft", "NhwcMaxPool", 1);
  if (!d) return NULL;
  int n0 = c->g->n_nodes;
  for (int i = 0; i < n0; i++) {
    er_node *n = &c->g->nodes[i];
    if (c->dead[i] || !opt_is(n, "QLinearConv") || n->n_inputs < 8 || n->n_outputs != 1 || n->outputs[0] < 0) continue;
    if (!is_const(c, n->inputs[3]) || val(c, n->inputs[3])->rank != 4) continue;
    int x = n->inputs[0];
    int xt = opt_new_value(c, opt_join_name(c, c->g->values[x].name, "nhwc"), ER_VALUE_NODE);
    if (xt < 0 || add_transpose(c, x, xt, TO_LAST, opt_join_name(c, c->g->nodes[i].name, "to_nhwc")) < 0) return OOM();
    n = &c->g->nodes[i];
    opt_set_input(c, n, 0, xt);
    n->op_type = ER_OP_NHWC_QLINEARCONV, n->domain = ER_DOMAIN_EDGERUN, n->opset = 1, n->op = d;
    int yt;
    ER_RETURN_IF_ERROR(relayout_output(c, i, &yt));
    (*count)++;
  }
  for (int changed = 1; changed;) {
    changed = 0;
    for (int i = 0; i < c->g->n_nodes; i++) {
      if (c->dead[i]) continue;
      er_node *n = &c->g->nodes[i];
      if (is_perm(n, TO_LAST)) { /* Transpose(Transpose(x, TO_FIRST), TO_LAST) = x */
        int x = from_first(c, n->inputs[0]);
        if (x >= 0 && opt_forward(c, n, n->outputs[0], x)) changed = 1;
      } else if (!strcmp(n->domain, ER_DOMAIN_EDGERUN) && !strcmp(n->op_type, "QLinearAdd") && n->n_inputs >= 4) {
        int ma, mb, a = last_form(c, n->inputs[0], &ma), b = last_form(c, n->inputs[3], &mb);
        if (a < 0 || b < 0 || !(ma || mb)) continue; /* progress: one input was channels-first */
        opt_set_input(c, n, 0, a);
        opt_set_input(c, n, 3, b);
        int yt;
        ER_RETURN_IF_ERROR(relayout_output(c, i, &yt));
        changed = 1;
      } else if (!strcmp(n->domain, ER_DOMAIN_EDGERUN) && !strcmp(n->op_type, "QLinearConcat") &&
                 opt_attr_int(n, "axis", 0) == 1 && n->n_inputs >= 5) {
        /* concatenating channels: every input channels-last -> axis 3 */
        int ok = 1, any = 0, forms[64];
        for (int k = 2; k < n->n_inputs && ok; k += 3) {
          int moved, f = last_form(c, n->inputs[k], &moved);
          ok = f >= 0 && f != n->inputs[k]; /* not a constant: it must have rank 4 */
          forms[(k - 2) / 3] = f;
          any |= moved;
        }
        if (!ok || !any) continue;
        for (int k = 2; k < n->n_inputs; k += 3) opt_set_input(c, n, k, forms[(k - 2) / 3]);
        if (opt_set_attr_int(c, n, "axis", 3)) return OOM();
        int yt;
        ER_RETURN_IF_ERROR(relayout_output(c, i, &yt));
        changed = 1;
      } else if (opt_is(n, "MaxPool") && n->n_outputs == 1 && opt_attr_int(n, "storage_order", 0) == 0) {
        /* an 8-bit MaxPool (the QDQ pass made it so: its input comes from a to-NCHW
         * Transpose of an integer op) -> com.microsoft NhwcMaxPool */
        int a = from_first(c, n->inputs[0]);
        const er_attr *ks = er_node_attr(n, "kernel_shape");
        if (a < 0 || !mp || !ks || ks->n != 2) continue;
        opt_set_input(c, n, 0, a);
        n->op_type = "NhwcMaxPool", n->domain = "com.microsoft", n->opset = 1, n->op = mp;
        int yt;
        ER_RETURN_IF_ERROR(relayout_output(c, i, &yt));
        changed = 1;
      } else if (!strcmp(n->domain, ER_DOMAIN_EDGERUN) && !strcmp(n->op_type, "QLinearGlobalAveragePool") &&
                 !er_node_attr(n, "channels_last")) {
        int a = from_first(c, n->inputs[0]);
        if (a < 0) continue;
        opt_set_input(c, n, 0, a);
        if (opt_set_attr_int(c, n, "channels_last", 1)) return OOM();
        int yt;
        ER_RETURN_IF_ERROR(relayout_output(c, i, &yt));
        changed = 1;
      }
    }
  }
  return quantize_to_last(c, count);
}

er_status opt_pass_qdq(opt_ctx *c, int *out_count) {
  *out_count = 0;
  const char *env = getenv("ER_QDQ");
  if (env && !strcmp(env, "0")) return NULL;
  for (int round = 0; round < 4; round++) {
    int before = *out_count;
    for (int i = 0; i < c->g->n_nodes; i++) {
      if (c->dead[i]) continue;
      er_node *n = &c->g->nodes[i];
      int done = 0;
      if (opt_is(n, "Conv")) ER_RETURN_IF_ERROR(fuse_conv(c, n, &done));
      else if (opt_is(n, "MatMul") || opt_is(n, "Gemm")) ER_RETURN_IF_ERROR(fuse_gemm(c, n, &done));
      if (!done && opt_is(&c->g->nodes[i], "MatMul")) ER_RETURN_IF_ERROR(fuse_q4(c, &c->g->nodes[i], &done));
      else if (opt_is(n, "Add")) ER_RETURN_IF_ERROR(fuse_add(c, n, &done));
      else if (opt_is(n, "GlobalAveragePool")) ER_RETURN_IF_ERROR(fuse_gap(c, n, &done));
      else if (opt_is(n, "Relu") || opt_is(n, "Clip")) ER_RETURN_IF_ERROR(fuse_act(c, n, &done));
      else if (opt_is(n, "Concat")) ER_RETURN_IF_ERROR(fuse_concat(c, n, &done));
      else if (opt_is(n, "Gather")) ER_RETURN_IF_ERROR(fuse_gather(c, n, &done));
      else if (opt_is(n, "MatMulInteger")) ER_RETURN_IF_ERROR(fuse_mmi(c, n, &done));
      else if (moves_data(n)) ER_RETURN_IF_ERROR(drop_qdq(c, n, &done));
      *out_count += done;
    }
    if (*out_count == before) break;
  }
  return channels_last(c, out_count);
}
