/* QDQ planning and rewriting (see quantize.h for the conventions). Host code. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"
#include "quant/internal.h"

#define OOM() ER_ERR(ER_OUT_OF_MEMORY, "out of memory in the quantizer")

static int in_list(const char *op, const char *const *list) {
  for (int i = 0; list[i]; i++)
    if (!strcmp(op, list[i])) return 1;
  return 0;
}

int qnode_category(const er_node *n) {
  static const char *const compute[] = {"Conv", "ConvTranspose", "Gemm", "MatMul", NULL};
  static const char *const act[] = {"Relu", "Clip", NULL};
  static const char *const shared[] = {"Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze",
                                       "MaxPool", "AveragePool", "Slice", "Split", "Gather",
                                       "Resize", "DepthToSpace", "SpaceToDepth", "Expand", NULL};
  static const char *const separate[] = {"Add", "Mul", "Concat", "GlobalAveragePool", "ReduceMean",
                                         "Sigmoid", "LeakyRelu", "Softmax", NULL};
  if (n->domain[0]) return QC_NONE;
  if (in_list(n->op_type, compute)) return QC_COMPUTE;
  if (in_list(n->op_type, act)) return QC_ACT;
  if (in_list(n->op_type, shared)) return QC_SHARED;
  if (in_list(n->op_type, separate)) return QC_SEPARATE;
  return QC_NONE;
}

static int is_f32(const opt_ctx *c, int v) { return v >= 0 && opt_dtype(c, v) == ER_F32; }
/* The definition of v (an outer-scope constant's initializer in the enclosing graph). */
static const er_value *val_of(const opt_ctx *c, int v) { return quant_root_value(c->g, v); }
static int is_const(const opt_ctx *c, int v) {
  if (v < 0) return 0;
  const er_value *r = val_of(c, v);
  return r->kind == ER_VALUE_INITIALIZER && r->data;
}
/* Float32 constant data of v (through outer-scope references), or NULL. */
static const float *const_f32(const opt_ctx *c, int v, int64_t *out_n) {
  if (v < 0) return NULL;
  const er_value *r = val_of(c, v);
  if (r->kind != ER_VALUE_INITIALIZER || r->dtype != ER_F32 || !r->data || r->rank < 0) return NULL;
  *out_n = er_shape_numel(r->dims, r->rank);
  return (const float *)r->data;
}

/* Excluded by name; folded nodes are named "a+b" by the optimizer: any part matches. */
static int excluded(const er_quant_options *o, const er_node *n) {
  for (int i = 0; i < o->n_exclude; i++) {
    const char *x = o->exclude[i];
    size_t lx = x ? strlen(x) : 0;
    if (!lx) continue;
    for (const char *p = n->name; p && *p;) {
      const char *e = strchr(p, '+');
      size_t l = e ? (size_t)(e - p) : strlen(p);
      if (l == lx && !strncmp(p, x, lx)) return 1;
      p = e ? e + 1 : NULL;
    }
  }
  return 0;
}

/* Does n compute float data (a float32 output)? Shape, ArgMax... do not. */
static int has_float(const opt_ctx *c, const er_node *n) {
  for (int k = 0; k < n->n_outputs; k++)
    if (is_f32(c, n->outputs[k])) return 1;
  return 0;
}

/* Is input slot k of a compute node a constant weight (quantized per channel) or bias? */
static int weight_slot(const opt_ctx *c, const er_node *n, int k) {
  if (k == 1) return is_const(c, n->inputs[1]) && is_f32(c, n->inputs[1]);
  if (k == 2) return !opt_is(n, "MatMul");
  return 0;
}

/* Clip bounds as constants: 1 if lo <= 0 <= hi (absent bounds are infinite). */
static int clip_encloses_zero(const opt_ctx *c, const er_node *n) {
  double lo = -INFINITY, hi = INFINITY;
  if (n->opset < 11) {
    lo = opt_attr_float(n, "min", -INFINITY);
    hi = opt_attr_float(n, "max", INFINITY);
  } else {
    if (n->n_inputs > 1 && n->inputs[1] >= 0 && !opt_const_scalar(c, n->inputs[1], &lo)) return 0;
    if (n->n_inputs > 2 && n->inputs[2] >= 0 && !opt_const_scalar(c, n->inputs[2], &hi)) return 0;
  }
  return lo <= 0 && hi >= 0;
}

static int root_of(const qplan *p, int v) {
  for (int guard = 0; guard < p->nv && p->role[v] == QV_SHARED; guard++) v = p->src[v];
  return v;
}

int qplan_inherited(const qplan *p, int v) {
  const er_value *val = &p->c->g->values[v];
  int o = val->kind == ER_VALUE_OUTER ? val->outer : -1;
  return p->parent && o >= 0 && o < p->parent->nv && (p->parent->role[o] == QV_ACT || p->parent->role[o] == QV_SHARED);
}

void qplan_free(qplan *p) {
  if (p->stats)
    for (int v = 0; v < p->nv; v++)
      if (p->has_stat[v]) er_qstat_free(&p->stats[v]);
  free(p->cat);
  free(p->status);
  free(p->reason);
  free(p->fold_into);
  free(p->role);
  free(p->src);
  free(p->stats);
  free(p->has_stat);
  free(p->scale);
  free(p->zp);
  free(p->obs_at);
  memset(p, 0, sizeof *p);
}

static void set_float(qplan *p, int i, const char *why) {
  p->status[i] = ER_QN_FLOAT;
  p->reason[i] = why;
}

/* Mark the float inputs of quantized node i that carry activations (not weights). */
static void mark_inputs(qplan *p, const er_node *n) {
  const opt_ctx *c = p->c;
  int compute = qnode_category(n) == QC_COMPUTE;
  /* compute: data and weight (constant weights are not activations); separate: every
   * float input; act/shared: the data input */
  int nin = qnode_category(n) == QC_SEPARATE ? n->n_inputs : compute ? 2 : 1;
  for (int k = 0; k < nin && k < n->n_inputs; k++) {
    int v = n->inputs[k];
    if (v < 0 || !is_f32(c, v) || (compute && weight_slot(c, n, k))) continue;
    if (p->role[v] == QV_NONE) p->role[v] = is_const(c, v) ? QV_CONST : QV_ACT;
  }
}

er_status qplan_make(qplan *p, opt_ctx *c, const er_quant_options *o) {
  memset(p, 0, sizeof *p);
  er_graph *g = c->g;
  p->c = c;
  p->o = o;
  p->nv = g->n_values;
  p->nn = g->n_nodes;
  size_t nn = (size_t)p->nn + 1, nv = (size_t)p->nv + 1;
  p->cat = (int *)calloc(nn, sizeof(int));
  p->status = (int *)calloc(nn, sizeof(int));
  p->reason = (const char **)calloc(nn, sizeof(char *));
  p->fold_into = (int *)calloc(nn, sizeof(int));
  p->role = (int *)calloc(nv, sizeof(int));
  p->src = (int *)calloc(nv, sizeof(int));
  p->stats = (er_qstat *)calloc(nv, sizeof(er_qstat));
  p->has_stat = (unsigned char *)calloc(nv, 1);
  p->scale = (float *)calloc(nv, sizeof(float));
  p->zp = (int32_t *)calloc(nv, sizeof(int32_t));
  p->obs_at = (int *)malloc(sizeof(int) * nv);
  if (!p->cat || !p->status || !p->reason || !p->fold_into || !p->role || !p->src || !p->stats ||
      !p->has_stat || !p->scale || !p->zp || !p->obs_at)
    return OOM();
  p->qmin = o->act_dtype == ER_I8 ? -128 : 0;
  p->qmax = o->act_dtype == ER_I8 ? 127 : 255;
  /* pass 1: compute nodes claim their activation inputs and outputs */
  for (int i = 0; i < p->nn; i++) {
    const er_node *n = &g->nodes[i];
    p->fold_into[i] = -1;
    p->cat[i] = qnode_category(n);
    if (!has_float(c, n)) {
      p->status[i] = ER_QN_OTHER;
      continue;
    }
    if (excluded(o, n)) {
      set_float(p, i, "excluded (--exclude)");
      continue;
    }
    if (p->cat[i] != QC_COMPUTE) continue;
    int x = n->n_inputs > 0 ? n->inputs[0] : -1, w = n->n_inputs > 1 ? n->inputs[1] : -1;
    int y = n->n_outputs > 0 ? n->outputs[0] : -1;
    if (!is_f32(c, x) || !is_f32(c, w) || !is_f32(c, y)) {
      set_float(p, i, "inputs or output not float32 (or of unknown type)");
      continue;
    }
    if (is_const(c, x)) {
      set_float(p, i, "first input is a constant");
      continue;
    }
    if (opt_is(n, "ConvTranspose") && opt_attr_int(n, "group", 1) != 1 && o->per_channel &&
        is_const(c, w)) {
      /* per-channel DequantizeLinear on axis 1 cannot describe grouped output channels:
       * such weights are quantized per tensor (see weights_for) */
    }
    p->status[i] = ER_QN_QUANTIZED;
    mark_inputs(p, n);
    p->role[y] = QV_ACT;
  }
  /* pass 2: the rest, in order, following the quantized values */
  for (int i = 0; i < p->nn; i++) {
    const er_node *n = &g->nodes[i];
    if (p->status[i]) continue;
    int x = n->n_inputs > 0 ? n->inputs[0] : -1;
    int y = n->n_outputs > 0 ? n->outputs[0] : -1;
    switch (p->cat[i]) {
      case QC_ACT: {
        if (x < 0 || p->role[x] == QV_NONE || !is_f32(c, y)) {
          set_float(p, i, "input not quantized");
          break;
        }
        int pi = g->values[x].kind == ER_VALUE_NODE ? g->values[x].producer : -1;
        int foldable = pi >= 0 && p->status[pi] == ER_QN_QUANTIZED && p->cat[pi] != QC_SHARED &&
                       p->role[x] == QV_ACT && opt_refs(c, x) == 1 &&
                       (opt_is(n, "Relu") || clip_encloses_zero(c, n));
        if (foldable) {
          p->status[i] = ER_QN_FOLDED;
          p->reason[i] = "folded into the producer's quantized output range";
          p->fold_into[i] = pi;
          p->role[x] = QV_NONE;
          p->role[y] = QV_ACT;
        } else {
          p->status[i] = ER_QN_QUANTIZED;
          p->role[y] = QV_ACT;
        }
        break;
      }
      case QC_SHARED: {
        int outs_float = 1;
        for (int k = 0; k < n->n_outputs; k++)
          if (n->outputs[k] >= 0 && !is_f32(c, n->outputs[k])) outs_float = 0;
        if (opt_is(n, "MaxPool") && n->n_outputs > 1 && n->outputs[1] >= 0) outs_float = 0;
        if (x < 0 || p->role[x] == QV_NONE || !is_f32(c, x) || !outs_float) {
          set_float(p, i, "input not quantized");
          break;
        }
        p->status[i] = ER_QN_QUANTIZED;
        for (int k = 0; k < n->n_outputs; k++)
          if (n->outputs[k] >= 0) {
            p->role[n->outputs[k]] = QV_SHARED;
            p->src[n->outputs[k]] = root_of(p, x);
          }
        break;
      }
      case QC_SEPARATE: {
        int any = 0;
        for (int k = 0; k < n->n_inputs; k++) {
          int v = n->inputs[k];
          if (v >= 0 && is_f32(c, v) && !is_const(c, v) && p->role[v] != QV_NONE) any = 1;
        }
        if (!is_f32(c, y)) {
          set_float(p, i, "output not float32");
          break;
        }
        if (!any) {
          set_float(p, i, "no input is quantized (float region)");
          break;
        }
        p->status[i] = ER_QN_QUANTIZED;
        mark_inputs(p, n);
        p->role[y] = QV_ACT;
        break;
      }
      default:
        set_float(p, i, "operator not quantized");
        break;
    }
  }
  /* a subgraph's inputs and outer-scope values are observed where first read */
  for (int v = 0; v < p->nv; v++) p->obs_at[v] = -1;
  for (int i = p->nn - 1; g->parent && i >= 0; i--) {
    const er_node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++) {
      int v = n->inputs[k];
      if (v >= 0 && g->values[v].kind != ER_VALUE_NODE) p->obs_at[v] = i;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------ rewrite */

typedef struct rw {
  qplan *p;
  opt_ctx *c;
  int opset;
  int per_channel;
  int nested;   /* the model has subgraphs: names must be unique across all its graphs */
  char name[512];
} rw;

static void rw_init(rw *w, qplan *p, opt_ctx *c, int opset, int per_channel) {
  memset(w, 0, sizeof *w);
  w->p = p;
  w->c = c;
  w->opset = opset;
  w->per_channel = per_channel;
  const er_graph *root = c->g;
  while (root->parent) root = root->parent;
  w->nested = quant_has_subgraphs(root);
}

static const char *nm(rw *w, const char *a, const char *b) {
  snprintf(w->name, sizeof w->name, "%s%s", a, b);
  if (w->nested) quant_unique_name(w->c->g, w->name, sizeof w->name);
  return w->name;
}

/* New Q or DQ node; returns its index or -1. axis < -100: no axis attribute. */
static int add_qdq(rw *w, const char *op, const char *name, int x, int sc, int zp, int y, int axis,
                   int block) {
  int ins[3] = {x, sc, zp};
  int outs[1] = {y};
  int idx = opt_add_node(w->c, "", op, w->opset, name, zp >= 0 ? 3 : 2, ins, 1, outs);
  if (idx < 0) return -1;
  er_node *n = &w->c->g->nodes[idx];
  if (axis > -100 && opt_set_attr_int(w->c, n, "axis", axis) != 0) return -1;
  if (block > 0 && opt_set_attr_int(w->c, n, "block_size", block) != 0) return -1;
  return idx;
}

static int new_node_value(rw *w, const char *base, const char *suffix) {
  return opt_new_value(w->c, nm(w, base, suffix), ER_VALUE_NODE);
}

/* Scalar scale/zero-point initializers of activation value v. */
static int act_params(rw *w, int v, int *out_sc, int *out_zp) {
  qplan *p = w->p;
  const char *base = w->c->g->values[v].name;
  int r = root_of(p, v);
  float s = p->scale[r];
  int32_t z = p->zp[r];
  unsigned char zb[1];
  if (p->o->act_dtype == ER_I8) {
    int8_t zi = (int8_t)z;
    memcpy(zb, &zi, 1);
  } else {
    zb[0] = (uint8_t)z;
  }
  *out_sc = opt_new_init(w->c, nm(w, base, "_scale"), ER_F32, 0, NULL, &s);
  if (*out_sc < 0) return -1;
  *out_zp = opt_new_init(w->c, nm(w, base, "_zero_point"), p->o->act_dtype, 0, NULL, zb);
  return *out_zp < 0 ? -1 : 0;
}

/* Quantize a constant (role QV_CONST) as an activation: initializer + DequantizeLinear.
 * Returns the DQ output value, or -1. */
static int const_dq(rw *w, int v) {
  qplan *p = w->p;
  const er_value *val = val_of(w->c, v);
  int64_t n = er_shape_numel(val->dims, val->rank);
  const float *d = (const float *)val->data;
  double lo = 0, hi = 0;
  for (int64_t i = 0; i < n; i++)
    if (isfinite(d[i])) {
      lo = fmin(lo, d[i]);
      hi = fmax(hi, d[i]);
    }
  er_qparams_affine(lo, hi, p->qmin, p->qmax, &p->scale[v], &p->zp[v]);
  unsigned char *q = (unsigned char *)malloc((size_t)n + 1);
  if (!q) return -1;
  for (int64_t i = 0; i < n; i++) {
    int32_t qi = er_quantize_value(d[i], p->scale[v], p->zp[v], p->qmin, p->qmax);
    q[i] = (unsigned char)(p->o->act_dtype == ER_I8 ? (unsigned char)(int8_t)qi : (uint8_t)qi);
  }
  char base[256];
  snprintf(base, sizeof base, "%s", val->name);
  int rank = val->rank;
  int64_t dims[ER_MAX_RANK];
  memcpy(dims, val->dims, sizeof dims);
  int qv = opt_new_init(w->c, nm(w, base, "_quantized"), p->o->act_dtype, rank, dims, q);
  free(q);
  int sc, zp;
  if (qv < 0 || act_params(w, v, &sc, &zp) != 0) return -1;
  int out = new_node_value(w, base, "_dequantized");
  if (out < 0) return -1;
  if (add_qdq(w, "DequantizeLinear", nm(w, base, "_DequantizeLinear"), qv, sc, zp, out, -1000, 0) < 0)
    return -1;
  return out;
}

/* Activation value v: Q/DQ pair. Output side (v made by a quantized node): the producer
 * now writes v_float and the DequantizeLinear produces v itself, so every consumer and a
 * graph output named v read the quantized value. Input side: returns the DQ output that
 * quantized consumers must read (v keeps its float readers). */
static int act_qdq(rw *w, int v, int output_side) {
  opt_ctx *c = w->c;
  char base[256];
  snprintf(base, sizeof base, "%s", c->g->values[v].name);
  int sc, zp;
  if (act_params(w, v, &sc, &zp) != 0) return -1;
  int q = new_node_value(w, base, "_quantized");
  if (q < 0) return -1;
  int x = v, y;
  if (output_side) {
    er_node *prod = opt_producer(c, v);
    int slot = -1;
    for (int k = 0; prod && k < prod->n_outputs; k++)
      if (prod->outputs[k] == v) slot = k;
    if (slot < 0) return -1;
    x = new_node_value(w, base, "_float");
    if (x < 0) return -1;
    prod = opt_producer(c, v); /* new_value may not move nodes, but stay safe */
    opt_set_output(c, prod, slot, x);
    y = v;
  } else {
    y = new_node_value(w, base, "_dequantized");
    if (y < 0) return -1;
  }
  if (add_qdq(w, "QuantizeLinear", nm(w, base, "_QuantizeLinear"), x, sc, zp, q, -1000, 0) < 0)
    return -1;
  if (add_qdq(w, "DequantizeLinear", nm(w, base, "_DequantizeLinear"), q, sc, zp, y, -1000, 0) < 0)
    return -1;
  return y;
}

/* Per-channel axis of a compute node's weight, or -1 (per tensor). */
static int weight_axis(const opt_ctx *c, const er_node *n, int per_channel) {
  const er_value *wv = val_of(c, n->inputs[1]);
  if (!per_channel) return -1;
  if (opt_is(n, "Conv")) return wv->rank >= 3 ? 0 : -1;
  if (opt_is(n, "ConvTranspose")) return wv->rank >= 3 && opt_attr_int(n, "group", 1) == 1 ? 1 : -1;
  if (opt_is(n, "Gemm")) return wv->rank == 2 ? (opt_attr_int(n, "transB", 0) ? 0 : 1) : -1;
  if (opt_is(n, "MatMul")) return wv->rank >= 2 ? wv->rank - 1 : -1;
  return -1;
}

/* Bias of a compute node that becomes int32: its values and count, or NULL. */
static const float *bias_of(const opt_ctx *c, const er_node *n, int64_t channels, int64_t *out_n) {
  if (opt_is(n, "MatMul") || n->n_inputs < 3 || n->inputs[2] < 0) return NULL;
  int b = n->inputs[2];
  int64_t nb;
  const float *d = const_f32(c, b, &nb);
  if (!d || val_of(c, b)->rank != 1 || nb != channels) return NULL;
  if (opt_is(n, "Gemm") && (opt_attr_float(n, "alpha", 1.0f) != 1.0f || opt_attr_float(n, "beta", 1.0f) != 1.0f))
    return NULL;
  *out_n = nb;
  return d;
}

/* Output channels of a compute node's weight (for the bias). */
static int64_t out_channels(const opt_ctx *c, const er_node *n) {
  const er_value *wv = val_of(c, n->inputs[1]);
  if (opt_is(n, "Conv")) return wv->dims[0];
  if (opt_is(n, "ConvTranspose")) return wv->dims[1] * opt_attr_int(n, "group", 1);
  if (opt_is(n, "Gemm")) return opt_attr_int(n, "transB", 0) ? wv->dims[0] : wv->dims[1];
  return -1;
}

/* Quantized initializer (dtype, dims, data q) + scale (scale dims) + zero-point zeros +
 * DequantizeLinear (axis < -100: none; block > 0: block_size). Returns the DQ output. */
static int emit_dq(rw *w, const char *base, int dtype, int rank, const int64_t *dims, const void *q,
                   int srank, const int64_t *sdims, const float *sc, int axis, int block) {
  /* int32 biases and symmetric int4 weights go without a zero point (0 by default) */
  int with_zp = dtype != ER_I32 && dtype != ER_I4;
  opt_ctx *c = w->c;
  int64_t ns = er_shape_numel(sdims, srank);
  size_t zbytes = (size_t)ns * er_dtype_size(dtype);
  void *zeros = calloc(zbytes + 1, 1);
  if (!zeros) return -1;
  int qv = opt_new_init(c, nm(w, base, "_quantized"), dtype, rank, dims, q);
  int scv = qv < 0 ? -1 : opt_new_init(c, nm(w, base, "_scale"), ER_F32, srank, sdims, sc);
  int zpv = scv < 0 || !with_zp ? -1 : opt_new_init(c, nm(w, base, "_zero_point"), dtype, srank, sdims, zeros);
  free(zeros);
  int out = scv < 0 || (with_zp && zpv < 0) ? -1 : new_node_value(w, base, "_dequantized");
  if (out < 0 || add_qdq(w, "DequantizeLinear", nm(w, base, "_DequantizeLinear"), qv, scv, zpv, out, axis,
                         block) < 0)
    return -1;
  return out;
}

/* int8 symmetric weight in slot k of node i along axis (-1: per tensor), with scales sc
 * (computed here when compute_scales). Returns 0, or -1 on OOM. */
/* int8 symmetric copy of float constant v along axis (-1: per tensor) behind a
 * DequantizeLinear, with scales sc (computed here when compute_scales). Returns the DQ
 * output, or -1 on OOM. */
static int int8_value(rw *w, int v, int axis, float *sc, int compute_scales) {
  const er_value *wv = val_of(w->c, v);
  int rank = wv->rank;
  int64_t dims[ER_MAX_RANK], nch = axis >= 0 ? wv->dims[axis] : 1;
  memcpy(dims, wv->dims, sizeof dims);
  const float *wd = (const float *)wv->data;
  char base[256];
  snprintf(base, sizeof base, "%s", wv->name);
  int8_t *q = (int8_t *)malloc((size_t)er_shape_numel(dims, rank) + 1);
  float *own = compute_scales && !sc ? (float *)malloc(sizeof(float) * (size_t)(nch + 1)) : NULL;
  if (!sc) sc = own;
  if (!q || !sc) {
    free(q);
    free(own);
    return -1;
  }
  if (compute_scales) quant_weight_scales(wd, rank, dims, axis, 127, sc);
  quant_weight_apply(wd, rank, dims, axis, 127, sc, q);
  int out = emit_dq(w, base, ER_I8, rank, dims, q, axis >= 0, &nch, sc, axis >= 0 ? axis : -1000, 0);
  free(q);
  free(own);
  return out;
}

/* int8 weight in slot k of node i (see int8_value). Returns 0, or -1 on OOM. */
static int int8_weight(rw *w, int i, int k, int axis, float *sc, int compute_scales) {
  int out = int8_value(w, w->c->g->nodes[i].inputs[k], axis, sc, compute_scales);
  if (out < 0) return -1;
  opt_set_input(w->c, &w->c->g->nodes[i], k, out);
  return 0;
}

/* int8 weight (and int32 bias) of quantized compute node i whose activation input has
 * scale in_scale (<= 0: no bias quantization). */
static er_status weights_for(rw *w, int i, float in_scale, er_quant_report *r) {
  opt_ctx *c = w->c;
  er_node *n = &c->g->nodes[i];
  if (!weight_slot(c, n, 1)) return NULL;
  const er_value *wv = val_of(c, n->inputs[1]);
  int axis = weight_axis(c, n, w->per_channel);
  int64_t nch = axis >= 0 ? wv->dims[axis] : 1;
  int64_t M = out_channels(c, n), nbias = 0;
  const float *bias = in_scale > 0 && M > 0 ? bias_of(c, n, M, &nbias) : NULL;
  /* per-channel bias needs one weight scale per output channel */
  if (bias && axis >= 0 && nch != M) bias = NULL;
  float *sc = (float *)malloc(sizeof(float) * (size_t)(nch + 1));
  if (!sc) return OOM();
  quant_weight_scales((const float *)wv->data, wv->rank, wv->dims, axis, 127, sc);
  if (bias) {
    if (axis >= 0)
      for (int64_t m = 0; m < M; m++) sc[m] = er_qbias_fit(sc[m], in_scale, &bias[m], 1);
    else
      sc[0] = er_qbias_fit(sc[0], in_scale, bias, nbias);
  }
  if (int8_weight(w, i, 1, axis, sc, 0) != 0) {
    free(sc);
    return OOM();
  }
  r->n_weights++;
  if (!bias) {
    free(sc);
    return NULL;
  }
  n = &c->g->nodes[i];
  char bbase[256];
  snprintf(bbase, sizeof bbase, "%s", c->g->values[n->inputs[2]].name);
  int64_t nbs = axis >= 0 ? M : 1;
  int32_t *bq = (int32_t *)malloc(sizeof(int32_t) * (size_t)(M + 1));
  float *bs = (float *)malloc(sizeof(float) * (size_t)(nbs + 1));
  int bout = -1;
  if (bq && bs) {
    for (int64_t m = 0; m < nbs; m++) bs[m] = (float)((double)in_scale * sc[m]);
    for (int64_t m = 0; m < M; m++) bq[m] = er_quantize_bias(bias[m], in_scale, sc[axis >= 0 ? m : 0]);
    bout = emit_dq(w, bbase, ER_I32, 1, &M, bq, axis >= 0, &nbs, bs, axis >= 0 ? 0 : -1000, 0);
  }
  free(bq);
  free(bs);
  free(sc);
  if (bout < 0) return OOM();
  opt_set_input(c, &c->g->nodes[i], 2, bout);
  return NULL;
}

er_status qplan_rewrite(qplan *p, int opset, er_quant_report *r) {
  opt_ctx *c = p->c;
  er_graph *g = c->g;
  rw w;
  rw_init(&w, p, c, opset, p->o->per_channel);
  /* 1. fold Relu/Clip into their producers */
  for (int i = 0; i < p->nn; i++) {
    if (p->fold_into[i] < 0) continue;
    er_node *n = &g->nodes[i], *prod = &g->nodes[p->fold_into[i]];
    int x = n->inputs[0], y = n->outputs[0];
    for (int k = 0; k < prod->n_outputs; k++)
      if (prod->outputs[k] == x) {
        opt_kill(c, n);
        opt_set_output(c, prod, k, y);
      }
  }
  /* 2. parameters of calibrated activations */
  for (int v = 0; v < p->nv; v++) {
    if (p->role[v] != QV_ACT) continue;
    /* an outer-scope value the enclosing graph quantizes keeps its parameters, so the
     * subgraph's QuantizeLinear of it is exact */
    if (qplan_inherited(p, v)) {
      int ro = root_of(p->parent, g->values[v].outer);
      p->scale[v] = p->parent->scale[ro];
      p->zp[v] = p->parent->zp[ro];
      continue;
    }
    double lo = 0, hi = 0;
    /* graph outputs keep their full range: clipping what the user reads helps nothing */
    int method = c->out_uses[v] ? ER_CALIB_MINMAX : p->o->method;
    if (p->has_stat[v]) er_qstat_range(&p->stats[v], method, p->o->percentile, &lo, &hi);
    er_qparams_affine(lo, hi, p->qmin, p->qmax, &p->scale[v], &p->zp[v]);
    /* Softmax outputs in [0, 1) use the fixed 1/256 grid from the first level (ONNX
     * Runtime's QLinearSoftmax assumes it) */
    const er_node *prod = opt_producer(c, v);
    if (prod && opt_is(prod, "Softmax")) {
      p->scale[v] = 1.0f / 256.0f;
      p->zp[v] = p->qmin;
    }
  }
  /* 3. Q/DQ pairs. dq[v]: the value quantized consumers read instead of v (input side). */
  int *dq = (int *)malloc(sizeof(int) * ((size_t)p->nv + 1));
  if (!dq) return OOM();
  for (int v = 0; v < p->nv; v++) dq[v] = -1;
  er_status s = NULL;
  for (int v = 0; v < p->nv && !s; v++) {
    if (p->role[v] == QV_NONE) continue;
    if (p->role[v] == QV_CONST) {
      dq[v] = const_dq(&w, v);
      if (dq[v] < 0) s = OOM();
      continue;
    }
    int prod = g->values[v].kind == ER_VALUE_NODE ? g->values[v].producer : -1;
    int output_side = prod >= 0 && prod < p->nn && p->status[prod] == ER_QN_QUANTIZED;
    int y = act_qdq(&w, v, output_side);
    if (y < 0) s = OOM();
    else if (!output_side) dq[v] = y;
    r->n_qdq_pairs++;
  }
  /* 4. quantized nodes read the DQ outputs; compute nodes get int8 weights, int32 biases */
  for (int i = 0; i < p->nn && !s; i++) {
    if (p->status[i] != ER_QN_QUANTIZED) continue;
    er_node *n = &g->nodes[i];
    int x0 = n->n_inputs ? n->inputs[0] : -1;
    for (int k = 0; k < n->n_inputs; k++) {
      int v = n->inputs[k];
      if (v >= 0 && v < p->nv && dq[v] >= 0) opt_set_input(c, n, k, dq[v]);
    }
    if (p->cat[i] == QC_COMPUTE && x0 >= 0 && x0 < p->nv) {
      float in_scale = p->role[x0] != QV_NONE ? p->scale[root_of(p, x0)] : 0;
      s = weights_for(&w, i, in_scale, r);
    }
  }
  free(dq);
  return s;
}

/* ------------------------------------------------------------ weights only */

/* Blocked int4 weight in slot k of node i, blocks along `axis`; with transpose (a 2-D
 * [N, K] weight), the stored weight is its transpose [K, N], blocked along axis 0. */
static int int4_weight(rw *w, int i, int k, int axis, int bs, int transpose) {
  opt_ctx *c = w->c;
  const er_value *wv = val_of(c, c->g->nodes[i].inputs[k]);
  int rank = wv->rank;
  int64_t dims[ER_MAX_RANK], sdims[ER_MAX_RANK];
  memcpy(dims, wv->dims, sizeof dims);
  const float *wd = (const float *)wv->data;
  float *tr = NULL;
  if (transpose) {
    int64_t N = dims[0], K = dims[1];
    tr = (float *)malloc(sizeof(float) * (size_t)(N * K + 1));
    if (!tr) return -1;
    for (int64_t n = 0; n < N; n++)
      for (int64_t j = 0; j < K; j++) tr[j * N + n] = wd[n * K + j];
    wd = tr;
    dims[0] = K;
    dims[1] = N;
    axis = 0;
  }
  memcpy(sdims, dims, sizeof sdims);
  sdims[axis] = (dims[axis] + bs - 1) / bs;
  char base[256];
  snprintf(base, sizeof base, "%s", wv->name);
  int8_t *q = (int8_t *)malloc((size_t)er_shape_numel(dims, rank) + 1);
  float *sc = (float *)malloc(sizeof(float) * (size_t)(er_shape_numel(sdims, rank) + 1));
  int out = -1;
  if (q && sc) {
    quant_weight_int4(wd, rank, dims, axis, bs, q, sc);
    out = emit_dq(w, base, ER_I4, rank, dims, q, rank, sdims, sc, axis, bs);
  }
  free(q);
  free(sc);
  free(tr);
  if (out < 0) return -1;
  opt_set_input(c, &c->g->nodes[i], k, out);
  return 0;
}

/* Gemm(A, B, C) with transA 0, alpha 1 and beta 1 (or no C) -> MatMul(A, B') [+ Add C],
 * so that the int4 weight is the standard DequantizeLinear(axis 0) -> MatMul pattern that
 * runtimes fuse into a 4-bit MatMul. Returns 1 if rewritten, 0 if not applicable, -1 OOM. */
static int gemm_to_matmul_int4(rw *w, int i, int bs) {
  opt_ctx *c = w->c;
  er_node *n = &c->g->nodes[i];
  if (opt_attr_int(n, "transA", 0) || opt_attr_float(n, "alpha", 1.0f) != 1.0f) return 0;
  int C = n->n_inputs > 2 ? n->inputs[2] : -1;
  if (C >= 0 && opt_attr_float(n, "beta", 1.0f) != 1.0f) return 0;
  int transB = (int)opt_attr_int(n, "transB", 0);
  if (int4_weight(w, i, 1, 0, bs, transB) != 0) return -1;
  n = &c->g->nodes[i];
  if (!opt_retype(n, "MatMul", w->opset)) return -1;
  opt_clear_attrs(n);
  int ins[2] = {n->inputs[0], n->inputs[1]};
  if (opt_set_inputs(c, n, 2, ins) != 0) return -1;
  if (C < 0) return 1;
  int y = n->outputs[0];
  char base[256];
  snprintf(base, sizeof base, "%s", c->g->values[y].name);
  int mm = new_node_value(w, base, "_matmul");
  if (mm < 0) return -1;
  opt_set_output(c, &c->g->nodes[i], 0, mm);
  int add_in[2] = {mm, C}, add_out[1] = {y};
  char name[300];
  snprintf(name, sizeof name, "%s_bias", c->g->nodes[i].name);
  return opt_add_node(c, "", "Add", w->opset, name, 2, add_in, 1, add_out) < 0 ? -1 : 1;
}

/* ONNX Runtime's dynamic QOperator form of MatMul/Gemm node i (see quantize.h). dql[x]
 * caches the DynamicQuantizeLinear of input x (3 value indices, -1 until made). Returns 1
 * if rewritten, 0 if not applicable (then the caller uses the weight-only form), -1 OOM. */
static int qop_matmul(rw *w, int i, int *dql, int ndql) {
  opt_ctx *c = w->c;
  er_node *n = &c->g->nodes[i];
  int x = n->inputs[0], C = -1, trans = 0;
  if (x < 0 || x >= ndql || is_const(c, x) || opt_dtype(c, x) != ER_F32 || n->n_outputs != 1) return 0;
  if (opt_is(n, "Gemm")) {
    if (opt_attr_int(n, "transA", 0) || opt_attr_float(n, "alpha", 1.0f) != 1.0f) return 0;
    C = n->n_inputs > 2 ? n->inputs[2] : -1;
    if (C >= 0 && opt_attr_float(n, "beta", 1.0f) != 1.0f) return 0;
    trans = (int)opt_attr_int(n, "transB", 0);
  }
  const er_value *wv = val_of(c, n->inputs[1]);
  if (wv->rank != 2) return 0;
  int64_t K = wv->dims[trans ? 1 : 0], N = wv->dims[trans ? 0 : 1], kn[2] = {K, N};
  float *wt = (float *)malloc(sizeof(float) * (size_t)(K * N + 1));
  float *sc = (float *)malloc(sizeof(float) * (size_t)(N + 1));
  int8_t *q = (int8_t *)malloc((size_t)(K * N + 1)), *zeros = (int8_t *)calloc((size_t)N + 1, 1);
  char base[256], nbase[256];
  snprintf(base, sizeof base, "%s", wv->name);
  snprintf(nbase, sizeof nbase, "%s", n->name);
  int axis = w->per_channel ? 1 : -1, y = n->outputs[0], rc = -1;
  int64_t nsc = axis >= 0 ? N : 1;
  if (!wt || !sc || !q || !zeros) goto done;
  const float *wd = (const float *)wv->data;
  for (int64_t k = 0; k < K; k++)
    for (int64_t j = 0; j < N; j++) wt[k * N + j] = trans ? wd[j * K + k] : wd[k * N + j];
  quant_weight_scales(wt, 2, kn, axis, 127, sc);
  quant_weight_apply(wt, 2, kn, axis, 127, sc, q);
  if (dql[3 * x] < 0) {
    char xb[256];
    snprintf(xb, sizeof xb, "%s", c->g->values[x].name);
    int outs[3] = {new_node_value(w, xb, "_quantized"), new_node_value(w, xb, "_scale"), -1};
    outs[2] = new_node_value(w, xb, "_zero_point");
    if (outs[0] < 0 || outs[1] < 0 || outs[2] < 0 ||
        opt_add_node(c, "", "DynamicQuantizeLinear", w->opset, nm(w, xb, "_DynamicQuantizeLinear"), 1, &x, 3, outs) < 0)
      goto done;
    memcpy(&dql[3 * x], outs, sizeof outs);
  }
  int wq = opt_new_init(c, nm(w, base, "_quantized"), ER_I8, 2, kn, q);
  int ws = wq < 0 ? -1 : opt_new_init(c, nm(w, base, "_scale"), ER_F32, axis >= 0, &nsc, sc);
  int wz = ws < 0 ? -1 : opt_new_init(c, nm(w, base, "_zero_point"), ER_I8, axis >= 0, &nsc, zeros);
  int acc = wz < 0 ? -1 : new_node_value(w, nbase, "_MatMulInteger_output");
  int accf = acc < 0 ? -1 : new_node_value(w, nbase, "_MatMulInteger_output_float");
  int s2 = accf < 0 ? -1 : new_node_value(w, nbase, "_scales");
  int mm = s2 < 0 ? -1 : C >= 0 ? new_node_value(w, nbase, "_MatMul_output") : y;
  if (mm < 0) goto done;
  int mi_in[4] = {dql[3 * x], wq, dql[3 * x + 2], wz}, sm_in[2] = {dql[3 * x + 1], ws}, mul_in[2] = {accf, s2};
  int ca, k1, k2, k3;
  opt_kill(c, &c->g->nodes[i]); /* releases y: the new nodes produce it */
  if ((k1 = opt_add_node(c, "", "Mul", w->opset, nm(w, nbase, "_scales_Mul"), 2, sm_in, 1, &s2)) < 0) goto done;
  if ((k2 = opt_add_node(c, "", "MatMulInteger", w->opset, nm(w, nbase, "_MatMulInteger"), 4, mi_in, 1, &acc)) < 0)
    goto done;
  if ((ca = opt_add_node(c, "", "Cast", w->opset, nm(w, nbase, "_Cast"), 1, &acc, 1, &accf)) < 0 ||
      opt_set_attr_int(c, &c->g->nodes[ca], "to", ER_F32) != 0)
    goto done;
  if ((k3 = opt_add_node(c, "", "Mul", w->opset, nm(w, nbase, "_output_Mul"), 2, mul_in, 1, &mm)) < 0) goto done;
  if (C >= 0) {
    int add_in[2] = {mm, C};
    if (opt_add_node(c, "", "Add", w->opset, nm(w, nbase, "_bias_Add"), 2, add_in, 1, &y) < 0) goto done;
  }
  rc = 1;
done:
  free(wt);
  free(sc);
  free(q);
  free(zeros);
  return rc;
}

static int const_f32_rank(const opt_ctx *c, const er_node *n, int k, int min_rank) {
  if (k >= n->n_inputs || n->inputs[k] < 0) return 0;
  const er_value *v = val_of(c, n->inputs[k]);
  return is_const(c, n->inputs[k]) && v->dtype == ER_F32 && v->rank >= min_rank;
}

static int recurrent(const er_node *n) { return opt_is(n, "LSTM") || opt_is(n, "GRU") || opt_is(n, "RNN"); }

/* Does every reader of value v of g (through data-movement ops and into subgraphs) end in
 * the W or R input of an LSTM/GRU/RNN? (Exporters slice and concatenate the gates of one
 * weight, e.g. Silero VAD inside an If branch.) At least one such reader must exist. */
static int feeds_recurrent_weights(const er_graph *g, int v, int depth) {
  static const char *const move[] = {"Slice", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Transpose",
                                     "Split", "Identity", NULL};
  int ends = 0;
  if (depth > 32) return 0;
  for (int k = 0; k < g->n_outputs; k++)
    if (g->outputs[k] == v) return 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++) {
      if (n->inputs[k] != v) continue;
      if (recurrent(n) && (k == 1 || k == 2)) {
        ends = 1;
        continue;
      }
      if (n->domain[0] || !in_list(n->op_type, move) || (k > 0 && !opt_is(n, "Concat"))) return 0;
      for (int j = 0; j < n->n_outputs; j++) {
        if (n->outputs[j] < 0) continue;
        if (!feeds_recurrent_weights(g, n->outputs[j], depth + 1)) return 0;
        ends = 1;
      }
    }
    for (int a = 0; a < n->n_attrs; a++) {
      const er_attr *at = &n->attrs[a];
      int ng = at->type == ER_ATTR_GRAPH ? 1 : at->type == ER_ATTR_GRAPHS ? at->n : 0;
      for (int j = 0; j < ng; j++) {
        const er_graph *sg = at->type == ER_ATTR_GRAPH ? at->g : at->graphs[j];
        for (int u = 0; sg && u < sg->n_values; u++) {
          if (sg->values[u].kind != ER_VALUE_OUTER || sg->values[u].outer != v) continue;
          if (!feeds_recurrent_weights(sg, u, depth + 1)) return 0;
          ends = 1;
        }
      }
    }
  }
  return ends;
}

er_status quant_weights_only(opt_ctx *c, const er_quant_options *o, int opset, int float_ops_only,
                             er_quant_report *r) {
  rw w;
  rw_init(&w, NULL, c, opset, o->per_channel);
  int nn = c->g->n_nodes;
  int *dql = NULL, ndql = c->g->n_values; /* per value: its DynamicQuantizeLinear outputs */
  if (o->dynamic && o->qoperator && !float_ops_only) {
    dql = (int *)malloc(sizeof(int) * 3 * ((size_t)c->g->n_values + 1));
    if (!dql) return OOM();
    for (int v = 0; v < 3 * c->g->n_values; v++) dql[v] = -1;
  }
  for (int i = 0; i < nn; i++) {
    er_node *n = &c->g->nodes[i];
    if (n->domain[0] || excluded(o, n)) continue;
    if (float_ops_only && !(opt_is(n, "LSTM") || opt_is(n, "GRU") || opt_is(n, "RNN") || opt_is(n, "Gather")))
      continue;
    int rc = 0, done = 0;
    const er_value *wv = n->n_inputs > 1 && n->inputs[1] >= 0 ? val_of(c, n->inputs[1]) : NULL;
    if ((opt_is(n, "Conv") || opt_is(n, "ConvTranspose")) && const_f32_rank(c, n, 1, 3)) {
      int axis = weight_axis(c, n, o->per_channel);
      rc = int8_weight(&w, i, 1, axis, NULL, 1);
      done = 1;
    } else if (dql && (opt_is(n, "Gemm") || opt_is(n, "MatMul")) && const_f32_rank(c, n, 1, 2) &&
               (rc = qop_matmul(&w, i, dql, ndql)) != 0) {
      done = rc > 0;
      rc = rc < 0;
    } else if (opt_is(n, "Gemm") && const_f32_rank(c, n, 1, 2) && wv->rank == 2) {
      int transB = (int)opt_attr_int(n, "transB", 0);
      if (o->int4) {
        rc = gemm_to_matmul_int4(&w, i, o->block_size);
        if (rc == 0) rc = int4_weight(&w, i, 1, transB ? 1 : 0, o->block_size, 0);
        else if (rc > 0) rc = 0;
      } else {
        rc = int8_weight(&w, i, 1, weight_axis(c, n, o->per_channel), NULL, 1);
      }
      done = 1;
    } else if (opt_is(n, "MatMul") && const_f32_rank(c, n, 1, 2)) {
      if (o->int4) rc = int4_weight(&w, i, 1, wv->rank - 2, o->block_size, 0);
      else rc = int8_weight(&w, i, 1, weight_axis(c, n, o->per_channel), NULL, 1);
      done = 1;
    } else if (opt_is(n, "LSTM") || opt_is(n, "GRU") || opt_is(n, "RNN")) {
      for (int k = 1; k <= 2 && !rc; k++)
        if (const_f32_rank(c, n, k, 3)) {
          rc = int8_weight(&w, i, k, o->per_channel ? 1 : -1, NULL, 1);
          if (!rc) r->n_weights++;
        }
    } else if (!dql && opt_is(n, "Gather") && const_f32_rank(c, n, 0, 2) &&
               er_shape_numel(val_of(c, n->inputs[0])->dims, 2) >= 1024 && val_of(c, n->inputs[0])->rank == 2) {
      rc = int8_weight(&w, i, 0, o->per_channel ? 0 : -1, NULL, 1);
      done = 1;
    }
    if (rc) {
      free(dql);
      return OOM();
    }
    r->n_weights += done;
  }
  free(dql);
  /* recurrent weights assembled by slicing/concatenating a constant: quantize that constant */
  int nv = c->g->n_values;
  for (int v = 0; v < nv; v++) {
    const er_value *val = &c->g->values[v];
    if (val->kind != ER_VALUE_INITIALIZER || val->dtype != ER_F32 || !val->data || val->rank < 2 ||
        val->is_graph_input || er_shape_numel(val->dims, val->rank) < 1024 || !opt_refs(c, v) ||
        c->out_uses[v] || !feeds_recurrent_weights(c->g, v, 0))
      continue;
    int out = int8_value(&w, v, o->per_channel ? 0 : -1, NULL, 1);
    if (out < 0) return OOM();
    opt_replace_uses(c, v, out);
    r->n_weights++;
  }
  return NULL;
}

/* ------------------------------------------------------------------ fp16 */

er_status quant_fp16_weights(opt_ctx *c, int opset, er_quant_report *r) {
  er_graph *g = c->g;
  int nv = g->n_values;
  for (int v = 0; v < nv; v++) {
    er_value *val = &g->values[v];
    if (val->kind != ER_VALUE_INITIALIZER || val->dtype != ER_F32 || !val->data || val->is_graph_input ||
        c->out_uses[v] || c->sub_uses[v] || !c->uses[v])
      continue;
    int64_t n = er_shape_numel(val->dims, val->rank);
    if (n < 16) continue;
    const float *d = (const float *)val->data;
    int ok = 1;
    for (int64_t i = 0; i < n && ok; i++) ok = isfinite(d[i]) && fabsf(d[i]) <= 65504.0f;
    /* scales of Q/DQ nodes and shape-like inputs stay float32 */
    for (int i = 0; i < g->n_nodes && ok; i++) {
      const er_node *nd = &g->nodes[i];
      int reads = 0;
      for (int k = 0; k < nd->n_inputs; k++) reads |= nd->inputs[k] == v;
      if (reads && (opt_is(nd, "QuantizeLinear") || opt_is(nd, "DequantizeLinear") || opt_is(nd, "Resize") ||
                    opt_is(nd, "Upsample") || nd->domain[0]))
        ok = 0;
    }
    if (!ok) continue;
    uint16_t *h = (uint16_t *)malloc(sizeof(uint16_t) * (size_t)n);
    if (!h) return OOM();
    for (int64_t i = 0; i < n; i++) h[i] = er_f32_to_f16(d[i]);
    char base[256];
    snprintf(base, sizeof base, "%s", val->name);
    int rank = val->rank;
    int64_t dims[ER_MAX_RANK];
    memcpy(dims, val->dims, sizeof dims);
    char name[300];
    snprintf(name, sizeof name, "%s_fp16", base);
    int hv = opt_new_init(c, name, ER_F16, rank, dims, h);
    free(h);
    snprintf(name, sizeof name, "%s_cast", base);
    int out = hv < 0 ? -1 : opt_new_value(c, name, ER_VALUE_NODE);
    if (out < 0) return OOM();
    opt_replace_uses(c, v, out);
    snprintf(name, sizeof name, "%s_Cast", base);
    int idx = opt_add_node(c, "", "Cast", opset, name, 1, &hv, 1, &out);
    if (idx < 0 || opt_set_attr_int(c, &g->nodes[idx], "to", ER_F32) != 0) return OOM();
    r->n_weights++;
  }
  return NULL;
}
