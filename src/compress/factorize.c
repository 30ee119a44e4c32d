/* Low-rank (SVD) factorization of Gemm/MatMul weights (see factorize.h). */
#include "compress/factorize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress/svd.h"
#include "compress/common.h"

#define OOM() ER_ERR(ER_OUT_OF_MEMORY, "out of memory")

/* W[K,N] of node n as a double matrix (transposing Gemm's B when transB=1). */
static double *weight_matrix(const er_node *n, const cmp_const *b, int64_t *k, int64_t *nn) {
  int trans = opt_is(n, "Gemm") && opt_attr_int(n, "transB", 0);
  int64_t r = b->dims[0], c = b->dims[1];
  *k = trans ? c : r;
  *nn = trans ? r : c;
  double *w = (double *)malloc(sizeof(double) * (size_t)(r * c));
  if (!w) return NULL;
  const float *f = (const float *)b->data;
  for (int64_t i = 0; i < r; i++)
    for (int64_t j = 0; j < c; j++) w[trans ? j * r + i : i * c + j] = f[i * c + j];
  return w;
}

/* Factors of rank r from the SVD, as float32, and the relative error they leave. */
static er_status low_rank(const double *w, int64_t k, int64_t n, int r, float *w1, float *w2, double *rel) {
  int64_t q = k < n ? k : n;
  double *u = (double *)malloc(sizeof(double) * (size_t)(k * q));
  double *v = (double *)malloc(sizeof(double) * (size_t)(n * q));
  double *s = (double *)malloc(sizeof(double) * (size_t)q);
  er_status st = NULL;
  int rc = (u && v && s) ? er_svd(w, (int)k, (int)n, u, s, v) : -1;
  if (rc < 0) st = OOM();
  /* rc 1 (not converged after 60 sweeps) still leaves a usable decomposition: the error
   * measured below says how good it is */
  for (int64_t i = 0; !st && i < k; i++)
    for (int p = 0; p < r; p++) w1[i * r + p] = (float)(u[i * q + p] * sqrt(s[p]));
  for (int p = 0; !st && p < r; p++)
    for (int64_t j = 0; j < n; j++) w2[p * n + j] = (float)(sqrt(s[p]) * v[j * q + p]);
  double err = 0, norm = 0;
  for (int64_t i = 0; !st && i < k; i++)
    for (int64_t j = 0; j < n; j++) {
      double x = 0;
      for (int p = 0; p < r; p++) x += (double)w1[i * r + p] * (double)w2[p * n + j];
      double d = w[i * n + j] - x;
      err += d * d;
      norm += w[i * n + j] * w[i * n + j];
    }
  *rel = norm > 0 ? sqrt(err / norm) : 0;
  free(u);
  free(v);
  free(s);
  return st;
}

/* Rewrite node `ni` (weight input 1 -> W1, W2 of the given shapes). */
static er_status rewire(opt_ctx *c, int ni, const float *w1, const float *w2, int64_t k, int64_t n, int r) {
  er_node *nd = &c->g->nodes[ni];
  const char *wname = c->g->values[nd->inputs[1]].name;
  char buf[512];
  int64_t d1[2] = {k, r}, d2[2] = {r, n};
  snprintf(buf, sizeof buf, "%s_lowrank_a", wname);
  int v1 = opt_new_init_f32(c, buf, 2, d1, w1);
  snprintf(buf, sizeof buf, "%s_lowrank_b", wname);
  int v2 = opt_new_init_f32(c, buf, 2, d2, w2);
  snprintf(buf, sizeof buf, "%s_lowrank", c->g->nodes[ni].name);
  int t = opt_new_value(c, buf, ER_VALUE_NODE);
  if (v1 < 0 || v2 < 0 || t < 0) return OOM();
  nd = &c->g->nodes[ni];
  int gemm = opt_is(nd, "Gemm");
  int ins[3] = {nd->inputs[0], v1, -1}, n_in = 2;
  if (gemm && nd->opset < 11) { /* C is required before opset 11: zeros */
    float *zero = (float *)calloc((size_t)r, sizeof(float));
    int64_t dz[1] = {r};
    snprintf(buf, sizeof buf, "%s_lowrank_zero", wname);
    ins[2] = zero ? opt_new_init_f32(c, buf, 1, dz, zero) : -1;
    free(zero);
    if (ins[2] < 0) return OOM();
    n_in = 3;
  }
  snprintf(buf, sizeof buf, "%s_lowrank", nd->name);
  int first = opt_add_node(c, "", nd->op_type, nd->opset, buf, n_in, ins, 1, &t);
  if (first < 0) return OOM();
  er_node *a = &c->g->nodes[first];
  nd = &c->g->nodes[ni];
  if (gemm) { /* first: alpha * op(A) W1; second: 1 * t W2 + beta C */
    float alpha = opt_attr_float(nd, "alpha", 1.0f);
    int64_t trans_a = opt_attr_int(nd, "transA", 0);
    if (alpha != 1.0f && opt_set_attr_float(c, a, "alpha", alpha) != 0) return OOM();
    if (trans_a && opt_set_attr_int(c, a, "transA", trans_a) != 0) return OOM();
    if (opt_set_attr_int(c, nd, "transA", 0) || opt_set_attr_int(c, nd, "transB", 0) ||
        opt_set_attr_float(c, nd, "alpha", 1.0f))
      return OOM();
  }
  opt_set_input(c, nd, 0, t);
  opt_set_input(c, nd, 1, v2);
  return NULL;
}

/* Gemm/MatMul whose input B is a 2-D float32 constant. */
static int is_candidate(const opt_ctx *c, const er_node *nd, cmp_const *w) {
  return (opt_is(nd, "Gemm") || opt_is(nd, "MatMul")) && nd->n_inputs >= 2 && cmp_const_f32(c, nd->inputs[1], 2, w) &&
         w->rank == 2;
}

er_status er_factorize(er_imported *m, const er_factorize_options *o, er_factorize_report *out) {
  memset(out, 0, sizeof *out);
  if (!m || !m->graph || !o) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  if (!(o->rank_ratio > 0 && o->rank_ratio <= 1))
    return ER_ERR(ER_INVALID_ARGUMENT, "rank ratio must be in (0, 1], got %g", o->rank_ratio);
  static const char *const ops[] = {"Gemm", "MatMul", NULL};
  opt_ctx c;
  ER_RETURN_IF_ERROR(opt_ctx_init(&c, &m->pool, m->graph, 0));
  er_graph *g = m->graph;
  int n0 = g->n_nodes, n_cand = 0, done = 0;
  for (int i = 0; i < n0; i++) {
    const er_node *nd = &g->nodes[i];
    cmp_const t;
    if (is_candidate(&c, nd, &t)) n_cand++;
  }
  out->layers = (er_factorize_layer *)calloc((size_t)n_cand + 1, sizeof(er_factorize_layer));
  out->in_subgraphs = cmp_count_in_subgraphs(g, ops);
  er_status st = out->layers ? NULL : OOM();
  for (int i = 0; i < n0 && !st; i++) {
    const er_node *nd = &g->nodes[i];
    cmp_const wc;
    if (!is_candidate(&c, nd, &wc)) continue;
    er_factorize_layer *L = &out->layers[out->n_layers++];
    L->node = nd->name;
    L->op = nd->op_type;
    int b = nd->inputs[1];
    int64_t k, n;
    double *w = weight_matrix(nd, &wc, &k, &n);
    if (!w) {
      st = OOM();
      break;
    }
    L->k = k;
    L->n = n;
    L->params_before = L->params_after = k * n;
    int64_t q = k < n ? k : n;
    int r = (int)ceil(o->rank_ratio * (double)q - 1e-9);
    if (r < 1) r = 1;
    if (opt_refs(&c, b) > 1) L->skipped = "weight shared with other nodes";
    else if (k * n < o->min_size) L->skipped = "smaller than the minimum size";
    else if ((int64_t)r * (k + n) >= k * n) L->skipped = "rank too high to save parameters";
    else if (q > 100000) L->skipped = "too large for the SVD";
    if (!L->skipped) {
      if (o->progress) o->progress(o->user, done, n_cand);
      float *w1 = (float *)malloc(sizeof(float) * (size_t)(k * r));
      float *w2 = (float *)malloc(sizeof(float) * (size_t)(r * n));
      st = (w1 && w2) ? low_rank(w, k, n, r, w1, w2, &L->rel_error) : OOM();
      if (!st) st = rewire(&c, i, w1, w2, k, n, r);
      if (st) st = er_status_prefix(st, "node '%s' (%s)", L->node, L->op);
      L->rank = r;
      L->params_after = (int64_t)r * (k + n);
      out->n_factorized++;
      free(w1);
      free(w2);
    }
    done++;
    out->params_before += L->params_before;
    out->params_after += L->params_after;
    free(w);
  }
  if (o->progress) o->progress(o->user, n_cand, n_cand);
  if (!st) cmp_drop_unused_constants(&c);
  if (!st) st = opt_compact(&c);
  if (!st) st = opt_compact_values(&c);
  opt_ctx_free(&c);
  if (st) er_factorize_report_free(out);
  return st;
}

void er_factorize_report_free(er_factorize_report *r) {
  if (!r) return;
  free(r->layers);
  memset(r, 0, sizeof *r);
}
