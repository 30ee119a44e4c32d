/* Magnitude pruning, unstructured and structured (see prune.h). */
#include "compress/prune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"
#include "compress/common.h"

#define OOM() ER_ERR(ER_OUT_OF_MEMORY, "out of memory")

/* ---------------------------------------------------------------- shared */

static int excluded(const er_prune_options *o, const char *name) {
  for (int i = 0; i < o->n_exclude; i++)
    if (!strcmp(o->exclude[i], name)) return 1;
  return 0;
}

/* Input slot of the weight of a prunable node, or -1. */
static int weight_slot(const er_node *n) {
  if (opt_is(n, "Conv") || opt_is(n, "Gemm") || opt_is(n, "MatMul")) return n->n_inputs >= 2 ? 1 : -1;
  return -1;
}

static er_prune_layer *add_layer(er_prune_report *r, int *cap, const er_node *n) {
  if (r->n_layers == *cap) {
    int nc = *cap ? 2 * *cap : 64;
    er_prune_layer *l = (er_prune_layer *)realloc(r->layers, sizeof(er_prune_layer) * (size_t)nc);
    if (!l) return NULL;
    r->layers = l;
    *cap = nc;
  }
  er_prune_layer *L = &r->layers[r->n_layers++];
  memset(L, 0, sizeof *L);
  L->node = n->name;
  L->op = n->op_type;
  return L;
}

/* ---------------------------------------------------------------- unstructured */

typedef struct mag {
  float a;
  int64_t i;
} mag;

static int cmp_mag(const void *x, const void *y) {
  const mag *p = (const mag *)x, *q = (const mag *)y;
  if (p->a != q->a) return p->a < q->a ? -1 : 1;
  return p->i < q->i ? -1 : p->i > q->i;
}

static er_status prune_unstructured(opt_ctx *c, const er_prune_options *o, er_prune_report *r) {
  er_graph *g = c->g;
  int cap = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    er_node *n = &g->nodes[i];
    int k = weight_slot(n);
    cmp_const wc;
    const float *w = k >= 0 ? cmp_const_f32(c, n->inputs[k], 1, &wc) : NULL;
    if (!w) continue;
    int64_t numel = cmp_numel(&wc);
    er_prune_layer *L = add_layer(r, &cap, n);
    if (!L) return OOM();
    L->params = L->params_after = numel;
    for (int64_t e = 0; e < numel; e++) L->zeros_before += w[e] == 0;
    L->zeros_after = L->zeros_before;
    if (excluded(o, n->name)) {
      L->skipped = "excluded";
      continue;
    }
    if (opt_refs(c, n->inputs[k]) > 1) {
      L->skipped = "weight shared with other nodes";
      continue;
    }
    int64_t target = llround(o->sparsity * (double)numel);
    r->n_pruned++;
    if (target <= L->zeros_before) continue;
    mag *order = (mag *)malloc(sizeof(mag) * (size_t)numel);
    float *nw = (float *)malloc(sizeof(float) * (size_t)numel);
    if (!order || !nw) {
      free(order);
      free(nw);
      return OOM();
    }
    for (int64_t e = 0; e < numel; e++) order[e] = (mag){fabsf(w[e]), e};
    qsort(order, (size_t)numel, sizeof(mag), cmp_mag);
    memcpy(nw, w, sizeof(float) * (size_t)numel);
    for (int64_t e = 0; e < target; e++) nw[order[e].i] = 0;
    char name[512];
    snprintf(name, sizeof name, "%s_pruned", g->values[n->inputs[k]].name);
    int nv = opt_new_init_f32(c, name, wc.rank, wc.dims, nw);
    free(order);
    free(nw);
    if (nv < 0) return OOM();
    n = &g->nodes[i];
    opt_set_input(c, n, k, nv);
    L->zeros_after = target;
  }
  return NULL;
}

/* ---------------------------------------------------------------- structured */

/* Channel spaces: the output channels of one prunable Conv. Values carry a list of
 * segments (space, count) along their channel axis: one for a conv output, several after a
 * channel Concat. Elementwise ops join spaces (union-find); a frozen space keeps all its
 * channels. */
typedef struct space {
  int parent;
  int src;            /* source Conv node index */
  int64_t c;          /* channels */
  int64_t wnumel;     /* source weight elements before pruning */
  int bn;             /* BatchNormalization right after the conv (scales the importance), or -1 */
  int frozen;
  const char *reason, *blocker;
  int64_t *keep;      /* kept channel indices (root only, after selection), ascending */
  int64_t n_keep;
  int group;          /* report id of the root */
} space;

#define MAX_SEG 64
typedef struct vtrack {
  int nseg;           /* 0: not tracked */
  int seg_space[MAX_SEG];
  int64_t seg_count[MAX_SEG];
  int64_t hw;         /* 0: channels on axis 1 of [N,C,...]; >0: flattened [N, C*hw] */
} vtrack;

enum { R_SRC, R_CONV_IN, R_DEPTHWISE, R_PARAMS, R_BCAST, R_FC_IN, R_CONVT_IN };
typedef struct rec {
  int kind, node, slot, v; /* v: the value whose kept channels apply */
} rec;

typedef struct sctx {
  opt_ctx *c;
  const er_prune_options *o;
  space *sp;
  int n_sp, cap_sp;
  vtrack *vt;         /* per value */
  rec *recs;
  int n_recs, cap_recs;
  er_status err;
} sctx;

static int find(sctx *s, int a) {
  while (s->sp[a].parent != a) {
    s->sp[a].parent = s->sp[s->sp[a].parent].parent;
    a = s->sp[a].parent;
  }
  return a;
}

static void freeze_space(sctx *s, int a, const char *reason, const char *blocker) {
  space *r = &s->sp[find(s, a)];
  if (r->frozen) return;
  r->frozen = 1;
  r->reason = reason;
  r->blocker = blocker;
}

static void join(sctx *s, int a, int b, const char *blocker) {
  a = find(s, a);
  b = find(s, b);
  if (a == b) return;
  if (s->sp[a].c != s->sp[b].c) {
    freeze_space(s, a, "joined with a tensor of another channel count", blocker);
    freeze_space(s, b, "joined with a tensor of another channel count", blocker);
    return;
  }
  int fa = s->sp[a].frozen, fb = s->sp[b].frozen;
  s->sp[b].parent = a;
  if (!fa && fb) {
    s->sp[a].frozen = 1;
    s->sp[a].reason = s->sp[b].reason;
    s->sp[a].blocker = s->sp[b].blocker;
  }
}

static void freeze_value(sctx *s, int v, const char *reason, const char *blocker) {
  if (v < 0) return;
  for (int k = 0; k < s->vt[v].nseg; k++) freeze_space(s, s->vt[v].seg_space[k], reason, blocker);
}

static int tracked(const sctx *s, int v) { return v >= 0 && s->vt[v].nseg > 0; }

static int64_t channels(const sctx *s, int v) {
  int64_t n = 0;
  for (int k = 0; k < s->vt[v].nseg; k++) n += s->vt[v].seg_count[k];
  return n;
}

static void add_rec(sctx *s, int kind, int node, int slot, int v) {
  if (s->err) return;
  if (s->n_recs == s->cap_recs) {
    int nc = s->cap_recs ? 2 * s->cap_recs : 64;
    rec *r = (rec *)realloc(s->recs, sizeof(rec) * (size_t)nc);
    if (!r) {
      s->err = OOM();
      return;
    }
    s->recs = r;
    s->cap_recs = nc;
  }
  s->recs[s->n_recs++] = (rec){kind, node, slot, v};
}

static int new_space(sctx *s, int src, int64_t c) {
  if (s->n_sp == s->cap_sp) {
    int nc = s->cap_sp ? 2 * s->cap_sp : 64;
    space *p = (space *)realloc(s->sp, sizeof(space) * (size_t)nc);
    if (!p) {
      s->err = OOM();
      return -1;
    }
    s->sp = p;
    s->cap_sp = nc;
  }
  space *p = &s->sp[s->n_sp];
  memset(p, 0, sizeof *p);
  p->parent = s->n_sp;
  p->src = src;
  p->bn = -1;
  p->c = c;
  return s->n_sp++;
}

/* Static facts of a value (from opt_infer_facts). */
static int rank_of(const sctx *s, int v) { return v >= 0 ? s->c->vi_rank[v] : -1; }
static const int64_t *dims_of(const sctx *s, int v) { return s->c->vi_dims[v]; }

/* Is constant t broadcastable against value v (channels C on axis 1) as a scalar (0) or a
 * per-channel vector (1)? -1 otherwise. */
static int bcast_kind(const sctx *s, const cmp_const *t, int v) {
  if (cmp_numel(t) == 1) return 0;
  int r = rank_of(s, v);
  if (s->vt[v].hw || r < 2 || t->rank > r) return -1;
  int axis = 1 - (r - t->rank); /* channel axis inside t */
  if (axis < 0) return -1;
  for (int d = 0; d < t->rank; d++)
    if (d != axis && t->dims[d] != 1) return -1;
  return t->dims[axis] == channels(s, v) ? 1 : t->dims[axis] == 1 ? 0 : -1;
}

static int is_op(const er_node *n, const char *const *list) {
  if (n->domain[0]) return 0;
  for (; *list; list++)
    if (!strcmp(n->op_type, *list)) return 1;
  return 0;
}

static const char *const k_unary[] = {
    "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu",
    "Softplus", "Softsign", "Gelu", "Erf", "Exp", "Log", "Abs", "Neg", "Sqrt", "Reciprocal", "Floor",
    "Ceil", "Round", "Identity", "Dropout", "Cast", "Mish", "ThresholdedRelu", "Sin", "Cos", "Sign",
    "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", NULL};
static const char *const k_binary[] = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Pow", "PRelu", NULL};
static const char *const k_spatial_pool[] = {"MaxPool", "AveragePool", "LpPool", "GlobalAveragePool",
                                             "GlobalMaxPool", "GlobalLpPool", NULL};

static void copy_track(sctx *s, int to, int from) {
  if (to >= 0 && from >= 0) s->vt[to] = s->vt[from];
}

/* Freeze every tracked input of n (it consumes channels in a way we cannot rewrite). */
static void block_inputs(sctx *s, const er_node *n, const char *reason) {
  for (int k = 0; k < n->n_inputs; k++) freeze_value(s, n->inputs[k], reason, n->name);
}

/* The other outputs of a pass-through node must be unused (MaxPool indices, Dropout mask). */
static void extra_outputs_unused(sctx *s, const er_node *n) {
  for (int k = 1; k < n->n_outputs; k++)
    if (n->outputs[k] >= 0 && opt_refs(s->c, n->outputs[k]) > 0)
      block_inputs(s, n, "a second output of the node is used");
}

/* Mark the output of a flattening node: [N,C,spatial...] -> [N, C*hw] when every spatial dim
 * is static. */
static void flatten_to(sctx *s, const er_node *n, int x, int y) {
  int r = rank_of(s, x);
  int64_t hw = 1;
  for (int d = 2; d < r; d++) {
    if (dims_of(s, x)[d] < 0) r = -1;
    else hw *= dims_of(s, x)[d];
  }
  if (r < 2 || s->vt[x].hw) {
    freeze_value(s, x, "flattened with unknown spatial size", n->name);
    return;
  }
  copy_track(s, y, x);
  s->vt[y].hw = hw;
}

/* Reduction/squeeze axes (attribute or constant input 1) as a bit mask over rank r; 0 with
 * *ok = 0 when unknown. */
static unsigned axes_mask(const sctx *s, const er_node *n, int r, int *ok) {
  int64_t ax[ER_MAX_RANK];
  int na = -1;
  const er_attr *a = er_node_attr(n, "axes");
  if (a && a->type == ER_ATTR_INTS && a->n <= ER_MAX_RANK) {
    na = a->n;
    for (int k = 0; k < na; k++) ax[k] = a->ints[k];
  } else if (n->n_inputs > 1 && n->inputs[1] >= 0) {
    na = opt_const_ints(s->c, n->inputs[1], ax, ER_MAX_RANK);
  } else {
    na = 0; /* no axes: all of them */
  }
  *ok = na >= 0 && r > 0;
  if (!*ok) return 0;
  if (na == 0) return (1u << r) - 1;
  unsigned m = 0;
  for (int k = 0; k < na; k++) {
    int64_t x = ax[k] < 0 ? ax[k] + r : ax[k];
    if (x < 0 || x >= r) *ok = 0;
    else m |= 1u << x;
  }
  return m;
}

static void visit_conv(sctx *s, int i) {
  const er_node *n = &s->c->g->nodes[i];
  int x = n->inputs[0], y = n->n_outputs > 0 ? n->outputs[0] : -1;
  cmp_const w, b;
  int64_t group = opt_attr_int(n, "group", 1);
  int has_w = n->n_inputs > 1 && cmp_const_view(s->c, n->inputs[1], &w) && w.dtype == ER_F32 && w.rank >= 3;
  int bias_ok = n->n_inputs < 3 || n->inputs[2] < 0 || cmp_const_view(s->c, n->inputs[2], &b);
  if (!has_w || !bias_ok) {
    block_inputs(s, n, "a Conv with weights that are not constant");
    return;
  }
  int64_t m = w.dims[0], cg = w.dims[1];
  if (group == 1) {
    if (tracked(s, x)) {
      if (s->vt[x].hw || channels(s, x) != cg) freeze_value(s, x, "a Conv whose input channels do not match", n->name);
      else add_rec(s, R_CONV_IN, i, 1, x);
    }
    if (y < 0) return;
    int sp = new_space(s, i, m);
    if (sp < 0) return;
    s->sp[sp].wnumel = cmp_numel(&w);
    s->vt[y].nseg = 1;
    s->vt[y].seg_space[0] = sp;
    s->vt[y].seg_count[0] = m;
    s->vt[y].hw = 0;
    add_rec(s, R_SRC, i, 1, y);
    if (excluded(s->o, n->name)) freeze_space(s, sp, "excluded", n->name);
    if (opt_refs(s->c, n->inputs[1]) > 1) freeze_space(s, sp, "weight shared with other nodes", n->name);
  } else if (cg == 1 && m == group && tracked(s, x) && !s->vt[x].hw && channels(s, x) == group) {
    add_rec(s, R_DEPTHWISE, i, 1, x); /* depthwise: shrinks with its input */
    copy_track(s, y, x);
    if (excluded(s->o, n->name)) freeze_value(s, x, "excluded", n->name);
  } else {
    block_inputs(s, n, "a grouped convolution");
  }
}

static void visit(sctx *s, int i) {
  const er_node *n = &s->c->g->nodes[i];
  int any = 0;
  for (int k = 0; k < n->n_inputs; k++) any |= tracked(s, n->inputs[k]);
  if (opt_is(n, "Conv")) {
    visit_conv(s, i);
    return;
  }
  if (!any) return;
  int x = n->inputs[0], y = n->n_outputs > 0 ? n->outputs[0] : -1;
  cmp_const t;
  if (is_op(n, k_unary)) {
    if (!tracked(s, x)) {
      block_inputs(s, n, "an operator input that is not the data input");
      return;
    }
    if (is_op(n, k_spatial_pool) && s->vt[x].hw) {
      block_inputs(s, n, "a pool over flattened channels");
      return;
    }
    for (int k = 1; k < n->n_inputs; k++) /* Clip min/max: scalars */
      if (n->inputs[k] >= 0 && !(cmp_const_view(s->c, n->inputs[k], &t) && cmp_numel(&t) == 1)) {
        block_inputs(s, n, "an operator with a non-scalar parameter");
        return;
      }
    extra_outputs_unused(s, n);
    copy_track(s, y, x);
    return;
  }
  if (opt_is(n, "BatchNormalization") || opt_is(n, "InstanceNormalization")) {
    int np = opt_is(n, "BatchNormalization") ? 5 : 3;
    int ok = tracked(s, x) && !s->vt[x].hw && n->n_inputs >= np;
    for (int k = 1; ok && k < np; k++)
      ok = cmp_const_view(s->c, n->inputs[k], &t) && t.rank == 1 && t.dims[0] == channels(s, x);
    if (!ok) {
      block_inputs(s, n, "a normalization with parameters that are not per-channel constants");
      return;
    }
    add_rec(s, R_PARAMS, i, np, x);
    const er_node *p = opt_producer(s->c, x);
    if (np == 5 && p && opt_is(p, "Conv") && s->vt[x].nseg == 1 && opt_refs(s->c, x) == 1)
      s->sp[s->vt[x].seg_space[0]].bn = i; /* conv -> BN: the folded weight is what counts */
    extra_outputs_unused(s, n);
    copy_track(s, y, x);
    return;
  }
  if (is_op(n, k_binary)) {
    int first = -1;
    for (int k = 0; k < n->n_inputs; k++) {
      int v = n->inputs[k];
      if (v < 0 || cmp_const_view(s->c, v, &t)) continue;
      if (!tracked(s, v)) {
        block_inputs(s, n, "combined with a tensor whose channels are not tracked");
        return;
      }
      if (first < 0) {
        first = v;
        continue;
      }
      const vtrack *a = &s->vt[first], *b = &s->vt[v];
      int same = a->nseg == b->nseg && a->hw == b->hw;
      for (int q = 0; same && q < a->nseg; q++) same = a->seg_count[q] == b->seg_count[q];
      if (!same) {
        block_inputs(s, n, "combined with a tensor of another channel layout");
        return;
      }
      for (int q = 0; q < a->nseg; q++) join(s, a->seg_space[q], b->seg_space[q], n->name);
    }
    for (int k = 0; k < n->n_inputs; k++) {
      int v = n->inputs[k];
      if (v < 0 || !cmp_const_view(s->c, v, &t)) continue;
      int kind = bcast_kind(s, &t, first);
      if (kind < 0) {
        block_inputs(s, n, "an elementwise constant that is not a scalar or per-channel");
        return;
      }
      if (kind == 1) add_rec(s, R_BCAST, i, k, first);
    }
    copy_track(s, y, first);
    return;
  }
  if (opt_is(n, "Concat")) {
    int r = rank_of(s, x);
    int64_t axis = opt_attr_int(n, "axis", 0);
    int ok = r >= 2 && (axis == 1 || axis == 1 - r) && y >= 0;
    vtrack out = {0};
    for (int k = 0; ok && k < n->n_inputs; k++) {
      int v = n->inputs[k];
      ok = tracked(s, v) && !s->vt[v].hw && out.nseg + s->vt[v].nseg <= MAX_SEG;
      for (int q = 0; ok && q < s->vt[v].nseg; q++) {
        out.seg_space[out.nseg] = s->vt[v].seg_space[q];
        out.seg_count[out.nseg++] = s->vt[v].seg_count[q];
      }
    }
    if (!ok) {
      block_inputs(s, n, "a Concat with inputs whose channels are not all tracked");
      return;
    }
    s->vt[y] = out;
    return;
  }
  if (opt_is(n, "Flatten")) {
    if (x >= 0 && tracked(s, x) && opt_attr_int(n, "axis", 1) == 1 && y >= 0) flatten_to(s, n, x, y);
    else block_inputs(s, n, "a Flatten on another axis");
    return;
  }
  if (opt_is(n, "Reshape")) { /* [N, -1] or [N, C*hw] keeps channel-major order */
    int64_t shp[2];
    int r = rank_of(s, x);
    int ns = n->n_inputs > 1 ? opt_const_ints(s->c, n->inputs[1], shp, 2) : -1;
    int ok = x >= 0 && tracked(s, x) && !s->vt[x].hw && ns == 2 && r >= 2 && y >= 0 && rank_of(s, y) == 2 &&
             dims_of(s, y)[0] >= 0 && dims_of(s, y)[0] == dims_of(s, x)[0];
    if (ok) flatten_to(s, n, x, y);
    else block_inputs(s, n, "a Reshape other than [N, -1]");
    return;
  }
  if (opt_is(n, "Squeeze") || opt_is(n, "ReduceMean") || opt_is(n, "ReduceMax") || opt_is(n, "ReduceSum") ||
      opt_is(n, "ReduceMin")) {
    int r = rank_of(s, x), ok = 0;
    unsigned m = r > 0 ? axes_mask(s, n, r, &ok) : 0;
    int squeeze = opt_is(n, "Squeeze");
    int keep = squeeze ? 0 : (int)opt_attr_int(n, "keepdims", 1);
    unsigned spatial = r > 2 ? ((1u << r) - 1) & ~3u : 0;
    if (!ok || !tracked(s, x) || s->vt[x].hw || !m || (m & 3u) || y < 0) {
      block_inputs(s, n, "a reduction or Squeeze over the batch or channel axis");
    } else if (keep) {
      copy_track(s, y, x);
    } else if (m == spatial) {
      int flat = 1;
      for (int d = 2; squeeze && d < r; d++) flat &= dims_of(s, x)[d] == 1;
      if (flat) {
        copy_track(s, y, x);
        s->vt[y].hw = 1;
      } else {
        block_inputs(s, n, "a Squeeze of axes that are not 1");
      }
    } else {
      block_inputs(s, n, "a reduction over some spatial axes only");
    }
    return;
  }
  if (opt_is(n, "Gemm") || opt_is(n, "MatMul")) {
    int ok = tracked(s, x) && s->vt[x].hw > 0 && !(n->n_inputs > 1 && tracked(s, n->inputs[1])) &&
             !(n->n_inputs > 2 && tracked(s, n->inputs[2])) && opt_attr_int(n, "transA", 0) == 0 &&
             n->n_inputs > 1 && cmp_const_view(s->c, n->inputs[1], &t) && t.rank == 2 && t.dtype == ER_F32;
    if (ok) {
      int64_t k = opt_is(n, "Gemm") && opt_attr_int(n, "transB", 0) ? t.dims[1] : t.dims[0];
      ok = k == channels(s, x) * s->vt[x].hw;
    }
    if (ok) add_rec(s, R_FC_IN, i, 1, x);
    else block_inputs(s, n, "a Gemm/MatMul whose weight rows cannot follow the channels");
    return;
  }
  if (opt_is(n, "ConvTranspose")) {
    int ok = tracked(s, x) && !s->vt[x].hw && opt_attr_int(n, "group", 1) == 1 && n->n_inputs > 1 &&
             cmp_const_view(s->c, n->inputs[1], &t) && t.dtype == ER_F32 && t.dims[0] == channels(s, x);
    for (int k = 1; ok && k < n->n_inputs; k++) ok = !tracked(s, n->inputs[k]);
    if (ok) add_rec(s, R_CONVT_IN, i, 1, x);
    else block_inputs(s, n, "a ConvTranspose that cannot follow the channels");
    return;
  }
  if (opt_is(n, "Pad") || opt_is(n, "Resize") || opt_is(n, "Upsample")) {
    /* channel-preserving when the pads / scales of axis 1 are 0 / 1 and no sizes are given */
    int r = rank_of(s, x), ok = tracked(s, x) && !s->vt[x].hw && r >= 2;
    for (int k = 1; ok && k < n->n_inputs; k++) ok = !tracked(s, n->inputs[k]);
    if (ok && opt_is(n, "Pad")) {
      int64_t pads[2 * ER_MAX_RANK];
      const er_attr *pa = er_node_attr(n, "pads");
      int np = -1;
      if (pa && pa->type == ER_ATTR_INTS && pa->n <= 2 * ER_MAX_RANK) {
        np = pa->n;
        memcpy(pads, pa->ints, sizeof(int64_t) * (size_t)np);
      } else if (n->n_inputs > 1) {
        np = opt_const_ints(s->c, n->inputs[1], pads, 2 * ER_MAX_RANK);
      }
      ok = np == 2 * r && pads[1] == 0 && pads[1 + r] == 0 && n->n_inputs < 4 && !er_node_attr(n, "axes");
      if (ok && n->n_inputs > 2 && n->inputs[2] >= 0) ok = cmp_const_view(s->c, n->inputs[2], &t) && cmp_numel(&t) == 1;
    } else if (ok) {
      int sizes = opt_is(n, "Resize") && n->n_inputs > 3 && n->inputs[3] >= 0;
      int sl = opt_is(n, "Resize") ? 2 : 1;
      const er_attr *sa = er_node_attr(n, "scales");
      cmp_const sc;
      if (sizes) ok = 0;
      else if (sa && sa->type == ER_ATTR_FLOATS) ok = sa->n == r && sa->floats[1] == 1.0f;
      else if (n->n_inputs > sl && n->inputs[sl] >= 0 && cmp_const_view(s->c, n->inputs[sl], &sc) && sc.dtype == ER_F32)
        ok = cmp_numel(&sc) == r && ((const float *)sc.data)[1] == 1.0f;
      else ok = 0;
    }
    if (ok) copy_track(s, y, x);
    else block_inputs(s, n, "a Pad/Resize that changes the channel axis");
    return;
  }
  char *reason = (char *)er_pool_alloc(s->c->pool, strlen(n->op_type) + 16);
  if (reason) snprintf(reason, strlen(n->op_type) + 16, "consumed by %s", n->op_type);
  block_inputs(s, n, reason ? reason : "consumed by another operator");
}

/* Scores and kept channels of every unfrozen group. */
typedef struct score {
  double s;
  int64_t c;
} score;

static int cmp_score(const void *x, const void *y) {
  const score *p = (const score *)x, *q = (const score *)y;
  if (p->s != q->s) return p->s < q->s ? -1 : 1;
  return p->c < q->c ? -1 : p->c > q->c;
}

static int cmp_i64(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return a < b ? -1 : a > b;
}

static er_status choose_channels(sctx *s) {
  for (int r = 0; r < s->n_sp; r++) {
    if (find(s, r) != r || s->sp[r].frozen) continue;
    int64_t c = s->sp[r].c;
    score *sc = (score *)calloc((size_t)c, sizeof(score));
    if (!sc) return OOM();
    for (int64_t ch = 0; ch < c; ch++) sc[ch].c = ch;
    for (int q = 0; q < s->n_sp; q++) { /* each source: per-channel L1 / its mean */
      if (find(s, q) != r) continue;
      const er_node *n = &s->c->g->nodes[s->sp[q].src];
      cmp_const w;
      cmp_const_view(s->c, n->inputs[1], &w);
      int64_t per = cmp_numel(&w) / c;
      double total = 0;
      double *l1 = (double *)calloc((size_t)c, sizeof(double));
      if (!l1) {
        free(sc);
        return OOM();
      }
      cmp_const sc_t, var_t;
      const er_node *bn = s->sp[q].bn >= 0 ? &s->c->g->nodes[s->sp[q].bn] : NULL;
      const float *gamma = bn ? cmp_const_f32(s->c, bn->inputs[1], 1, &sc_t) : NULL;
      const float *var = bn ? cmp_const_f32(s->c, bn->inputs[4], 1, &var_t) : NULL;
      double eps = bn ? opt_attr_float(bn, "epsilon", 1e-5f) : 0;
      for (int64_t ch = 0; ch < c; ch++) {
        for (int64_t e = 0; e < per; e++) l1[ch] += fabs(((const float *)w.data)[ch * per + e]);
        if (gamma && var) l1[ch] *= fabs(gamma[ch]) / sqrt(fmax(var[ch], 0) + eps);
        total += l1[ch];
      }
      double mean = total / (double)c;
      for (int64_t ch = 0; ch < c; ch++) sc[ch].s += mean > 0 ? l1[ch] / mean : 0;
      free(l1);
    }
    int64_t drop = llround(s->o->sparsity * (double)c);
    if (drop > c - 1) drop = c - 1;
    qsort(sc, (size_t)c, sizeof(score), cmp_score);
    s->sp[r].n_keep = c - drop;
    s->sp[r].keep = (int64_t *)malloc(sizeof(int64_t) * (size_t)(c - drop + 1));
    if (!s->sp[r].keep) {
      free(sc);
      return OOM();
    }
    for (int64_t k = 0; k < c - drop; k++) s->sp[r].keep[k] = sc[drop + k].c;
    qsort(s->sp[r].keep, (size_t)(c - drop), sizeof(int64_t), cmp_i64);
    free(sc);
  }
  return NULL;
}

/* Kept channel indices of value v (all segments, offsets added), expanded by hw for a
 * flattened value when `expand`. Returns the count, -1 on out-of-memory; *changed says
 * whether any channel goes. */
static int64_t kept_of(sctx *s, int v, int expand, int64_t **out, int *changed) {
  const vtrack *t = &s->vt[v];
  int64_t hw = expand && t->hw ? t->hw : 1;
  int64_t cap = channels(s, v) * hw, n = 0, off = 0;
  int64_t *idx = (int64_t *)malloc(sizeof(int64_t) * (size_t)(cap + 1));
  if (!idx) return -1;
  *changed = 0;
  for (int q = 0; q < t->nseg; q++) {
    const space *r = &s->sp[find(s, t->seg_space[q])];
    int all = r->frozen || !r->keep;
    int64_t nk = all ? t->seg_count[q] : r->n_keep;
    if (nk != t->seg_count[q]) *changed = 1;
    for (int64_t k = 0; k < nk; k++) {
      int64_t ch = off + (all ? k : r->keep[k]);
      for (int64_t j = 0; j < hw; j++) idx[n++] = ch * hw + j;
    }
    off += t->seg_count[q];
  }
  *out = idx;
  return n;
}

/* New initializer: constant input `slot` of node ni, keeping indices idx[0..n) along axis. */
static er_status slice_input(sctx *s, int ni, int slot, int axis, const int64_t *idx, int64_t n) {
  opt_ctx *c = s->c;
  cmp_const t;
  int v = c->g->nodes[ni].inputs[slot];
  if (!cmp_const_view(c, v, &t) || axis >= t.rank) return ER_ERR(ER_INTERNAL, "pruning lost a constant");
  size_t es = er_dtype_size(t.dtype);
  int64_t outer = 1, inner = 1, dims[ER_MAX_RANK];
  for (int d = 0; d < t.rank; d++) {
    dims[d] = t.dims[d];
    if (d < axis) outer *= t.dims[d];
    if (d > axis) inner *= t.dims[d];
  }
  dims[axis] = n;
  size_t row = (size_t)inner * es;
  uint8_t *buf = (uint8_t *)malloc((size_t)(outer * n) * row + 1);
  if (!buf) return OOM();
  for (int64_t o = 0; o < outer; o++)
    for (int64_t k = 0; k < n; k++)
      memcpy(buf + ((size_t)(o * n + k)) * row, (const uint8_t *)t.data + ((size_t)(o * t.dims[axis] + idx[k])) * row, row);
  char name[512];
  snprintf(name, sizeof name, "%s_pruned", c->g->values[v].name);
  int nv = opt_new_init(c, name, t.dtype, t.rank, dims, buf);
  free(buf);
  if (nv < 0) return OOM();
  opt_set_input(c, &c->g->nodes[ni], slot, nv);
  return NULL;
}

static er_status apply_rec(sctx *s, const rec *r) {
  int64_t *idx = NULL;
  int changed = 0;
  int64_t n = kept_of(s, r->v, r->kind == R_FC_IN, &idx, &changed);
  if (n < 0) return OOM();
  er_status st = NULL;
  er_node *nd = &s->c->g->nodes[r->node];
  if (changed) switch (r->kind) {
      case R_SRC:
      case R_DEPTHWISE:
        st = slice_input(s, r->node, 1, 0, idx, n);
        nd = &s->c->g->nodes[r->node];
        if (!st && nd->n_inputs > 2 && nd->inputs[2] >= 0) st = slice_input(s, r->node, 2, 0, idx, n);
        nd = &s->c->g->nodes[r->node];
        if (!st && r->kind == R_DEPTHWISE && opt_set_attr_int(s->c, nd, "group", n) != 0) st = OOM();
        break;
      case R_CONV_IN: st = slice_input(s, r->node, 1, 1, idx, n); break;
      case R_CONVT_IN: st = slice_input(s, r->node, 1, 0, idx, n); break;
      case R_PARAMS:
        for (int k = 1; k < r->slot && !st; k++) st = slice_input(s, r->node, k, 0, idx, n);
        break;
      case R_BCAST: {
        cmp_const t;
        cmp_const_view(s->c, nd->inputs[r->slot], &t);
        int axis = 1 - (rank_of(s, r->v) - t.rank);
        st = slice_input(s, r->node, r->slot, axis, idx, n);
        break;
      }
      case R_FC_IN: {
        int axis = opt_is(nd, "Gemm") && opt_attr_int(nd, "transB", 0) ? 1 : 0;
        st = slice_input(s, r->node, 1, axis, idx, n);
        break;
      }
      default: break;
    }
  free(idx);
  if (st) st = er_status_prefix(st, "node '%s' (%s)", s->c->g->nodes[r->node].name, s->c->g->nodes[r->node].op_type);
  return st;
}

static er_status prune_structured(opt_ctx *c, const er_prune_options *o, er_prune_report *rep) {
  er_graph *g = c->g;
  sctx s;
  memset(&s, 0, sizeof s);
  s.c = c;
  s.o = o;
  opt_infer_facts(c);
  int nv0 = g->n_values, n0 = g->n_nodes; /* tracking covers these; edits add more */
  s.vt = (vtrack *)calloc((size_t)nv0 + 1, sizeof(vtrack));
  if (!s.vt) return OOM();
  for (int i = 0; i < n0 && !s.err; i++) visit(&s, i);
  /* channels that leave the graph or go into subgraphs stay */
  for (int k = 0; k < g->n_outputs; k++) freeze_value(&s, g->outputs[k], "reaches a graph output", NULL);
  for (int v = 0; v < nv0; v++)
    if (c->sub_uses[v]) freeze_value(&s, v, "used inside a subgraph", NULL);
  er_status st = s.err;
  if (!st) st = choose_channels(&s);
  for (int k = 0; k < s.n_recs && !st; k++) st = apply_rec(&s, &s.recs[k]);
  /* report: one line per source conv, in graph order */
  int cap = 0, groups = 0;
  for (int q = 0; q < s.n_sp && !st; q++) {
    er_prune_layer *L = add_layer(rep, &cap, &g->nodes[s.sp[q].src]);
    if (!L) {
      st = OOM();
      break;
    }
    space *r = &s.sp[find(&s, q)];
    cmp_const w;
    cmp_const_view(c, g->nodes[s.sp[q].src].inputs[1], &w); /* the new, sliced weight */
    L->channels_before = s.sp[q].c;
    L->channels_after = r->frozen ? s.sp[q].c : r->n_keep;
    L->params = s.sp[q].wnumel;
    L->params_after = cmp_numel(&w);
    if (!r->group) r->group = ++groups;
    L->group = r->group;
    if (r->frozen) {
      L->skipped = r->reason;
      L->blocker = r->blocker;
    } else {
      rep->n_pruned++;
    }
  }
  /* declared shapes of values whose channels changed are no longer true */
  for (int v = 0; v < nv0 && !st; v++) {
    if (!tracked(&s, v) || g->values[v].kind != ER_VALUE_NODE) continue;
    int64_t *idx = NULL;
    int changed = 0;
    if (kept_of(&s, v, 0, &idx, &changed) < 0) st = OOM();
    free(idx);
    if (changed) g->values[v].rank = -1;
  }
  for (int q = 0; q < s.n_sp; q++) free(s.sp[q].keep);
  free(s.sp);
  free(s.vt);
  free(s.recs);
  return st;
}

/* ---------------------------------------------------------------- driver */

er_status er_prune(er_imported *m, const er_prune_options *o, er_prune_report *out) {
  memset(out, 0, sizeof *out);
  if (!m || !m->graph || !o) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  if (!(o->sparsity >= 0 && o->sparsity < 1))
    return ER_ERR(ER_INVALID_ARGUMENT, "sparsity must be in [0, 1), got %g", o->sparsity);
  for (int i = 0; i < o->n_exclude; i++) {
    int found = 0;
    for (int k = 0; k < m->graph->n_nodes && !found; k++) found = !strcmp(m->graph->nodes[k].name, o->exclude[i]);
    if (!found) return ER_ERR(ER_INVALID_ARGUMENT, "excluded node '%s' is not in the model", o->exclude[i]);
  }
  opt_ctx c;
  er_status st = opt_ctx_init(&c, &m->pool, m->graph, 0);
  if (!st) cmp_count_params(&c, &out->params_before, &out->nonzero_before);
  static const char *const ops[] = {"Conv", "Gemm", "MatMul", NULL};
  out->in_subgraphs = cmp_count_in_subgraphs(m->graph, ops);
  if (!st) st = o->structured ? prune_structured(&c, o, out) : prune_unstructured(&c, o, out);
  if (!st) cmp_drop_unused_constants(&c);
  if (!st) st = opt_compact(&c);
  if (!st) st = opt_compact_values(&c);
  if (!st) cmp_count_params(&c, &out->params_after, &out->nonzero_after);
  opt_ctx_free(&c);
  if (st) er_prune_report_free(out);
  return st;
}

void er_prune_report_free(er_prune_report *r) {
  if (!r) return;
  free(r->layers);
  memset(r, 0, sizeof *r);
}
