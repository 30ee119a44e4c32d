/* Calibration run: the float graph over every sample of the data set, with an executor
 * observer that adds each quantized activation to its statistics as its node finishes
 * (so the arena can reuse the memory afterwards). Host code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"
#include "base/pool.h"
#include "quant/internal.h"
#include "runtime/exec.h"

typedef struct obs {
  qmodel *qm;
  unsigned char *seen; /* main graph values observed this sample */
} obs;

static uint64_t no_clock(void) { return 0; }

static void add(qplan *p, int v, const er_tensor *t) {
  if (!t || !t->data || t->dtype != ER_F32 || !p->has_stat[v]) return;
  er_qstat_add(&p->stats[v], (const float *)t->data, er_tensor_numel(t));
}

static void on_node(void *user, const er_kctx *k, uint64_t t0, uint64_t t1, int depth) {
  obs *o = (obs *)user;
  int gi = qmodel_find(o->qm, k->node);
  if (gi < 0 || !o->qm->gs[gi].planned) return;
  qplan *p = &o->qm->gs[gi].p;
  const er_node *n = k->node;
  int i = (int)(n - o->qm->gs[gi].g->nodes);
  for (int j = 0; j < n->n_outputs && j < k->n_out; j++) {
    int v = n->outputs[j];
    if (v < 0 || v >= p->nv || p->role[v] != QV_ACT) continue;
    add(p, v, k->out[j]);
    if (gi == 0) o->seen[v] = 1;
  }
  for (int j = 0; gi > 0 && j < n->n_inputs && j < k->n_in; j++) {
    int v = n->inputs[j];
    if (v >= 0 && v < p->nv && p->role[v] == QV_ACT && p->obs_at[v] == i) add(p, v, k->in[j]);
  }
}

static void dims_str(const int64_t *d, int rank, char *buf, size_t cap) {
  size_t l = 0;
  l += (size_t)snprintf(buf + l, cap - l, "[");
  for (int i = 0; i < rank && l < cap; i++) {
    if (d[i] < 0) l += (size_t)snprintf(buf + l, cap - l, "%s?", i ? "," : "");
    else l += (size_t)snprintf(buf + l, cap - l, "%s%lld", i ? "," : "", (long long)d[i]);
  }
  if (l < cap) snprintf(buf + l, cap - l, "]");
}

/* Check a sample tensor against the graph input declaration. */
static er_status check_input(const er_value *decl, const er_tensor *t, const char *sample, int k) {
  int ok = t->dtype == decl->dtype && (decl->rank < 0 || t->rank == decl->rank);
  for (int d = 0; ok && decl->rank >= 0 && d < decl->rank; d++)
    if (decl->dims[d] >= 0 && decl->dims[d] != t->dims[d]) ok = 0;
  if (ok) return NULL;
  char a[160], b[160];
  dims_str(t->dims, t->rank, a, sizeof a);
  dims_str(decl->dims, decl->rank < 0 ? 0 : decl->rank, b, sizeof b);
  return ER_ERR(ER_INVALID_ARGUMENT,
                "calibration sample '%s' input_%d: %s %s does not match model input '%s' (%s %s)",
                sample, k, er_dtype_name((er_dtype)t->dtype), a, decl->name,
                er_dtype_name((er_dtype)decl->dtype), decl->rank < 0 ? "any shape" : b);
}

/* Bind sample i of d to the main graph's user inputs of e (data in pool); checks count,
 * dtype and shape against the declarations. fn(user, v, t) sees each bound input. */
static er_status bind_sample(er_exec *e, const er_graph *g, const er_dataset *d, int i, er_pool *pool,
                             void (*fn)(void *user, int v, const er_tensor *t), void *user) {
  er_status s = NULL;
  for (int k = 0, gi = 0; gi < g->n_inputs && !s; gi++) {
    int v = g->inputs[gi];
    if (g->values[v].kind == ER_VALUE_INITIALIZER) continue;
    er_tensor t;
    s = er_dataset_read(d, i, k, 0, pool, &t);
    if (!s) s = check_input(&g->values[v], &t, d->samples[i], k);
    if (!s) s = er_exec_set_input(e, gi, &t);
    if (!s && fn) fn(user, v, &t);
    k++;
  }
  return s;
}

static er_status check_count(const er_graph *g, const er_dataset *d) {
  int n_user = 0;
  for (int i = 0; i < g->n_inputs; i++)
    if (g->values[g->inputs[i]].kind != ER_VALUE_INITIALIZER) n_user++;
  if (d->n_inputs != n_user)
    return ER_ERR(ER_INVALID_ARGUMENT, "calibration folder '%s' has %d input(s) per sample, the model has %d",
                  d->dir, d->n_inputs, n_user);
  return NULL;
}

static void observe_input(void *user, int v, const er_tensor *t) {
  qplan *p = (qplan *)user;
  if (p->role[v] == QV_ACT) add(p, v, t);
}

er_status quant_observe(qmodel *qm, const er_dataset *d, er_quant_report *r) {
  qplan *p = &qm->gs[0].p;
  const er_graph *g = qm->gs[0].g;
  ER_RETURN_IF_ERROR(check_count(g, d));
  int with_hist = p->o->method != ER_CALIB_MINMAX;
  for (int gi = 0; gi < qm->n; gi++) {
    qplan *q = &qm->gs[gi].p;
    if (!qm->gs[gi].planned) continue;
    for (int v = 0; v < q->nv; v++)
      if (q->role[v] == QV_ACT && !(gi > 0 && qplan_inherited(q, v))) {
        ER_RETURN_IF_ERROR(er_qstat_init(&q->stats[v], with_hist));
        q->has_stat[v] = 1;
      }
  }
  obs o = {qm, (unsigned char *)calloc((size_t)p->nv + 1, 1)};
  if (!o.seen) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  er_exec *e = NULL;
  er_status s = er_exec_create(g, NULL, er_host_allocator(), &e);
  if (!s) er_exec_set_observer(e, no_clock, on_node, &o);
  for (int i = 0; i < d->n_samples && !s; i++) {
    er_pool pool;
    er_pool_init(&pool);
    memset(o.seen, 0, (size_t)p->nv);
    s = bind_sample(e, g, d, i, &pool, observe_input, p);
    if (!s) {
      s = er_exec_run(e);
      if (s) s = er_status_prefix(s, "calibration sample '%s'", d->samples[i]);
    }
    /* values computed at plan time (constant-folded) are not observed while running */
    for (int v = 0; v < p->nv && !s; v++) {
      if (p->role[v] != QV_ACT || o.seen[v] || g->values[v].kind != ER_VALUE_NODE) continue;
      int pi = g->values[v].producer;
      if (pi < 0) continue;
      const er_kctx *k = er_exec_node(e, pi);
      for (int j = 0; k && j < g->nodes[pi].n_outputs && j < k->n_out; j++)
        if (g->nodes[pi].outputs[j] == v) add(p, v, k->out[j]);
    }
    er_pool_free(&pool);
    if (!s) r->n_samples++;
    if (p->o->progress) p->o->progress(p->o->progress_user, i + 1, d->n_samples);
  }
  er_exec_destroy(e);
  free(o.seen);
  /* a subgraph value that never ran (constant-folded inside its body) has no range */
  for (int gi = 1; gi < qm->n && !s; gi++) {
    qplan *q = &qm->gs[gi].p;
    for (int v = 0; qm->gs[gi].planned && v < q->nv && !s; v++) {
      if (!q->has_stat[v] || q->stats[v].count > 0) continue;
      const er_graph *sg = qm->gs[gi].g;
      const er_value *val = &sg->values[v];
      const char *node = val->kind == ER_VALUE_NODE && val->producer >= 0 ? sg->nodes[val->producer].name : NULL;
      s = ER_ERR(ER_UNSUPPORTED,
                 "value '%s' inside subgraph '%s' was never computed while calibrating (constant inside "
                 "its body%s%s): its range is unknown; keep its nodes float with --exclude",
                 val->name, sg->name ? sg->name : "", node ? ", made by node " : "", node ? node : "");
    }
  }
  return s;
}

/* Facts run: record every node's input and output types and shapes. */
typedef struct facts {
  qmodel *qm;
  unsigned char **fill; /* per graph, per value: 1 unknown before, 2 recorded */
} facts;

static void note_fact(opt_ctx *c, unsigned char *fill, int v, const er_tensor *t) {
  if (v < 0 || !fill[v] || !t || !t->dtype || t->dtype >= ER_DT_SEQUENCE) return;
  if (fill[v] == 1) {
    fill[v] = 2;
    c->vi_dtype[v] = t->dtype;
    c->vi_rank[v] = t->rank;
    for (int d = 0; d < ER_MAX_RANK; d++) c->vi_dims[v][d] = d < t->rank ? t->dims[d] : -1;
  } else if (c->vi_dtype[v] != t->dtype || c->vi_rank[v] != t->rank) {
    fill[v] = 0; /* varies: unknown */
    c->vi_dtype[v] = 0;
    c->vi_rank[v] = -1;
    for (int d = 0; d < ER_MAX_RANK; d++) c->vi_dims[v][d] = -1;
  } else {
    for (int d = 0; d < t->rank; d++)
      if (c->vi_dims[v][d] != t->dims[d]) c->vi_dims[v][d] = -1;
  }
}

static void on_facts(void *user, const er_kctx *k, uint64_t t0, uint64_t t1, int depth) {
  facts *f = (facts *)user;
  int gi = qmodel_find(f->qm, k->node);
  if (gi < 0) return;
  qgraph *q = &f->qm->gs[gi];
  q->seen = 1;
  const er_node *n = k->node;
  for (int j = 0; j < n->n_outputs && j < k->n_out; j++) note_fact(&q->c, f->fill[gi], n->outputs[j], k->out[j]);
  for (int j = 0; j < n->n_inputs && j < k->n_in; j++) note_fact(&q->c, f->fill[gi], n->inputs[j], k->in[j]);
}

er_status quant_facts_run(qmodel *qm, const er_dataset *d) {
  const er_graph *g = qm->gs[0].g;
  ER_RETURN_IF_ERROR(check_count(g, d));
  facts f = {qm, (unsigned char **)calloc((size_t)qm->n, sizeof(unsigned char *))};
  er_status s = f.fill ? NULL : ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  for (int gi = 0; gi < qm->n && !s; gi++) {
    int nv = qm->gs[gi].g->n_values;
    f.fill[gi] = (unsigned char *)calloc((size_t)nv + 1, 1);
    if (!f.fill[gi]) s = ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    for (int v = 0; !s && v < nv; v++) f.fill[gi][v] = qm->gs[gi].c.vi_dtype[v] == 0;
  }
  er_exec *e = NULL;
  if (!s) s = er_exec_create(g, NULL, er_host_allocator(), &e);
  if (!s) er_exec_set_observer(e, no_clock, on_facts, &f);
  int all = 0;
  for (int i = 0; i < d->n_samples && i < 16 && !s && !all; i++) {
    er_pool pool;
    er_pool_init(&pool);
    s = bind_sample(e, g, d, i, &pool, NULL, NULL);
    if (!s) {
      s = er_exec_run(e);
      if (s) s = er_status_prefix(s, "calibration sample '%s'", d->samples[i]);
    }
    er_pool_free(&pool);
    all = 1;
    for (int gi = 1; gi < qm->n; gi++) all &= qm->gs[gi].seen;
  }
  er_exec_destroy(e);
  for (int gi = 0; f.fill && gi < qm->n; gi++) free(f.fill[gi]);
  free(f.fill);
  return s;
}

/* ---------------------------------------------------------------- facts */

int quant_facts(opt_ctx *c, const er_tensor *ins, int64_t sym) {
  const er_graph *g = c->g;
  er_exec *e = NULL;
  er_status s = er_exec_create(g, NULL, er_host_allocator(), &e);
  if (s) {
    er_status_free(s);
    return 0;
  }
  er_exec_set_infer_only(e, 1);
  int ok = 1;
  for (int i = 0, k = 0; i < g->n_inputs && ok; i++) {
    const er_value *v = &g->values[g->inputs[i]];
    if (v->kind == ER_VALUE_INITIALIZER) continue;
    er_tensor t = {0};
    void *zero = NULL;
    if (ins) {
      t = ins[k];
    } else {
      if (v->rank < 0 || !er_dtype_size(v->dtype) || v->dtype >= ER_DT_SEQUENCE) {
        ok = 0;
        break;
      }
      er_tensor_set_shape(&t, v->dtype, v->rank, v->dims);
      for (int d = 0; d < v->rank; d++)
        if (t.dims[d] < 0) t.dims[d] = sym;
      size_t nb = er_tensor_nbytes(&t);
      zero = calloc(1, nb ? nb : 1);
      if (!zero) ok = 0;
      t.data = zero;
    }
    if (ok) {
      s = er_exec_set_input(e, i, &t);
      if (s) {
        er_status_free(s);
        ok = 0;
      }
    }
    free(zero);
    k++;
  }
  if (ok) {
    s = er_exec_plan(e);
    if (s) {
      er_status_free(s);
      ok = 0;
    }
  }
  for (int i = 0; ok && i < g->n_nodes; i++) {
    const er_kctx *k = er_exec_node(e, i);
    const er_node *n = &g->nodes[i];
    for (int o = 0; o < n->n_outputs; o++) {
      int v = n->outputs[o];
      if (v < 0) continue;
      const er_tensor *t = k->out[o];
      int dt = t && t->dtype < ER_DT_SEQUENCE ? t->dtype : 0;
      c->vi_dtype[v] = dt;
      c->vi_rank[v] = dt ? t->rank : -1;
      for (int d = 0; d < ER_MAX_RANK; d++) c->vi_dims[v][d] = dt && d < t->rank ? t->dims[d] : -1;
    }
  }
  er_exec_destroy(e);
  return ok;
}

int quant_facts_best(opt_ctx *c, const er_tensor *ins) {
  if (ins && quant_facts(c, ins, 0)) return 1;
  opt_infer_facts(c);
  /* did it type every node output? */
  int typed = 1;
  for (int i = 0; i < c->g->n_nodes && typed; i++)
    for (int o = 0; o < c->g->nodes[i].n_outputs; o++)
      if (c->g->nodes[i].outputs[o] >= 0 && !c->vi_dtype[c->g->nodes[i].outputs[o]]) typed = 0;
  if (typed) return 1;
  static const int64_t syms[] = {32, 224};
  for (int j = 0; j < 2; j++)
    if (quant_facts(c, NULL, syms[j])) return 1;
  return 0;
}
