/* Identity and inference-mode Dropout elimination: consumers read the input directly.
 * When the output is a graph output its name is kept (the input's producer is made to
 * produce it); when that is impossible (input is a graph input, initializer or another
 * graph output) the node stays. */
#include "opt/ir_edit.h"

static int dropout_is_inference(const opt_ctx *c, const er_node *n) {
  if (n->n_inputs < 1 || n->inputs[0] < 0 || n->n_outputs < 1 || n->outputs[0] < 0) return 0;
  /* mask output must be absent or unused */
  for (int k = 1; k < n->n_outputs; k++)
    if (n->outputs[k] >= 0 && opt_refs(c, n->outputs[k])) return 0;
  /* opset 1-6 is_test=0 nominally means training; the runtime runs it as identity. */
  if (n->n_inputs >= 3 && n->inputs[2] >= 0) {
    double t;
    if (!opt_const_scalar(c, n->inputs[2], &t) || t != 0) return 0; /* training_mode */
  }
  return 1;
}

er_status opt_pass_identity(opt_ctx *c, int *out_count) {
  er_graph *g = c->g;
  *out_count = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    if (c->dead[i]) continue;
    er_node *n = &g->nodes[i];
    int ok = 0;
    if (opt_is(n, "Identity")) ok = n->n_inputs == 1 && n->n_outputs == 1 && n->inputs[0] >= 0 && n->outputs[0] >= 0;
    else if (opt_is(n, "Dropout")) ok = dropout_is_inference(c, n);
    if (!ok) continue;
    if (opt_forward(c, n, n->outputs[0], n->inputs[0])) (*out_count)++;
  }
  return NULL;
}
