/* Activation fusion: Conv / ConvTranspose / Gemm / MatMul followed by Relu, Clip (constant
 * bounds), LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh, Gelu (exact) or x*Sigmoid(x)
 * becomes attributes on the producer:
 *   _act (INT, ER_ACT_* of kernels/dispatch.h), _act_a, _act_b (FLOAT)
 * Only for float32, only when the producer's output feeds nothing else (and is no graph
 * output), and only for producers whose kernels read _act (ctx->act_ops). The fused node
 * produces the activation's output and is named "producer+activation". */
#include <float.h>
#include <math.h>

#include "kernels/dispatch.h"
#include "opt/ir_edit.h"

static unsigned producer_bit(const er_node *p) {
  if (opt_is(p, "Conv")) return OPT_ACT_CONV;
  if (opt_is(p, "ConvTranspose")) return OPT_ACT_CONVTRANSPOSE;
  if (opt_is(p, "Gemm")) return OPT_ACT_GEMM;
  if (opt_is(p, "MatMul")) return OPT_ACT_MATMUL;
  return 0;
}

/* Is the producer computing float32? */
static int is_f32(const opt_ctx *c, const er_node *p) {
  if (opt_dtype(c, p->outputs[0]) == ER_F32) return 1;
  for (int k = 0; k < p->n_inputs && k < 2; k++)
    if (p->inputs[k] >= 0 && opt_dtype(c, p->inputs[k]) == ER_F32) return 1;
  return 0;
}

/* Activation computed by node n from its input 0, or ER_ACT_NONE (ir_edit.h). */
int opt_act_of(const opt_ctx *c, const er_node *n, float *a, float *b) {
  *a = 0;
  *b = 0;
  if (n->n_outputs < 1 || n->outputs[0] < 0) return ER_ACT_NONE;
  if (opt_is(n, "Relu")) return ER_ACT_RELU;
  if (opt_is(n, "Sigmoid")) return ER_ACT_SIGMOID;
  if (opt_is(n, "Tanh")) return ER_ACT_TANH;
  if (opt_is(n, "HardSwish")) return ER_ACT_HARDSWISH;
  if (opt_is(n, "LeakyRelu")) {
    *a = opt_attr_float(n, "alpha", 0.01f);
    return ER_ACT_LEAKYRELU;
  }
  if (opt_is(n, "HardSigmoid")) {
    *a = opt_attr_float(n, "alpha", 0.2f);
    *b = opt_attr_float(n, "beta", 0.5f);
    return ER_ACT_HARDSIGMOID;
  }
  if (opt_is(n, "Gelu")) {
    const er_attr *ap = er_node_attr(n, "approximate");
    if (ap && !(ap->type == ER_ATTR_STRING && ap->s && ap->s[0] == 'n')) return ER_ACT_NONE;
    return ER_ACT_GELU;
  }
  if (opt_is(n, "Clip")) {
    if (n->opset < 11) {
      *a = opt_attr_float(n, "min", -FLT_MAX);
      *b = opt_attr_float(n, "max", FLT_MAX);
      return ER_ACT_CLIP;
    }
    double v;
    *a = -INFINITY;
    *b = INFINITY;
    if (n->n_inputs >= 2 && n->inputs[1] >= 0) {
      if (!opt_const_scalar(c, n->inputs[1], &v)) return ER_ACT_NONE;
      *a = (float)v;
    }
    if (n->n_inputs >= 3 && n->inputs[2] >= 0) {
      if (!opt_const_scalar(c, n->inputs[2], &v)) return ER_ACT_NONE;
      *b = (float)v;
    }
    return ER_ACT_CLIP;
  }
  return ER_ACT_NONE;
}

static er_status fuse(opt_ctx *c, er_node *p, int act, float a, float b, er_node *last,
                      er_node *extra) {
  const char *name = opt_join_name(c, p->name, last->name);
  if (!name || opt_set_attr_int(c, p, "_act", act) != 0 || opt_set_attr_float(c, p, "_act_a", a) != 0 ||
      opt_set_attr_float(c, p, "_act_b", b) != 0)
    return ER_ERR(ER_OUT_OF_MEMORY, "out of memory fusing an activation");
  p->name = name;
  int z = last->outputs[0];
  if (extra) opt_kill(c, extra);
  opt_kill(c, last);
  opt_set_output(c, p, 0, z);
  return NULL;
}

er_status opt_pass_act_fuse(opt_ctx *c, int *out_count) {
  er_graph *g = c->g;
  *out_count = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    if (c->dead[i]) continue;
    er_node *p = &g->nodes[i];
    unsigned bit = producer_bit(p);
    if (!bit || !(c->act_ops & bit) || p->n_outputs != 1 || p->outputs[0] < 0) continue;
    if (opt_attr_int(p, "_act", ER_ACT_NONE) != ER_ACT_NONE || !is_f32(c, p)) continue;
    int y = p->outputs[0];
    float a, b;
    er_node *n = opt_sole_consumer(c, y, NULL);
    if (n) {
      if (n->inputs[0] != y) continue;
      int act = opt_act_of(c, n, &a, &b);
      if (act == ER_ACT_NONE) continue;
      ER_RETURN_IF_ERROR(fuse(c, p, act, a, b, n, NULL));
      (*out_count)++;
      continue;
    }
    /* SiLU: y * Sigmoid(y), y used exactly by the Sigmoid and the Mul. */
    if (c->uses[y] != 2 || c->sub_uses[y] || c->out_uses[y]) continue;
    er_node *cons[2];
    if (opt_consumers(c, y, cons, 2) != 2) continue;
    er_node *sg = opt_is(cons[0], "Sigmoid") ? cons[0] : opt_is(cons[1], "Sigmoid") ? cons[1] : NULL;
    er_node *mul = sg == cons[0] ? cons[1] : cons[0];
    if (!sg || !opt_is(mul, "Mul") || mul->n_inputs != 2 || sg->outputs[0] < 0) continue;
    int s = sg->outputs[0];
    if (opt_sole_consumer(c, s, NULL) != mul) continue;
    if (!((mul->inputs[0] == y && mul->inputs[1] == s) || (mul->inputs[0] == s && mul->inputs[1] == y)))
      continue;
    ER_RETURN_IF_ERROR(fuse(c, p, ER_ACT_SILU, 0, 0, mul, sg));
    (*out_count)++;
  }
  return NULL;
}
