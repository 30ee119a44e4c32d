/* px graph -> IR graph: values by name (hash map), outer-scope references for subgraphs,
 * stable topological sort, op resolution against the kernel registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/onnx/onnx_internal.h"
#include "kernels/kernel.h"

#define OOM() ER_ERR(ER_OUT_OF_MEMORY, "out of memory")

typedef struct gb {
  onx_ctx *c;
  struct gb *parent;
  er_graph *g;
  er_value *vals;
  int nv, cap;
  strmap map;
} gb;

/* Append a value; returns its index or -1 on out-of-memory. */
static int gb_add(gb *b, const char *name, int kind) {
  if (b->nv == b->cap) {
    int cap = b->cap ? b->cap * 2 : 32;
    if (cap > (1 << 28)) return -1;
    er_value *v = (er_value *)er_pool_alloc(&b->c->tmp, (size_t)cap * sizeof *v);
    if (!v) return -1;
    if (b->nv) memcpy(v, b->vals, (size_t)b->nv * sizeof *v);
    b->vals = v;
    b->cap = cap;
  }
  int i = b->nv;
  er_value_init(&b->vals[i], name, kind);
  if (strmap_put(&b->map, &b->c->tmp, name, i) != 0) return -1;
  b->nv++;
  return i;
}

/* Index of `name` visible in b (creating OUTER values down the chain), -1 if undefined,
 * -2 on out-of-memory. */
static int gb_resolve(gb *b, const char *name) {
  int i = strmap_get(&b->map, name);
  if (i >= 0 || !b->parent) return i;
  int pi = gb_resolve(b->parent, name);
  if (pi < 0) return pi;
  i = gb_add(b, b->parent->vals[pi].name, ER_VALUE_OUTER);
  if (i < 0) return -2;
  const er_value *pv = &b->parent->vals[pi];
  er_value *v = &b->vals[i];
  v->outer = pi;
  v->dtype = pv->dtype;
  v->rank = pv->rank;
  memcpy(v->dims, pv->dims, sizeof v->dims);
  memcpy(v->dim_params, pv->dim_params, sizeof v->dim_params);
  return i;
}

static er_status apply_type(er_value *v, const px_vi *vi, int strict, const char *role) {
  if (!vi->has_type) return NULL;
  if (vi->rank > ER_MAX_RANK) {
    if (strict)
      return ER_ERR(ER_UNSUPPORTED, "%s '%s' has rank %d, more than the maximum of %d", role,
                    vi->name, vi->rank, ER_MAX_RANK);
    v->dtype = vi->dtype;
    v->rank = -1;
    return NULL;
  }
  v->dtype = vi->dtype;
  v->rank = vi->rank;
  for (int d = 0; d < ER_MAX_RANK; d++) {
    v->dims[d] = d < vi->rank ? vi->dims[d] : -1;
    v->dim_params[d] = d < vi->rank ? vi->dim_params[d] : NULL;
  }
  return NULL;
}

static er_status build_graph(onx_ctx *c, gb *parent, const px_graph *pg, er_graph **out);

typedef struct deps {
  int n;
  int *v; /* parent value indices used by the node's subgraphs */
} deps;

/* Attributes of node i, building subgraphs; collects their outer references. */
static er_status build_attrs(gb *b, const px_node *pn, er_node *n, deps *dp) {
  onx_ctx *c = b->c;
  n->n_attrs = pn->n_attrs;
  n->attrs = (er_attr *)er_pool_alloc(c->pool, (size_t)(pn->n_attrs + 1) * sizeof(er_attr));
  if (!n->attrs) return OOM();
  int total = 0, cap = 0;
  dp->n = 0;
  dp->v = NULL;
  for (int k = 0; k < pn->n_attrs; k++) {
    const px_attr *pa = &pn->attrs[k];
    er_attr *a = &n->attrs[k];
    *a = pa->a;
    if (pa->ref)
      return ER_ERR(ER_INVALID_MODEL, "attribute '%s' refers to '%s' outside a function",
                    a->name, pa->ref);
    int ng = a->type == ER_ATTR_GRAPH ? 1 : a->type == ER_ATTR_GRAPHS ? a->n : 0;
    if (!ng) continue;
    er_graph **gs = (er_graph **)er_pool_alloc(c->pool, (size_t)(ng + 1) * sizeof(er_graph *));
    if (!gs) return OOM();
    for (int j = 0; j < ng; j++) {
      const px_graph *sub = a->type == ER_ATTR_GRAPH ? pa->g : pa->gs[j];
      er_status s = build_graph(c, b, sub, &gs[j]);
      if (s) {
        if (a->type == ER_ATTR_GRAPHS) return onx_prefix(s, "attribute '%s'[%d]", a->name, j);
        return onx_prefix(s, "attribute '%s'", a->name);
      }
      const er_graph *sg = gs[j];
      for (int v = 0; v < sg->n_values; v++) {
        if (sg->values[v].kind != ER_VALUE_OUTER) continue;
        if (total == cap) {
          cap = cap ? cap * 2 : 8;
          int *nv = (int *)er_pool_alloc(&c->tmp, (size_t)cap * sizeof(int));
          if (!nv) return OOM();
          if (total) memcpy(nv, dp->v, (size_t)total * sizeof(int));
          dp->v = nv;
        }
        dp->v[total++] = sg->values[v].outer;
      }
    }
    if (a->type == ER_ATTR_GRAPH) a->g = gs[0];
    else a->graphs = (er_graph *const *)gs;
  }
  dp->n = total;
  return NULL;
}

/* Stable topological sort (DFS in file order, post-order). Writes order[new] = old. */
static er_status topo_sort(gb *b, er_node *nodes, int n, const deps *dp, int *order) {
  onx_ctx *c = b->c;
  unsigned char *state = (unsigned char *)er_pool_alloc(&c->tmp, (size_t)n + 1);
  int *stk = (int *)er_pool_alloc(&c->tmp, ((size_t)n + 1) * sizeof(int));
  int *pos = (int *)er_pool_alloc(&c->tmp, ((size_t)n + 1) * sizeof(int));
  if (!state || !stk || !pos) return OOM();
  int no = 0;
  for (int s = 0; s < n; s++) {
    if (state[s]) continue;
    int sp = 0;
    stk[sp] = s;
    pos[sp] = 0;
    sp++;
    state[s] = 1;
    while (sp > 0) {
      int x = stk[sp - 1];
      int k = pos[sp - 1]++;
      int nin = nodes[x].n_inputs, ndep = nin + dp[x].n;
      if (k < ndep) {
        int v = k < nin ? nodes[x].inputs[k] : dp[x].v[k - nin];
        if (v < 0 || b->vals[v].kind != ER_VALUE_NODE) continue;
        int p = b->vals[v].producer;
        if (state[p] == 1)
          return ER_ERR(ER_INVALID_MODEL, "graph has a cycle through node '%s' (%s)",
                        nodes[p].name, nodes[p].op_type);
        if (state[p] == 0) {
          state[p] = 1;
          stk[sp] = p;
          pos[sp] = 0;
          sp++;
        }
        continue;
      }
      state[x] = 2;
      order[no++] = x;
      sp--;
    }
  }
  return NULL;
}

static er_status build_graph(onx_ctx *c, gb *parent, const px_graph *pg, er_graph **out) {
  gb b;
  memset(&b, 0, sizeof b);
  b.c = c;
  b.parent = parent;
  er_graph *g = (er_graph *)er_pool_alloc(c->pool, sizeof *g);
  if (!g) return OOM();
  g->name = pg->name ? pg->name : "";
  g->parent = parent ? parent->g : NULL;
  b.g = g;
  *out = g;

  /* 1. initializers */
  for (int i = 0; i < pg->n_inits; i++) {
    const px_init *in = &pg->inits[i];
    if (strmap_get(&b.map, in->name) >= 0)
      return ER_ERR(ER_INVALID_MODEL, "initializer '%s' is defined twice", in->name);
    int v = gb_add(&b, in->name, ER_VALUE_INITIALIZER);
    if (v < 0) return OOM();
    er_value *val = &b.vals[v];
    val->dtype = in->t->dtype;
    val->rank = in->t->rank;
    for (int d = 0; d < in->t->rank; d++) val->dims[d] = in->t->dims[d];
    val->data = in->t->data;
  }
  /* 2. inputs */
  g->n_inputs = pg->n_inputs;
  g->inputs = (int *)er_pool_alloc(c->pool, (size_t)(pg->n_inputs + 1) * sizeof(int));
  if (!g->inputs) return OOM();
  for (int i = 0; i < pg->n_inputs; i++) {
    const px_vi *vi = &pg->inputs[i];
    if (!*vi->name) return ER_ERR(ER_INVALID_MODEL, "graph input #%d has no name", i);
    int v = strmap_get(&b.map, vi->name);
    if (v >= 0) {
      if (b.vals[v].kind != ER_VALUE_INITIALIZER || b.vals[v].is_graph_input)
        return ER_ERR(ER_INVALID_MODEL, "graph input '%s' is listed twice", vi->name);
    } else {
      v = gb_add(&b, vi->name, ER_VALUE_INPUT);
      if (v < 0) return OOM();
      ER_RETURN_IF_ERROR(apply_type(&b.vals[v], vi, 1, "graph input"));
    }
    b.vals[v].is_graph_input = 1;
    g->inputs[i] = v;
  }
  /* 3. nodes: names, opsets, outputs */
  int nn = pg->n_nodes;
  er_node *nodes = (er_node *)er_pool_alloc(&c->tmp, (size_t)(nn + 1) * sizeof(er_node));
  deps *dp = (deps *)er_pool_alloc(&c->tmp, (size_t)(nn + 1) * sizeof(deps));
  if (!nodes || !dp) return OOM();
  for (int i = 0; i < nn; i++) {
    const px_node *pn = &pg->nodes[i];
    er_node *n = &nodes[i];
    if (*pn->name) {
      n->name = pn->name;
    } else {
      char buf[24];
      snprintf(buf, sizeof buf, "#%d", i);
      n->name = er_pool_strndup(c->pool, buf, strlen(buf));
      if (!n->name) return OOM();
    }
    n->op_type = pn->op_type;
    n->domain = pn->domain;
    int64_t ver = onx_opset_of(pn->opsets, pn->domain);
    if (ver <= 0)
      return ER_ERR(ER_INVALID_MODEL, "node '%s' (%s): domain '%s' has no opset_import",
                    n->name, n->op_type, *n->domain ? n->domain : "ai.onnx");
    if (ver > 100000)
      return ER_ERR(ER_INVALID_MODEL, "node '%s' (%s): invalid opset version %lld", n->name,
                    n->op_type, (long long)ver);
    n->opset = (int)ver;
    n->n_inputs = pn->n_in;
    n->n_outputs = pn->n_out;
    n->inputs = (int *)er_pool_alloc(c->pool, (size_t)(pn->n_in + 1) * sizeof(int));
    n->outputs = (int *)er_pool_alloc(c->pool, (size_t)(pn->n_out + 1) * sizeof(int));
    if (!n->inputs || !n->outputs) return OOM();
    for (int k = 0; k < pn->n_out; k++) {
      const char *name = pn->out[k];
      if (!*name) {
        n->outputs[k] = -1;
        continue;
      }
      int v = strmap_get(&b.map, name);
      if (v >= 0) {
        const er_value *ov = &b.vals[v];
        if (ov->kind == ER_VALUE_NODE)
          return ER_ERR(ER_INVALID_MODEL, "value '%s' is produced by node '%s' (%s) and node '%s' (%s)",
                        name, nodes[ov->producer].name, nodes[ov->producer].op_type, n->name,
                        n->op_type);
        return ER_ERR(ER_INVALID_MODEL, "node '%s' (%s) output '%s' is already defined as a graph %s",
                      n->name, n->op_type, name,
                      ov->kind == ER_VALUE_INITIALIZER ? "initializer" : "input");
      }
      v = gb_add(&b, name, ER_VALUE_NODE);
      if (v < 0) return OOM();
      b.vals[v].producer = i;
      n->outputs[k] = v;
    }
  }
  /* 4. declared types of intermediate values and outputs */
  for (int i = 0; i < pg->n_vi; i++) {
    int v = strmap_get(&b.map, pg->vi[i].name);
    if (v >= 0 && b.vals[v].kind == ER_VALUE_NODE)
      ER_RETURN_IF_ERROR(apply_type(&b.vals[v], &pg->vi[i], 0, "value_info"));
  }
  for (int i = 0; i < pg->n_outputs; i++) {
    int v = strmap_get(&b.map, pg->outputs[i].name);
    if (v >= 0 && b.vals[v].kind == ER_VALUE_NODE)
      ER_RETURN_IF_ERROR(apply_type(&b.vals[v], &pg->outputs[i], 1, "graph output"));
  }
  /* 5. node inputs and attributes (subgraphs) */
  for (int i = 0; i < nn; i++) {
    const px_node *pn = &pg->nodes[i];
    er_node *n = &nodes[i];
    for (int k = 0; k < pn->n_in; k++) {
      const char *name = pn->in[k];
      if (!*name) {
        n->inputs[k] = -1;
        continue;
      }
      int v = gb_resolve(&b, name);
      if (v == -2) return OOM();
      if (v < 0)
        return ER_ERR(ER_INVALID_MODEL, "node '%s' (%s) input '%s' is not defined", n->name,
                      n->op_type, name);
      n->inputs[k] = v;
    }
    er_status s = build_attrs(&b, pn, n, &dp[i]);
    if (s) return onx_prefix(s, "node '%s' (%s)", n->name, n->op_type);
  }
  /* 6. topological order */
  int *order = (int *)er_pool_alloc(&c->tmp, (size_t)(nn + 1) * sizeof(int));
  int *newpos = (int *)er_pool_alloc(&c->tmp, (size_t)(nn + 1) * sizeof(int));
  if (!order || !newpos) return OOM();
  ER_RETURN_IF_ERROR(topo_sort(&b, nodes, nn, dp, order));
  g->n_nodes = nn;
  g->nodes = (er_node *)er_pool_alloc(c->pool, (size_t)(nn + 1) * sizeof(er_node));
  if (!g->nodes) return OOM();
  for (int i = 0; i < nn; i++) {
    g->nodes[i] = nodes[order[i]];
    newpos[order[i]] = i;
  }
  for (int v = 0; v < b.nv; v++)
    if (b.vals[v].kind == ER_VALUE_NODE) b.vals[v].producer = newpos[b.vals[v].producer];
  /* 7. outputs */
  g->n_outputs = pg->n_outputs;
  g->outputs = (int *)er_pool_alloc(c->pool, (size_t)(pg->n_outputs + 1) * sizeof(int));
  if (!g->outputs) return OOM();
  for (int i = 0; i < pg->n_outputs; i++) {
    const char *name = pg->outputs[i].name;
    if (!*name) return ER_ERR(ER_INVALID_MODEL, "graph output #%d has no name", i);
    int v = gb_resolve(&b, name);
    if (v == -2) return OOM();
    if (v < 0) return ER_ERR(ER_INVALID_MODEL, "graph output '%s' is not produced by any node", name);
    g->outputs[i] = v;
  }
  /* 8. values */
  g->n_values = b.nv;
  g->values = (er_value *)er_pool_alloc(c->pool, (size_t)(b.nv + 1) * sizeof(er_value));
  if (!g->values) return OOM();
  if (b.nv) memcpy(g->values, b.vals, (size_t)b.nv * sizeof(er_value));
  return NULL;
}

static er_status resolve_ops(er_graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    er_node *n = &g->nodes[i];
    n->op = er_op_find(n->domain, n->op_type, n->opset);
    if (!n->op && er_op_build_selective())
      return ER_ERR(ER_UNSUPPORTED,
                    "op %s not in this build (selective-op build; add it to the OPS list) at node '%s' (opset %d)",
                    n->op_type, n->name, n->opset);
    if (!n->op)
      return ER_ERR(ER_UNSUPPORTED, "unsupported operator %s (opset %d) at node '%s'",
                    n->op_type, n->opset, n->name);
    for (int k = 0; k < n->n_attrs; k++) {
      er_attr *a = &n->attrs[k];
      int ng = a->type == ER_ATTR_GRAPH ? 1 : a->type == ER_ATTR_GRAPHS ? a->n : 0;
      for (int j = 0; j < ng; j++) {
        er_status s = resolve_ops(a->type == ER_ATTR_GRAPH ? a->g : a->graphs[j]);
        if (s) return onx_prefix(s, "node '%s' (%s) attribute '%s'", n->name, n->op_type, a->name);
      }
    }
  }
  return NULL;
}

er_status er_onnx_import_ex(const void *data, size_t size, const char *base_dir,
                            const char *what, er_imported *m, unsigned flags) {
  if (!what) what = "model";
  er_pool_init(&m->pool);
  m->graph = NULL;
  if (!data || size == 0) return ER_ERR(ER_INVALID_MODEL, "%s: empty model file", what);
  onx_ctx c;
  memset(&c, 0, sizeof c);
  c.pool = &m->pool;
  er_pool_init(&c.tmp);
  c.what = what;
  c.base_dir = base_dir;
  c.mappings = &m->mappings;
  c.copies = &m->copies;
  c.copy_cap = size;
  px_graph *pg = NULL;
  const char *pn = "", *pv = "";
  er_status s = onx_parse_model(&c, (const uint8_t *)data, size, &pg, &pn, &pv);
  if (!s) s = onx_inline_functions(&c, pg);
  er_graph *g = NULL;
  if (!s) s = build_graph(&c, NULL, pg, &g);
  if (!s && !(flags & ER_ONNX_NO_OP_RESOLVE)) s = resolve_ops(g);
  if (!s) {
    int n = c.model_opsets.n;
    m->opset_domains = (const char **)er_pool_alloc(&m->pool, (size_t)(n + 1) * sizeof(char *));
    m->opset_versions = (int64_t *)er_pool_alloc(&m->pool, (size_t)(n + 1) * sizeof(int64_t));
    if (!m->opset_domains || !m->opset_versions) {
      s = OOM();
    } else {
      for (int i = 0; i < n; i++) {
        m->opset_domains[i] = c.model_opsets.domains[i];
        m->opset_versions[i] = c.model_opsets.versions[i];
      }
      m->n_opsets = n;
      m->ir_version = c.ir_version;
      m->producer_name = pn;
      m->producer_version = pv;
      m->graph = g;
    }
  }
  er_pool_free(&c.tmp);
  if (s) return er_status_prefix(s, "%s", what);
  return NULL;
}

er_status er_onnx_import(const void *data, size_t size, const char *base_dir, const char *what,
                         er_imported *m) {
  return er_onnx_import_ex(data, size, base_dir, what, m, 0);
}

er_status er_onnx_import_file(const char *path, unsigned flags, er_imported *m) {
  memset(m, 0, sizeof *m);
  er_pool_init(&m->pool);
  if (!path) return ER_ERR(ER_INVALID_ARGUMENT, "NULL path");
  const void *data;
  size_t size;
  ER_RETURN_IF_ERROR(er_map_file(path, &m->mappings, &data, &size));
  const char *slash = strrchr(path, '/'); /* external data lives next to the model */
  char *dir = !slash ? strdup(".") : slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
  if (!dir) return OOM();
  er_status s = er_onnx_import_ex(data, size, dir, path, m, flags);
  free(dir);
  return s;
}
