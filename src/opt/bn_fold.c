/* BatchNormalization (inference) folded into the Conv, ConvTranspose or Gemm that feeds
 * it, when every BN parameter and the producer's weight (and bias) are float32
 * initializers and the producer's output feeds only the BN:
 *   s = scale / sqrt(var + eps);  W' = W * s (per output channel);  B' = (B - mean) * s + bias
 * New weights are new initializers in pool memory (the originals may be shared or mapped
 * read-only). Computed in double, rounded once to float. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "opt/ir_edit.h"

typedef struct bn_params {
  int64_t C;
  double *s, *shift; /* y = x * s + shift */
} bn_params;

static int read_bn(const opt_ctx *c, const er_node *bn, bn_params *p) {
  if (bn->n_inputs != 5 || bn->n_outputs < 1 || bn->outputs[0] < 0) return 0;
  for (int k = 1; k < bn->n_outputs; k++)
    if (bn->outputs[k] >= 0) return 0; /* training outputs requested */
  if (opt_attr_int(bn, "training_mode", 0) != 0) return 0;
  if (bn->opset < 9 && opt_attr_int(bn, "spatial", 1) != 1) return 0;
  const float *q[4];
  int64_t n[4];
  for (int k = 0; k < 4; k++) {
    q[k] = opt_const_f32(c, bn->inputs[1 + k], &n[k]);
    if (!q[k] || c->g->values[bn->inputs[1 + k]].rank != 1) return 0;
    if (n[k] != n[0]) return 0;
  }
  double eps = opt_attr_float(bn, "epsilon", 1e-5f);
  p->C = n[0];
  p->s = (double *)malloc(sizeof(double) * 2 * (size_t)(p->C ? p->C : 1));
  if (!p->s) return 0;
  p->shift = p->s + p->C;
  for (int64_t i = 0; i < p->C; i++) {
    double s = (double)q[0][i] / sqrt((double)q[3][i] + eps);
    p->s[i] = s;
    p->shift[i] = (double)q[1][i] - (double)q[2][i] * s;
  }
  return 1;
}

/* Conv: W [M, C/g, k...]; ConvTranspose: W [C, M/g, k...]. Channel of weight element. */
static er_status fold_conv(opt_ctx *c, er_node *p, er_node *bn, const bn_params *bp, int *done) {
  int transpose = opt_is(p, "ConvTranspose");
  if (p->n_inputs < 2) return NULL;
  int64_t nw;
  const float *W = opt_const_f32(c, p->inputs[1], &nw);
  if (!W) return NULL;
  const er_value *wv = &c->g->values[p->inputs[1]];
  if (wv->rank < 3) return NULL;
  int64_t group = opt_attr_int(p, "group", 1);
  if (group < 1) return NULL;
  int64_t M = transpose ? wv->dims[1] * group : wv->dims[0];
  if (M != bp->C || (transpose && wv->dims[0] % group)) return NULL;
  const float *B = NULL;
  if (p->n_inputs >= 3 && p->inputs[2] >= 0) {
    int64_t nb;
    B = opt_const_f32(c, p->inputs[2], &nb);
    if (!B || nb != M) return NULL;
  }
  float *nwd = (float *)malloc(sizeof(float) * (size_t)(nw + M + 1));
  if (!nwd) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory folding BatchNormalization");
  float *nbd = nwd + nw;
  int64_t inner = 1;
  for (int d = 2; d < wv->rank; d++) inner *= wv->dims[d];
  int64_t d0 = wv->dims[0], d1 = wv->dims[1];
  for (int64_t i = 0; i < d0; i++)
    for (int64_t j = 0; j < d1; j++) {
      int64_t oc = transpose ? (i / (d0 / group)) * d1 + j : i;
      const float *src = W + (i * d1 + j) * inner;
      float *dst = nwd + (i * d1 + j) * inner;
      for (int64_t k = 0; k < inner; k++) dst[k] = (float)((double)src[k] * bp->s[oc]);
    }
  for (int64_t m = 0; m < M; m++) nbd[m] = (float)((B ? (double)B[m] : 0.0) * bp->s[m] + bp->shift[m]);
  int64_t wdims[ER_MAX_RANK];
  int wrank = wv->rank; /* wv moves when new values are added */
  memcpy(wdims, wv->dims, sizeof wdims);
  int wi = opt_new_init_f32(c, p->name[0] ? p->name : "conv", wrank, wdims, nwd);
  int bi = wi < 0 ? -1 : opt_new_init_f32(c, bn->name[0] ? bn->name : "bn", 1, &M, nbd);
  free(nwd);
  if (bi < 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory folding BatchNormalization");
  int ins[3] = {p->inputs[0], wi, bi};
  if (opt_set_inputs(c, p, 3, ins) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  *done = 1;
  return NULL;
}

/* Gemm: Y = alpha * A' B' + beta * C with Y [M, N]; BN scales column n. */
static er_status fold_gemm(opt_ctx *c, er_node *p, er_node *bn, const bn_params *bp, int *done) {
  if (p->n_inputs < 2) return NULL;
  int64_t nw;
  const float *Bw = opt_const_f32(c, p->inputs[1], &nw);
  if (!Bw) return NULL;
  const er_value *wv = &c->g->values[p->inputs[1]];
  if (wv->rank != 2) return NULL;
  int transB = (int)opt_attr_int(p, "transB", 0);
  int64_t N = transB ? wv->dims[0] : wv->dims[1], K = transB ? wv->dims[1] : wv->dims[0];
  if (N != bp->C) return NULL;
  double beta = opt_attr_float(p, "beta", 1.0f);
  const float *Cb = NULL;
  int64_t nc = 0;
  if (p->n_inputs >= 3 && p->inputs[2] >= 0) {
    Cb = opt_const_f32(c, p->inputs[2], &nc);
    if (!Cb) return NULL;
    const er_value *cv = &c->g->values[p->inputs[2]];
    int ok = nc == 1 || (cv->rank == 1 && nc == N) || (cv->rank == 2 && cv->dims[0] == 1 && nc == N);
    if (!ok) return NULL;
  }
  float *nwd = (float *)malloc(sizeof(float) * (size_t)(nw + N + 1));
  if (!nwd) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory folding BatchNormalization");
  float *ncd = nwd + nw;
  for (int64_t k = 0; k < K; k++)
    for (int64_t n = 0; n < N; n++) {
      int64_t idx = transB ? n * K + k : k * N + n;
      nwd[idx] = (float)((double)Bw[idx] * bp->s[n]);
    }
  for (int64_t n = 0; n < N; n++) {
    double cb = Cb ? beta * (double)Cb[nc == 1 ? 0 : n] : 0.0;
    ncd[n] = (float)(cb * bp->s[n] + bp->shift[n]);
  }
  int64_t wdims[2] = {wv->dims[0], wv->dims[1]};
  int wi = opt_new_init_f32(c, p->name[0] ? p->name : "gemm", 2, wdims, nwd);
  int ci = wi < 0 ? -1 : opt_new_init_f32(c, bn->name[0] ? bn->name : "bn", 1, &N, ncd);
  free(nwd);
  if (ci < 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory folding BatchNormalization");
  int ins[3] = {p->inputs[0], wi, ci};
  if (opt_set_inputs(c, p, 3, ins) != 0 || opt_set_attr_float(c, p, "beta", 1.0f) != 0)
    return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  *done = 1;
  return NULL;
}

er_status opt_pass_bn_fold(opt_ctx *c, int *out_count) {
  er_graph *g = c->g;
  *out_count = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    if (c->dead[i]) continue;
    er_node *bn = &g->nodes[i];
    if (!opt_is(bn, "BatchNormalization") || bn->n_inputs < 1) continue;
    int x = bn->inputs[0];
    er_node *p = opt_producer(c, x);
    if (!p || opt_sole_consumer(c, x, NULL) != bn || p->outputs[0] != x) continue;
    int conv = opt_is(p, "Conv") || opt_is(p, "ConvTranspose");
    if (!conv && !opt_is(p, "Gemm")) continue;
    if (er_node_attr(p, "_act")) continue; /* already fused with an activation */
    bn_params bp = {0};
    if (!read_bn(c, bn, &bp)) continue;
    int done = 0;
    er_status s = conv ? fold_conv(c, p, bn, &bp, &done) : fold_gemm(c, p, bn, &bp, &done);
    free(bp.s);
    if (s) return s;
    if (!done) continue;
    const char *name = opt_join_name(c, p->name, bn->name);
    if (!name) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    p->name = name;
    int y = bn->outputs[0];
    opt_kill(c, bn);
    opt_set_output(c, p, 0, y);
    (*out_count)++;
  }
  return NULL;
}
