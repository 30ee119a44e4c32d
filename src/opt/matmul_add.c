/* MatMul(A, B) + C -> Gemm(A, B, C) when A is 2-D, B is a 2-D float32 initializer [K, N]
 * and C a float32 initializer of shape [N] or [1, N] (the same addition order: Gemm
 * computes A*B then adds C). Only when the driver says the Gemm kernel is preferred
 * (act_ops has OPT_ACT_GEMM): the Gemm kernel then also takes a fused activation.
 * With A of another rank (e.g. [batch, tokens, K] in transformers) the MatMul stays and
 * takes C as a third input with attribute _bias = 1 (linalg_gemm.c; when act_ops has
 * OPT_ACT_MATMUL): the bias is added in the GEMM's epilogue, before a fused activation. */
#include "opt/ir_edit.h"

er_status opt_pass_matmul_add(opt_ctx *c, int *out_count) {
  er_graph *g = c->g;
  *out_count = 0;
  if (!(c->act_ops & (OPT_ACT_GEMM | OPT_ACT_MATMUL))) return NULL;
  for (int i = 0; i < g->n_nodes; i++) {
    if (c->dead[i]) continue;
    er_node *a = &g->nodes[i];
    if (!opt_is(a, "Add") || a->n_inputs != 2 || a->n_outputs != 1 || a->outputs[0] < 0) continue;
    if (a->opset < 7 && opt_attr_int(a, "broadcast", 0)) continue;
    for (int side = 0; side < 2; side++) {
      int y = a->inputs[side], k = a->inputs[1 - side];
      er_node *m = opt_producer(c, y);
      if (!m || !opt_is(m, "MatMul") || m->n_inputs != 2 || opt_sole_consumer(c, y, NULL) != a)
        continue;
      int A = m->inputs[0], B = m->inputs[1];
      int ra = opt_rank(c, A);
      if (ra < 1 || opt_dtype(c, A) != ER_F32) continue;
      int64_t nb, nk;
      if (!opt_const_f32(c, B, &nb) || g->values[B].rank != 2) continue;
      int64_t N = g->values[B].dims[1];
      if (!opt_const_f32(c, k, &nk) || nk != N) continue;
      const er_value *kv = &g->values[k];
      if (!(kv->rank == 1 || (kv->rank == 2 && kv->dims[0] == 1))) continue;
      /* the sum must have the MatMul's shape (C only broadcasts over rows) */
      if (ra == 1 && kv->rank == 2) continue;
      int ins[3] = {A, B, k};
      const char *name = opt_join_name(c, m->name, a->name);
      if (!name) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
      if (ra == 2 && (c->act_ops & OPT_ACT_GEMM)) {
        if (!opt_retype(m, "Gemm", 13)) continue;
        if (opt_set_inputs(c, m, 3, ins) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
        opt_clear_attrs(m);
      } else if (c->act_ops & OPT_ACT_MATMUL) {
        if (opt_attr_int(m, "_bias", 0) || m->n_attrs) continue; /* plain MatMul only */
        if (opt_set_inputs(c, m, 3, ins) != 0 || opt_set_attr_int(c, m, "_bias", 1) != 0)
          return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
      } else {
        continue;
      }
      m->name = name;
      int z = a->outputs[0];
      opt_kill(c, a);
      opt_set_output(c, m, 0, z);
      (*out_count)++;
      break;
    }
  }
  return NULL;
}
