/* Subgraph patterns exported by frameworks that have a single ONNX op:
 *
 *  LayerNorm:  m = ReduceMean(x, axes=[-1]);  d = Sub(x, m);  v = ReduceMean(Pow(d, 2));
 *              n = Div(d, Sqrt(Add(v, eps)));  y = Add(Mul(n, gamma), beta)
 *              -> LayerNormalization(x, gamma, beta, axis=-1, epsilon=eps) (opset 17)
 *              (d*d instead of Pow(d,2), and no trailing Add, are accepted too)
 *  HardSwish:  y = x * Clip(x + 3, 0, 6) / 6   (/6 as Div or Mul by 1/6, before or after
 *              the Mul) -> HardSwish(x) (opset 14)
 *  Gelu:       y = x * 0.5 * (1 + Erf(x / sqrt(2)))   (any association of the two Muls,
 *              x * (1/sqrt(2)) instead of the Div) -> Gelu(x) (opset 20)
 *
 * Every intermediate value must feed only the pattern (and be no graph output). The
 * replacement reuses the pattern's last node, so topological order holds. */
#include <math.h>
#include <string.h>

#include "opt/ir_edit.h"

static int near(double a, double b) { return fabs(a - b) <= 1e-4 * fabs(b) + 1e-7; }

/* The other input of binary node n (inputs {v, other}); -1 if v is not an input. */
static int other_input(const er_node *n, int v) {
  if (n->n_inputs != 2) return -1;
  if (n->inputs[0] == v) return n->inputs[1];
  if (n->inputs[1] == v) return n->inputs[0];
  return -1;
}

static int is_const(const opt_ctx *c, int v, double want) {
  double x;
  return opt_const_scalar(c, v, &x) && near(x, want);
}

/* Sole consumer of the single output of node n, if it has type op_type. */
static er_node *next_op(const opt_ctx *c, const er_node *n, const char *op_type) {
  if (!n || n->n_outputs != 1 || n->outputs[0] < 0) return NULL;
  er_node *m = opt_sole_consumer(c, n->outputs[0], NULL);
  return m && opt_is(m, op_type) ? m : NULL;
}

/* ---------------------------------------------------------------- Gelu */

static int gelu_at(opt_ctx *c, er_node *erf, int *out_ok) {
  *out_ok = 0;
  if (erf->n_inputs != 1 || erf->n_outputs != 1) return 0;
  er_node *q = opt_producer(c, erf->inputs[0]);
  if (!q || opt_sole_consumer(c, erf->inputs[0], NULL) != erf || q->n_inputs != 2) return 0;
  int x;
  if (opt_is(q, "Div") && is_const(c, q->inputs[1], sqrt(2.0))) x = q->inputs[0];
  else if (opt_is(q, "Mul") && is_const(c, q->inputs[1], sqrt(0.5))) x = q->inputs[0];
  else if (opt_is(q, "Mul") && is_const(c, q->inputs[0], sqrt(0.5))) x = q->inputs[1];
  else return 0;
  er_node *add = next_op(c, erf, "Add");
  if (!add || !is_const(c, other_input(add, erf->outputs[0]), 1.0)) return 0;
  int av = add->outputs[0];
  er_node *m1 = next_op(c, add, "Mul");
  if (!m1) return 0;
  int o1 = other_input(m1, av);
  er_node *last = NULL, *mid = NULL;
  if (o1 == x) { /* (x * a) * 0.5 */
    er_node *m2 = next_op(c, m1, "Mul");
    if (!m2 || !is_const(c, other_input(m2, m1->outputs[0]), 0.5)) return 0;
    mid = m1;
    last = m2;
  } else if (is_const(c, o1, 0.5)) { /* x * (a * 0.5) */
    er_node *m2 = next_op(c, m1, "Mul");
    if (!m2 || other_input(m2, m1->outputs[0]) != x) return 0;
    mid = m1;
    last = m2;
  } else { /* (x * 0.5) * a */
    er_node *h = opt_producer(c, o1);
    if (!h || !opt_is(h, "Mul") || opt_sole_consumer(c, o1, NULL) != m1) return 0;
    if (!is_const(c, other_input(h, x), 0.5)) return 0;
    mid = h;
    last = m1;
  }
  if (!opt_retype(last, "Gelu", 20)) return 0;
  int ins[1] = {x};
  if (opt_set_inputs(c, last, 1, ins) != 0) return -1;
  opt_clear_attrs(last);
  opt_kill(c, q);
  opt_kill(c, erf);
  opt_kill(c, add);
  opt_kill(c, mid);
  *out_ok = 1;
  return 0;
}

er_status opt_pass_gelu(opt_ctx *c, int *out_count) {
  *out_count = 0;
  for (int i = 0; i < c->g->n_nodes; i++) {
    if (c->dead[i] || !opt_is(&c->g->nodes[i], "Erf")) continue;
    int ok;
    if (gelu_at(c, &c->g->nodes[i], &ok) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    *out_count += ok;
  }
  return NULL;
}

/* ---------------------------------------------------------------- HardSwish */

/* Clip with constant bounds (lo, hi); 1 if readable. */
static int clip_bounds(const opt_ctx *c, const er_node *n, double *lo, double *hi) {
  if (!opt_is(n, "Clip")) return 0;
  if (n->opset < 11) {
    *lo = opt_attr_float(n, "min", -3.4e38f);
    *hi = opt_attr_float(n, "max", 3.4e38f);
    return 1;
  }
  return n->n_inputs == 3 && opt_const_scalar(c, n->inputs[1], lo) && opt_const_scalar(c, n->inputs[2], hi);
}

/* n divides its input v by 6 (Div(v, 6) or Mul(v, 1/6)). */
static int is_div6(const opt_ctx *c, const er_node *n, int v) {
  if (opt_is(n, "Div")) return n->n_inputs == 2 && n->inputs[0] == v && is_const(c, n->inputs[1], 6.0);
  return opt_is(n, "Mul") && is_const(c, other_input(n, v), 1.0 / 6.0);
}

static int hardswish_at(opt_ctx *c, er_node *cl, int *out_ok) {
  *out_ok = 0;
  double lo, hi;
  if (!clip_bounds(c, cl, &lo, &hi) || lo != 0.0 || hi != 6.0 || cl->n_outputs != 1) return 0;
  er_node *add = opt_producer(c, cl->inputs[0]);
  if (!add || !opt_is(add, "Add") || opt_sole_consumer(c, cl->inputs[0], NULL) != cl) return 0;
  int x = add->n_inputs == 2 && is_const(c, add->inputs[1], 3.0)   ? add->inputs[0]
          : add->n_inputs == 2 && is_const(c, add->inputs[0], 3.0) ? add->inputs[1]
                                                                   : -1;
  if (x < 0) return 0;
  er_node *n1 = opt_sole_consumer(c, cl->outputs[0], NULL);
  if (!n1 || n1->n_outputs != 1 || n1->outputs[0] < 0) return 0;
  er_node *n2 = opt_sole_consumer(c, n1->outputs[0], NULL), *last;
  if (!n2 || n2->n_outputs != 1) return 0;
  if (opt_is(n1, "Mul") && other_input(n1, cl->outputs[0]) == x && is_div6(c, n2, n1->outputs[0]))
    last = n2; /* (x * clip) / 6 */
  else if (is_div6(c, n1, cl->outputs[0]) && opt_is(n2, "Mul") && other_input(n2, n1->outputs[0]) == x)
    last = n2; /* x * (clip / 6) */
  else
    return 0;
  if (!opt_retype(last, "HardSwish", 14)) return 0;
  int ins[1] = {x};
  if (opt_set_inputs(c, last, 1, ins) != 0) return -1;
  opt_clear_attrs(last);
  opt_kill(c, add);
  opt_kill(c, cl);
  opt_kill(c, n1);
  *out_ok = 1;
  return 0;
}

er_status opt_pass_hardswish(opt_ctx *c, int *out_count) {
  *out_count = 0;
  for (int i = 0; i < c->g->n_nodes; i++) {
    if (c->dead[i] || !opt_is(&c->g->nodes[i], "Clip")) continue;
    int ok;
    if (hardswish_at(c, &c->g->nodes[i], &ok) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    *out_count += ok;
  }
  return NULL;
}

/* ---------------------------------------------------------------- LayerNorm */

/* ReduceMean over exactly the last axis with keepdims=1. */
static int mean_last_axis(const opt_ctx *c, const er_node *r, int x) {
  if (!opt_is(r, "ReduceMean") || r->n_inputs < 1 || r->inputs[0] != x) return 0;
  if (opt_attr_int(r, "keepdims", 1) != 1) return 0;
  int64_t axes[4];
  int n;
  if (r->opset >= 18) {
    if (r->n_inputs < 2 || r->inputs[1] < 0) return 0;
    n = opt_const_ints(c, r->inputs[1], axes, 4);
  } else {
    const er_attr *a = er_node_attr(r, "axes");
    if (!a || a->type != ER_ATTR_INTS || a->n > 4) return 0;
    n = a->n;
    memcpy(axes, a->ints, sizeof(int64_t) * (size_t)n);
  }
  if (n != 1) return 0;
  if (axes[0] == -1) return 1;
  int rank = opt_rank(c, x);
  return rank > 0 && axes[0] == rank - 1;
}

static int layernorm_at(opt_ctx *c, er_node *r1, int *out_ok) {
  *out_ok = 0;
  if (r1->n_outputs != 1 || r1->n_inputs < 1) return 0;
  int x = r1->inputs[0];
  if (!mean_last_axis(c, r1, x)) return 0;
  er_node *sub = next_op(c, r1, "Sub");
  if (!sub || sub->n_inputs != 2 || sub->inputs[0] != x || sub->inputs[1] != r1->outputs[0]) return 0;
  int d = sub->outputs[0];
  if (d < 0 || c->uses[d] < 2 || c->uses[d] > 3 || c->sub_uses[d] || c->out_uses[d]) return 0;
  er_node *cons[2];
  if (opt_consumers(c, d, cons, 2) != 2) return 0;
  er_node *sq = NULL, *div = NULL;
  for (int k = 0; k < 2; k++) {
    er_node *n = cons[k];
    if (opt_is(n, "Div") && n->n_inputs == 2 && n->inputs[0] == d && n->inputs[1] != d) div = n;
    else if (opt_is(n, "Pow") && n->n_inputs == 2 && n->inputs[0] == d && is_const(c, n->inputs[1], 2.0)) sq = n;
    else if (opt_is(n, "Mul") && n->n_inputs == 2 && n->inputs[0] == d && n->inputs[1] == d) sq = n;
  }
  /* uses: Div once, and Pow once or Mul(d, d) twice */
  if (sq && c->uses[d] != (opt_is(sq, "Mul") ? 3 : 2)) return 0;
  if (!sq || !div) return 0;
  er_node *r2 = next_op(c, sq, "ReduceMean");
  if (!r2 || !mean_last_axis(c, r2, sq->outputs[0])) return 0;
  er_node *add = next_op(c, r2, "Add");
  double eps;
  if (!add || !opt_const_scalar(c, other_input(add, r2->outputs[0]), &eps)) return 0;
  er_node *sqrt_n = next_op(c, add, "Sqrt");
  if (!sqrt_n || opt_sole_consumer(c, sqrt_n->outputs[0], NULL) != div || div->inputs[1] != sqrt_n->outputs[0])
    return 0;
  er_node *mul = next_op(c, div, "Mul");
  if (!mul) return 0;
  int gamma = other_input(mul, div->outputs[0]);
  int64_t ng, nbeta = 0;
  if (!opt_const_f32(c, gamma, &ng) || c->g->values[gamma].rank != 1) return 0;
  int xr = opt_rank(c, x);
  int64_t D = xr > 0 ? c->vi_dims[x][xr - 1] : -1;
  if (D >= 0 ? ng != D : ng < 2) return 0;
  er_node *badd = next_op(c, mul, "Add"), *last = mul;
  int beta = -1;
  if (badd) {
    beta = other_input(badd, mul->outputs[0]);
    if (opt_const_f32(c, beta, &nbeta) && c->g->values[beta].rank == 1 && nbeta == ng) last = badd;
    else beta = -1;
  }
  if (!opt_retype(last, "LayerNormalization", 17)) return 0;
  int ins[3] = {x, gamma, beta};
  if (opt_set_inputs(c, last, beta >= 0 ? 3 : 2, ins) != 0) return -1;
  opt_clear_attrs(last);
  if (opt_set_attr_int(c, last, "axis", -1) != 0 || opt_set_attr_float(c, last, "epsilon", (float)eps) != 0)
    return -1;
  er_node *kill[] = {r1, sub, sq, r2, add, sqrt_n, div, mul};
  for (size_t k = 0; k < sizeof kill / sizeof kill[0]; k++)
    if (kill[k] != last) opt_kill(c, kill[k]);
  *out_ok = 1;
  return 0;
}

er_status opt_pass_layernorm(opt_ctx *c, int *out_count) {
  *out_count = 0;
  for (int i = 0; i < c->g->n_nodes; i++) {
    if (c->dead[i] || !opt_is(&c->g->nodes[i], "ReduceMean")) continue;
    int ok;
    if (layernorm_at(c, &c->g->nodes[i], &ok) != 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    *out_count += ok;
  }
  return NULL;
}
