/* Shared helpers of the compression passes (see common.h). */
#include "compress/common.h"

#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"

int cmp_const_view(const opt_ctx *c, int v, cmp_const *out) {
  if (v < 0) return 0;
  const er_value *val = &c->g->values[v];
  if (val->kind == ER_VALUE_INITIALIZER && val->rank >= 0 && (val->data || !er_shape_numel(val->dims, val->rank))) {
    *out = (cmp_const){val->dtype, val->rank, val->dims, val->data};
    return 1;
  }
  const er_node *p = opt_producer(c, v);
  const er_attr *a = p && opt_is(p, "Constant") ? er_node_attr(p, "value") : NULL;
  if (a && a->type == ER_ATTR_TENSOR && a->t && a->t->data) {
    *out = (cmp_const){a->t->dtype, a->t->rank, a->t->dims, a->t->data};
    return 1;
  }
  return 0;
}

const float *cmp_const_f32(const opt_ctx *c, int v, int min_rank, cmp_const *out) {
  if (!cmp_const_view(c, v, out) || out->dtype != ER_F32 || out->rank < min_rank) return NULL;
  return (const float *)out->data;
}

void cmp_drop_unused_constants(opt_ctx *c) {
  for (int i = 0; i < c->g->n_nodes; i++) {
    er_node *n = &c->g->nodes[i];
    if (opt_is(n, "Constant") && !c->dead[i] && n->n_outputs == 1 && n->outputs[0] >= 0 &&
        opt_refs(c, n->outputs[0]) == 0)
      opt_kill(c, n);
  }
}

void cmp_count_params(const opt_ctx *c, int64_t *params, int64_t *nonzero) {
  const er_graph *g = c->g;
  *params = *nonzero = 0;
  unsigned char *seen = (unsigned char *)calloc((size_t)g->n_values + 1, 1);
  if (!seen) return;
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_inputs; k++) {
      int v = g->nodes[i].inputs[k];
      cmp_const t;
      if (v < 0 || seen[v] || !cmp_const_view(c, v, &t) || !er_dtype_size(t.dtype)) continue;
      seen[v] = 1;
      int64_t n = cmp_numel(&t);
      *params += n;
      for (int64_t e = 0; e < n; e++) *nonzero += er_load_f64(t.data, t.dtype, (size_t)e) != 0;
    }
  free(seen);
}

static int count_ops(const er_graph *g, const char *const *ops) {
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *nd = &g->nodes[i];
    for (const char *const *o = ops; *o; o++) n += opt_is(nd, *o);
  }
  return n + cmp_count_in_subgraphs(g, ops);
}

int cmp_count_in_subgraphs(const er_graph *g, const char *const *ops) {
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_attrs; k++) {
      const er_attr *a = &g->nodes[i].attrs[k];
      if (a->type == ER_ATTR_GRAPH && a->g) n += count_ops(a->g, ops);
      for (int j = 0; a->type == ER_ATTR_GRAPHS && j < a->n; j++) n += count_ops(a->graphs[j], ops);
    }
  return n;
}
