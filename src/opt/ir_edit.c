/* IR-editing helpers for the graph passes (see ir_edit.h). Host code. */
#include "opt/ir_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/exec.h"
#include "base/alloc.h"

#define OOM() ER_ERR(ER_OUT_OF_MEMORY, "out of memory in the graph optimizer")

/* Direct subgraphs of node n: calls fn(graph, arg) for each. */
#define FOR_EACH_SUBGRAPH(n, sg, body)                                              \
  for (int a_ = 0; a_ < (n)->n_attrs; a_++) {                                       \
    const er_attr *at_ = &(n)->attrs[a_];                                           \
    int ng_ = at_->type == ER_ATTR_GRAPH ? 1 : at_->type == ER_ATTR_GRAPHS ? at_->n : 0; \
    for (int j_ = 0; j_ < ng_; j_++) {                                              \
      er_graph *sg = at_->type == ER_ATTR_GRAPH ? at_->g : at_->graphs[j_];          \
      if (!sg) continue;                                                            \
      body                                                                          \
    }                                                                               \
  }

static int grow_arrays(opt_ctx *c, int cap) {
  int *u = (int *)realloc(c->uses, sizeof(int) * (size_t)cap);
  if (!u) return -1;
  c->uses = u;
  u = (int *)realloc(c->sub_uses, sizeof(int) * (size_t)cap);
  if (!u) return -1;
  c->sub_uses = u;
  u = (int *)realloc(c->out_uses, sizeof(int) * (size_t)cap);
  if (!u) return -1;
  c->out_uses = u;
  u = (int *)realloc(c->vi_dtype, sizeof(int) * (size_t)cap);
  if (!u) return -1;
  c->vi_dtype = u;
  u = (int *)realloc(c->vi_rank, sizeof(int) * (size_t)cap);
  if (!u) return -1;
  c->vi_rank = u;
  int64_t(*d)[ER_MAX_RANK] = (int64_t(*)[ER_MAX_RANK])realloc(c->vi_dims, sizeof(*d) * (size_t)cap);
  if (!d) return -1;
  c->vi_dims = d;
  return 0;
}

static void declared_facts(opt_ctx *c, int v) {
  const er_value *val = &c->g->values[v];
  c->vi_dtype[v] = 0;
  c->vi_rank[v] = -1;
  for (int d = 0; d < ER_MAX_RANK; d++) c->vi_dims[v][d] = -1;
  /* Only trust what the runtime trusts: initializers and graph inputs. */
  if (val->kind != ER_VALUE_INITIALIZER && val->kind != ER_VALUE_INPUT) return;
  c->vi_dtype[v] = val->dtype;
  c->vi_rank[v] = val->rank;
  for (int d = 0; d < val->rank && d < ER_MAX_RANK; d++) c->vi_dims[v][d] = val->dims[d];
}

void opt_note_declared(opt_ctx *c, int v) { declared_facts(c, v); }

er_status opt_ctx_init(opt_ctx *c, er_pool *pool, er_graph *g, unsigned flags) {
  memset(c, 0, sizeof *c);
  c->pool = pool;
  c->g = g;
  c->flags = flags;
  c->cap_values = c->g->n_values;
  if (grow_arrays(c, c->cap_values + 1) != 0) return OOM();
  for (int v = 0; v < c->g->n_values; v++) declared_facts(c, v);
  return opt_refresh(c);
}

void opt_ctx_free(opt_ctx *c) {
  free(c->name_slots);
  free(c->uses);
  free(c->sub_uses);
  free(c->out_uses);
  free(c->vi_dtype);
  free(c->vi_rank);
  free(c->vi_dims);
  free(c->dead);
  memset(c, 0, sizeof *c);
}

static void drop_names(opt_ctx *c) {
  free(c->name_slots);
  c->name_slots = NULL;
  c->name_cap = 0;
}

er_status opt_refresh(opt_ctx *c) {
  er_graph *g = c->g;
  drop_names(c);
  free(c->dead);
  /* as large as the node array's capacity: opt_add_node appends up to cap_nodes */
  int cap = c->cap_nodes > g->n_nodes ? c->cap_nodes : g->n_nodes;
  c->dead = (unsigned char *)calloc((size_t)cap + 1, 1);
  if (!c->dead) return OOM();
  memset(c->uses, 0, sizeof(int) * (size_t)g->n_values);
  memset(c->sub_uses, 0, sizeof(int) * (size_t)g->n_values);
  memset(c->out_uses, 0, sizeof(int) * (size_t)g->n_values);
  for (int i = 0; i < g->n_nodes; i++) {
    er_node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0) c->uses[n->inputs[k]]++;
    FOR_EACH_SUBGRAPH(n, sg, {
      for (int v = 0; v < sg->n_values; v++)
        if (sg->values[v].kind == ER_VALUE_OUTER && sg->values[v].outer >= 0 &&
            sg->values[v].outer < g->n_values)
          c->sub_uses[sg->values[v].outer]++;
    })
  }
  for (int k = 0; k < g->n_outputs; k++) c->out_uses[g->outputs[k]]++;
  return NULL;
}

/* Stable topological order after opt_add_node: nodes keep their relative order except
 * that a node moves just before its first consumer when it would come after it. Dead
 * nodes are dropped first by the caller. Iterative DFS: state 0 new, 1 on the stack,
 * 2 emitted. */
static er_status topo_sort(opt_ctx *c) {
  er_graph *g = c->g;
  int nn = g->n_nodes;
  if (nn <= 1) return NULL;
  /* dependencies per node: its inputs, then the outer values its direct subgraphs use */
  int *dep_start = (int *)malloc(sizeof(int) * ((size_t)nn + 1));
  size_t ndeps = 0;
  if (!dep_start) return OOM();
  for (int i = 0; i < nn; i++) {
    er_node *n = &g->nodes[i];
    ndeps += (size_t)n->n_inputs;
    FOR_EACH_SUBGRAPH(n, sg, { ndeps += (size_t)sg->n_values; })
  }
  int *deps = (int *)malloc(sizeof(int) * (ndeps + 1));
  unsigned char *state = (unsigned char *)calloc((size_t)nn, 1);
  int *order = (int *)malloc(sizeof(int) * (size_t)nn);
  int *stack = (int *)malloc(sizeof(int) * (size_t)nn);
  int *next_in = (int *)malloc(sizeof(int) * (size_t)nn);
  er_node *copy = (er_node *)malloc(sizeof(er_node) * (size_t)nn);
  er_status s = NULL;
  if (!deps || !state || !order || !stack || !next_in || !copy) {
    s = OOM();
    goto done;
  }
  int nd_total = 0;
  for (int i = 0; i < nn; i++) {
    er_node *n = &g->nodes[i];
    dep_start[i] = nd_total;
    for (int k = 0; k < n->n_inputs; k++) deps[nd_total++] = n->inputs[k];
    FOR_EACH_SUBGRAPH(n, sg, {
      for (int v = 0; v < sg->n_values; v++)
        if (sg->values[v].kind == ER_VALUE_OUTER) deps[nd_total++] = sg->values[v].outer;
    })
  }
  dep_start[nn] = nd_total;
  int m = 0;
  for (int root = 0; root < nn && !s; root++) {
    if (state[root]) continue;
    int sp = 0;
    stack[sp++] = root;
    state[root] = 1;
    next_in[root] = dep_start[root];
    while (sp > 0) {
      int i = stack[sp - 1];
      int pushed = 0;
      while (next_in[i] < dep_start[i + 1]) {
        int v = deps[next_in[i]++];
        if (v < 0 || v >= g->n_values) continue;
        int p = g->values[v].kind == ER_VALUE_NODE ? g->values[v].producer : -1;
        if (p < 0 || p >= nn || state[p] == 2) continue;
        if (state[p] == 1) {
          s = ER_ERR(ER_INTERNAL, "graph optimizer made a cycle at node '%s'", g->nodes[i].name);
          goto done;
        }
        state[p] = 1;
        next_in[p] = dep_start[p];
        stack[sp++] = p;
        pushed = 1;
        break;
      }
      if (pushed) continue;
      state[i] = 2;
      order[m++] = i;
      sp--;
    }
  }
  memcpy(copy, g->nodes, sizeof(er_node) * (size_t)nn);
  for (int k = 0; k < nn; k++) {
    g->nodes[k] = copy[order[k]];
    for (int o = 0; o < g->nodes[k].n_outputs; o++) {
      int v = g->nodes[k].outputs[o];
      if (v >= 0) g->values[v].producer = k;
    }
  }
done:
  free(dep_start);
  free(deps);
  free(state);
  free(order);
  free(stack);
  free(next_in);
  free(copy);
  return s;
}

er_status opt_compact(opt_ctx *c) {
  er_graph *g = c->g;
  int m = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    er_node *n = &g->nodes[i];
    if (c->dead[i]) {
      for (int k = 0; k < n->n_outputs; k++) {
        int v = n->outputs[k];
        if (v >= 0 && g->values[v].producer == i) g->values[v].producer = -1;
      }
      continue;
    }
    if (m != i) g->nodes[m] = *n;
    for (int k = 0; k < g->nodes[m].n_outputs; k++) {
      int v = g->nodes[m].outputs[k];
      if (v >= 0) g->values[v].producer = m;
    }
    m++;
  }
  g->n_nodes = m;
  if (c->needs_sort) {
    c->needs_sort = 0;
    er_status s = topo_sort(c);
    if (s) return s;
  }
  return opt_refresh(c);
}

er_status opt_compact_values(opt_ctx *c) {
  er_graph *g = c->g;
  int nv = g->n_values;
  int *remap = (int *)malloc(sizeof(int) * ((size_t)nv + 1));
  if (!remap) return OOM();
  int m = 0;
  for (int v = 0; v < nv; v++) {
    const er_value *val = &g->values[v];
    int keep = opt_refs(c, v) > 0 || val->is_graph_input;
    if (val->kind == ER_VALUE_NODE && val->producer >= 0) keep = 1; /* live node output */
    remap[v] = keep ? m++ : -1;
  }
  if (m == nv) {
    free(remap);
    return NULL;
  }
  for (int v = 0; v < nv; v++)
    if (remap[v] >= 0 && remap[v] != v) {
      g->values[remap[v]] = g->values[v];
      c->vi_dtype[remap[v]] = c->vi_dtype[v];
      c->vi_rank[remap[v]] = c->vi_rank[v];
      memcpy(c->vi_dims[remap[v]], c->vi_dims[v], sizeof c->vi_dims[v]);
    }
  g->n_values = m;
  drop_names(c);
  for (int i = 0; i < g->n_nodes; i++) {
    er_node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0) n->inputs[k] = remap[n->inputs[k]];
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0) n->outputs[k] = remap[n->outputs[k]];
    FOR_EACH_SUBGRAPH(n, sg, {
      for (int v = 0; v < sg->n_values; v++)
        if (sg->values[v].kind == ER_VALUE_OUTER && sg->values[v].outer >= 0 &&
            sg->values[v].outer < nv)
          sg->values[v].outer = remap[sg->values[v].outer];
    })
  }
  for (int k = 0; k < g->n_inputs; k++) g->inputs[k] = remap[g->inputs[k]];
  for (int k = 0; k < g->n_outputs; k++) g->outputs[k] = remap[g->outputs[k]];
  free(remap);
  return opt_refresh(c);
}

/* ---------------------------------------------------------------- facts */


/* Plan g with symbolic dims set to `sym`; merge the inferred output facts. */
static int plan_once(opt_ctx *c, er_exec *e, int64_t sym, int first) {
  const er_graph *g = c->g;
  for (int i = 0; i < g->n_inputs; i++) {
    const er_value *v = &g->values[g->inputs[i]];
    if (v->kind == ER_VALUE_INITIALIZER) continue;
    if (v->rank < 0 || !v->dtype || !er_dtype_size(v->dtype) || v->dtype >= ER_DT_SEQUENCE) return -1;
    er_tensor t = {0};
    er_tensor_set_shape(&t, v->dtype, v->rank, v->dims);
    for (int d = 0; d < v->rank; d++)
      if (t.dims[d] < 0) t.dims[d] = sym;
    size_t nb = er_tensor_nbytes(&t);
    void *zero = calloc(1, nb ? nb : 1);
    if (!zero) return -1;
    t.data = zero;
    er_status s = er_exec_set_input(e, i, &t);
    free(zero);
    if (s) {
      er_status_free(s);
      return -1;
    }
  }
  er_status s = er_exec_plan(e);
  if (s) {
    er_status_free(s);
    return -1;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const er_kctx *k = er_exec_node(e, i);
    const er_node *n = &g->nodes[i];
    for (int o = 0; o < n->n_outputs; o++) {
      int v = n->outputs[o];
      if (v < 0) continue;
      const er_tensor *t = k->out[o];
      int dt = t ? t->dtype : 0;
      if (dt >= ER_DT_SEQUENCE) dt = 0;
      if (first) {
        c->vi_dtype[v] = dt;
        c->vi_rank[v] = dt ? t->rank : -1;
        for (int d = 0; d < ER_MAX_RANK; d++)
          c->vi_dims[v][d] = (dt && d < t->rank) ? t->dims[d] : -1;
      } else if (c->vi_dtype[v] != dt || c->vi_rank[v] != (dt ? t->rank : -1)) {
        c->vi_dtype[v] = 0;
        c->vi_rank[v] = -1;
        for (int d = 0; d < ER_MAX_RANK; d++) c->vi_dims[v][d] = -1;
      } else {
        for (int d = 0; d < c->vi_rank[v]; d++)
          if (c->vi_dims[v][d] != t->dims[d]) c->vi_dims[v][d] = -1;
      }
    }
  }
  return 0;
}

void opt_infer_facts(opt_ctx *c) {
  const er_graph *g = c->g;
  int symbolic = 0;
  for (int i = 0; i < g->n_inputs; i++) {
    const er_value *v = &g->values[g->inputs[i]];
    if (v->kind == ER_VALUE_INITIALIZER) continue;
    for (int d = 0; d < v->rank; d++) symbolic |= v->dims[d] < 0;
  }
  er_exec *e = NULL;
  er_status s = er_exec_create(g, NULL, er_host_allocator(), &e);
  if (s) {
    er_status_free(s);
    return;
  }
  er_exec_set_infer_only(e, 1); /* shapes only: no arena, no weight packing */
  int ok = plan_once(c, e, 2, 1) == 0;
  if (ok && symbolic) ok = plan_once(c, e, 3, 0) == 0;
  er_exec_destroy(e);
  if (!ok) /* partial facts are not trustworthy: back to declarations */
    for (int v = 0; v < g->n_values; v++) declared_facts(c, v);
}

/* ---------------------------------------------------------------- queries */

int opt_is(const er_node *n, const char *op_type) {
  return n->domain[0] == 0 && strcmp(n->op_type, op_type) == 0;
}

int opt_node_index(const opt_ctx *c, const er_node *n) { return (int)(n - c->g->nodes); }

int opt_is_node_value(const opt_ctx *c, int v) {
  if (v < 0) return 0;
  const er_value *val = &c->g->values[v];
  return val->kind == ER_VALUE_NODE && val->producer >= 0 && !c->dead[val->producer];
}

er_node *opt_producer(const opt_ctx *c, int v) {
  return opt_is_node_value(c, v) ? &c->g->nodes[c->g->values[v].producer] : NULL;
}

er_node *opt_sole_consumer(const opt_ctx *c, int v, int *out_slot) {
  if (v < 0 || c->uses[v] != 1 || c->sub_uses[v] || c->out_uses[v]) return NULL;
  er_node *n = NULL;
  int slot = -1;
  opt_consumers(c, v, &n, 1);
  if (!n) return NULL;
  for (int k = 0; k < n->n_inputs; k++)
    if (n->inputs[k] == v) slot = k;
  if (out_slot) *out_slot = slot;
  return n;
}

int opt_consumers(const opt_ctx *c, int v, er_node **out, int cap) {
  const er_graph *g = c->g;
  /* readers come after the producer, unless opt_add_node appended nodes out of order */
  int start = !c->needs_sort && g->values[v].kind == ER_VALUE_NODE && g->values[v].producer >= 0
                  ? g->values[v].producer + 1
                  : 0;
  int k = 0;
  for (int i = start; i < g->n_nodes; i++) {
    if (c->dead[i]) continue;
    er_node *n = &g->nodes[i];
    for (int j = 0; j < n->n_inputs; j++)
      if (n->inputs[j] == v) {
        if (k < cap) out[k] = n;
        k++;
        break;
      }
  }
  return k;
}

const float *opt_const_f32(const opt_ctx *c, int v, int64_t *out_numel) {
  if (v < 0) return NULL;
  const er_value *val = &c->g->values[v];
  if (val->kind != ER_VALUE_INITIALIZER || val->dtype != ER_F32 || !val->data || val->rank < 0)
    return NULL;
  if (out_numel) *out_numel = er_shape_numel(val->dims, val->rank);
  return (const float *)val->data;
}

int opt_const_scalar(const opt_ctx *c, int v, double *out) {
  if (v < 0) return 0;
  const er_value *val = &c->g->values[v];
  if (val->kind != ER_VALUE_INITIALIZER || !val->data || val->rank < 0) return 0;
  if (er_shape_numel(val->dims, val->rank) != 1 || !er_dtype_is_numeric(val->dtype)) return 0;
  if (val->dtype >= ER_DT_SEQUENCE) return 0;
  *out = er_load_f64(val->data, val->dtype, 0);
  return 1;
}

int opt_const_ints(const opt_ctx *c, int v, int64_t *out, int cap) {
  if (v < 0) return -1;
  const er_value *val = &c->g->values[v];
  if (val->kind != ER_VALUE_INITIALIZER || !val->data || val->rank > 1) return -1;
  if (!er_dtype_is_signed_int(val->dtype) && !er_dtype_is_unsigned_int(val->dtype)) return -1;
  int64_t n = er_shape_numel(val->dims, val->rank);
  if (n > cap) return -1;
  for (int64_t i = 0; i < n; i++) out[i] = er_load_i64(val->data, val->dtype, (size_t)i);
  return (int)n;
}

int opt_dtype(const opt_ctx *c, int v) { return v >= 0 ? c->vi_dtype[v] : 0; }
int opt_rank(const opt_ctx *c, int v) { return v >= 0 ? c->vi_rank[v] : -1; }

/* ---------------------------------------------------------------- edits */

void opt_set_input(opt_ctx *c, er_node *n, int k, int v) {
  if (n->inputs[k] >= 0) c->uses[n->inputs[k]]--;
  n->inputs[k] = v;
  if (v >= 0) c->uses[v]++;
}

void opt_replace_uses(opt_ctx *c, int from, int to) {
  er_graph *g = c->g;
  for (int i = 0; i < g->n_nodes; i++) {
    if (c->dead[i]) continue;
    er_node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] == from) opt_set_input(c, n, k, to);
    FOR_EACH_SUBGRAPH(n, sg, {
      for (int v = 0; v < sg->n_values; v++)
        if (sg->values[v].kind == ER_VALUE_OUTER && sg->values[v].outer == from) {
          sg->values[v].outer = to;
          c->sub_uses[from]--;
          c->sub_uses[to]++;
        }
    })
  }
}

void opt_kill(opt_ctx *c, er_node *n) {
  int i = opt_node_index(c, n);
  if (c->dead[i]) return;
  c->dead[i] = 1;
  for (int k = 0; k < n->n_inputs; k++)
    if (n->inputs[k] >= 0) c->uses[n->inputs[k]]--;
  FOR_EACH_SUBGRAPH(n, sg, {
    for (int v = 0; v < sg->n_values; v++)
      if (sg->values[v].kind == ER_VALUE_OUTER && sg->values[v].outer >= 0 &&
          sg->values[v].outer < c->g->n_values)
        c->sub_uses[sg->values[v].outer]--;
  })
  c->changed++;
}

void opt_set_output(opt_ctx *c, er_node *n, int k, int v) {
  int old = n->outputs[k];
  if (old >= 0 && c->g->values[old].producer == opt_node_index(c, n)) c->g->values[old].producer = -1;
  n->outputs[k] = v;
  if (v >= 0) {
    c->g->values[v].kind = ER_VALUE_NODE;
    c->g->values[v].producer = opt_node_index(c, n);
  }
}

int opt_forward(opt_ctx *c, er_node *n, int y, int x) {
  if (x < 0 || y < 0 || x == y) return 0;
  if (!c->out_uses[y]) {
    opt_kill(c, n);
    opt_replace_uses(c, y, x);
    return 1;
  }
  /* y is a graph output: keep its name, make x's producer produce it. */
  er_node *p = opt_producer(c, x);
  if (!p || c->out_uses[x] || c->g->values[x].is_graph_input) return 0;
  int slot = -1;
  for (int k = 0; k < p->n_outputs; k++)
    if (p->outputs[k] == x) slot = k;
  if (slot < 0) return 0;
  opt_kill(c, n);
  opt_replace_uses(c, x, y);
  opt_set_output(c, p, slot, y);
  c->vi_dtype[y] = c->vi_dtype[x];
  c->vi_rank[y] = c->vi_rank[x];
  memcpy(c->vi_dims[y], c->vi_dims[x], sizeof c->vi_dims[x]);
  return 1;
}

static size_t name_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)(h ^ (h >> 29));
}

static void names_insert(opt_ctx *c, int v) {
  size_t mask = c->name_cap - 1, i = name_hash(c->g->values[v].name) & mask;
  while (c->name_slots[i] >= 0) i = (i + 1) & mask;
  c->name_slots[i] = v;
}

/* (Re)build the name table for at least `need` values; 0 when out of memory. */
static int names_build(opt_ctx *c, int need) {
  size_t cap = 64;
  while (cap < (size_t)need * 2) cap *= 2;
  drop_names(c);
  c->name_slots = (int *)malloc(cap * sizeof(int));
  if (!c->name_slots) return 0;
  c->name_cap = cap;
  for (size_t i = 0; i < cap; i++) c->name_slots[i] = -1;
  for (int v = 0; v < c->g->n_values; v++) names_insert(c, v);
  return 1;
}

/* No value of g is called `name` (a hash table: passes that add many values stay linear). */
static int unique_name(opt_ctx *c, const char *name) {
  if (!c->name_slots && !names_build(c, c->g->n_values + 1)) return er_graph_find_value(c->g, name) < 0;
  size_t mask = c->name_cap - 1;
  for (size_t i = name_hash(name) & mask; c->name_slots[i] >= 0; i = (i + 1) & mask)
    if (!strcmp(c->g->values[c->name_slots[i]].name, name)) return 0;
  return 1;
}

int opt_new_value(opt_ctx *c, const char *name, int kind) {
  er_graph *g = c->g;
  if (g->n_values >= c->cap_values) {
    int cap = c->cap_values < 8 ? 16 : c->cap_values * 2;
    er_value *nv = (er_value *)er_pool_alloc(c->pool, sizeof(er_value) * ((size_t)cap + 1));
    if (!nv || grow_arrays(c, cap + 1) != 0) return -1;
    memcpy(nv, g->values, sizeof(er_value) * (size_t)g->n_values);
    g->values = nv;
    c->cap_values = cap;
  }
  char buf[256];
  snprintf(buf, sizeof buf, "%s", name);
  for (int k = 1; !unique_name(c, buf) && k < 1000000; k++) snprintf(buf, sizeof buf, "%s_%d", name, k);
  const char *nm = er_pool_strndup(c->pool, buf, strlen(buf));
  if (!nm) return -1;
  int v = g->n_values++;
  er_value_init(&g->values[v], nm, kind);
  if (c->name_slots && (size_t)g->n_values * 2 > c->name_cap) drop_names(c); /* rebuilt when next needed */
  else if (c->name_slots) names_insert(c, v);
  c->uses[v] = c->sub_uses[v] = c->out_uses[v] = 0;
  c->vi_dtype[v] = 0;
  c->vi_rank[v] = -1;
  for (int d = 0; d < ER_MAX_RANK; d++) c->vi_dims[v][d] = -1;
  return v;
}

int opt_new_init_f32(opt_ctx *c, const char *name, int rank, const int64_t *dims,
                     const float *data) {
  int64_t n = er_shape_numel(dims, rank);
  float *buf = (float *)er_pool_alloc(c->pool, sizeof(float) * (size_t)(n ? n : 1));
  if (!buf) return -1;
  memcpy(buf, data, sizeof(float) * (size_t)n);
  int v = opt_new_value(c, name, ER_VALUE_INITIALIZER);
  if (v < 0) return -1;
  er_value *val = &c->g->values[v];
  val->dtype = ER_F32;
  val->rank = rank;
  for (int d = 0; d < rank; d++) val->dims[d] = dims[d];
  val->data = buf;
  declared_facts(c, v);
  return v;
}

int opt_new_init(opt_ctx *c, const char *name, int dtype, int rank, const int64_t *dims,
                 const void *data) {
  size_t es = er_dtype_size(dtype);
  if (!es) return -1;
  int64_t n = er_shape_numel(dims, rank);
  size_t bytes = es * (size_t)n;
  void *buf = er_pool_alloc(c->pool, bytes ? bytes : 1);
  if (!buf) return -1;
  if (bytes) memcpy(buf, data, bytes);
  int v = opt_new_value(c, name, ER_VALUE_INITIALIZER);
  if (v < 0) return -1;
  er_value *val = &c->g->values[v];
  val->dtype = dtype;
  val->rank = rank;
  for (int d = 0; d < rank; d++) val->dims[d] = dims[d];
  val->data = buf;
  declared_facts(c, v);
  return v;
}

int opt_add_node(opt_ctx *c, const char *domain, const char *op_type, int opset,
                 const char *name, int n_in, const int *inputs, int n_out, const int *outputs) {
  er_graph *g = c->g;
  const er_op_def *op = er_op_find(domain ? domain : "", op_type, opset);
  if (!op) return -1;
  if (g->n_nodes >= c->cap_nodes) {
    int cap = g->n_nodes < 8 ? 16 : g->n_nodes * 2;
    er_node *nn = (er_node *)er_pool_alloc(c->pool, sizeof(er_node) * ((size_t)cap + 1));
    unsigned char *nd = (unsigned char *)realloc(c->dead, (size_t)cap + 1);
    if (!nn || !nd) {
      if (nd) c->dead = nd;
      return -1;
    }
    c->dead = nd;
    memset(c->dead + g->n_nodes, 0, (size_t)(cap + 1 - g->n_nodes));
    if (g->n_nodes) memcpy(nn, g->nodes, sizeof(er_node) * (size_t)g->n_nodes);
    g->nodes = nn;
    c->cap_nodes = cap;
  }
  int *ins = (int *)er_pool_alloc(c->pool, sizeof(int) * ((size_t)n_in + 1));
  int *outs = (int *)er_pool_alloc(c->pool, sizeof(int) * ((size_t)n_out + 1));
  const char *nm = er_pool_strndup(c->pool, name ? name : "", name ? strlen(name) : 0);
  if (!ins || !outs || !nm) return -1;
  int idx = g->n_nodes++;
  er_node *n = &g->nodes[idx];
  memset(n, 0, sizeof *n);
  n->name = nm;
  n->op_type = op_type;
  n->domain = domain ? domain : "";
  n->opset = opset;
  n->op = op;
  n->n_inputs = n_in;
  n->inputs = ins;
  n->n_outputs = n_out;
  n->outputs = outs;
  c->dead[idx] = 0;
  for (int k = 0; k < n_in; k++) {
    ins[k] = inputs[k];
    if (ins[k] >= 0) c->uses[ins[k]]++;
  }
  for (int k = 0; k < n_out; k++) {
    outs[k] = -1;
    opt_set_output(c, n, k, outputs[k]);
  }
  c->needs_sort = 1;
  c->changed++;
  return idx;
}

static er_attr *attr_slot(opt_ctx *c, er_node *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  er_attr *na = (er_attr *)er_pool_alloc(c->pool, sizeof(er_attr) * ((size_t)n->n_attrs + 2));
  if (!na) return NULL;
  if (n->n_attrs) memcpy(na, n->attrs, sizeof(er_attr) * (size_t)n->n_attrs);
  n->attrs = na;
  er_attr *a = &na[n->n_attrs++];
  memset(a, 0, sizeof *a);
  a->name = name; /* callers pass string literals */
  return a;
}

int opt_set_attr_int(opt_ctx *c, er_node *n, const char *name, int64_t v) {
  er_attr *a = attr_slot(c, n, name);
  if (!a) return -1;
  const char *nm = a->name;
  memset(a, 0, sizeof *a);
  a->name = nm;
  a->type = ER_ATTR_INT;
  a->i = v;
  return 0;
}

int opt_set_attr_float(opt_ctx *c, er_node *n, const char *name, float v) {
  er_attr *a = attr_slot(c, n, name);
  if (!a) return -1;
  const char *nm = a->name;
  memset(a, 0, sizeof *a);
  a->name = nm;
  a->type = ER_ATTR_FLOAT;
  a->f = v;
  return 0;
}

int opt_set_inputs(opt_ctx *c, er_node *n, int n_in, const int *inputs) {
  int *ni = (int *)er_pool_alloc(c->pool, sizeof(int) * ((size_t)n_in + 1));
  if (!ni) return -1;
  for (int k = 0; k < n->n_inputs; k++)
    if (n->inputs[k] >= 0) c->uses[n->inputs[k]]--;
  for (int k = 0; k < n_in; k++) {
    ni[k] = inputs[k];
    if (ni[k] >= 0) c->uses[ni[k]]++;
  }
  n->inputs = ni;
  n->n_inputs = n_in;
  return 0;
}

const char *opt_join_name(opt_ctx *c, const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = (char *)er_pool_alloc(c->pool, la + lb + 2);
  if (!s) return NULL;
  memcpy(s, a, la);
  s[la] = '+';
  memcpy(s + la + 1, b, lb);
  s[la + lb + 1] = 0;
  return s;
}

int opt_retype(er_node *n, const char *op_type, int opset) {
  const er_op_def *op = er_op_find("", op_type, opset);
  if (!op) return 0;
  n->op_type = op_type;
  n->domain = "";
  n->opset = opset;
  n->op = op;
  return 1;
}

int opt_set_attr_ints(opt_ctx *c, er_node *n, const char *name, int count, const int64_t *v) {
  int64_t *copy = (int64_t *)er_pool_alloc(c->pool, sizeof(int64_t) * ((size_t)count + 1));
  er_attr *a = copy ? attr_slot(c, n, name) : NULL;
  if (!a) return -1;
  memcpy(copy, v, sizeof(int64_t) * (size_t)count);
  const char *nm = a->name;
  memset(a, 0, sizeof *a);
  a->name = nm;
  a->type = ER_ATTR_INTS;
  a->n = count;
  a->ints = copy;
  return 0;
}

void opt_clear_attrs(er_node *n) { n->n_attrs = 0; }

int64_t opt_attr_int(const er_node *n, const char *name, int64_t def) {
  const er_attr *a = er_node_attr(n, name);
  return a && a->type == ER_ATTR_INT ? a->i : def;
}

float opt_attr_float(const er_node *n, const char *name, float def) {
  const er_attr *a = er_node_attr(n, name);
  return a && a->type == ER_ATTR_FLOAT ? a->f : def;
}
