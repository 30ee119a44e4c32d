/* Constant nodes become initializers (same value index, no node), so the other passes see
 * their data (Conv bias Adds, Clip bounds, pattern constants in exporters that emit
 * Constant nodes instead of initializers). Values that are graph outputs keep their node.
 * String and sparse constants are left alone. */
#include <string.h>

#include "opt/ir_edit.h"

static int constant_tensor(opt_ctx *c, const er_node *n, er_tensor *t) {
  if (n->n_attrs != 1) return 0;
  const er_attr *a = &n->attrs[0];
  memset(t, 0, sizeof *t);
  if (!strcmp(a->name, "value") && a->type == ER_ATTR_TENSOR && a->t) {
    *t = *a->t;
    if (!er_dtype_size(t->dtype) || t->dtype >= ER_DT_SEQUENCE || t->rank < 0 || t->rank > ER_MAX_RANK)
      return 0;
    if (!t->data && er_tensor_numel(t) != 0) return 0;
    return 1;
  }
  int64_t n_el = 0;
  if (!strcmp(a->name, "value_float") && a->type == ER_ATTR_FLOAT) {
    t->dtype = ER_F32, t->rank = 0, n_el = 1;
  } else if (!strcmp(a->name, "value_int") && a->type == ER_ATTR_INT) {
    t->dtype = ER_I64, t->rank = 0, n_el = 1;
  } else if (!strcmp(a->name, "value_floats") && a->type == ER_ATTR_FLOATS) {
    t->dtype = ER_F32, t->rank = 1, n_el = a->n;
  } else if (!strcmp(a->name, "value_ints") && a->type == ER_ATTR_INTS) {
    t->dtype = ER_I64, t->rank = 1, n_el = a->n;
  } else {
    return 0;
  }
  if (t->rank == 1) t->dims[0] = n_el;
  size_t es = er_dtype_size(t->dtype);
  void *d = er_pool_alloc(c->pool, es * (size_t)(n_el ? n_el : 1));
  if (!d) return -1;
  if (a->type == ER_ATTR_FLOAT) memcpy(d, &a->f, sizeof(float));
  else if (a->type == ER_ATTR_INT) memcpy(d, &a->i, sizeof(int64_t));
  else if (a->type == ER_ATTR_FLOATS && n_el) memcpy(d, a->floats, es * (size_t)n_el);
  else if (a->type == ER_ATTR_INTS && n_el) memcpy(d, a->ints, es * (size_t)n_el);
  t->data = d;
  return 1;
}

er_status opt_pass_constants(opt_ctx *c, int *out_count) {
  er_graph *g = c->g;
  *out_count = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    if (c->dead[i]) continue;
    er_node *n = &g->nodes[i];
    if (!opt_is(n, "Constant") || n->n_outputs != 1 || n->outputs[0] < 0 || n->n_inputs != 0) continue;
    int v = n->outputs[0];
    if (c->out_uses[v]) continue;
    er_tensor t;
    int r = constant_tensor(c, n, &t);
    if (r < 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    if (!r) continue;
    if (t.data && ((uintptr_t)t.data % (er_dtype_size(t.dtype) < 16 ? er_dtype_size(t.dtype) : 16))) {
      size_t nb = er_tensor_nbytes(&t);
      void *d = er_pool_alloc(c->pool, nb ? nb : 1);
      if (!d) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
      memcpy(d, t.data, nb);
      t.data = d;
    }
    opt_kill(c, n);
    er_value *val = &g->values[v];
    val->kind = ER_VALUE_INITIALIZER;
    val->producer = -1;
    val->dtype = t.dtype;
    val->rank = t.rank;
    for (int d = 0; d < ER_MAX_RANK; d++) val->dims[d] = d < t.rank ? t.dims[d] : -1;
    for (int d = 0; d < ER_MAX_RANK; d++) val->dim_params[d] = NULL;
    val->data = t.data;
    opt_note_declared(c, v);
    (*out_count)++;
  }
  return NULL;
}
