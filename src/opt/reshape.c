/* Layout no-ops:
 *   Transpose(Transpose(x, p1), p2): composed permutation; identity -> x, else one Transpose
 *   Reshape(Reshape(x, s1), s2) -> Reshape(x, s2) when s2 is a constant without 0 entries
 *     (or allowzero=1), so it never copies a dimension from its input
 *   Reshape / Flatten / Squeeze / Unsqueeze whose static input and output shapes are equal
 *     -> removed (shapes from the planner, known for every size of symbolic dims) */
#include <string.h>

#include "opt/ir_edit.h"

static int perm_of(const opt_ctx *c, const er_node *t, int64_t *perm) {
  const er_attr *a = er_node_attr(t, "perm");
  if (a) {
    if (a->type != ER_ATTR_INTS || a->n > ER_MAX_RANK) return -1;
    memcpy(perm, a->ints, sizeof(int64_t) * (size_t)a->n);
    return a->n;
  }
  int r = opt_rank(c, t->inputs[0]);
  if (r < 0) return -1;
  for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
  return r;
}

static int transpose_pair(opt_ctx *c, er_node *t2, int *out_ok) {
  *out_ok = 0;
  if (t2->n_inputs != 1 || t2->n_outputs != 1 || t2->outputs[0] < 0) return 0;
  er_node *t1 = opt_producer(c, t2->inputs[0]);
  if (!t1 || !opt_is(t1, "Transpose") || t1->n_inputs != 1) return 0;
  int64_t p1[ER_MAX_RANK], p2[ER_MAX_RANK], q[ER_MAX_RANK];
  int r1 = perm_of(c, t1, p1), r2 = perm_of(c, t2, p2);
  if (r1 < 0 || r1 != r2) return 0;
  int identity = 1;
  for (int j = 0; j < r2; j++) {
    if (p2[j] < 0 || p2[j] >= r1) return 0;
    q[j] = p1[p2[j]];
    identity &= q[j] == j;
  }
  int x = t1->inputs[0];
  if (identity) {
    *out_ok = opt_forward(c, t2, t2->outputs[0], x);
    return 0;
  }
  if (opt_sole_consumer(c, t2->inputs[0], NULL) != t2) return 0; /* t1 stays anyway */
  if (opt_set_attr_ints(c, t2, "perm", r2, q) != 0) return -1;
  opt_set_input(c, t2, 0, x);
  const char *name = opt_join_name(c, t1->name, t2->name);
  if (!name) return -1;
  t2->name = name;
  opt_kill(c, t1);
  *out_ok = 1;
  return 0;
}

static int reshape_pair(opt_ctx *c, er_node *r2, int *out_ok) {
  *out_ok = 0;
  if (r2->n_inputs != 2 || r2->inputs[0] < 0) return 0;
  er_node *r1 = opt_producer(c, r2->inputs[0]);
  if (!r1 || !opt_is(r1, "Reshape") || r1->n_inputs < 1) return 0;
  int64_t s[ER_MAX_RANK];
  int n = opt_const_ints(c, r2->inputs[1], s, ER_MAX_RANK);
  if (n < 0) return 0;
  if (!opt_attr_int(r2, "allowzero", 0))
    for (int i = 0; i < n; i++)
      if (s[i] == 0) return 0;
  opt_set_input(c, r2, 0, r1->inputs[0]);
  *out_ok = 1; /* r1 goes away in dead-node removal if nothing else reads it */
  return 0;
}

/* Input and output shapes fully static and equal. */
static int same_static_shape(const opt_ctx *c, int x, int y) {
  int r = opt_rank(c, x);
  if (r < 0 || r != opt_rank(c, y) || opt_dtype(c, x) != opt_dtype(c, y) || !opt_dtype(c, x)) return 0;
  for (int d = 0; d < r; d++)
    if (c->vi_dims[x][d] < 0 || c->vi_dims[x][d] != c->vi_dims[y][d]) return 0;
  return 1;
}

er_status opt_pass_reshape(opt_ctx *c, int *out_count) {
  er_graph *g = c->g;
  *out_count = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    if (c->dead[i]) continue;
    er_node *n = &g->nodes[i];
    int ok = 0, err = 0;
    if (n->n_outputs == 1 && n->n_inputs >= 1 && n->inputs[0] >= 0 && n->outputs[0] >= 0 &&
        (opt_is(n, "Reshape") || opt_is(n, "Flatten") || opt_is(n, "Squeeze") || opt_is(n, "Unsqueeze")) &&
        same_static_shape(c, n->inputs[0], n->outputs[0]))
      ok = opt_forward(c, n, n->outputs[0], n->inputs[0]);
    if (!ok && opt_is(n, "Transpose")) err = transpose_pair(c, n, &ok);
    else if (!ok && opt_is(n, "Reshape")) err = reshape_pair(c, n, &ok);
    if (err) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    *out_count += ok;
  }
  return NULL;
}
