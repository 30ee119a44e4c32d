/* Inline calls to model-local functions (ModelProto.functions) so the IR never holds a
 * function call. Each call gets a fresh copy of the body: formal inputs/outputs are bound
 * to the call's actual names, every other name defined in the body (at any nesting level)
 * gets a new unique name, and attributes referring to the function's attributes
 * (ref_attr_name) take the call's value or the function's default (absent otherwise). */
#include <stdio.h>
#include <string.h>

#include "import/onnx/onnx_internal.h"

#define OOM() ER_ERR(ER_OUT_OF_MEMORY, "out of memory")
#define MAX_CALL_DEPTH 32
#define MAX_INLINED_NODES ((size_t)1 << 22)

typedef struct nvec {
  px_node *v;
  int n, cap;
} nvec;

static er_status nvec_push(onx_ctx *c, nvec *a, const px_node *n) {
  if (a->n == a->cap) {
    int cap = a->cap ? a->cap * 2 : 16;
    if (cap > (1 << 28)) return ER_ERR(ER_INVALID_MODEL, "too many nodes");
    px_node *v = (px_node *)er_pool_alloc(&c->tmp, (size_t)cap * sizeof *v);
    if (!v) return OOM();
    if (a->n) memcpy(v, a->v, (size_t)a->n * sizeof *v);
    a->v = v;
    a->cap = cap;
  }
  a->v[a->n++] = *n;
  return NULL;
}

/* Rename table: name -> index into `to`. */
typedef struct renmap {
  strmap map;
  const char **to;
  int n, cap;
} renmap;

static er_status ren_put(onx_ctx *c, renmap *r, const char *from, const char *to) {
  if (r->n == r->cap) {
    int cap = r->cap ? r->cap * 2 : 16;
    const char **t = (const char **)er_pool_alloc(&c->tmp, (size_t)cap * sizeof *t);
    if (!t) return OOM();
    if (r->n) memcpy(t, r->to, (size_t)r->n * sizeof *t);
    r->to = t;
    r->cap = cap;
  }
  int i = strmap_get(&r->map, from);
  if (i >= 0) {
    r->to[i] = to;
    return NULL;
  }
  r->to[r->n] = to;
  if (strmap_put(&r->map, &c->tmp, from, r->n) != 0) return OOM();
  r->n++;
  return NULL;
}

static const char *ren_get(const renmap *r, const char *name) {
  if (!*name) return name;
  int i = strmap_get(&r->map, name);
  return i >= 0 ? r->to[i] : name;
}

static const char *fresh_name(onx_ctx *c, const char *base) {
  size_t n = strlen(base) + 32;
  char *s = (char *)er_pool_alloc(c->pool, n);
  if (!s) return NULL;
  do snprintf(s, n, "%s__%lu", base, ++c->uniq);
  while (strmap_get(&c->names, s) >= 0);
  if (strmap_put(&c->names, &c->tmp, s, 1) != 0) return NULL;
  return s;
}

/* Give every name defined inside the body (node outputs, subgraph inputs and initializers)
 * a fresh name, unless already bound (formals). */
static er_status collect_defs(onx_ctx *c, renmap *r, const px_node *nodes, int n);

static er_status def(onx_ctx *c, renmap *r, const char *name) {
  if (!*name || strmap_get(&r->map, name) >= 0) return NULL;
  const char *to = fresh_name(c, name);
  if (!to) return OOM();
  return ren_put(c, r, name, to);
}

static er_status collect_graph_defs(onx_ctx *c, renmap *r, const px_graph *g) {
  for (int i = 0; i < g->n_inputs; i++) ER_RETURN_IF_ERROR(def(c, r, g->inputs[i].name));
  for (int i = 0; i < g->n_inits; i++) ER_RETURN_IF_ERROR(def(c, r, g->inits[i].name));
  return collect_defs(c, r, g->nodes, g->n_nodes);
}

static er_status collect_defs(onx_ctx *c, renmap *r, const px_node *nodes, int n) {
  for (int i = 0; i < n; i++) {
    const px_node *nd = &nodes[i];
    for (int k = 0; k < nd->n_out; k++) ER_RETURN_IF_ERROR(def(c, r, nd->out[k]));
    for (int k = 0; k < nd->n_attrs; k++) {
      const px_attr *a = &nd->attrs[k];
      if (a->ref) continue;
      if (a->a.type == ER_ATTR_GRAPH && a->g) ER_RETURN_IF_ERROR(collect_graph_defs(c, r, a->g));
      if (a->a.type == ER_ATTR_GRAPHS)
        for (int j = 0; j < a->a.n; j++) ER_RETURN_IF_ERROR(collect_graph_defs(c, r, a->gs[j]));
    }
  }
  return NULL;
}

typedef struct call_env {
  const px_node *call;
  const px_func *fn;
  renmap ren;
} call_env;

static er_status clone_graph(onx_ctx *c, call_env *e, const px_graph *g, px_graph **out);

static er_status clone_node(onx_ctx *c, call_env *e, const px_node *n, int index, px_node *o) {
  *o = *n;
  const char *cn = *e->call->name ? e->call->name : "call";
  size_t len = strlen(cn) + strlen(n->name) + 24;
  char *name = (char *)er_pool_alloc(c->pool, len);
  if (!name) return OOM();
  if (*n->name) snprintf(name, len, "%s/%s", cn, n->name);
  else snprintf(name, len, "%s/#%d", cn, index);
  o->name = name;
  o->in = (const char **)er_pool_alloc(&c->tmp, (size_t)(n->n_in + 1) * sizeof(char *));
  o->out = (const char **)er_pool_alloc(&c->tmp, (size_t)(n->n_out + 1) * sizeof(char *));
  o->attrs = (px_attr *)er_pool_alloc(&c->tmp, (size_t)(n->n_attrs + 1) * sizeof(px_attr));
  if (!o->in || !o->out || !o->attrs) return OOM();
  for (int k = 0; k < n->n_in; k++) o->in[k] = ren_get(&e->ren, n->in[k]);
  for (int k = 0; k < n->n_out; k++) o->out[k] = ren_get(&e->ren, n->out[k]);
  int na = 0;
  for (int k = 0; k < n->n_attrs; k++) {
    const px_attr *a = &n->attrs[k];
    if (a->ref) {
      const px_attr *src = NULL;
      for (int j = 0; j < e->call->n_attrs && !src; j++)
        if (!strcmp(e->call->attrs[j].a.name, a->ref)) src = &e->call->attrs[j];
      for (int j = 0; j < e->fn->n_attr_defaults && !src; j++)
        if (!strcmp(e->fn->attr_defaults[j].a.name, a->ref)) src = &e->fn->attr_defaults[j];
      if (!src) continue; /* unbound: the attribute is absent */
      o->attrs[na] = *src;
      o->attrs[na].a.name = a->a.name;
      o->attrs[na].ref = NULL;
      na++;
      continue;
    }
    px_attr *d = &o->attrs[na++];
    *d = *a;
    if (a->a.type == ER_ATTR_GRAPH && a->g) ER_RETURN_IF_ERROR(clone_graph(c, e, a->g, &d->g));
    if (a->a.type == ER_ATTR_GRAPHS) {
      d->gs = (px_graph **)er_pool_alloc(&c->tmp, (size_t)(a->a.n + 1) * sizeof(px_graph *));
      if (!d->gs) return OOM();
      for (int j = 0; j < a->a.n; j++) ER_RETURN_IF_ERROR(clone_graph(c, e, a->gs[j], &d->gs[j]));
    }
  }
  o->n_attrs = na;
  return NULL;
}

static er_status clone_vis(onx_ctx *c, call_env *e, const px_vi *src, int n, px_vi **out) {
  px_vi *v = (px_vi *)er_pool_alloc(&c->tmp, (size_t)(n + 1) * sizeof *v);
  if (!v) return OOM();
  for (int i = 0; i < n; i++) {
    v[i] = src[i];
    v[i].name = ren_get(&e->ren, src[i].name);
  }
  *out = v;
  return NULL;
}

static er_status clone_graph(onx_ctx *c, call_env *e, const px_graph *g, px_graph **out) {
  px_graph *o = (px_graph *)er_pool_alloc(&c->tmp, sizeof *o);
  if (!o) return OOM();
  *o = *g;
  o->nodes = (px_node *)er_pool_alloc(&c->tmp, (size_t)(g->n_nodes + 1) * sizeof(px_node));
  o->inits = (px_init *)er_pool_alloc(&c->tmp, (size_t)(g->n_inits + 1) * sizeof(px_init));
  if (!o->nodes || !o->inits) return OOM();
  for (int i = 0; i < g->n_nodes; i++) ER_RETURN_IF_ERROR(clone_node(c, e, &g->nodes[i], i, &o->nodes[i]));
  for (int i = 0; i < g->n_inits; i++) {
    o->inits[i] = g->inits[i];
    o->inits[i].name = ren_get(&e->ren, g->inits[i].name);
  }
  ER_RETURN_IF_ERROR(clone_vis(c, e, g->inputs, g->n_inputs, &o->inputs));
  ER_RETURN_IF_ERROR(clone_vis(c, e, g->outputs, g->n_outputs, &o->outputs));
  ER_RETURN_IF_ERROR(clone_vis(c, e, g->vi, g->n_vi, &o->vi));
  *out = o;
  return NULL;
}

static const px_func *find_func(const onx_ctx *c, const px_node *n) {
  for (int i = 0; i < c->n_funcs; i++) {
    const px_func *f = &c->funcs[i];
    if (!strcmp(f->name, n->op_type) && !strcmp(f->domain, n->domain) &&
        !strcmp(f->overload, n->overload))
      return f;
  }
  return NULL;
}

static er_status inline_nodes(onx_ctx *c, const px_node *nodes, int n, int depth, nvec *out);
static er_status inline_graph_d(onx_ctx *c, px_graph *g, int depth);

static er_status expand(onx_ctx *c, const px_node *call, const px_func *fn, int depth,
                        nvec *out) {
  if (depth >= MAX_CALL_DEPTH)
    return ER_ERR(ER_INVALID_MODEL, "function calls nest deeper than %d (recursive function?)",
                  MAX_CALL_DEPTH);
  if (call->n_in > fn->n_in || call->n_out > fn->n_out)
    return ER_ERR(ER_INVALID_MODEL,
                  "call to function '%s' has %d inputs and %d outputs, the function takes %d "
                  "and %d",
                  fn->name, call->n_in, call->n_out, fn->n_in, fn->n_out);
  call_env e;
  memset(&e, 0, sizeof e);
  e.call = call;
  e.fn = fn;
  /* formals: inputs bind to actuals (absent -> ""), outputs to actuals or fresh names */
  for (int i = 0; i < fn->n_in; i++)
    ER_RETURN_IF_ERROR(ren_put(c, &e.ren, fn->in[i], i < call->n_in ? call->in[i] : ""));
  int n_pass = 0; /* outputs that are directly a formal input: need an Identity */
  for (int i = 0; i < fn->n_out; i++) {
    int is_input = 0;
    for (int j = 0; j < fn->n_in; j++)
      if (!strcmp(fn->out[i], fn->in[j])) is_input = 1;
    if (is_input) {
      n_pass++;
      continue;
    }
    const char *to = i < call->n_out && *call->out[i] ? call->out[i] : NULL;
    if (!to) to = fresh_name(c, fn->out[i]);
    if (!to) return OOM();
    ER_RETURN_IF_ERROR(ren_put(c, &e.ren, fn->out[i], to));
  }
  ER_RETURN_IF_ERROR(collect_defs(c, &e.ren, fn->nodes, fn->n_nodes));
  c->inlined_nodes += (size_t)fn->n_nodes + (size_t)n_pass;
  if (c->inlined_nodes > MAX_INLINED_NODES)
    return ER_ERR(ER_INVALID_MODEL, "more than %zu nodes after inlining functions",
                  MAX_INLINED_NODES);
  px_node *body = (px_node *)er_pool_alloc(&c->tmp, (size_t)(fn->n_nodes + n_pass + 1) *
                                                        sizeof(px_node));
  if (!body) return OOM();
  int nb = 0;
  for (int i = 0; i < fn->n_nodes; i++, nb++)
    ER_RETURN_IF_ERROR(clone_node(c, &e, &fn->nodes[i], i, &body[nb]));
  for (int i = 0; i < fn->n_out; i++) {
    const char *src = NULL;
    for (int j = 0; j < fn->n_in; j++)
      if (!strcmp(fn->out[i], fn->in[j])) src = ren_get(&e.ren, fn->in[j]);
    if (!src) continue;
    if (i >= call->n_out || !*call->out[i]) continue; /* unused output */
    px_node *id = &body[nb++];
    memset(id, 0, sizeof *id);
    id->name = call->name;
    id->op_type = "Identity";
    id->domain = "";
    id->overload = "";
    id->opsets = &fn->opsets;
    id->n_in = id->n_out = 1;
    id->in = (const char **)er_pool_alloc(&c->tmp, 2 * sizeof(char *));
    id->out = (const char **)er_pool_alloc(&c->tmp, 2 * sizeof(char *));
    if (!id->in || !id->out) return OOM();
    id->in[0] = src;
    id->out[0] = call->out[i];
  }
  er_status s = inline_nodes(c, body, nb, depth + 1, out);
  return s;
}

static er_status inline_nodes(onx_ctx *c, const px_node *nodes, int n, int depth, nvec *out) {
  for (int i = 0; i < n; i++) {
    const px_node *nd = &nodes[i];
    for (int k = 0; k < nd->n_attrs; k++) {
      const px_attr *a = &nd->attrs[k];
      if (a->ref) continue;
      if (a->a.type == ER_ATTR_GRAPH && a->g) ER_RETURN_IF_ERROR(inline_graph_d(c, a->g, depth));
      if (a->a.type == ER_ATTR_GRAPHS)
        for (int j = 0; j < a->a.n; j++) ER_RETURN_IF_ERROR(inline_graph_d(c, a->gs[j], depth));
    }
    const px_func *fn = find_func(c, nd);
    if (!fn) {
      ER_RETURN_IF_ERROR(nvec_push(c, out, nd));
      continue;
    }
    er_status s = expand(c, nd, fn, depth, out);
    if (s) return onx_prefix(s, "node '%s' (%s)", nd->name, nd->op_type);
  }
  return NULL;
}

static er_status inline_graph_d(onx_ctx *c, px_graph *g, int depth) {
  nvec out = {0};
  ER_RETURN_IF_ERROR(inline_nodes(c, g->nodes, g->n_nodes, depth, &out));
  if (out.n == g->n_nodes) {
    /* unchanged count: copy back in place (subgraphs may have been rewritten) */
    if (out.n) memcpy(g->nodes, out.v, (size_t)out.n * sizeof *out.v);
    return NULL;
  }
  g->nodes = out.v;
  g->n_nodes = out.n;
  return NULL;
}

er_status onx_inline_functions(onx_ctx *c, px_graph *g) {
  if (c->n_funcs == 0) return NULL;
  return inline_graph_d(c, g, 0);
}
