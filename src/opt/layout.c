/* Channels-last layout (see kernels/nhwc.h) and the Transpose optimizer.
 *
 * 1. Convert: every float32 Conv with constant weights and 1 or 2 spatial dims (and every
 *    ConvTranspose whose kernel tiles its output: a 1x1 NhwcConv with _up), and every
 *    float32 MaxPool (without Indices) / AveragePool / GlobalAveragePool / GlobalMaxPool,
 *    becomes its channels-last internal op between two Transposes:
 *        y = Op(x)   ->   y = Transpose(NhwcOp(Transpose(x, to_last)), to_first)
 *    to_last = [0,2,3,1] (or [0,2,1]), to_first = [0,3,1,2] (or [0,2,1]).
 * 2. Cancel: Transpose(Transpose(x, p), q) is x when q undoes p, else Transpose(x, p∘q)
 *    when the inner one has no other reader.
 * 3. Push: a to_first Transpose made here moves below a layout-agnostic node (elementwise,
 *    broadcasting with constants, Concat, Split, Slice, Pad, Softmax, keepdims reductions,
 *    Resize, per-tensor/per-axis Quantize/DequantizeLinear) when every activation input of
 *    that node arrives through such a Transpose: the node then runs channels-last (its axis
 *    attributes and constant inputs rewritten; a reduction without keepdims whose kept axes
 *    keep their order, such as a mean over H and W, needs no Transpose after it), and one
 *    Transpose follows each output —
 *    where it meets the next region's to_last Transpose, step 2 removes both.
 * Steps 2 and 3 repeat until nothing changes; Transposes nobody reads are removed.
 * 4. A to_last Transpose of a graph input whose only reader is an NhwcConv goes: the conv
 *    gets _nchw_in = 1 and reads the channels-first input directly.
 *
 * A push happens only when it removes at least one input Transpose (one read by this node
 * alone), so the count of Transposes never grows along a chain; they only move down.
 * Environment: ER_LAYOUT=0 skips this pass (for comparisons). */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernel.h"
#include "kernels/nhwc.h"
#include "opt/ir_edit.h"

#define OOM() ER_ERR(ER_OUT_OF_MEMORY, "out of memory in the layout pass")

typedef struct lay {
  opt_ctx *c;
  unsigned char *ours; /* per value: output of a to_first Transpose made by this pass */
  int cap;
} lay;

static int mark_ours(lay *L, int v) {
  if (v >= L->cap) {
    int cap = (v + 1) * 2;
    unsigned char *o = (unsigned char *)realloc(L->ours, (size_t)cap);
    if (!o) return -1;
    memset(o + L->cap, 0, (size_t)(cap - L->cap));
    L->ours = o;
    L->cap = cap;
  }
  L->ours[v] = 1;
  return 0;
}
static int is_ours(const lay *L, int v) { return v >= 0 && v < L->cap && L->ours[v]; }

static int perm_of(const opt_ctx *c, const er_node *t, int64_t *perm) {
  const er_attr *a = er_node_attr(t, "perm");
  if (a) {
    if (a->type != ER_ATTR_INTS || a->n > ER_MAX_RANK || a->n < 1) return -1;
    unsigned seen = 0;
    for (int i = 0; i < a->n; i++) {
      if (a->ints[i] < 0 || a->ints[i] >= a->n || (seen >> a->ints[i] & 1u)) return -1;
      seen |= 1u << a->ints[i];
      perm[i] = a->ints[i];
    }
    return a->n;
  }
  int r = opt_rank(c, t->inputs[0]);
  if (r < 1) return -1;
  for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
  return r;
}

/* to_first (channels-last -> channels-first) permutation of rank r (3 or 4) */
static int to_first(int r, int64_t *p) {
  if (r == 4) {
    p[0] = 0, p[1] = 3, p[2] = 1, p[3] = 2;
    return 4;
  }
  p[0] = 0, p[1] = 2, p[2] = 1;
  return 3;
}
static int to_last(int r, int64_t *p) {
  if (r == 4) {
    p[0] = 0, p[1] = 2, p[2] = 3, p[3] = 1;
    return 4;
  }
  p[0] = 0, p[1] = 2, p[2] = 1;
  return 3;
}

/* Add y = Transpose(x, perm); returns the node index or -1. */
static int add_transpose(opt_ctx *c, int x, int y, const int64_t *perm, int r, const char *name) {
  int idx = opt_add_node(c, "", "Transpose", 13, name, 1, &x, 1, &y);
  if (idx < 0) return -1;
  if (opt_set_attr_ints(c, &c->g->nodes[idx], "perm", r, perm) != 0) return -1;
  return idx;
}

/* Facts of a value made channels-last from v (dims permuted by to_last). */
static void note_permuted(opt_ctx *c, int dst, int src, const int64_t *p_last, int r) {
  c->vi_dtype[dst] = c->vi_dtype[src];
  if (c->vi_rank[src] != r) {
    c->vi_rank[dst] = c->vi_rank[src] < 0 ? -1 : r;
    return;
  }
  c->vi_rank[dst] = r;
  for (int i = 0; i < r; i++) c->vi_dims[dst][i] = c->vi_dims[src][p_last[i]];
}

static int retype_internal(er_node *n, const char *op_type) {
  const er_op_def *op = er_op_find(ER_DOMAIN_EDGERUN, op_type, 1);
  if (!op) return 0;
  n->op_type = op_type;
  n->domain = ER_DOMAIN_EDGERUN;
  n->opset = 1;
  n->op = op;
  return 1;
}

/* ------------------------------------------------------------------ 1. convert */

/* Rank of a float32 activation x, or -1 if not known to be float32 of rank 3 or 4. */
static int f32_rank(const lay *L, int x) {
  const opt_ctx *c = L->c;
  if (x < 0) return -1;
  int r = opt_rank(c, x), dt = opt_dtype(c, x);
  if (is_ours(L, x)) { /* made by this pass from a channels-last float op */
    const er_node *t = opt_producer(c, x);
    int64_t p[ER_MAX_RANK];
    if (t) r = perm_of(c, t, p), dt = ER_F32;
  }
  return dt == ER_F32 && (r == 3 || r == 4) ? r : -1;
}

static const char *nhwc_name(const er_node *n) {
  if (opt_is(n, "Conv") || opt_is(n, "ConvTranspose")) return ER_OP_NHWC_CONV;
  if (opt_is(n, "MaxPool")) return ER_OP_NHWC_MAXPOOL;
  if (opt_is(n, "AveragePool")) return ER_OP_NHWC_AVGPOOL;
  if (opt_is(n, "GlobalAveragePool")) return ER_OP_NHWC_GAVGPOOL;
  if (opt_is(n, "GlobalMaxPool")) return ER_OP_NHWC_GMAXPOOL;
  return NULL;
}

/* An INTS attribute absent or with every value equal to v (n values when present). */
static int ints_all(const er_node *n, const char *name, int cnt, int64_t v) {
  const er_attr *a = er_node_attr(n, name);
  if (!a) return 1;
  if (a->type != ER_ATTR_INTS || a->n != cnt) return 0;
  for (int i = 0; i < a->n; i++)
    if (a->ints[i] != v) return 0;
  return 1;
}

/* A ConvTranspose whose kernel tiles the output without overlap (strides = kernel, no
 * pads, dilation 1, group 1): each input pixel's kH x kW output block is a 1x1 conv to
 * kH*kW*M channels, which NhwcConv writes in place with _up = [kH, kW]. */
static int convt_tiles(const opt_ctx *c, const er_node *n, const er_value *w) {
  const int nsp = w->rank - 2;
  if (opt_attr_int(n, "group", 1) != 1) return 0;
  const er_attr *ks = er_node_attr(n, "kernel_shape"), *st = er_node_attr(n, "strides");
  if (!st || st->type != ER_ATTR_INTS || st->n != nsp) return 0;
  for (int i = 0; i < nsp; i++)
    if (st->ints[i] != w->dims[2 + i] || (ks && (ks->type != ER_ATTR_INTS || ks->n != nsp || ks->ints[i] != w->dims[2 + i])))
      return 0;
  const er_attr *ap = er_node_attr(n, "auto_pad");
  if (ap && (ap->type != ER_ATTR_STRING || (strcmp(ap->s, "NOTSET") && strcmp(ap->s, "VALID")))) return 0;
  if (er_node_attr(n, "output_shape")) return 0;
  return ints_all(n, "pads", 2 * nsp, 0) && ints_all(n, "dilations", nsp, 1) && ints_all(n, "output_padding", nsp, 0);
}

/* ConvTranspose -> the weights and attributes of the equivalent 1x1 NhwcConv with _up:
 * W'[(kh*kW + kw)*M + m][c] = W[c][m][kh][kw], B' = B repeated kH*kW times. */
static er_status convt_rewrite(opt_ctx *c, int i) {
  er_node *n = &c->g->nodes[i];
  const er_value *w = &c->g->values[n->inputs[1]];
  const int nsp = w->rank - 2;
  const int64_t C = w->dims[0], M = w->dims[1], kh = nsp == 2 ? w->dims[2] : 1, kw = w->dims[w->rank - 1];
  const int64_t T = kh * kw, Mp = T * M;
  int64_t nw;
  const float *W = opt_const_f32(c, n->inputs[1], &nw);
  if (!W || nw != C * Mp) return ER_ERR(ER_INTERNAL, "layout: ConvTranspose '%s' weights unreadable", n->name);
  float *w2 = (float *)malloc(sizeof(float) * (size_t)(C * Mp + Mp));
  if (!w2) return OOM();
  for (int64_t ci = 0; ci < C; ci++)
    for (int64_t m = 0; m < M; m++)
      for (int64_t t = 0; t < T; t++) w2[(t * M + m) * C + ci] = W[(ci * M + m) * T + t];
  int64_t wd[4] = {Mp, C, 1, 1};
  int wi = opt_new_init_f32(c, w->name, w->rank, wd, w2), bi = -1;
  if (wi >= 0 && n->n_inputs > 2 && n->inputs[2] >= 0) {
    int64_t nb;
    const float *B = opt_const_f32(c, n->inputs[2], &nb);
    if (!B || nb != M) {
      free(w2);
      return ER_ERR(ER_INTERNAL, "layout: ConvTranspose '%s' bias unreadable", n->name);
    }
    for (int64_t o = 0; o < Mp; o++) w2[o] = B[o % M];
    bi = opt_new_init_f32(c, c->g->values[n->inputs[2]].name, 1, &Mp, w2);
  }
  free(w2);
  if (wi < 0 || (n->n_inputs > 2 && n->inputs[2] >= 0 && bi < 0)) return OOM();
  n = &c->g->nodes[i];
  const int64_t ones[2] = {1, 1}, zeros[4] = {0, 0, 0, 0}, up[2] = {kh, kw};
  int ins[3] = {n->inputs[0], wi, bi};
  if (opt_set_inputs(c, n, bi >= 0 ? 3 : 2, ins) != 0) return OOM();
  n = &c->g->nodes[i];
  if (opt_set_attr_ints(c, n, "kernel_shape", nsp, ones) || opt_set_attr_ints(c, n, "strides", nsp, ones) ||
      opt_set_attr_ints(c, n, "dilations", nsp, ones) || opt_set_attr_ints(c, n, "pads", 2 * nsp, zeros) ||
      opt_set_attr_ints(c, n, "output_padding", nsp, zeros) || opt_set_attr_ints(c, n, "_up", 2, up))
    return OOM();
  return NULL;
}

/* Rank of the convertible node's input, or -1 when it must stay as it is. */
static int convertible(const lay *L, const er_node *n) {
  const opt_ctx *c = L->c;
  const char *to = nhwc_name(n);
  if (!to || n->n_inputs < 1 || n->inputs[0] < 0 || n->n_outputs < 1 || n->outputs[0] < 0) return -1;
  if (!er_op_find(ER_DOMAIN_EDGERUN, to, 1)) return -1;
  for (int k = 1; k < n->n_outputs; k++)
    if (n->outputs[k] >= 0) return -1; /* MaxPool Indices */
  if (opt_is(n, "Conv") || opt_is(n, "ConvTranspose")) {
    if (n->n_inputs < 2 || n->inputs[1] < 0) return -1;
    const er_value *w = &c->g->values[n->inputs[1]];
    if (w->kind != ER_VALUE_INITIALIZER || w->dtype != ER_F32 || (w->rank != 3 && w->rank != 4)) return -1;
    if (opt_is(n, "ConvTranspose") && !convt_tiles(c, n, w)) return -1;
    if (n->n_inputs > 2 && n->inputs[2] >= 0) {
      const er_value *b = &c->g->values[n->inputs[2]];
      if (b->kind != ER_VALUE_INITIALIZER || b->dtype != ER_F32) return -1;
    }
    int r = opt_rank(c, n->inputs[0]);
    if (r >= 0 && r != w->rank) return -1; /* the kernel reports the error */
    int dt = opt_dtype(c, n->inputs[0]);
    if (dt && dt != ER_F32) return -1;
    return w->rank;
  }
  return f32_rank(L, n->inputs[0]);
}

static er_status convert(lay *L, int i, int r, int *count) {
  opt_ctx *c = L->c;
  er_graph *g = c->g;
  int64_t pl[ER_MAX_RANK], pf[ER_MAX_RANK];
  to_last(r, pl);
  to_first(r, pf);
  er_node *n = &g->nodes[i];
  const char *to = nhwc_name(n);
  if (opt_is(n, "ConvTranspose")) {
    er_status s = convt_rewrite(c, i);
    if (s) return s;
    n = &g->nodes[i];
  }
  int x = n->inputs[0], y = n->outputs[0];
  const char *nm = n->name;
  int xl = opt_new_value(c, g->values[x].name, ER_VALUE_NODE);
  int yl = xl >= 0 ? opt_new_value(c, g->values[y].name, ER_VALUE_NODE) : -1;
  if (xl < 0 || yl < 0) return OOM();
  const char *n_in = opt_join_name(c, nm, "to_nhwc"), *n_out = opt_join_name(c, nm, "to_nchw");
  if (!n_in || !n_out) return OOM();
  if (add_transpose(c, x, xl, pl, r, n_in) < 0) return OOM();
  n = &g->nodes[i]; /* the node array may have moved */
  if (!retype_internal(n, to)) return ER_ERR(ER_INTERNAL, "layout: no kernel for %s", to);
  opt_set_input(c, n, 0, xl);
  opt_set_output(c, n, 0, yl);
  if (add_transpose(c, yl, y, pf, r, n_out) < 0) return OOM();
  if (mark_ours(L, y) != 0) return OOM();
  note_permuted(c, xl, x, pl, r);
  note_permuted(c, yl, y, pl, r);
  (*count)++;
  return NULL;
}

/* ------------------------------------------------------------------ 2. cancel */

/* Transpose t2 reading Transpose t1: remove or merge. 1 if changed. */
static int cancel(lay *L, int i2) {
  opt_ctx *c = L->c;
  er_node *t2 = &c->g->nodes[i2];
  if (t2->n_inputs != 1 || t2->n_outputs != 1 || t2->inputs[0] < 0 || t2->outputs[0] < 0) return 0;
  er_node *t1 = opt_producer(c, t2->inputs[0]);
  if (!t1 || !opt_is(t1, "Transpose") || t1->n_inputs != 1 || t1->inputs[0] < 0) return 0;
  int64_t p1[ER_MAX_RANK], p2[ER_MAX_RANK], q[ER_MAX_RANK];
  int r1 = perm_of(c, t1, p1), r2 = perm_of(c, t2, p2);
  if (r1 < 0 || r1 != r2) return 0;
  int identity = 1;
  for (int j = 0; j < r2; j++) {
    q[j] = p1[p2[j]];
    identity &= q[j] == j;
  }
  int x = t1->inputs[0], mid = t2->inputs[0];
  if (identity) {
    if (!opt_forward(c, t2, t2->outputs[0], x)) return 0;
  } else {
    if (opt_refs(c, mid) != 1) return 0; /* t1 stays anyway: merging gains nothing */
    if (opt_set_attr_ints(c, t2, "perm", r2, q) != 0) return 0;
    opt_set_input(c, t2, 0, x);
  }
  er_node *p = opt_producer(c, mid);
  if (p && opt_refs(c, mid) == 0) opt_kill(c, p);
  return 1;
}

/* ------------------------------------------------------------------ 3. push */

enum { K_NONE, K_UNARY, K_BCAST, K_CONCAT, K_SPLIT, K_AXIS, K_REDUCE, K_SLICE, K_PAD, K_RESIZE };

static int kind_of(const er_node *n) {
  static const char *unary[] = {"Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid",
                                "HardSwish", "Tanh", "Softplus", "Softsign", "Exp", "Log", "Abs", "Neg",
                                "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Erf", "Gelu", "Mish",
                                "Sign", "Sin", "Cos", "Clip", "Cast", "Identity", "Not", "IsNaN",
                                "ThresholdedRelu", "Shrink", "IsInf", NULL};
  static const char *bcast[] = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean",
                                "PRelu", "Where", "Equal", "Less", "Greater", "LessOrEqual",
                                "GreaterOrEqual", "And", "Or", "Xor", "Mod", NULL};
  static const char *reduce[] = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd",
                                 "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum",
                                 "ReduceLogSumExp", NULL};
  if (n->domain && n->domain[0]) return K_NONE;
  for (int k = 0; unary[k]; k++)
    if (!strcmp(n->op_type, unary[k])) return K_UNARY;
  for (int k = 0; bcast[k]; k++)
    if (!strcmp(n->op_type, bcast[k])) return K_BCAST;
  for (int k = 0; reduce[k]; k++)
    if (!strcmp(n->op_type, reduce[k])) return K_REDUCE;
  if (!strcmp(n->op_type, "Concat")) return K_CONCAT;
  if (!strcmp(n->op_type, "Split")) return K_SPLIT;
  if (!strcmp(n->op_type, "Slice") && n->opset >= 10) return K_SLICE;
  if (!strcmp(n->op_type, "Pad") && n->opset >= 11) return K_PAD;
  if (!strcmp(n->op_type, "Resize") && n->opset >= 11) return K_RESIZE;
  if ((!strcmp(n->op_type, "Softmax") || !strcmp(n->op_type, "LogSoftmax") || !strcmp(n->op_type, "Hardmax")) &&
      n->opset >= 13)
    return K_AXIS;
  if (!strcmp(n->op_type, "QuantizeLinear") || !strcmp(n->op_type, "DequantizeLinear")) return K_AXIS;
  return K_NONE;
}

/* Which inputs of a node of kind k carry the activation (the others are parameters that
 * stay as they are or get rewritten per kind). */
static int is_data_input(int kind, const er_node *n, int k) {
  switch (kind) {
    case K_BCAST:
    case K_CONCAT:
      return 1;
    default:
      return k == 0;
  }
}

/* Constant copy of initializer v transposed so that Transpose(result, p) == v left-padded
 * to rank r. -1 on failure (OOM or unusable). */
static int transpose_const(opt_ctx *c, int v, const int64_t *p, int r) {
  const er_value *val = &c->g->values[v];
  size_t es = er_dtype_size(val->dtype);
  if (!es || val->rank > r || !val->data) return -1;
  int64_t d[ER_MAX_RANK], nd[ER_MAX_RANK];
  int pad = r - val->rank;
  for (int i = 0; i < r; i++) d[i] = i < pad ? 1 : val->dims[i - pad];
  for (int k = 0; k < r; k++) nd[p[k]] = d[k];
  int64_t n = er_shape_numel(d, r);
  char *buf = (char *)malloc(es * (size_t)(n ? n : 1));
  if (!buf) return -1;
  int64_t ns[ER_MAX_RANK]; /* strides of the new layout */
  ns[r - 1] = 1;
  for (int i = r - 2; i >= 0; i--) ns[i] = ns[i + 1] * nd[i + 1];
  int64_t idx[ER_MAX_RANK] = {0};
  for (int64_t e = 0; e < n; e++) {
    int64_t off = 0;
    for (int k = 0; k < r; k++) off += idx[k] * ns[p[k]];
    memcpy(buf + (size_t)off * es, (const char *)val->data + (size_t)e * es, es);
    for (int k = r - 1; k >= 0; k--) {
      if (++idx[k] < d[k]) break;
      idx[k] = 0;
    }
  }
  int out = opt_new_init(c, val->name, val->dtype, r, nd, buf);
  free(buf);
  return out;
}

/* A rank-1 int64 initializer. */
static int new_ints(opt_ctx *c, const char *name, const int64_t *v, int n) {
  int64_t d = n;
  return opt_new_init(c, name, ER_I64, 1, &d, v);
}

/* Axis a of the channels-first tensor (rank r, may be negative) in channels-last terms. */
static int64_t remap_axis(int64_t a, const int64_t *p, int r) {
  if (a < 0) a += r;
  return a >= 0 && a < r ? p[a] : -1;
}

static int remap_axes_attr(opt_ctx *c, er_node *n, const char *name, const int64_t *p, int r) {
  const er_attr *a = er_node_attr(n, name);
  if (!a) return 0;
  if (a->type != ER_ATTR_INTS || a->n > ER_MAX_RANK) return -1;
  int64_t ax[ER_MAX_RANK];
  for (int i = 0; i < a->n; i++)
    if ((ax[i] = remap_axis(a->ints[i], p, r)) < 0) return -1;
  return opt_set_attr_ints(c, n, name, a->n, ax);
}

/* Plan for one push: the new input values, decided before anything is edited. */
typedef struct push_plan {
  int n_in;
  int in[16];
  int r;
  int64_t p[ER_MAX_RANK];
} push_plan;

/* The to_first perm p of a Transpose made here that feeds input value v; its input in *src. */
static int ours_input(const lay *L, int v, int *src, int64_t *p) {
  if (!is_ours(L, v)) return -1;
  const er_node *t = opt_producer(L->c, v);
  if (!t || !opt_is(t, "Transpose") || t->n_inputs != 1 || t->inputs[0] < 0) return -1;
  *src = t->inputs[0];
  return perm_of(L->c, t, p);
}

static int is_const(const opt_ctx *c, int v) {
  return v >= 0 && c->g->values[v].kind == ER_VALUE_INITIALIZER && c->g->values[v].data;
}

/* Numel known to be 1 (broadcasts the same in any layout). */
static int is_unit(const opt_ctx *c, int v, int r) {
  int rk = opt_rank(c, v);
  if (rk < 0 || rk > r) return 0;
  for (int d = 0; d < rk; d++)
    if (c->vi_dims[v][d] != 1) return 0;
  return 1;
}

static int kind_of(const er_node *n);

/* The Transpose producing v goes away once its readers are rewritten: every reader is a
 * layout-agnostic node (pushed in turn) or a Transpose (cancelled), and v is no graph
 * output and not read by a subgraph. */
static int all_readers_agnostic(const opt_ctx *c, int v) {
  if (c->out_uses[v] || c->sub_uses[v]) return 0;
  er_node *rd[64];
  int m = opt_consumers(c, v, rd, 64);
  if (m <= 0 || m >= 64) return 0;
  for (int k = 0; k < m; k++)
    if (!opt_is(rd[k], "Transpose") && kind_of(rd[k]) == K_NONE) return 0;
  return 1;
}

/* A reduction with keepdims = 0 can read the channels-last tensor and still give the same
 * output when the axes it keeps appear in the same order in both layouts (e.g. a mean over
 * H and W: [N, C] either way); then no Transpose follows it. */
static int reduce_keeps_order(const opt_ctx *c, const er_node *n, const int64_t *p, int r) {
  int64_t ax[ER_MAX_RANK];
  int m = -1;
  const er_attr *a = er_node_attr(n, "axes");
  if (a) {
    if (a->type != ER_ATTR_INTS || a->n > ER_MAX_RANK) return 0;
    m = a->n;
    for (int j = 0; j < m; j++) ax[j] = a->ints[j];
  } else if (n->n_inputs > 1 && n->inputs[1] >= 0) {
    m = opt_const_ints(c, n->inputs[1], ax, ER_MAX_RANK);
    if (m < 0) return 0;
  }
  if (m <= 0) return opt_attr_int(n, "noop_with_empty_axes", 0) == 0; /* all axes: a scalar */
  unsigned reduced = 0;
  for (int j = 0; j < m; j++) {
    int64_t v = ax[j] < 0 ? ax[j] + r : ax[j];
    if (v < 0 || v >= r) return 0;
    reduced |= 1u << v;
  }
  int64_t last = -1;
  for (int k = 0; k < r; k++) {
    if (reduced >> k & 1u) continue;
    if (p[k] <= last) return 0;
    last = p[k];
  }
  return 1;
}

/* Decide whether node i can run channels-last; fill the plan. */
static int can_push(lay *L, int i, int kind, push_plan *pp) {
  opt_ctx *c = L->c;
  const er_node *n = &c->g->nodes[i];
  if (n->n_inputs > 16 || n->n_inputs < 1) return 0;
  pp->r = -1;
  int removed = 0;
  /* the perm: from the first data input that comes through one of our Transposes */
  for (int k = 0; k < n->n_inputs && pp->r < 0; k++) {
    int src;
    if (n->inputs[k] >= 0 && is_data_input(kind, n, k)) pp->r = ours_input(L, n->inputs[k], &src, pp->p);
  }
  if (pp->r < 0) return 0;
  pp->n_in = n->n_inputs;
  for (int k = 0; k < n->n_inputs; k++) {
    int v = n->inputs[k];
    pp->in[k] = v;
    if (v < 0 || !is_data_input(kind, n, k)) continue;
    int src;
    int64_t q[ER_MAX_RANK];
    int rq = ours_input(L, v, &src, q);
    if (rq == pp->r && !memcmp(q, pp->p, sizeof(int64_t) * (size_t)rq)) {
      pp->in[k] = src;
      if (all_readers_agnostic(c, v)) removed++;
      continue;
    }
    if (kind == K_BCAST || kind == K_CONCAT) {
      if (is_const(c, v)) {
        pp->in[k] = -2 - v; /* transpose this constant when applying */
        continue;
      }
      if (kind == K_BCAST && is_unit(c, v, pp->r)) continue;
    }
    return 0;
  }
  if (!removed) return 0;
  /* per-kind parameter checks */
  if (kind == K_AXIS && (opt_is(n, "QuantizeLinear") || opt_is(n, "DequantizeLinear"))) {
    /* per-tensor: nothing to do; per-axis: the axis attribute is remapped */
    if (er_node_attr(n, "block_size") && opt_attr_int(n, "block_size", 0) != 0) return 0;
  }
  if (kind == K_REDUCE) {
    if (n->n_inputs > 1 && n->inputs[1] >= 0 && !is_const(c, n->inputs[1])) return 0;
    if (opt_attr_int(n, "keepdims", 1) != 1 && !reduce_keeps_order(c, n, pp->p, pp->r)) return 0;
  }
  if (kind == K_SLICE) {
    if (n->n_inputs < 3) return 0;
    if (n->n_inputs > 3 && n->inputs[3] >= 0) {
      if (!is_const(c, n->inputs[3])) return 0;
    } else if (!is_const(c, n->inputs[1])) {
      return 0; /* axes absent: made from the count of starts */
    }
  }
  if (kind == K_PAD) {
    if (n->n_inputs < 2 || !is_const(c, n->inputs[1])) return 0;
    if (n->n_inputs > 3 && n->inputs[3] >= 0 && !is_const(c, n->inputs[3])) return 0;
  }
  if (kind == K_RESIZE) {
    if (er_node_attr(n, "axes")) return 0;
    if (n->n_inputs > 1 && n->inputs[1] >= 0) {
      int64_t nr = 0;
      if (!is_const(c, n->inputs[1])) return 0;
      nr = er_shape_numel(c->g->values[n->inputs[1]].dims, c->g->values[n->inputs[1]].rank);
      if (nr != 0) return 0; /* a roi: not rewritten */
    }
    for (int k = 2; k < n->n_inputs && k < 4; k++)
      if (n->inputs[k] >= 0 && !is_const(c, n->inputs[k])) return 0;
  }
  return 1;
}

/* Rewrite 1-D constant input k of node i (int64 axes or pads or float scales) into a new
 * constant made by fn. */
static int remap_axes_input(opt_ctx *c, int i, int k, const int64_t *p, int r) {
  er_node *n = &c->g->nodes[i];
  int64_t ax[ER_MAX_RANK];
  int m = opt_const_ints(c, n->inputs[k], ax, ER_MAX_RANK);
  if (m < 0) return -1;
  for (int j = 0; j < m; j++)
    if ((ax[j] = remap_axis(ax[j], p, r)) < 0) return -1;
  int v = new_ints(c, c->g->values[n->inputs[k]].name, ax, m);
  if (v < 0) return -1;
  opt_set_input(c, &c->g->nodes[i], k, v);
  return 0;
}

/* Per-dimension vector (pads: 2r values begin..., end...; scales/sizes: r values) of the
 * channels-first tensor rewritten for the channels-last one: new[p[i]] = old[i]. */
static int permute_vector_input(opt_ctx *c, int i, int k, const int64_t *p, int r, int halves) {
  er_node *n = &c->g->nodes[i];
  const er_value *val = &c->g->values[n->inputs[k]];
  int64_t numel = er_shape_numel(val->dims, val->rank);
  if (numel == 0) return 0; /* empty: absent */
  if (numel != (int64_t)r * halves || val->rank != 1) return -1;
  size_t es = er_dtype_size(val->dtype);
  if (!es || es > 8) return -1;
  char buf[2 * ER_MAX_RANK * 8];
  for (int h = 0; h < halves; h++)
    for (int j = 0; j < r; j++)
      memcpy(buf + ((size_t)h * r + (size_t)p[j]) * es, (const char *)val->data + ((size_t)h * r + j) * es, es);
  int64_t d = numel;
  int v = opt_new_init(c, val->name, val->dtype, 1, &d, buf);
  if (v < 0) return -1;
  opt_set_input(c, &c->g->nodes[i], k, v);
  return 0;
}

static er_status push(lay *L, int i, int kind, const push_plan *pp, int *count) {
  opt_ctx *c = L->c;
  er_graph *g = c->g;
  const int r = pp->r;
  const int64_t *p = pp->p;
  int64_t pl[ER_MAX_RANK]; /* inverse of p: channels-first -> channels-last */
  for (int k = 0; k < r; k++) pl[p[k]] = k;
  /* inputs */
  int old_in[16];
  for (int k = 0; k < pp->n_in; k++) {
    old_in[k] = g->nodes[i].inputs[k];
    int v = pp->in[k];
    if (v <= -2) {
      v = transpose_const(c, -2 - v, p, r);
      if (v < 0) return OOM();
    }
    opt_set_input(c, &g->nodes[i], k, v);
  }
  /* attributes and parameter inputs */
  er_node *n = &g->nodes[i];
  int bad = 0;
  if (kind == K_CONCAT || kind == K_SPLIT || kind == K_AXIS) {
    const er_attr *a = er_node_attr(n, "axis");
    int64_t def = kind == K_SPLIT || kind == K_CONCAT ? 0 : kind == K_AXIS && opt_is(n, "QuantizeLinear") ? 1 : -1;
    if (opt_is(n, "DequantizeLinear")) def = 1;
    int64_t ax = a && a->type == ER_ATTR_INT ? a->i : def;
    int64_t nax = remap_axis(ax, p, r);
    bad = nax < 0 || opt_set_attr_int(c, n, "axis", nax) != 0;
  } else if (kind == K_REDUCE) {
    if (er_node_attr(n, "axes"))
      bad = remap_axes_attr(c, n, "axes", p, r) != 0;
    else if (n->n_inputs > 1 && n->inputs[1] >= 0)
      bad = remap_axes_input(c, i, 1, p, r) != 0;
  } else if (kind == K_SLICE) {
    if (n->n_inputs > 3 && n->inputs[3] >= 0) {
      bad = remap_axes_input(c, i, 3, p, r) != 0;
    } else {
      int64_t st[ER_MAX_RANK];
      int m = opt_const_ints(c, n->inputs[1], st, ER_MAX_RANK);
      int64_t ax[ER_MAX_RANK];
      for (int j = 0; j < m; j++) ax[j] = p[j];
      int v = m > 0 && m <= r ? new_ints(c, "slice_axes", ax, m) : -1;
      if (v < 0) {
        bad = 1;
      } else {
        int ins[5];
        n = &g->nodes[i];
        for (int k = 0; k < 5; k++) ins[k] = k < n->n_inputs ? n->inputs[k] : -1;
        ins[3] = v;
        bad = opt_set_inputs(c, n, 5, ins) != 0;
      }
    }
  } else if (kind == K_PAD) {
    if (n->n_inputs > 3 && n->inputs[3] >= 0)
      bad = remap_axes_input(c, i, 3, p, r) != 0;
    else
      bad = permute_vector_input(c, i, 1, p, r, 2) != 0;
  } else if (kind == K_RESIZE) {
    for (int k = 2; k < 4 && !bad; k++)
      if (g->nodes[i].n_inputs > k && g->nodes[i].inputs[k] >= 0) bad = permute_vector_input(c, i, k, p, r, 1) != 0;
  }
  if (bad) return ER_ERR(ER_INTERNAL, "layout: cannot rewrite node '%s' (%s)", g->nodes[i].name, g->nodes[i].op_type);
  /* outputs: y' channels-last, y = Transpose(y', p) (a reduction without kept dims whose
   * output has the same layout either way: y itself) */
  int nout = kind == K_REDUCE && opt_attr_int(&g->nodes[i], "keepdims", 1) != 1 ? 0 : g->nodes[i].n_outputs;
  for (int k = 0; k < nout; k++) {
    int y = g->nodes[i].outputs[k];
    if (y < 0) continue;
    int yl = opt_new_value(c, g->values[y].name, ER_VALUE_NODE);
    const char *tn = opt_join_name(c, g->nodes[i].name, "to_nchw");
    if (yl < 0 || !tn) return OOM();
    opt_set_output(c, &g->nodes[i], k, yl);
    note_permuted(c, yl, y, pl, r);
    if (add_transpose(c, yl, y, p, r, tn) < 0 || mark_ours(L, y) != 0) return OOM();
  }
  /* input Transposes nobody reads any more */
  for (int k = 0; k < pp->n_in; k++) {
    int v = old_in[k];
    if (v < 0 || opt_refs(c, v) != 0) continue;
    er_node *t = opt_producer(c, v);
    if (t && opt_is(t, "Transpose") && !c->dead[opt_node_index(c, t)]) opt_kill(c, t);
  }
  (*count)++;
  return NULL;
}

/* ------------------------------------------------------------------ shapes and shuffles */

/* Shape(x) with x's shape fully static -> an int64 constant, so that a Transpose read only
 * by Shape nodes can go. 1 if replaced. */
static int fold_shape(opt_ctx *c, int i) {
  er_node *n = &c->g->nodes[i];
  if (!opt_is(n, "Shape") || n->n_inputs != 1 || n->inputs[0] < 0 || n->outputs[0] < 0) return 0;
  int x = n->inputs[0], r = opt_rank(c, x);
  if (r < 0) return 0;
  for (int d = 0; d < r; d++)
    if (c->vi_dims[x][d] < 0) return 0;
  int64_t start = opt_attr_int(n, "start", 0), end = opt_attr_int(n, "end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  if (start < 0) start = 0;
  if (end > r) end = r;
  if (end < start) end = start;
  int y = n->outputs[0];
  if (c->out_uses[y]) return 0;
  int v = new_ints(c, c->g->values[y].name, c->vi_dims[x] + start, (int)(end - start));
  if (v < 0) return 0;
  opt_kill(c, &c->g->nodes[i]);
  opt_replace_uses(c, y, v);
  return 1;
}

/* Static dims of v (all known) into d; rank or -1. */
static int static_dims(const opt_ctx *c, int v, int64_t *d) {
  int r = opt_rank(c, v);
  if (r < 0) return -1;
  for (int k = 0; k < r; k++)
    if ((d[k] = c->vi_dims[v][k]) < 0) return -1;
  return r;
}

/* Channel shuffle on a tensor that arrives through one of our Transposes:
 *   Reshape(T(x), [N,g,C/g,H,W]) -> Transpose([0,2,1,3,4]) -> Reshape([N,C,H,W])
 * becomes the same shuffle on the channels-last x:
 *   Reshape(x, [N,H,W,g,C/g]) -> Transpose([0,1,2,4,3]) -> Reshape([N,H,W,C]) -> T
 * 1 if rewritten (the old nodes go when nothing else reads them). */
static int shuffle(lay *L, int i, er_status *err) {
  opt_ctx *c = L->c;
  er_graph *g = c->g;
  er_node *r1 = &g->nodes[i];
  if (!opt_is(r1, "Reshape") || r1->n_inputs < 2 || r1->inputs[0] < 0 || r1->outputs[0] < 0) return 0;
  int src;
  int64_t p[ER_MAX_RANK];
  if (ours_input(L, r1->inputs[0], &src, p) != 4) return 0;
  int64_t xd[ER_MAX_RANK], d1[ER_MAX_RANK], d3[ER_MAX_RANK], tp[ER_MAX_RANK];
  if (static_dims(c, r1->inputs[0], xd) != 4 || static_dims(c, r1->outputs[0], d1) != 5) return 0;
  if (d1[0] != xd[0] || d1[1] * d1[2] != xd[1] || d1[3] != xd[2] || d1[4] != xd[3]) return 0;
  er_node *t = opt_sole_consumer(c, r1->outputs[0], NULL);
  if (!t || !opt_is(t, "Transpose") || t->outputs[0] < 0 || perm_of(c, t, tp) != 5) return 0;
  static const int64_t swap12[5] = {0, 2, 1, 3, 4};
  if (memcmp(tp, swap12, sizeof swap12)) return 0;
  er_node *r2 = opt_sole_consumer(c, t->outputs[0], NULL);
  if (!r2 || !opt_is(r2, "Reshape") || r2->outputs[0] < 0 || static_dims(c, r2->outputs[0], d3) != 4) return 0;
  if (memcmp(d3, xd, sizeof(int64_t) * 4)) return 0;
  int y = r2->outputs[0];
  int i_t = opt_node_index(c, t), i_r2 = opt_node_index(c, r2);
  /* new chain on x (channels-last) */
  int64_t s1[5] = {xd[0], xd[2], xd[3], d1[1], d1[2]}, s2[4] = {xd[0], xd[2], xd[3], xd[1]};
  int64_t tl[5] = {0, 1, 2, 4, 3};
  int k1 = new_ints(c, "shuffle_shape", s1, 5), k2 = new_ints(c, "shuffle_shape", s2, 4);
  int a = opt_new_value(c, g->values[r1->outputs[0]].name, ER_VALUE_NODE);
  int b = opt_new_value(c, g->values[t->outputs[0]].name, ER_VALUE_NODE);
  int yl = opt_new_value(c, g->values[y].name, ER_VALUE_NODE);
  const char *nm1 = opt_join_name(c, g->nodes[i].name, "nhwc");
  const char *nm2 = opt_join_name(c, g->nodes[i_t].name, "nhwc");
  const char *nm3 = opt_join_name(c, g->nodes[i_r2].name, "nhwc");
  const char *nm4 = opt_join_name(c, g->nodes[i_r2].name, "to_nchw");
  if (k1 < 0 || k2 < 0 || a < 0 || b < 0 || yl < 0 || !nm1 || !nm2 || !nm3 || !nm4) goto oom;
  int in1[2] = {src, k1}, in3[2] = {b, k2};
  /* the old nodes die first: y gets its new producer below */
  opt_kill(c, &g->nodes[i_r2]);
  if (opt_add_node(c, "", "Reshape", 14, nm1, 2, in1, 1, &a) < 0) goto oom;
  if (add_transpose(c, a, b, tl, 5, nm2) < 0) goto oom;
  if (opt_add_node(c, "", "Reshape", 14, nm3, 2, in3, 1, &yl) < 0) goto oom;
  if (add_transpose(c, yl, y, p, 4, nm4) < 0 || mark_ours(L, y) != 0) goto oom;
  int64_t pl[4] = {0, 2, 3, 1};
  note_permuted(c, yl, y, pl, 4);
  if (!c->dead[i_t] && opt_refs(c, g->nodes[i_t].outputs[0]) == 0) opt_kill(c, &g->nodes[i_t]);
  if (!c->dead[i] && opt_refs(c, g->nodes[i].outputs[0]) == 0) opt_kill(c, &g->nodes[i]);
  return 1;
oom:
  *err = OOM();
  return 0;
}

/* 4. A to_last Transpose of a graph input read only by an NhwcConv goes: the conv reads the
 * channels-first input itself (_nchw_in = 1, see kernels/nhwc.h), which saves the copy and
 * its arena space. */
static void nchw_inputs(opt_ctx *c) {
  for (int i = 0; i < c->g->n_nodes; i++) {
    er_node *t = &c->g->nodes[i];
    if (c->dead[i] || !opt_is(t, "Transpose") || t->n_inputs < 1 || t->inputs[0] < 0 || t->outputs[0] < 0) continue;
    const int x = t->inputs[0];
    int64_t p[ER_MAX_RANK], pl[ER_MAX_RANK];
    const int r = perm_of(c, t, p);
    if (c->g->values[x].kind != ER_VALUE_INPUT || (r != 3 && r != 4) || to_last(r, pl) != r ||
        memcmp(p, pl, sizeof(int64_t) * (size_t)r))
      continue;
    int slot;
    er_node *conv = opt_sole_consumer(c, t->outputs[0], &slot);
    if (!conv || slot != 0 || !conv->domain || strcmp(conv->op_type, ER_OP_NHWC_CONV) ||
        strcmp(conv->domain, ER_DOMAIN_EDGERUN) ||
        opt_attr_int(conv, "_nchw_in", 0))
      continue;
    if (opt_set_attr_int(c, conv, "_nchw_in", 1) != 0) continue; /* out of memory: keep the Transpose */
    opt_set_input(c, conv, 0, x);
    opt_kill(c, &c->g->nodes[i]);
  }
}

er_status opt_pass_layout(opt_ctx *c, int *out_count) {
  *out_count = 0;
  const char *env = getenv("ER_LAYOUT");
  if (env && !strcmp(env, "0")) return NULL;
  if (!er_op_find(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1)) return NULL; /* no kernels built */
  lay L = {c, NULL, 0};
  er_status s = NULL;
  int converted = 0;
  for (int i = 0; i < c->g->n_nodes && !s; i++) {
    if (c->dead[i]) continue;
    int r = convertible(&L, &c->g->nodes[i]);
    if (r > 0) s = convert(&L, i, r, &converted);
  }
  if (s || !converted) {
    free(L.ours);
    return s;
  }
  for (int round = 0; round < 1000 && !s; round++) {
    int changed = 0;
    for (int i = 0; i < c->g->n_nodes && !s; i++) {
      if (c->dead[i]) continue;
      er_node *n = &c->g->nodes[i];
      if (opt_is(n, "Transpose")) {
        changed += cancel(&L, i);
        continue;
      }
      if (opt_is(n, "Shape")) {
        changed += fold_shape(c, i);
        continue;
      }
      if (opt_is(n, "Reshape")) {
        changed += shuffle(&L, i, &s);
        continue;
      }
      if (nhwc_name(n)) { /* pooling whose input became known channels-last float */
        int r = convertible(&L, n);
        if (r > 0) s = convert(&L, i, r, &converted), changed++;
        continue;
      }
      int kind = kind_of(n);
      push_plan pp;
      if (kind != K_NONE && can_push(&L, i, kind, &pp)) s = push(&L, i, kind, &pp, &changed);
    }
    if (!changed) break;
  }
  /* Transposes left without readers */
  for (int again = 1; again && !s;) {
    again = 0;
    for (int i = 0; i < c->g->n_nodes; i++) {
      er_node *n = &c->g->nodes[i];
      if (c->dead[i] || !opt_is(n, "Transpose") || n->outputs[0] < 0 || opt_refs(c, n->outputs[0])) continue;
      opt_kill(c, n);
      again = 1;
    }
  }
  if (!s) nchw_inputs(c);
  free(L.ours);
  *out_count = converted;
  return s;
}
