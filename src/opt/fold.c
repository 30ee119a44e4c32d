/* Constant folding: a node whose inputs are all initializers is evaluated now, with its
 * kernel (infer, prepare, run on heap memory, one thread, the session's micro-kernel table),
 * and its outputs become initializers. Chains fold in one walk (nodes are in topological
 * order). Typical: the float16 weights + Cast that `quantize --fp16` writes, int8/int4
 * weights + DequantizeLinear (`--dynamic`, `--weights int4`) feeding a float Conv/Gemm,
 * Transpose/Reshape/Unsqueeze/Concat/arithmetic on constants. Afterwards BN folding,
 * activation fusion, the layout pass and the weight packers see plain float weights.
 *
 * Numerics: the same kernel computes the same bits the executor's plan-time folding (or a
 * run) would; results do not change.
 *
 * Not folded:
 *  - ops flagged ER_OP_NO_FOLD (random) or ER_OP_CONTROL_FLOW, nodes with subgraph
 *    attributes, nodes without inputs (Constant nodes are constants.c's);
 *  - nodes reading an initializer that is also a graph input (ONNX lets a caller override
 *    it), or a value of an enclosing graph;
 *  - nodes with an output that is a graph output, or of a type without a fixed element size,
 *    and nodes whose outputs nobody reads;
 *  - outputs larger than FOLD_GROWTH x the bytes of the inputs and larger than FOLD_SMALL
 *    bytes (an Expand / Tile / ConstantOfShape / Range that would blow a few bytes up into
 *    a large tensor stays a node, evaluated at plan time as before);
 *  - nodes whose kernel fails here (the error surfaces at load, from the planner).
 * The driver runs this pass after the QDQ pass, so a DequantizeLinear that an integer
 * pattern consumes is gone by then: only DQs feeding float ops that stay float are folded.
 * Environment: ER_FOLD=0 skips this pass (to compare). */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernel.h"
#include "opt/ir_edit.h"

#define FOLD_GROWTH 4      /* int8 -> float32 DequantizeLinear is 4x: still folded */
#define FOLD_SMALL 65536   /* bytes: small outputs fold whatever their inputs */
#define FOLD_MAX_IO 16

static int foldable_node(const opt_ctx *c, const er_node *n) {
  const er_op_def *op = n->op;
  if (!op || (op->flags & (ER_OP_NO_FOLD | ER_OP_CONTROL_FLOW))) return 0;
  if (n->n_inputs > FOLD_MAX_IO || n->n_outputs > FOLD_MAX_IO || n->n_outputs < 1) return 0;
  for (int a = 0; a < n->n_attrs; a++)
    if (n->attrs[a].type == ER_ATTR_GRAPH || n->attrs[a].type == ER_ATTR_GRAPHS) return 0;
  int present = 0;
  for (int k = 0; k < n->n_inputs; k++) {
    int v = n->inputs[k];
    if (v < 0) continue;
    const er_value *val = &c->g->values[v];
    if (val->kind != ER_VALUE_INITIALIZER || val->is_graph_input || val->rank < 0) return 0;
    if (!val->data && er_shape_numel(val->dims, val->rank) != 0) return 0;
    present++;
  }
  int read = 0; /* nodes nobody reads are dead-node removal's (e.g. DQs the QDQ pass left) */
  for (int k = 0; k < n->n_outputs; k++) {
    if (n->outputs[k] < 0) continue;
    if (c->out_uses[n->outputs[k]]) return 0;
    read += opt_refs(c, n->outputs[k]) > 0;
  }
  return present > 0 && read > 0;
}

/* Evaluate n; on success its outputs are in out[] (data in pool memory) and 1 is returned.
 * 0: not folded (kernel error, unsupported type, too large). -1: out of memory. */
static int evaluate(opt_ctx *c, const er_node *n, er_tensor *out) {
  er_tensor in[FOLD_MAX_IO];
  er_tensor *pin[FOLD_MAX_IO], *pout[FOLD_MAX_IO];
  size_t in_bytes = 0;
  for (int k = 0; k < n->n_inputs; k++) {
    int v = n->inputs[k];
    pin[k] = NULL;
    if (v < 0) continue;
    const er_value *val = &c->g->values[v];
    memset(&in[k], 0, sizeof in[k]);
    er_tensor_set_shape(&in[k], val->dtype, val->rank, val->dims);
    in[k].data = (void *)val->data;
    in_bytes += er_tensor_nbytes(&in[k]);
    pin[k] = &in[k];
  }
  for (int k = 0; k < n->n_outputs; k++) {
    memset(&out[k], 0, sizeof out[k]);
    pout[k] = n->outputs[k] >= 0 ? &out[k] : NULL;
  }
  er_kctx k;
  memset(&k, 0, sizeof k);
  k.node = n;
  k.opset = n->opset;
  k.n_in = n->n_inputs;
  k.n_out = n->n_outputs;
  k.in = pin;
  k.out = pout;
  k.mk = er_microkernels_select();
  er_status s = n->op->infer(&k);
  if (s) {
    er_status_free(s);
    return 0;
  }
  size_t out_bytes = 0;
  for (int j = 0; j < n->n_outputs; j++) {
    if (!pout[j]) continue;
    int dt = out[j].dtype;
    if (!dt || dt >= ER_DT_SEQUENCE || !er_dtype_size(dt)) return 0;
    s = er_shape_check(out[j].dims, out[j].rank, dt, (uint64_t)1 << 40);
    if (s) {
      er_status_free(s);
      return 0;
    }
    out_bytes += er_tensor_nbytes(&out[j]);
  }
  if (out_bytes > FOLD_SMALL && out_bytes > FOLD_GROWTH * in_bytes) return 0;
  for (int j = 0; j < n->n_outputs; j++) {
    if (!pout[j]) continue;
    size_t nb = er_tensor_nbytes(&out[j]);
    out[j].data = er_pool_alloc_uninit(c->pool, nb ? nb : 1);
    if (!out[j].data) return -1;
  }
  void *state = k.state_bytes ? malloc(k.state_bytes) : NULL;
  void *scratch = k.scratch_bytes ? calloc(1, k.scratch_bytes) : NULL;
  if ((k.state_bytes && !state) || (k.scratch_bytes && !scratch)) {
    free(state);
    free(scratch);
    return -1;
  }
  k.state = state;
  k.scratch = scratch;
  s = n->op->prepare ? n->op->prepare(&k) : NULL;
  if (!s) s = n->op->run(&k);
  free(state);
  free(scratch);
  if (s) {
    er_status_free(s);
    return 0;
  }
  return 1;
}

er_status opt_pass_fold(opt_ctx *c, int *out_count) {
  er_graph *g = c->g;
  *out_count = 0;
  const char *env = getenv("ER_FOLD");
  if (env && !strcmp(env, "0")) return NULL;
  for (int i = 0; i < g->n_nodes; i++) {
    if (c->dead[i]) continue;
    er_node *n = &g->nodes[i];
    if (!foldable_node(c, n)) continue;
    er_tensor out[FOLD_MAX_IO];
    int r = evaluate(c, n, out);
    if (r < 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory folding node '%s' (%s)", n->name, n->op_type);
    if (!r) continue;
    opt_kill(c, n);
    for (int j = 0; j < n->n_outputs; j++) {
      int v = n->outputs[j];
      if (v < 0) continue;
      er_value *val = &g->values[v];
      val->kind = ER_VALUE_INITIALIZER;
      val->producer = -1;
      val->dtype = out[j].dtype;
      val->rank = out[j].rank;
      for (int d = 0; d < ER_MAX_RANK; d++) {
        val->dims[d] = d < out[j].rank ? out[j].dims[d] : -1;
        val->dim_params[d] = NULL;
      }
      val->data = out[j].data;
      opt_note_declared(c, v);
    }
    (*out_count)++;
  }
  return NULL;
}
