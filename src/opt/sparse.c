/* ER_SPARSE=0 / ER_SPARSE=1 in the environment: every Gemm, MatMul and NhwcConv gets
 * `_sparse` = 0 (dense kernels always) or 1 (sparse weights wherever the shape allows),
 * overriding the kernels' rule (kernels/sparse.h) -- to compare the two paths on a model.
 * Unset (or any other value): nothing is marked and each node follows the rule. Not run
 * for tools that write ONNX (ER_OPT_F_STANDARD). */
#include <stdlib.h>
#include <string.h>

#include "opt/ir_edit.h"

er_status opt_pass_sparse(opt_ctx *c, int *out_count) {
  *out_count = 0;
  const char *env = getenv("ER_SPARSE");
  if (!env || (strcmp(env, "0") && strcmp(env, "1")) || (c->flags & ER_OPT_F_STANDARD)) return NULL;
  for (int i = 0; i < c->g->n_nodes; i++) {
    er_node *n = &c->g->nodes[i];
    if (c->dead[i] || !(opt_is(n, "Gemm") || opt_is(n, "MatMul") || !strcmp(n->op_type, "NhwcConv"))) continue;
    if (opt_set_attr_int(c, n, "_sparse", env[0] == '1') != 0)
      return ER_ERR(ER_OUT_OF_MEMORY, "out of memory marking node '%s'", n->name);
    (*out_count)++;
  }
  return NULL;
}
