/* Pass driver (see opt.h). */
#include "opt/opt.h"

#include <stdlib.h>
#include <string.h>

#include "opt/ir_edit.h"

/* Does the kernel of `op` apply the fused activation attributes (_act, _act_a, _act_b)?
 * Flip an entry to 1 once its kernel honors them; until then fusing would drop the
 * activation. Gemm also gates MatMul+Add -> Gemm. */
/* Ops whose kernels apply the fused `_act` attribute (Conv/ConvTranspose in ops_conv.c,
 * Gemm/MatMul in linalg_gemm.c). */
static int kernel_reads_act(const char *op) {
  return !strcmp(op, "Conv") || !strcmp(op, "ConvTranspose") || !strcmp(op, "Gemm") ||
         !strcmp(op, "MatMul");
}

static unsigned act_ops(unsigned flags) {
  if (flags & ER_OPT_F_STANDARD) return kernel_reads_act("Gemm") ? OPT_ACT_GEMM : 0;
  if (flags & ER_OPT_F_FORCE_ACT)
    return OPT_ACT_CONV | OPT_ACT_CONVTRANSPOSE | OPT_ACT_GEMM | OPT_ACT_MATMUL;
  unsigned m = 0;
  if (kernel_reads_act("Conv")) m |= OPT_ACT_CONV;
  if (kernel_reads_act("ConvTranspose")) m |= OPT_ACT_CONVTRANSPOSE;
  if (kernel_reads_act("Gemm")) m |= OPT_ACT_GEMM;
  if (kernel_reads_act("MatMul")) m |= OPT_ACT_MATMUL;
  return m;
}

int er_opt_act_enabled(const char *op_type) { return op_type && kernel_reads_act(op_type); }

typedef er_status (*pass_fn)(opt_ctx *c, int *out_count);

static er_status run_pass(opt_ctx *c, pass_fn fn, int *counter, const char *what) {
  int n = 0;
  er_status s = fn(c, &n);
  if (s) return er_status_prefix(s, "optimizer pass %s", what);
  *counter += n;
  return opt_compact(c);
}

/* Run the passes on g, then on its subgraphs (no dead-node removal and no planner facts
 * there: subgraphs are planned by their control-flow node at run time). */
static er_status optimize_graph(er_pool *pool, er_graph *g, unsigned passes, unsigned flags,
                                er_opt_stats *st, int top) {
  opt_ctx c;
  er_status s = opt_ctx_init(&c, pool, g, flags);
  if (s) {
    opt_ctx_free(&c);
    return s;
  }
  c.act_ops = act_ops(flags);
  if (!top) passes &= ~(unsigned)ER_OPT_DCE;
  /* Shapes and types from the planner (only some passes need them). */
  if (top && (passes & (ER_OPT_RESHAPE | ER_OPT_PATTERNS | ER_OPT_MATMUL_ADD | ER_OPT_ACT_FUSE | ER_OPT_LAYOUT)))
    opt_infer_facts(&c);
  if (!s && (passes & ER_OPT_DCE)) s = run_pass(&c, opt_pass_dce, &st->removed_dead, "dce");
  if (!s && (passes & ER_OPT_CONSTANTS)) s = run_pass(&c, opt_pass_constants, &st->constants, "constants");
  if (!s && (passes & ER_OPT_IDENTITY)) s = run_pass(&c, opt_pass_identity, &st->removed_identity, "identity");
  if (!s && (passes & ER_OPT_QDQ)) s = run_pass(&c, opt_pass_qdq, &st->qdq, "qdq");
  if (!s && (passes & ER_OPT_FOLD)) s = run_pass(&c, opt_pass_fold, &st->folded, "fold");
  if (!s && (passes & ER_OPT_RESHAPE)) s = run_pass(&c, opt_pass_reshape, &st->reshapes, "reshape");
  if (!s && (passes & ER_OPT_PATTERNS)) s = run_pass(&c, opt_pass_layernorm, &st->layernorms, "layernorm");
  if (!s && (passes & ER_OPT_PATTERNS)) s = run_pass(&c, opt_pass_gelu, &st->gelus, "gelu");
  if (!s && (passes & ER_OPT_PATTERNS)) s = run_pass(&c, opt_pass_hardswish, &st->hardswishes, "hardswish");
  if (!s && (passes & ER_OPT_PATTERNS)) s = run_pass(&c, opt_pass_attention, &st->attentions, "attention");
  if (!s && (passes & ER_OPT_BN_FOLD)) s = run_pass(&c, opt_pass_bn_fold, &st->folded_bn, "bn_fold");
  if (!s && (passes & ER_OPT_CONV_ADD)) s = run_pass(&c, opt_pass_conv_add, &st->folded_conv_add, "conv_add");
  /* a bias Add folded just now may have hidden a BatchNormalization from the first try */
  if (!s && (passes & ER_OPT_BN_FOLD) && (passes & ER_OPT_CONV_ADD))
    s = run_pass(&c, opt_pass_bn_fold, &st->folded_bn, "bn_fold");
  if (!s && (passes & ER_OPT_MATMUL_ADD)) s = run_pass(&c, opt_pass_matmul_add, &st->matmul_gemm, "matmul_add");
  if (!s && (passes & ER_OPT_ACT_FUSE)) s = run_pass(&c, opt_pass_act_fuse, &st->fused_act, "act_fuse");
  if (!s && (passes & ER_OPT_LAYOUT)) s = run_pass(&c, opt_pass_layout, &st->layouts, "layout");
  if (!s && (passes & ER_OPT_LAYOUT))
    s = run_pass(&c, opt_pass_conv_residual, &st->conv_residuals, "conv_residual");
  if (!s && (passes & ER_OPT_FOLD)) s = run_pass(&c, opt_pass_sparse, &st->sparse_marked, "sparse");
  if (!s && (passes & ER_OPT_DCE)) s = run_pass(&c, opt_pass_dce, &st->removed_dead, "dce");
  if (!s) s = opt_compact_values(&c);
  opt_ctx_free(&c);
  for (int i = 0; i < g->n_nodes && !s; i++) {
    er_node *n = &g->nodes[i];
    for (int a = 0; a < n->n_attrs && !s; a++) {
      er_attr *at = &n->attrs[a];
      int ng = at->type == ER_ATTR_GRAPH ? 1 : at->type == ER_ATTR_GRAPHS ? at->n : 0;
      for (int j = 0; j < ng && !s; j++) {
        er_graph *sg = at->type == ER_ATTR_GRAPH ? at->g : at->graphs[j];
        if (sg) s = optimize_graph(pool, sg, passes, flags, st, 0);
      }
    }
  }
  return s;
}

static int count_nodes(const er_graph *g) {
  int k = g->n_nodes;
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    for (int a = 0; a < n->n_attrs; a++) {
      const er_attr *at = &n->attrs[a];
      if (at->type == ER_ATTR_GRAPH && at->g) k += count_nodes(at->g);
      if (at->type == ER_ATTR_GRAPHS)
        for (int j = 0; j < at->n; j++)
          if (at->graphs[j]) k += count_nodes(at->graphs[j]);
    }
  }
  return k;
}

er_status er_optimize_ex(er_imported *m, unsigned passes, unsigned flags, er_opt_stats *stats) {
  er_opt_stats st;
  memset(&st, 0, sizeof st);
  if (!m || !m->graph) return ER_ERR(ER_INVALID_ARGUMENT, "er_optimize: no model");
  st.nodes_before = count_nodes(m->graph);
  er_status s = passes ? optimize_graph(&m->pool, m->graph, passes, flags, &st, 1) : NULL;
  st.nodes_after = count_nodes(m->graph);
  if (stats) *stats = st;
  return s;
}

er_status er_optimize(er_imported *m, int level) {
  const char *env = getenv("ER_OPT");
  if (env && strcmp(env, "0") == 0) return NULL;
  if (level <= 0) return NULL;
  return er_optimize_ex(m, ER_OPT_ALL, 0, NULL);
}
