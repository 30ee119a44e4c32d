/* Residual fusion: a channels-last conv whose output is added to another tensor of the same
 * shape, optionally followed by an activation,
 *     w = Add(NhwcConv(x, W, B), z)  [-> act(w)]
 * becomes one NhwcConv with z as its 4th input (kernels/nhwc.h): y = act(conv + B + z),
 * the add done in the conv's epilogue on rows still in cache (ONNX Runtime's FusedConv
 * "sum" input). The conv adds z to its finished sum before the activation, so the result is
 * bit for bit the unfused one.
 * Conditions: float32 on both sides; shapes statically known and identical (no
 * broadcasting); the conv's output read by the Add alone (and no graph output); the conv
 * without a fused activation (act(conv) + z is other math) and without _up. When both Add
 * inputs are such convs, the one computed later takes the other's output as z; when z is
 * produced after the conv, the node order is restored by opt_compact's sort.
 * Runs after the layout pass (it needs NhwcConv). ER_FUSE_ADD=0 in the environment skips
 * it (for comparisons). */
#include <stdlib.h>
#include <string.h>

#include "kernels/dispatch.h"
#include "kernels/nhwc.h"
#include "opt/ir_edit.h"

/* Is y (output of Add a) the output of a conv this pass can give the residual z? */
static er_node *fusable_conv(opt_ctx *c, const er_node *a, int y, int z) {
  er_node *p = opt_producer(c, y);
  if (!p || strcmp(p->op_type, ER_OP_NHWC_CONV) || strcmp(p->domain, ER_DOMAIN_EDGERUN)) return NULL;
  if (p->n_outputs != 1 || p->outputs[0] != y || p->n_inputs < 2 || p->n_inputs > 3 || y == z) return NULL;
  if (opt_sole_consumer(c, y, NULL) != a) return NULL;
  if (opt_attr_int(p, "_act", ER_ACT_NONE) != ER_ACT_NONE || er_node_attr(p, "_up")) return NULL;
  if (opt_dtype(c, y) != ER_F32 || opt_dtype(c, z) != ER_F32) return NULL;
  const int r = opt_rank(c, y);
  if (r < 3 || r != opt_rank(c, z)) return NULL;
  for (int d = 0; d < r; d++)
    if (c->vi_dims[y][d] < 0 || c->vi_dims[y][d] != c->vi_dims[z][d]) return NULL;
  return p;
}

static int node_at(const opt_ctx *c, int v) {
  const er_node *p = opt_producer(c, v);
  return p ? opt_node_index(c, p) : -1;
}

er_status opt_pass_conv_residual(opt_ctx *c, int *out_count) {
  er_graph *g = c->g;
  *out_count = 0;
  const char *env = getenv("ER_FUSE_ADD");
  if (env && !strcmp(env, "0")) return NULL;
  for (int i = 0; i < g->n_nodes; i++) {
    if (c->dead[i]) continue;
    er_node *a = &g->nodes[i];
    if (!opt_is(a, "Add") || a->n_inputs != 2 || a->n_outputs != 1 || a->outputs[0] < 0) continue;
    if (a->inputs[0] < 0 || a->inputs[1] < 0) continue;
    if (a->opset < 7 && opt_attr_int(a, "broadcast", 0)) continue;
    er_node *cand[2];
    for (int side = 0; side < 2; side++) cand[side] = fusable_conv(c, a, a->inputs[side], a->inputs[1 - side]);
    int side = cand[0] ? 0 : 1;
    if (cand[0] && cand[1] && opt_node_index(c, cand[1]) > opt_node_index(c, cand[0])) side = 1;
    er_node *p = cand[side];
    if (!p) continue;
    const int z = a->inputs[1 - side];
    /* an activation reading the Add alone */
    int w = a->outputs[0], act = ER_ACT_NONE;
    float aa = 0, ab = 0;
    er_node *an = opt_sole_consumer(c, w, NULL);
    if (an && an->n_outputs >= 1 && an->inputs[0] == w) act = opt_act_of(c, an, &aa, &ab);
    if (act == ER_ACT_NONE) an = NULL;
    const char *name = opt_join_name(c, p->name, a->name);
    if (name && an) name = opt_join_name(c, name, an->name);
    int ins[4] = {p->inputs[0], p->inputs[1], p->n_inputs > 2 ? p->inputs[2] : -1, z};
    if (!name || opt_set_inputs(c, p, 4, ins) != 0 ||
        (an && (opt_set_attr_int(c, p, "_act", act) || opt_set_attr_float(c, p, "_act_a", aa) ||
                opt_set_attr_float(c, p, "_act_b", ab))))
      return ER_ERR(ER_OUT_OF_MEMORY, "out of memory fusing a residual Add into a conv");
    p->name = name;
    if (node_at(c, z) > opt_node_index(c, p)) c->needs_sort = 1; /* z is computed after the conv */
    const int out = an ? an->outputs[0] : w;
    if (an) opt_kill(c, an);
    opt_kill(c, a);
    opt_set_output(c, p, 0, out);
    (*out_count)++;
  }
  return NULL;
}
