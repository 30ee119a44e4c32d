/* Scaled-dot-product attention -> one fused op (kernels/attention.h):
 *
 *   S = MatMul(Qh, Kt);  [S = Mul(S, c) | Div(S, c)];  [S = Add(S, mask)];
 *   P = Softmax(S, last axis);  O = MatMul(P, Vh)
 *   -> O = Attention(Q, K, V[, mask]; layouts, scale = c or 1/c)
 *
 * with Qh, Kt, Vh, O float32 of rank 4 and static shapes: Qh [B,H,Sq,Dk], Kt [B,H,Dk,Sk],
 * Vh [B,H,Sk,Dv] (no broadcasting between them), or all of rank 3 (the same without B),
 * mask any float32 tensor broadcasting to the scores without growing them. The head split /
 * merge Transposes around the pattern (for rank 3 the same perms without the batch axis)
 * are absorbed when the pattern is their only reader:
 *   Qh = Transpose(Q [B,Sq,H,Dk], perm 0,2,1,3)  -> Q read as BSHD
 *   Kt = Transpose(K [B,Sk,H,Dk], perm 0,2,3,1)  -> K read as BSHD
 *   Kt = Transpose(K [B,H,Sk,Dk], perm 0,1,3,2)  -> K read as BHSD (else Kt itself, BHDS)
 *   Vh = Transpose(V [B,Sk,H,Dv], perm 0,2,1,3)  -> V read as BSHD
 *   Transpose(O, perm 0,2,1,3) as O's only reader -> the op writes [B,Sq,H,Dv] (BSHD)
 * Every intermediate value must feed only the pattern and be no graph output. */
#include <string.h>

#include "kernels/attention.h"
#include "opt/ir_edit.h"

/* Sole live consumer of value v if it has type op_type (default domain). */
static er_node *only_reader(const opt_ctx *c, int v, const char *op_type) {
  er_node *n = v >= 0 ? opt_sole_consumer(c, v, NULL) : NULL;
  return n && opt_is(n, op_type) ? n : NULL;
}

/* Does Transpose t have the given 4-D perm (p0 == 0), or for rank 3 its version without
 * the batch axis? */
static int perm_is(const er_node *t, int rank, int p0, int p1, int p2, int p3) {
  const er_attr *a = er_node_attr(t, "perm");
  if (!a || a->type != ER_ATTR_INTS || a->n != rank) return 0;
  if (rank == 4)
    return a->ints[0] == p0 && a->ints[1] == p1 && a->ints[2] == p2 && a->ints[3] == p3;
  return p0 == 0 && a->ints[0] == p1 - 1 && a->ints[1] == p2 - 1 && a->ints[2] == p3 - 1;
}

/* Transpose producing v with the given perm, read only by the pattern; else NULL. */
static er_node *split_transpose(const opt_ctx *c, int v, int rank, int p0, int p1, int p2, int p3) {
  er_node *t = opt_producer(c, v);
  if (!t || !opt_is(t, "Transpose") || t->n_inputs != 1 || !perm_is(t, rank, p0, p1, p2, p3)) return NULL;
  return opt_sole_consumer(c, v, NULL) ? t : NULL;
}

/* Static float32 value of the given rank (4, or 3 seen as [1, ...]): its 4-D dims, else 0. */
static int dims4(const opt_ctx *c, int v, int rank, int64_t *d) {
  if (v < 0 || opt_dtype(c, v) != ER_F32 || opt_rank(c, v) != rank) return 0;
  d[0] = 1;
  for (int i = 0; i < rank; i++) {
    d[4 - rank + i] = c->vi_dims[v][i];
    if (d[4 - rank + i] < 0) return 0;
  }
  return 1;
}

/* Does mask value m broadcast to dims sd (rank 4) without changing them? */
static int mask_fits(const opt_ctx *c, int m, const int64_t *sd) {
  int r = opt_rank(c, m);
  if (opt_dtype(c, m) != ER_F32 || r < 0 || r > 4) return 0;
  for (int i = 0; i < r; i++) {
    int64_t md = c->vi_dims[m][r - 1 - i];
    if (md != 1 && md != sd[3 - i]) return 0;
  }
  return 1;
}

/* Try the pattern ending in Softmax node index si. 1: fused, 0: no match, -1: OOM. */
static int fuse_at(opt_ctx *c, int si) {
  er_graph *g = c->g;
  er_node *sm = &g->nodes[si];
  if (sm->n_inputs != 1 || sm->n_outputs != 1 || sm->outputs[0] < 0) return 0;
  const int rank = opt_rank(c, sm->inputs[0]);
  int64_t axis = opt_attr_int(sm, "axis", sm->opset < 13 ? 1 : -1);
  if ((rank != 4 && rank != 3) || (axis != -1 && axis != rank - 1)) return 0;
  int64_t sd[4];
  if (!dims4(c, sm->inputs[0], rank, sd)) return 0;
  /* backwards: [Add mask] <- [Mul|Div scale] <- MatMul */
  er_node *chain[4] = {0}; /* mm1, scale, add, softmax */
  int v = sm->inputs[0], mask = -1;
  float scale = 1.0f;
  er_node *p = opt_producer(c, v);
  if (p && opt_is(p, "Add") && p->n_inputs == 2 && opt_sole_consumer(c, v, NULL) == sm) {
    for (int side = 0; side < 2 && mask < 0; side++) {
      er_node *q = opt_producer(c, p->inputs[side]);
      int64_t qd[4];
      if (q && (opt_is(q, "MatMul") || opt_is(q, "Mul") || opt_is(q, "Div")) &&
          dims4(c, p->inputs[side], rank, qd) && !memcmp(qd, sd, sizeof qd) &&
          mask_fits(c, p->inputs[1 - side], sd)) {
        mask = p->inputs[1 - side];
        chain[2] = p;
        v = p->inputs[side];
      }
    }
    if (mask < 0) return 0;
    p = opt_producer(c, v);
  }
  if (p && (opt_is(p, "Mul") || opt_is(p, "Div")) && p->n_inputs == 2 &&
      opt_sole_consumer(c, v, NULL) == (chain[2] ? chain[2] : sm)) {
    double k;
    int side = opt_is(p, "Mul") && opt_const_scalar(c, p->inputs[0], &k) ? 0 : 1;
    if (!opt_const_scalar(c, p->inputs[side], &k)) return 0; /* (a Div divides S by k) */
    scale = opt_is(p, "Div") ? (float)(1.0 / k) : (float)k;
    if (!(scale > 0.0f) && !(scale < 0.0f)) return 0; /* zero, NaN */
    chain[1] = p;
    v = p->inputs[1 - side];
    p = opt_producer(c, v);
  }
  er_node *next = chain[1] ? chain[1] : chain[2] ? chain[2] : sm;
  if (!p || !opt_is(p, "MatMul") || p->n_inputs != 2 || opt_attr_int(p, "_act", 0) ||
      er_node_attr(p, "_bias") || opt_sole_consumer(c, v, NULL) != next)
    return 0;
  chain[0] = p;
  er_node *mm2 = only_reader(c, sm->outputs[0], "MatMul");
  if (!mm2 || mm2->n_inputs != 2 || mm2->inputs[0] != sm->outputs[0] || mm2->n_outputs != 1 ||
      opt_attr_int(mm2, "_act", 0) || er_node_attr(mm2, "_bias"))
    return 0;
  int qh = chain[0]->inputs[0], kt = chain[0]->inputs[1], vh = mm2->inputs[1], o = mm2->outputs[0];
  int64_t qd[4], kd[4], vd[4], od[4];
  if (!dims4(c, qh, rank, qd) || !dims4(c, kt, rank, kd) || !dims4(c, vh, rank, vd) ||
      !dims4(c, o, rank, od))
    return 0;
  /* Qh [B,H,Sq,Dk], Kt [B,H,Dk,Sk], Vh [B,H,Sk,Dv], scores [B,H,Sq,Sk], O [B,H,Sq,Dv] */
  if (qd[0] != kd[0] || qd[0] != vd[0] || qd[1] != kd[1] || qd[1] != vd[1] || qd[3] != kd[2] ||
      kd[3] != vd[2] || sd[0] != qd[0] || sd[1] != qd[1] || sd[2] != qd[2] || sd[3] != kd[3] ||
      od[2] != qd[2] || od[3] != vd[3])
    return 0;
  if (qh == kt || qh == vh || kt == vh) return 0;
  /* layouts: absorb the head transposes */
  int64_t lay[4] = {ER_ATT_BHSD, ER_ATT_BHDS, ER_ATT_BHSD, ER_ATT_BHSD};
  er_node *tq = split_transpose(c, qh, rank, 0, 2, 1, 3), *tk = split_transpose(c, kt, rank, 0, 2, 3, 1);
  er_node *tk2 = tk ? NULL : split_transpose(c, kt, rank, 0, 1, 3, 2);
  er_node *tv = split_transpose(c, vh, rank, 0, 2, 1, 3);
  er_node *to = only_reader(c, o, "Transpose");
  if (to && (to->n_outputs != 1 || to->outputs[0] < 0 || !perm_is(to, rank, 0, 2, 1, 3))) to = NULL;
  int ins[4] = {qh, kt, vh, mask};
  if (tq) ins[0] = tq->inputs[0], lay[0] = ER_ATT_BSHD;
  if (tk) ins[1] = tk->inputs[0], lay[1] = ER_ATT_BSHD;
  if (tk2) ins[1] = tk2->inputs[0], lay[1] = ER_ATT_BHSD;
  if (tv) ins[2] = tv->inputs[0], lay[2] = ER_ATT_BSHD;
  int out = o;
  if (to) out = to->outputs[0], lay[3] = ER_ATT_BSHD;
  const char *name = opt_join_name(c, chain[0]->name, "attention");
  if (!name) return -1;
  /* remove the pattern, then add the fused node producing its output */
  er_node *dead[] = {chain[0], chain[1], chain[2], sm, mm2, tq, tk, tk2, tv, to};
  for (size_t i = 0; i < sizeof dead / sizeof dead[0]; i++)
    if (dead[i]) {
      for (int k = 0; k < dead[i]->n_outputs; k++) opt_set_output(c, dead[i], k, -1);
      opt_kill(c, dead[i]);
    }
  int idx = opt_add_node(c, ER_DOMAIN_EDGERUN, ER_OP_ATTENTION, 1, name, mask >= 0 ? 4 : 3, ins,
                         1, &out);
  if (idx < 0) return -1;
  er_node *n = &g->nodes[idx];
  if (opt_set_attr_ints(c, n, "layouts", 4, lay) != 0 || opt_set_attr_float(c, n, "scale", scale) != 0)
    return -1;
  return 1;
}

er_status opt_pass_attention(opt_ctx *c, int *out_count) {
  *out_count = 0;
  int n = c->g->n_nodes; /* nodes appended by this pass are not revisited */
  for (int i = 0; i < n; i++) {
    if (c->dead[i] || !opt_is(&c->g->nodes[i], "Softmax")) continue;
    int r = fuse_at(c, i);
    if (r < 0) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory fusing attention");
    *out_count += r;
  }
  return NULL;
}
