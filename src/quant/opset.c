/* Default-domain opset upgrade for the quantizer's output (host code).
 *
 * Quantized models need a newer opset than some models were exported with (13 for
 * per-channel QuantizeLinear/DequantizeLinear, 21 for block-wise int4). Most operator
 * revisions between opsets only add types or optional attributes; the ones below changed
 * how inputs are given, and are rewritten:
 *   Slice (10), TopK (10): starts/ends/axes/steps, k attributes -> inputs
 *   Clip (11): min/max attributes -> inputs;  Pad (11): pads/value -> inputs
 *   Dropout (12): ratio attribute dropped (inference)
 *   Squeeze, Unsqueeze, Split, ReduceSum (13): axes / split -> inputs
 *   Softmax, LogSoftmax, Hardmax (13): no longer flatten to 2-D; kept when the axis is the
 *     last one (same result), else an error
 *   ReduceMean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare (18): axes -> input
 * Revisions whose meaning changed in ways not rewritten here (Upsample, Resize before 11,
 * Scatter, RoiAlign 16, GridSample 20, DFT 20, GroupNormalization 21) make the upgrade fail
 * with a message naming the node. Subgraphs (If/Loop/Scan bodies) are upgraded too.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"
#include "quant/internal.h"

int quant_model_opset(const er_imported *m) {
  for (int i = 0; i < m->n_opsets; i++)
    if (!m->opset_domains[i] || !m->opset_domains[i][0] || !strcmp(m->opset_domains[i], "ai.onnx"))
      return (int)m->opset_versions[i];
  return 0;
}

static void drop_attr(er_node *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++)
    if (!strcmp(n->attrs[i].name, name)) {
      memmove(&n->attrs[i], &n->attrs[i + 1], sizeof(er_attr) * (size_t)(n->n_attrs - i - 1));
      n->n_attrs--;
      return;
    }
}

/* Inputs [0, k) kept, then `extra` appended (slot k..). */
static int set_inputs(opt_ctx *c, er_node *n, int keep, int n_extra, const int *extra) {
  int ins[8];
  int m = 0;
  for (int k = 0; k < keep && k < n->n_inputs; k++) ins[m++] = n->inputs[k];
  while (m < keep) ins[m++] = -1;
  for (int k = 0; k < n_extra; k++) ins[m++] = extra[k];
  while (m > 0 && ins[m - 1] < 0) m--;
  return opt_set_inputs(c, n, m, ins);
}

/* INTS attribute -> int64 1-D initializer (-1 if absent); -2 on OOM. */
static int ints_init(opt_ctx *c, er_node *n, const char *attr) {
  const er_attr *a = er_node_attr(n, attr);
  if (!a || a->type != ER_ATTR_INTS) return -1;
  int64_t len = a->n;
  char name[300];
  snprintf(name, sizeof name, "%s_%s", n->name, attr);
  int v = opt_new_init(c, name, ER_I64, 1, &len, a->ints);
  return v < 0 ? -2 : v;
}

/* Scalar initializer of x in the node's input dtype (float32 when not known: the old
 * Clip and Pad take floating types only). */
static int float_init(opt_ctx *c, er_node *n, const char *what, float x) {
  char name[300];
  snprintf(name, sizeof name, "%s_%s", n->name, what);
  int dt = opt_dtype(c, n->inputs[0]);
  if (dt != ER_F16 && dt != ER_F64 && dt != ER_BF16) dt = ER_F32;
  unsigned char buf[8];
  er_store_f64(buf, dt, 0, x);
  int v = opt_new_init(c, name, dt, 0, NULL, buf);
  return v < 0 ? -2 : v;
}

#define FAIL(...) return ER_ERR(ER_UNSUPPORTED, __VA_ARGS__)
#define OOM_IF(x) \
  if ((x) == -2) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory upgrading the opset")

static er_status upgrade_node(opt_ctx *c, er_node *n, int from, int to) {
  const char *op = n->op_type;
#define CROSSES(v) (from < (v) && to >= (v))
  if ((!strcmp(op, "Upsample") && to >= 10) || (!strcmp(op, "Scatter") && to >= 11) ||
      (!strcmp(op, "Resize") && CROSSES(11)) || (!strcmp(op, "RoiAlign") && CROSSES(16)) ||
      (!strcmp(op, "GridSample") && CROSSES(20)) || (!strcmp(op, "DFT") && CROSSES(20)) ||
      (!strcmp(op, "GroupNormalization") && CROSSES(21)))
    FAIL("node '%s' (%s): cannot upgrade it from opset %d to %d (its meaning changed); "
         "re-export the model with opset %d or newer",
         n->name, op, from, to, to);
  if (!strcmp(op, "Slice") && CROSSES(10)) {
    int st = ints_init(c, n, "starts"), en = ints_init(c, n, "ends"), ax = ints_init(c, n, "axes");
    OOM_IF(st);
    OOM_IF(en);
    OOM_IF(ax);
    int extra[3] = {st, en, ax};
    if (set_inputs(c, n, 1, 3, extra) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    drop_attr(n, "starts");
    drop_attr(n, "ends");
    drop_attr(n, "axes");
  } else if (!strcmp(op, "TopK") && CROSSES(10)) {
    int64_t k = opt_attr_int(n, "k", 1), one = 1;
    char name[300];
    snprintf(name, sizeof name, "%s_k", n->name);
    int kv = opt_new_init(c, name, ER_I64, 1, &one, &k);
    if (kv < 0 || set_inputs(c, n, 1, 1, &kv) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    drop_attr(n, "k");
  } else if (!strcmp(op, "Clip") && CROSSES(11)) {
    const er_attr *lo = er_node_attr(n, "min"), *hi = er_node_attr(n, "max");
    int extra[2] = {lo ? float_init(c, n, "min", lo->f) : -1, hi ? float_init(c, n, "max", hi->f) : -1};
    OOM_IF(extra[0]);
    OOM_IF(extra[1]);
    if (set_inputs(c, n, 1, 2, extra) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    drop_attr(n, "min");
    drop_attr(n, "max");
  } else if (!strcmp(op, "Pad") && CROSSES(11)) {
    int pads = ints_init(c, n, "pads");
    OOM_IF(pads);
    int extra[2] = {pads, -1};
    const er_attr *val = er_node_attr(n, "value");
    if (val && val->f != 0.0f) {
      extra[1] = float_init(c, n, "value", val->f);
      OOM_IF(extra[1]);
    }
    if (pads < 0) FAIL("node '%s' (Pad): no pads attribute", n->name);
    if (set_inputs(c, n, 1, 2, extra) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    drop_attr(n, "pads");
    drop_attr(n, "value");
  } else if (!strcmp(op, "Dropout") && CROSSES(12)) {
    drop_attr(n, "ratio");
  } else if ((!strcmp(op, "Squeeze") || !strcmp(op, "Unsqueeze") || !strcmp(op, "ReduceSum")) &&
             CROSSES(13)) {
    int ax = ints_init(c, n, "axes");
    OOM_IF(ax);
    if (ax >= 0 && set_inputs(c, n, 1, 1, &ax) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    drop_attr(n, "axes");
  } else if (!strcmp(op, "Split") && CROSSES(13)) {
    int sp = ints_init(c, n, "split");
    OOM_IF(sp);
    if (sp >= 0 && set_inputs(c, n, 1, 1, &sp) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    drop_attr(n, "split");
  } else if ((!strcmp(op, "Softmax") || !strcmp(op, "LogSoftmax") || !strcmp(op, "Hardmax")) &&
             CROSSES(13)) {
    int rank = opt_rank(c, n->inputs[0]);
    int64_t axis = opt_attr_int(n, "axis", 1);
    if (rank > 0 && axis < 0) axis += rank;
    if (rank <= 0 || axis != rank - 1)
      FAIL("node '%s' (%s): cannot upgrade from opset %d to %d: it flattens to 2-D at axis %lld "
           "(only the last axis keeps its meaning)",
           n->name, op, from, to, (long long)axis);
    if (opt_set_attr_int(c, n, "axis", axis) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  } else if (!strncmp(op, "Reduce", 6) && strcmp(op, "ReduceSum") != 0 && CROSSES(18)) {
    int ax = ints_init(c, n, "axes");
    OOM_IF(ax);
    if (ax >= 0 && set_inputs(c, n, 1, 1, &ax) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    drop_attr(n, "axes");
  }
#undef CROSSES
  if (!opt_retype(n, op, to))
    FAIL("node '%s' (%s): edgerun has no kernel for it at opset %d", n->name, op, to);
  return NULL;
}

static er_status upgrade_graph(er_pool *pool, er_graph *g, int to, const er_tensor *ins, int top) {
  opt_ctx c;
  er_status s = opt_ctx_init(&c, pool, g, 0);
  if (!s && top) quant_facts_best(&c, ins);
  for (int i = 0; i < g->n_nodes && !s; i++) {
    er_node *n = &g->nodes[i];
    if (n->domain[0] && strcmp(n->domain, "ai.onnx") != 0) continue;
    if (n->opset < to) s = upgrade_node(&c, n, n->opset, to);
    for (int a = 0; a < n->n_attrs && !s; a++) {
      er_attr *at = &n->attrs[a];
      int ng = at->type == ER_ATTR_GRAPH ? 1 : at->type == ER_ATTR_GRAPHS ? at->n : 0;
      for (int j = 0; j < ng && !s; j++) {
        er_graph *sg = at->type == ER_ATTR_GRAPH ? at->g : at->graphs[j];
        if (sg) s = upgrade_graph(pool, sg, to, NULL, 0);
      }
    }
  }
  opt_ctx_free(&c);
  return s;
}

er_status quant_upgrade_opset(er_imported *m, int target, const er_tensor *ins) {
  int cur = quant_model_opset(m);
  if (cur >= target) return NULL;
  if (cur < 7)
    FAIL("model opset %d is too old to quantize (needs %d); re-export it with opset %d or newer", cur,
         target, target);
  ER_RETURN_IF_ERROR(upgrade_graph(&m->pool, m->graph, target, ins, 1));
  for (int i = 0; i < m->n_opsets; i++)
    if (!m->opset_domains[i] || !m->opset_domains[i][0] || !strcmp(m->opset_domains[i], "ai.onnx"))
      m->opset_versions[i] = target;
  return NULL;
}
