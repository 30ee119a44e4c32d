/* Conv (or ConvTranspose) followed by an Add or a Mul of a float32 constant that is the
 * same for every position of a channel ([M,1,1], [1,M,1,1], [1], scalar ...) folds into the
 * convolution, when the convolution's output feeds only that node: an Add into the bias, a
 * Mul into the weights and the bias (W[m] * k[m], B[m] * k[m]; equal up to float rounding,
 * like a folded BatchNormalization). Conv -> Mul -> Add chains (PP-LCNet's learnable
 * affine blocks) fold whole, in one sweep. */
#include <stdlib.h>
#include <string.h>

#include "opt/ir_edit.h"

/* Per-channel view of constant k for a conv output of rank R with M channels: returns
 * 1 and sets *stride (0: one value for all channels, 1: one per channel). */
static int channel_const(const opt_ctx *c, int k, int R, int64_t M, const float **out, int *stride) {
  int64_t n;
  const float *d = opt_const_f32(c, k, &n);
  if (!d) return 0;
  const er_value *v = &c->g->values[k];
  if (v->rank > R) return 0;
  int ca = 1 - (R - v->rank); /* channel axis inside k (right-aligned broadcasting) */
  for (int i = 0; i < v->rank; i++) {
    if (i == ca && (v->dims[i] == M || v->dims[i] == 1)) continue;
    if (v->dims[i] != 1) return 0;
  }
  *out = d;
  *stride = n == 1 ? 0 : 1;
  return n == 1 || n == M;
}

/* A copy of p's weights with output channel m scaled by k[stride * m] (Conv: W[M][C/g][...],
 * ConvTranspose: W[C][M/g][...], channel m = group * M/g + j). New initializer or -1. */
static int scaled_weights(opt_ctx *c, const er_node *p, int transpose, int64_t M, const float *k, int stride) {
  const er_value *wv = &c->g->values[p->inputs[1]];
  int64_t nw;
  const float *W = opt_const_f32(c, p->inputs[1], &nw);
  float *w2 = (float *)malloc(sizeof(float) * (size_t)(nw + 1));
  if (!W || !w2) {
    free(w2);
    return -1;
  }
  const int64_t d0 = wv->dims[0], d1 = wv->dims[1], inner = nw / (d0 * d1 > 0 ? d0 * d1 : 1);
  const int64_t group = transpose ? M / d1 : 1, per_group = d0 / (group > 0 ? group : 1);
  for (int64_t i = 0; i < d0; i++)
    for (int64_t j = 0; j < d1; j++) {
      const int64_t m = transpose ? i / per_group * d1 + j : i;
      const float f = k[stride * m];
      for (int64_t t = 0; t < inner; t++) w2[(i * d1 + j) * inner + t] = W[(i * d1 + j) * inner + t] * f;
    }
  int wi = opt_new_init_f32(c, wv->name, wv->rank, wv->dims, w2);
  free(w2);
  return wi;
}

er_status opt_pass_conv_add(opt_ctx *c, int *out_count) {
  er_graph *g = c->g;
  *out_count = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    if (c->dead[i]) continue;
    er_node *a = &g->nodes[i];
    const int mul = opt_is(a, "Mul");
    if (!(mul || opt_is(a, "Add")) || a->n_inputs != 2 || a->n_outputs != 1 || a->outputs[0] < 0) continue;
    if (a->opset < 7 && opt_attr_int(a, "broadcast", 0)) continue; /* legacy axis broadcast */
    for (int side = 0; side < 2; side++) {
      int y = a->inputs[side], k = a->inputs[1 - side];
      er_node *p = opt_producer(c, y);
      if (!p || !(opt_is(p, "Conv") || opt_is(p, "ConvTranspose")) || p->outputs[0] != y) continue;
      if (opt_sole_consumer(c, y, NULL) != a || er_node_attr(p, "_act") || p->n_inputs < 2) continue;
      int64_t nw;
      if (!opt_const_f32(c, p->inputs[1], &nw)) continue;
      const er_value *wv = &g->values[p->inputs[1]];
      if (wv->rank < 3) continue;
      int transpose = opt_is(p, "ConvTranspose");
      int64_t M = transpose ? wv->dims[1] * opt_attr_int(p, "group", 1) : wv->dims[0];
      const float *kd;
      int stride;
      if (!channel_const(c, k, wv->rank, M, &kd, &stride)) continue;
      const float *B = NULL;
      if (p->n_inputs >= 3 && p->inputs[2] >= 0) {
        int64_t nb;
        B = opt_const_f32(c, p->inputs[2], &nb);
        if (!B || nb != M) continue;
      }
      float *nb = (float *)malloc(sizeof(float) * (size_t)(M + 1));
      if (!nb) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory folding into Conv");
      for (int64_t m = 0; m < M; m++) nb[m] = mul ? (B ? B[m] * kd[stride * m] : 0.0f) : (B ? B[m] : 0.0f) + kd[stride * m];
      const int bi = mul && !B ? -1 : opt_new_init_f32(c, a->name[0] ? a->name : "bias", 1, &M, nb);
      free(nb);
      const int wi = mul ? scaled_weights(c, p, transpose, M, kd, stride) : p->inputs[1];
      if ((bi < 0 && (B || !mul)) || wi < 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory folding into Conv");
      int ins[3] = {p->inputs[0], wi, bi};
      const char *name = opt_join_name(c, p->name, a->name);
      if (!name || opt_set_inputs(c, p, bi >= 0 ? 3 : 2, ins) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
      p->name = name;
      int z = a->outputs[0];
      opt_kill(c, a);
      opt_set_output(c, p, 0, z);
      (*out_count)++;
      break;
    }
  }
  return NULL;
}
