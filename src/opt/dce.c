/* Dead-node removal: a node survives only if one of its outputs reaches a graph output,
 * through node inputs or through a subgraph's outer-scope reference. Nodes inside
 * subgraphs are left intact (a live control-flow node keeps its whole body). */
#include <stdlib.h>

#include "opt/ir_edit.h"

er_status opt_pass_dce(opt_ctx *c, int *out_count) {
  er_graph *g = c->g;
  *out_count = 0;
  unsigned char *need = (unsigned char *)calloc((size_t)g->n_values + 1, 1);
  if (!need) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory in dead-node removal");
  for (int k = 0; k < g->n_outputs; k++) need[g->outputs[k]] = 1;
  for (int i = g->n_nodes - 1; i >= 0; i--) {
    if (c->dead[i]) continue;
    er_node *n = &g->nodes[i];
    int live = 0;
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0 && need[n->outputs[k]]) live = 1;
    if (!live) {
      opt_kill(c, n);
      (*out_count)++;
      continue;
    }
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0) need[n->inputs[k]] = 1;
    for (int a = 0; a < n->n_attrs; a++) {
      const er_attr *at = &n->attrs[a];
      int ng = at->type == ER_ATTR_GRAPH ? 1 : at->type == ER_ATTR_GRAPHS ? at->n : 0;
      for (int j = 0; j < ng; j++) {
        const er_graph *sg = at->type == ER_ATTR_GRAPH ? at->g : at->graphs[j];
        if (!sg) continue;
        for (int v = 0; v < sg->n_values; v++)
          if (sg->values[v].kind == ER_VALUE_OUTER && sg->values[v].outer >= 0 &&
              sg->values[v].outer < g->n_values)
            need[sg->values[v].outer] = 1;
      }
    }
  }
  free(need);
  return NULL;
}
