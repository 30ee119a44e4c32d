#include "runtime/exec.h"

#include <string.h>

enum { V_UNKNOWN = 0, V_SHAPED = 1, V_CONST = 2 };
#define ER_ALIGN 64
#define ER_SIZE_LIMIT ((uint64_t)1 << 40)

typedef struct rt_val {
  er_tensor t;
  int state;
  int first, last;   /* lifetime in node indices (static plan) */
  int uses;          /* consumers (explicit + implicit) + graph-output holds */
  int uses_left;     /* dynamic-mode countdown */
  int64_t off;       /* arena offset (static plan), -1 if none */
  void *owned;       /* memory owned by this value (folded constant / dynamic output) */
} rt_val;

typedef struct child_rec {
  const er_graph *g;
  er_exec *e;
} child_rec;

typedef struct input_rec {
  er_tensor t;       /* bound shape and data */
  void *store;
  size_t cap;
  int bound;
} input_rec;

struct er_exec {
  const er_graph *g;
  er_exec *parent;
  er_allocator a;
  rt_val *v;
  er_kctx *ctx;          /* per node */
  er_tensor **ins, **outs;
  int **implicit;        /* per node: list of implicit (outer-scope) uses, -1 terminated */
  unsigned char *folded; /* per node */
  unsigned char *dyn;    /* per node: shape unknown at plan time */
  unsigned char *skip;   /* per node: a view whose output got its input's memory (no run) */
  int *outer_ids;        /* subgraphs: indices of the outer-scope values */
  int n_outer;
  int64_t *scratch_off;  /* per node */
  input_rec *inputs;     /* per graph input */
  int planned, dynamic;
  unsigned char *arena;
  size_t arena_bytes;
  int arena_owned;
  void *user_arena;
  size_t user_arena_bytes;
  child_rec *children;
  int n_children, cap_children;
  int cur_node;
  er_threadpool *threads;
  uint64_t (*now)(void);
  er_node_observer observe;
  void *observe_user;
  int depth;
  void **state;          /* per node: prepare()d persistent memory */
  unsigned char *state_block; /* the states the last plan prepared, in one block */
  size_t state_block_bytes;
  unsigned char *defer;  /* per node: prepare after the plan's shape walk, in state_block */
  const er_microkernels *mk;
  er_tensor *outer_plan; /* subgraphs: shapes of outer-scope values the plan was made for */
  int infer_only;
  er_release_fn release; /* see er_exec_set_release */
  void *release_user;
  int *readers_left;     /* per value: node reads not yet consumed in this plan (-1: keep) */
};

void er_exec_set_release(er_exec *e, er_release_fn fn, void *user) {
  e->release = e->parent ? NULL : fn;
  e->release_user = user;
}

/* At plan start: how many node inputs read each initializer; -1 for values that must stay
 * (read by a subgraph or a graph output, or not an initializer). */
static void count_readers(er_exec *e) {
  const er_graph *g = e->g;
  for (int v = 0; v < g->n_values; v++)
    e->readers_left[v] = g->values[v].kind == ER_VALUE_INITIALIZER && g->values[v].data ? 0 : -1;
  for (int k = 0; k < g->n_outputs; k++) e->readers_left[g->outputs[k]] = -1;
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    for (int *p = e->implicit[i]; p && *p >= 0; p++) e->readers_left[*p] = -1;
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0 && e->readers_left[n->inputs[k]] >= 0) e->readers_left[n->inputs[k]]++;
  }
}

/* After node i's prepare: count its consumed constant inputs; report those now unread. */
static void note_consumed(er_exec *e, int i) {
  const er_kctx *c = &e->ctx[i];
  const er_node *n = c->node;
  if (!e->release || !e->readers_left || e->dynamic) return;
  for (int k = 0; k < n->n_inputs && k < 32; k++) {
    int v = n->inputs[k];
    if (v < 0 || !(c->consumed >> k & 1u) || e->readers_left[v] <= 0) continue;
    if (--e->readers_left[v] == 0) {
      const er_value *val = &e->g->values[v];
      e->release(e->release_user, val->data,
                 (size_t)er_shape_numel(val->dims, val->rank) * er_dtype_size(val->dtype));
      e->readers_left[v] = -1;
    }
  }
}

void er_exec_set_infer_only(er_exec *e, int on) {
  e->infer_only = on;
  e->planned = 0;
}

static void *xalloc(er_exec *e, size_t n) {
  void *p = e->a.alloc(e->a.ctx, n ? n : 1);
  if (p) memset(p, 0, n ? n : 1);
  return p;
}
/* Not cleared: for memory the kernel fills itself (prepared state: packed weights are
 * written whole, headers first). Saves a pass over tens of MB at start-up. */
static void *xalloc_uninit(er_exec *e, size_t n) { return e->a.alloc(e->a.ctx, n ? n : 1); }
static void xfree(er_exec *e, void *p) {
  if (p) e->a.free(e->a.ctx, p);
}

static er_status node_error(const er_node *n, er_status s) {
  if (!s) return s;
  return er_status_prefix(s, "node '%s' (%s)", n->name, n->op_type);
}

/* ---------------------------------------------------------------- create */

static int count_implicit(const er_node *n, int *out, int cap) {
  int k = 0;
  for (int a = 0; a < n->n_attrs; a++) {
    const er_attr *at = &n->attrs[a];
    int ng = at->type == ER_ATTR_GRAPH ? 1 : at->type == ER_ATTR_GRAPHS ? at->n : 0;
    for (int gi = 0; gi < ng; gi++) {
      const er_graph *sg = at->type == ER_ATTR_GRAPH ? at->g : at->graphs[gi];
      if (!sg) continue;
      for (int vi = 0; vi < sg->n_values; vi++) {
        if (sg->values[vi].kind != ER_VALUE_OUTER) continue;
        int o = sg->values[vi].outer, dup = 0;
        for (int j = 0; j < k && out; j++) dup |= out[j] == o;
        if (dup) continue;
        if (out && k < cap) out[k] = o;
        k++;
      }
    }
  }
  return k;
}

void er_exec_set_threads(er_exec *e, er_threadpool *pool) {
  e->threads = pool;
  for (int i = 0; i < e->g->n_nodes; i++) e->ctx[i].threads = pool;
  for (int i = 0; i < e->n_children; i++) er_exec_set_threads(e->children[i].e, pool);
}

void er_exec_set_observer(er_exec *e, uint64_t (*now)(void), er_node_observer fn, void *user) {
  e->now = now;
  e->observe = now ? fn : NULL;
  e->observe_user = user;
  for (int i = 0; i < e->n_children; i++) er_exec_set_observer(e->children[i].e, now, fn, user);
}

const er_kctx *er_exec_node(const er_exec *e, int i) {
  return (i >= 0 && i < e->g->n_nodes) ? &e->ctx[i] : NULL;
}

er_status er_exec_create(const er_graph *g, er_exec *parent, const er_allocator *a,
                         er_exec **out_exec) {
  *out_exec = NULL;
  er_exec *e = (er_exec *)a->alloc(a->ctx, sizeof(er_exec));
  if (!e) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory creating executor");
  memset(e, 0, sizeof *e);
  e->g = g;
  e->parent = parent;
  e->a = *a;
  e->mk = parent ? parent->mk : er_microkernels_select();
  int total_in = 0, total_out = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    total_in += g->nodes[i].n_inputs;
    total_out += g->nodes[i].n_outputs;
  }
  e->v = (rt_val *)xalloc(e, sizeof(rt_val) * (size_t)g->n_values);
  e->ctx = (er_kctx *)xalloc(e, sizeof(er_kctx) * (size_t)g->n_nodes);
  e->ins = (er_tensor **)xalloc(e, sizeof(er_tensor *) * (size_t)total_in);
  e->outs = (er_tensor **)xalloc(e, sizeof(er_tensor *) * (size_t)total_out);
  e->implicit = (int **)xalloc(e, sizeof(int *) * (size_t)g->n_nodes);
  e->folded = (unsigned char *)xalloc(e, (size_t)g->n_nodes);
  e->dyn = (unsigned char *)xalloc(e, (size_t)g->n_nodes);
  e->skip = (unsigned char *)xalloc(e, (size_t)g->n_nodes);
  for (int i = 0; i < g->n_values; i++) e->n_outer += g->values[i].kind == ER_VALUE_OUTER;
  e->outer_ids = (int *)xalloc(e, sizeof(int) * (size_t)(e->n_outer + 1));
  for (int i = 0, k = 0; i < g->n_values && e->outer_ids; i++)
    if (g->values[i].kind == ER_VALUE_OUTER) e->outer_ids[k++] = i;
  e->scratch_off = (int64_t *)xalloc(e, sizeof(int64_t) * (size_t)g->n_nodes);
  e->inputs = (input_rec *)xalloc(e, sizeof(input_rec) * (size_t)g->n_inputs);
  e->state = (void **)xalloc(e, sizeof(void *) * (size_t)g->n_nodes);
  e->defer = (unsigned char *)xalloc(e, (size_t)g->n_nodes);
  if (parent) e->outer_plan = (er_tensor *)xalloc(e, sizeof(er_tensor) * (size_t)g->n_values);
  if (!e->v || !e->ctx || !e->ins || !e->outs || !e->implicit || !e->folded || !e->dyn || !e->skip || !e->outer_ids ||
      !e->scratch_off || !e->inputs || !e->state || !e->defer || (parent && !e->outer_plan)) {
    er_exec_destroy(e);
    return ER_ERR(ER_OUT_OF_MEMORY, "out of memory creating executor");
  }
  int pi = 0, po = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    er_kctx *c = &e->ctx[i];
    c->node = n;
    c->opset = n->opset;
    c->n_in = n->n_inputs;
    c->n_out = n->n_outputs;
    c->in = e->ins + pi;
    c->out = e->outs + po;
    c->exec = e;
    c->mk = e->mk;
    for (int k = 0; k < n->n_inputs; k++) c->in[k] = n->inputs[k] >= 0 ? &e->v[n->inputs[k]].t : NULL;
    for (int k = 0; k < n->n_outputs; k++)
      c->out[k] = n->outputs[k] >= 0 ? &e->v[n->outputs[k]].t : NULL;
    pi += n->n_inputs;
    po += n->n_outputs;
    int k = count_implicit(n, NULL, 0);
    if (k) {
      e->implicit[i] = (int *)xalloc(e, sizeof(int) * (size_t)(k + 1));
      if (!e->implicit[i]) {
        er_exec_destroy(e);
        return ER_ERR(ER_OUT_OF_MEMORY, "out of memory creating executor");
      }
      count_implicit(n, e->implicit[i], k);
      e->implicit[i][k] = -1;
    }
  }
  for (int i = 0; i < g->n_values; i++) e->v[i].off = -1;
  if (parent) {
    er_exec_set_threads(e, parent->threads);
    e->depth = parent->depth + 1;
    er_exec_set_observer(e, parent->now, parent->observe, parent->observe_user);
  }
  *out_exec = e;
  return NULL;
}

static void free_state(er_exec *e, int i);

static void release_values(er_exec *e) {
  for (int i = 0; i < e->g->n_values; i++) {
    xfree(e, e->v[i].owned);
    e->v[i].owned = NULL;
  }
}

void er_exec_destroy(er_exec *e) {
  if (!e) return;
  for (int i = 0; i < e->n_children; i++) er_exec_destroy(e->children[i].e);
  xfree(e, e->children);
  if (e->v) release_values(e);
  if (e->state)
    for (int i = 0; i < e->g->n_nodes; i++) free_state(e, i);
  xfree(e, e->state_block);
  if (e->implicit)
    for (int i = 0; i < e->g->n_nodes; i++) xfree(e, e->implicit[i]);
  if (e->inputs)
    for (int i = 0; i < e->g->n_inputs; i++) xfree(e, e->inputs[i].store);
  if (e->arena_owned) xfree(e, e->arena);
  xfree(e, e->v);
  xfree(e, e->readers_left);
  xfree(e, e->ctx);
  xfree(e, e->ins);
  xfree(e, e->outs);
  xfree(e, e->implicit);
  xfree(e, e->folded);
  xfree(e, e->dyn);
  xfree(e, e->skip);
  xfree(e, e->defer);
  xfree(e, e->outer_ids);
  xfree(e, e->scratch_off);
  xfree(e, e->inputs);
  xfree(e, e->state);
  xfree(e, e->outer_plan);
  e->a.free(e->a.ctx, e);
}

void er_exec_use_arena(er_exec *e, void *arena, size_t bytes) {
  e->user_arena = arena;
  e->user_arena_bytes = bytes;
  e->planned = 0;
}

/* ---------------------------------------------------------------- inputs */

static int same_shape(const er_tensor *a, const er_tensor *b) {
  if (a->dtype != b->dtype || a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

er_status er_exec_set_input(er_exec *e, int index, const er_tensor *t) {
  const er_graph *g = e->g;
  if (index < 0 || index >= g->n_inputs)
    return ER_ERR(ER_INVALID_ARGUMENT, "input index %d out of range (graph has %d inputs)", index,
                  g->n_inputs);
  const er_value *decl = &g->values[g->inputs[index]];
  char b1[160], b2[160];
  ER_RETURN_IF_ERROR(er_shape_check(t->dims, t->rank, t->dtype, ER_SIZE_LIMIT));
  if (!e->parent) {
    if (decl->dtype && decl->dtype != t->dtype)
      return ER_ERR(ER_INVALID_ARGUMENT, "input '%s' expects %s, got %s", decl->name,
                    er_dtype_name((er_dtype)decl->dtype), er_dtype_name((er_dtype)t->dtype));
    if (decl->rank >= 0) {
      int bad = decl->rank != t->rank;
      for (int i = 0; !bad && i < t->rank; i++) bad = decl->dims[i] >= 0 && decl->dims[i] != t->dims[i];
      if (bad) {
        /* print the declaration with symbolic dims as -1 */
        return ER_ERR(ER_INVALID_ARGUMENT, "input '%s' expects shape %s, got %s", decl->name,
                      er_shape_str(decl->dims, decl->rank, b1, sizeof b1),
                      er_shape_str(t->dims, t->rank, b2, sizeof b2));
      }
    }
  }
  input_rec *r = &e->inputs[index];
  size_t nb = er_tensor_nbytes(t);
  if (r->bound && !same_shape(&r->t, t)) e->planned = 0;
  if (!r->bound) e->planned = 0;
  if (nb > r->cap || !r->store) {
    void *p = xalloc(e, nb);
    if (!p) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory for input '%s' (%zu bytes)", decl->name, nb);
    if (nb) memcpy(p, t->data, nb); /* before freeing: t may point into the old store */
    xfree(e, r->store);
    r->store = p;
    r->cap = nb;
  } else if (nb) {
    memmove(r->store, t->data, nb);
  }
  r->t = *t;
  r->t.data = r->store;
  r->bound = 1;
  return NULL;
}

/* Symbolic dimensions with the same name must agree across inputs. */
static er_status check_symbolic(er_exec *e) {
  const er_graph *g = e->g;
  for (int i = 0; i < g->n_inputs; i++) {
    const er_value *di = &g->values[g->inputs[i]];
    if (di->kind != ER_VALUE_INPUT || di->rank < 0) continue;
    for (int d = 0; d < di->rank && d < e->inputs[i].t.rank; d++) {
      if (!di->dim_params[d]) continue;
      for (int j = 0; j < i; j++) {
        const er_value *dj = &g->values[g->inputs[j]];
        if (dj->kind != ER_VALUE_INPUT || dj->rank < 0) continue;
        for (int d2 = 0; d2 < dj->rank && d2 < e->inputs[j].t.rank; d2++) {
          if (!dj->dim_params[d2] || strcmp(dj->dim_params[d2], di->dim_params[d]) != 0) continue;
          if (e->inputs[i].t.dims[d] != e->inputs[j].t.dims[d2])
            return ER_ERR(ER_INVALID_ARGUMENT,
                          "dimension '%s' is %lld in input '%s' but %lld in input '%s'",
                          di->dim_params[d], (long long)e->inputs[i].t.dims[d], di->name,
                          (long long)e->inputs[j].t.dims[d2], dj->name);
        }
      }
    }
  }
  return NULL;
}

/* ---------------------------------------------------------------- plan */

static int input_index_of(const er_graph *g, int vid) {
  for (int i = 0; i < g->n_inputs; i++)
    if (g->inputs[i] == vid) return i;
  return -1;
}

static er_status alloc_outputs_heap(er_exec *e, int node) {
  er_kctx *c = &e->ctx[node];
  const er_node *n = c->node;
  for (int k = 0; k < n->n_outputs; k++) {
    int id = n->outputs[k];
    if (id < 0) continue;
    rt_val *v = &e->v[id];
    ER_RETURN_IF_ERROR(node_error(n, er_shape_check(v->t.dims, v->t.rank, v->t.dtype, ER_SIZE_LIMIT)));
    xfree(e, v->owned);
    v->owned = xalloc(e, er_tensor_nbytes(&v->t));
    if (!v->owned)
      return ER_ERR(ER_OUT_OF_MEMORY, "node '%s' (%s): out of memory for output %d", n->name,
                    n->op_type, k);
    v->t.data = v->owned;
  }
  return NULL;
}

/* Free node i's state unless it lives in state_block. */
static void free_state(er_exec *e, int i) {
  unsigned char *p = (unsigned char *)e->state[i];
  if (p && !(e->state_block && p >= e->state_block && p < e->state_block + e->state_block_bytes)) xfree(e, p);
  e->state[i] = NULL;
}

enum { STATE_ALIGN = 64 };
static size_t state_span(size_t n) { return (n + STATE_ALIGN - 1) & ~(size_t)(STATE_ALIGN - 1); }

/* Give node i its persistent state (at `at` when not NULL, else its own allocation). */
static er_status give_state(er_exec *e, int i, void *at) {
  er_kctx *c = &e->ctx[i];
  c->state = NULL;
  if (c->state_bytes) {
    free_state(e, i);
    e->state[i] = at ? at : xalloc_uninit(e, c->state_bytes);
    if (!e->state[i])
      return ER_ERR(ER_OUT_OF_MEMORY, "node '%s': out of memory for %zu bytes of state", c->node->name,
                    c->state_bytes);
    c->state = e->state[i];
  }
  c->consumed = 0;
  return NULL;
}

/* Give node i its state and let the op fill it from constant inputs. */
static er_status prepare_node_at(er_exec *e, int i, void *at) {
  ER_RETURN_IF_ERROR(give_state(e, i, at));
  er_kctx *c = &e->ctx[i];
  if (!c->node->op->prepare) return NULL;
  er_status s = c->node->op->prepare(c);
  if (s) return node_error(c->node, s);
  note_consumed(e, i);
  return NULL;
}
static er_status prepare_node(er_exec *e, int i) { return prepare_node_at(e, i, NULL); }

typedef struct {
  er_exec *e;
  const int *ids;
  er_status *st;
} prep_job;

static void prep_range(void *arg, int64_t b, int64_t end) {
  const prep_job *j = (const prep_job *)arg;
  for (int64_t k = b; k < end; k++) {
    er_kctx *c = &j->e->ctx[j->ids[k]];
    j->st[k] = c->node->op->prepare(c);
  }
}

static int prep_any_thread(const er_exec *e, int i) {
  const er_op_def *op = e->ctx[i].node->op;
  return op->prepare && (op->flags & ER_OP_PREPARE_ANY_THREAD);
}

/* The plan's deferred prepares: every state in one block (one allocation, so large enough
 * for transparent huge pages: a few page faults instead of one per 4 KiB of packed weights,
 * about a fifth of a CNN's load time); with threads, the prepares of ops marked
 * ER_OP_PREPARE_ANY_THREAD (weight packing) run at once on them. Constants are released
 * afterwards in node order (note_consumed), as if every prepare had run in turn. */
static er_status prepare_deferred(er_exec *e) {
  const er_graph *g = e->g;
  size_t total = 0;
  int n_any = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (e->defer[i]) {
      if (e->ctx[i].state_bytes > SIZE_MAX / 2 - total)
        return ER_ERR(ER_OUT_OF_MEMORY, "prepared state too large");
      total += state_span(e->ctx[i].state_bytes);
      n_any += prep_any_thread(e, i);
    }
  if (total) {
    e->state_block = (unsigned char *)xalloc_uninit(e, total);
    if (!e->state_block) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory for %zu bytes of prepared state", total);
    e->state_block_bytes = total;
  }
  int *ids = NULL, n_par = 0;
  er_status *sts = NULL;
  if (er_threadpool_size(e->threads) > 1 && n_any > 1) {
    ids = (int *)xalloc(e, sizeof(int) * (size_t)n_any);
    sts = (er_status *)xalloc(e, sizeof(er_status) * (size_t)n_any);
    if (!ids || !sts) {
      xfree(e, ids);
      xfree(e, sts);
      ids = NULL, sts = NULL;
    }
  }
  er_status s = NULL;
  size_t at = 0;
  for (int i = 0; i < g->n_nodes && !s; i++) {
    if (!e->defer[i]) continue;
    size_t nb = state_span(e->ctx[i].state_bytes);
    s = give_state(e, i, nb ? e->state_block + at : NULL);
    at += nb;
    if (ids && prep_any_thread(e, i)) ids[n_par++] = i;
  }
  if (!s && n_par) {
    prep_job j = {e, ids, sts};
    er_threadpool_run(e->threads, n_par, 1, prep_range, &j);
  }
  const int dynamic = e->dynamic;
  int k = 0;
  for (int i = 0; i < g->n_nodes && !s; i++) {
    if (!e->defer[i]) continue;
    e->dynamic = e->defer[i] == 2; /* as when the shape walk reached node i */
    e->defer[i] = 0;
    er_kctx *c = &e->ctx[i];
    er_status ps = NULL;
    if (k < n_par && ids[k] == i) ps = sts[k++];
    else if (c->node->op->prepare) ps = c->node->op->prepare(c);
    else continue;
    if (ps) s = node_error(c->node, ps);
    else note_consumed(e, i);
  }
  e->dynamic = dynamic;
  for (; k < n_par; k++) er_status_free(sts[k]);
  xfree(e, ids);
  xfree(e, sts);
  return s;
}

/* Run node with heap scratch (folding and dynamic mode). */
static er_status run_with_heap_scratch(er_exec *e, int node) {
  er_kctx *c = &e->ctx[node];
  void *scratch = NULL;
  if (c->scratch_bytes) {
    scratch = xalloc(e, c->scratch_bytes);
    if (!scratch) return ER_ERR(ER_OUT_OF_MEMORY, "node '%s': out of memory for scratch", c->node->name);
  }
  c->scratch = scratch;
  e->cur_node = node;
  er_status s = c->node->op->run(c);
  xfree(e, scratch);
  c->scratch = NULL;
  return node_error(c->node, s);
}

static void reset_values(er_exec *e) {
  const er_graph *g = e->g;
  release_values(e);
  for (int i = 0; i < g->n_values; i++) {
    const er_value *iv = &g->values[i];
    rt_val *v = &e->v[i];
    memset(&v->t, 0, sizeof v->t);
    v->state = V_UNKNOWN;
    v->off = -1;
    v->first = v->last = -1;
    if (iv->kind == ER_VALUE_INITIALIZER) {
      er_tensor_set_shape(&v->t, iv->dtype, iv->rank, iv->dims);
      v->t.data = (void *)iv->data;
      v->state = V_CONST;
    } else if (iv->kind == ER_VALUE_INPUT || (iv->is_graph_input && iv->kind != ER_VALUE_INITIALIZER)) {
      int k = input_index_of(g, i);
      if (k >= 0 && e->inputs[k].bound) {
        v->t = e->inputs[k].t;
        v->t.data = NULL; /* values vary per run: not known for folding */
        v->state = V_SHAPED;
      }
    } else if (iv->kind == ER_VALUE_OUTER && e->parent && iv->outer >= 0 &&
               iv->outer < e->parent->g->n_values) {
      /* Outer-scope value: a constant of the enclosing graph stays a constant here (so
       * weights can be folded and packed); anything else has its current shape. */
      const rt_val *pv = &e->parent->v[iv->outer];
      v->t = pv->t;
      if (pv->state == V_CONST) {
        v->state = V_CONST;
      } else {
        v->t.data = NULL;
        v->state = pv->t.dtype && er_dtype_size(pv->t.dtype) ? V_SHAPED : V_UNKNOWN;
      }
      e->outer_plan[i] = v->t;
    }
  }
  memset(e->folded, 0, (size_t)g->n_nodes);
  memset(e->dyn, 0, (size_t)g->n_nodes);
  memset(e->skip, 0, (size_t)g->n_nodes);
}

static int is_foldable(const er_exec *e, const er_kctx *c) {
  const er_op_def *op = c->node->op;
  if (op->flags & (ER_OP_NO_FOLD | ER_OP_CONTROL_FLOW)) return 0;
  if (c->node->n_outputs == 0) return 0;
  if (op->flags & ER_OP_SHAPE_ONLY) return 1;
  for (int k = 0; k < c->node->n_inputs; k++) {
    int id = c->node->inputs[k];
    if (id >= 0 && e->v[id].state != V_CONST) return 0;
  }
  return 1;
}

typedef struct item {
  size_t bytes;
  int first, last;
  int64_t *off_out;
  int64_t off;
} item;

/* Greedy by size: biggest first, lowest offset whose range is free during the lifetime. */
static size_t place_items(item *it, int n, item **order) {
  for (int i = 0; i < n; i++) order[i] = &it[i];
  /* insertion sort by size descending (n is a few thousand at most) */
  for (int i = 1; i < n; i++) {
    item *x = order[i];
    int j = i - 1;
    while (j >= 0 && order[j]->bytes < x->bytes) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = x;
  }
  size_t total = 0;
  for (int i = 0; i < n; i++) {
    item *x = order[i];
    int64_t off = 0;
    int moved = 1;
    while (moved) {
      moved = 0;
      for (int j = 0; j < i; j++) {
        item *y = order[j];
        if (y->last < x->first || x->last < y->first) continue; /* lifetimes disjoint */
        if ((int64_t)(off + (int64_t)x->bytes) <= y->off || y->off + (int64_t)y->bytes <= off) continue;
        off = y->off + (int64_t)((y->bytes + ER_ALIGN - 1) & ~(size_t)(ER_ALIGN - 1));
        moved = 1;
      }
    }
    x->off = off;
    size_t end = (size_t)off + x->bytes;
    if (end > total) total = end;
  }
  return total;
}

/* In-place Concat: when every input of a Concat is written by a node for this Concat
 * alone, the inputs are placed inside the Concat's output and the Concat does not run.
 *   - Nothing before the axis (outer size 1; an NCHW channel Concat of one image): each
 *     input is a contiguous block of the output; any producer.
 *   - The axis is the last (a channels-last channel Concat): each input is a column block
 *     of the output's rows; its producer must write rows with a stride (out_ld_ok).
 * An input qualifies when it is an arena value of the Concat's dtype read by nothing else
 * (no other node, subgraph or graph output) whose producer runs (not folded, not a view
 * or in-place op, which may share buffers themselves). alias[v] = the output, at[v] = the
 * byte offset inside it. The output's lifetime starts at the first producer. */
static void plan_concat_views(er_exec *e, int *alias, int64_t *at, const int *reads) {
  const er_graph *g = e->g;
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    if (e->folded[i] || strcmp(n->op_type, "Concat") || (n->domain && n->domain[0]) || n->n_outputs != 1 ||
        n->outputs[0] < 0 || n->n_inputs < 1)
      continue;
    rt_val *o = &e->v[n->outputs[0]];
    const int r = o->t.rank;
    int64_t ax = er_attr_int(&e->ctx[i], "axis", 0);
    if (ax < 0) ax += r;
    if (o->first < 0 || r < 1 || ax < 0 || ax >= r) continue;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < ax; d++) outer *= o->t.dims[d];
    for (int d = (int)ax + 1; d < r; d++) inner *= o->t.dims[d];
    const int rows = outer != 1;
    if (rows && inner != 1) continue;
    int ok = 1;
    for (int k = 0; k < n->n_inputs && ok; k++) {
      const int id = n->inputs[k];
      const int p = id >= 0 && g->values[id].kind == ER_VALUE_NODE ? g->values[id].producer : -1;
      ok = p >= 0 && !e->folded[p] && !e->skip[p] && e->v[id].first >= 0 && reads[id] == 1 && alias[id] < 0 &&
           e->v[id].t.dtype == o->t.dtype && !(g->nodes[p].op->flags & (ER_OP_VIEW | ER_OP_INPLACE)) &&
           (!rows || (g->nodes[p].outputs[0] == id && e->ctx[p].out_ld_ok));
    }
    if (!ok) continue;
    const size_t es = er_dtype_size(o->t.dtype);
    int64_t pos = 0; /* along the axis */
    for (int k = 0; k < n->n_inputs; k++) {
      const int id = n->inputs[k], p = g->values[id].producer;
      alias[id] = n->outputs[0];
      at[id] = pos * inner * (int64_t)es;
      pos += e->v[id].t.dims[ax];
      if (rows) e->ctx[p].out_ld = o->t.dims[ax];
      if (e->v[id].first < o->first) o->first = e->v[id].first;
    }
    e->skip[i] = 1;
  }
}

static er_status plan_arena(er_exec *e) {
  const er_graph *g = e->g;
  int n_nodes = g->n_nodes;
  /* lifetimes */
  for (int i = 0; i < n_nodes; i++) {
    if (e->folded[i]) continue;
    const er_node *n = &g->nodes[i];
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0) e->v[n->outputs[k]].first = e->v[n->outputs[k]].last = i;
  }
  for (int i = 0; i < n_nodes; i++) {
    if (e->folded[i]) continue;
    const er_node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0 && e->v[n->inputs[k]].first >= 0) e->v[n->inputs[k]].last = i;
    for (int *p = e->implicit[i]; p && *p >= 0; p++) /* read by a subgraph of node i */
      if (e->v[*p].first >= 0) e->v[*p].last = i;
  }
  for (int k = 0; k < g->n_outputs; k++)
    if (e->v[g->outputs[k]].first >= 0) e->v[g->outputs[k]].last = n_nodes;
  /* Shared buffers. alias[v] = the value whose buffer v uses; that root's lifetime covers
   * every value sharing it.
   * View: output 0 of an ER_OP_VIEW node with input 0's dtype and byte size is input 0's
   * bytes: it takes input 0's buffer (input 0 an arena value) and the node does not run.
   * In place: output 0 of an ER_OP_INPLACE node takes input 0's buffer when that buffer
   * dies there (no value sharing it is read later), the byte size is the same, and any
   * other input in that buffer has output 0's shape (read element by element too). */
  int *alias = (int *)xalloc(e, sizeof(int) * (size_t)g->n_values * 2);
  int64_t *at = (int64_t *)xalloc(e, sizeof(int64_t) * (size_t)g->n_values);
  if (!alias || !at) {
    xfree(e, alias);
    xfree(e, at);
    return ER_ERR(ER_OUT_OF_MEMORY, "out of memory planning the arena");
  }
  int *reads = alias + g->n_values; /* node inputs, subgraph reads and graph outputs per value */
  for (int i = 0; i < g->n_values; i++) alias[i] = -1;
  for (int i = 0; i < n_nodes; i++) {
    if (e->folded[i]) continue;
    for (int k = 0; k < g->nodes[i].n_inputs; k++)
      if (g->nodes[i].inputs[k] >= 0) reads[g->nodes[i].inputs[k]]++;
    for (int *p = e->implicit[i]; p && *p >= 0; p++) reads[*p] += 2;
  }
  for (int k = 0; k < g->n_outputs; k++) reads[g->outputs[k]] += 2;
  plan_concat_views(e, alias, at, reads);
  for (int i = 0; i < n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    unsigned fl = n->op->flags;
    if (e->folded[i] || !(fl & (ER_OP_INPLACE | ER_OP_VIEW)) || n->n_inputs < 1 || n->n_outputs < 1) continue;
    int in0 = n->inputs[0], out0 = n->outputs[0];
    if (in0 < 0 || out0 < 0 || e->v[in0].first < 0 || alias[out0] >= 0) continue;
    if (er_tensor_nbytes(&e->v[in0].t) != er_tensor_nbytes(&e->v[out0].t)) continue;
    int root = alias[in0] >= 0 ? alias[in0] : in0;
    if (fl & ER_OP_VIEW) {
      if (e->v[in0].t.dtype != e->v[out0].t.dtype) continue;
      e->skip[i] = 1;
    } else {
      if (e->v[root].last != i) continue;
      int shared = 0; /* another input in this buffer, read other than element by element */
      for (int k = 1; k < n->n_inputs; k++) {
        int id = n->inputs[k];
        if (id < 0 || (id != root && alias[id] != root)) continue;
        const er_tensor *t = &e->v[id].t, *o = &e->v[out0].t;
        shared |= t->rank != o->rank || er_dtype_size(t->dtype) != er_dtype_size(o->dtype) ||
                  memcmp(t->dims, o->dims, sizeof(int64_t) * (size_t)t->rank) != 0;
      }
      if (shared) continue;
    }
    alias[out0] = root;
    if (e->v[out0].last > e->v[root].last) e->v[root].last = e->v[out0].last;
  }
  int n_items = 0;
  for (int i = 0; i < g->n_values; i++)
    if (e->v[i].first >= 0 && alias[i] < 0) n_items++;
  for (int i = 0; i < n_nodes; i++)
    if (!e->folded[i] && e->ctx[i].scratch_bytes) n_items++;
  item *items = (item *)xalloc(e, sizeof(item) * (size_t)(n_items + 1));
  item **order = (item **)xalloc(e, sizeof(item *) * (size_t)(n_items + 1));
  if (!items || !order) {
    xfree(e, items);
    xfree(e, order);
    xfree(e, alias);
    xfree(e, at);
    return ER_ERR(ER_OUT_OF_MEMORY, "out of memory planning the arena");
  }
  int m = 0;
  for (int i = 0; i < g->n_values; i++) {
    rt_val *v = &e->v[i];
    if (v->first < 0 || alias[i] >= 0) continue;
    items[m++] = (item){er_tensor_nbytes(&v->t), v->first, v->last, &v->off, 0};
  }
  for (int i = 0; i < n_nodes; i++)
    if (!e->folded[i] && e->ctx[i].scratch_bytes)
      items[m++] = (item){e->ctx[i].scratch_bytes, i, i, &e->scratch_off[i], 0};
  size_t total = place_items(items, m, order);
  for (int i = 0; i < m; i++) *items[i].off_out = items[i].off;
  for (int i = 0; i < g->n_values; i++)
    if (alias[i] >= 0) e->v[i].off = e->v[alias[i]].off + at[i];
  xfree(e, items);
  xfree(e, order);
  xfree(e, alias);
  xfree(e, at);
  total = (total + ER_ALIGN - 1) & ~(size_t)(ER_ALIGN - 1);
  if (total == 0) total = ER_ALIGN;
  if (e->user_arena) {
    if (e->user_arena_bytes < total)
      return ER_ERR(ER_INVALID_ARGUMENT, "arena too small: the plan needs %zu bytes, %zu given",
                    total, e->user_arena_bytes);
    if (e->arena_owned) xfree(e, e->arena);
    e->arena = (unsigned char *)e->user_arena;
    e->arena_owned = 0;
  } else if (!e->arena || !e->arena_owned || e->arena_bytes < total) {
    if (e->arena_owned) xfree(e, e->arena);
    e->arena = (unsigned char *)xalloc(e, total);
    e->arena_owned = 1;
    if (!e->arena) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory for a %zu-byte arena", total);
  }
  e->arena_bytes = total;
  for (int i = 0; i < g->n_values; i++)
    if (e->v[i].first >= 0) e->v[i].t.data = e->arena + e->v[i].off;
  for (int i = 0; i < n_nodes; i++) {
    e->ctx[i].scratch = (!e->folded[i] && e->ctx[i].scratch_bytes) ? e->arena + e->scratch_off[i] : NULL;
  }
  return NULL;
}

static void bind_input_data(er_exec *e) {
  const er_graph *g = e->g;
  for (int i = 0; i < g->n_inputs; i++) {
    int id = g->inputs[i];
    if (g->values[id].kind == ER_VALUE_INITIALIZER) continue;
    if (e->inputs[i].bound) {
      e->v[id].t = e->inputs[i].t;
      e->v[id].t.data = e->inputs[i].store;
    }
  }
}

static void refresh_outer(er_exec *e) {
  if (!e->parent) return;
  const er_graph *g = e->g;
  for (int k = 0; k < e->n_outer; k++) {
    int i = e->outer_ids[k], o = g->values[i].outer;
    e->v[i].t = (o >= 0 && o < e->parent->g->n_values) ? e->parent->v[o].t : (er_tensor){0};
  }
}

er_status er_exec_plan(er_exec *e) {
  const er_graph *g = e->g;
  e->planned = 0;
  e->dynamic = 0;
  for (int i = 0; i < e->n_children; i++) e->children[i].e->planned = 0; /* constants may move */
  for (int i = 0; i < g->n_inputs; i++) {
    int id = g->inputs[i];
    if (g->values[id].kind == ER_VALUE_INITIALIZER) continue;
    if (!e->inputs[i].bound)
      return ER_ERR(ER_INVALID_ARGUMENT, "input '%s' was not set", g->values[id].name);
  }
  if (!e->parent) ER_RETURN_IF_ERROR(check_symbolic(e));
  reset_values(e);
  if (e->state_block) {
    for (int i = 0; i < g->n_nodes; i++) {
      unsigned char *p = (unsigned char *)e->state[i];
      if (p >= e->state_block && p < e->state_block + e->state_block_bytes) e->state[i] = e->ctx[i].state = NULL;
    }
    xfree(e, e->state_block);
    e->state_block = NULL;
    e->state_block_bytes = 0;
  }
  memset(e->defer, 0, (size_t)g->n_nodes);
  if (e->release && !e->infer_only) {
    if (!e->readers_left) e->readers_left = (int *)xalloc(e, sizeof(int) * ((size_t)g->n_values + 1));
    if (e->readers_left) count_readers(e);
  }
  for (int i = 0; i < g->n_nodes; i++) {
    er_kctx *c = &e->ctx[i];
    const er_node *n = c->node;
    int unknown = 0;
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0 && e->v[n->inputs[k]].state == V_UNKNOWN) unknown = 1;
    /* Control flow: its infer may plan the bodies (If with statically plannable branches)
     * when every outer-scope value it reads has a known shape. */
    for (int *p = e->implicit[i]; p && *p >= 0; p++)
      if (e->v[*p].state == V_UNKNOWN) unknown = 1;
    /* Shape facts for graph passes (infer_only) must hold whichever branch runs: there,
     * control flow stays unknown. */
    int cf = (n->op->flags & ER_OP_CONTROL_FLOW) != 0;
    if ((cf && e->infer_only) || (e->implicit[i] && !cf)) unknown = 1;
    c->out_ld_ok = 0;
    c->out_ld = 0;
    if (!unknown) {
      c->scratch_bytes = 0;
      c->state_bytes = 0;
      er_status s = n->op->infer(c);
      if (er_status_code(s) == ER_NEEDS_DATA) {
        er_status_free(s);
        unknown = 1;
      } else if (s) {
        return node_error(n, s);
      }
    }
    if (unknown) {
      e->dyn[i] = 1;
      e->dynamic = 1;
      for (int k = 0; k < n->n_outputs; k++)
        if (n->outputs[k] >= 0) e->v[n->outputs[k]].state = V_UNKNOWN;
      continue;
    }
    for (int k = 0; k < n->n_outputs; k++) {
      int id = n->outputs[k];
      if (id < 0) continue;
      ER_RETURN_IF_ERROR(node_error(n, er_shape_check(e->v[id].t.dims, e->v[id].t.rank,
                                                      e->v[id].t.dtype, ER_SIZE_LIMIT)));
      e->v[id].state = V_SHAPED;
    }
    int foldable = is_foldable(e, c);
    if (foldable) ER_RETURN_IF_ERROR(prepare_node(e, i));
    else if (!e->infer_only) e->defer[i] = e->dynamic ? 2 : 1; /* 2: release nothing (note_consumed) */
    if (foldable) {
      /* inputs of a SHAPE_ONLY op need no data, but kernels may look at it: give NULL-safe */
      ER_RETURN_IF_ERROR(alloc_outputs_heap(e, i));
      ER_RETURN_IF_ERROR(run_with_heap_scratch(e, i));
      e->folded[i] = 1;
      for (int k = 0; k < n->n_outputs; k++)
        if (n->outputs[k] >= 0) e->v[n->outputs[k]].state = V_CONST;
    }
  }
  if (e->infer_only) return NULL; /* shapes are known; nothing to run */
  ER_RETURN_IF_ERROR(prepare_deferred(e));
  if (!e->dynamic) ER_RETURN_IF_ERROR(plan_arena(e));
  /* use counts for dynamic mode */
  for (int i = 0; i < g->n_values; i++) e->v[i].uses = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    if (e->folded[i]) continue;
    const er_node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0) e->v[n->inputs[k]].uses++;
    for (int *p = e->implicit[i]; p && *p >= 0; p++) e->v[*p].uses++;
  }
  for (int k = 0; k < g->n_outputs; k++) e->v[g->outputs[k]].uses++;
  e->planned = 1;
  return NULL;
}

/* ---------------------------------------------------------------- run */

static void release_use(er_exec *e, int id) {
  rt_val *v = &e->v[id];
  if (e->g->values[id].kind != ER_VALUE_NODE || v->state == V_CONST) return; /* folded: keep */
  if (--v->uses_left == 0 && v->owned) {
    xfree(e, v->owned);
    v->owned = NULL;
    v->t.data = NULL;
  }
}

static er_status run_dynamic(er_exec *e) {
  const er_graph *g = e->g;
  for (int i = 0; i < g->n_nodes; i++) {
    if (e->folded[i]) continue;
    const er_node *n = &g->nodes[i];
    for (int k = 0; k < n->n_outputs; k++) {
      int id = n->outputs[k];
      if (id < 0) continue;
      xfree(e, e->v[id].owned);
      e->v[id].owned = NULL;
      e->v[id].t.data = NULL;
    }
  }
  for (int i = 0; i < g->n_values; i++) e->v[i].uses_left = e->v[i].uses;
  for (int i = 0; i < g->n_nodes; i++) {
    if (e->folded[i]) continue;
    er_kctx *c = &e->ctx[i];
    const er_node *n = c->node;
    uint64_t t0 = e->observe ? e->now() : 0;
    for (int k = 0; k < n->n_inputs; k++) {
      int id = n->inputs[k];
      if (id >= 0 && !e->v[id].t.data && er_dtype_size(e->v[id].t.dtype))
        return ER_ERR(ER_INTERNAL, "node '%s' (%s): input %d ('%s') has no value", n->name,
                      n->op_type, k, g->values[id].name);
    }
    if (n->op->flags & ER_OP_CONTROL_FLOW) {
      c->scratch_bytes = 0;
      e->cur_node = i;
      ER_RETURN_IF_ERROR(node_error(n, n->op->run(c)));
    } else {
      c->scratch_bytes = 0;
      c->state_bytes = 0;
      er_status s = n->op->infer(c);
      if (er_status_code(s) == ER_NEEDS_DATA) {
        er_status_free(s);
        return ER_ERR(ER_INTERNAL, "node '%s' (%s): shape still unknown with all inputs present",
                      n->name, n->op_type);
      }
      ER_RETURN_IF_ERROR(node_error(n, s));
      ER_RETURN_IF_ERROR(prepare_node(e, i));
      ER_RETURN_IF_ERROR(alloc_outputs_heap(e, i));
      ER_RETURN_IF_ERROR(run_with_heap_scratch(e, i));
    }
    if (e->observe) e->observe(e->observe_user, c, t0, e->now(), e->depth);
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0) release_use(e, n->inputs[k]);
    for (int *p = e->implicit[i]; p && *p >= 0; p++) release_use(e, *p);
    for (int k = 0; k < n->n_outputs; k++) {
      int id = n->outputs[k];
      if (id >= 0 && e->v[id].uses == 0 && e->v[id].owned) {
        xfree(e, e->v[id].owned);
        e->v[id].owned = NULL;
        e->v[id].t.data = NULL;
      }
    }
  }
  return NULL;
}

/* Did an outer-scope value change shape or type since the subgraph was planned? */
static int outer_changed(const er_exec *e) {
  const er_graph *g = e->g;
  for (int k = 0; k < e->n_outer; k++) {
    int i = e->outer_ids[k], o = g->values[i].outer;
    if (o < 0 || o >= e->parent->g->n_values) continue;
    const er_tensor *now = &e->parent->v[o].t, *then = &e->outer_plan[i];
    if (now->dtype != then->dtype || now->rank != then->rank) return 1;
    for (int d = 0; d < now->rank; d++)
      if (now->dims[d] != then->dims[d]) return 1;
  }
  return 0;
}

int er_exec_prepares(const er_exec *e) { return !e->planned || e->dynamic; }

er_status er_exec_run(er_exec *e) {
  if (e->infer_only) return ER_ERR(ER_INTERNAL, "executor was planned for shapes only");
  if (e->parent) {
    /* Subgraph: planned like a graph of its own (static when shapes allow), and planned
     * again when an input or outer-scope value changes shape (which a statically planned
     * parent rules out: planning it again resets its children). */
    if (e->planned && e->parent->dynamic && outer_changed(e)) e->planned = 0;
    if (!e->planned) ER_RETURN_IF_ERROR(er_exec_plan(e));
    refresh_outer(e);
  } else if (!e->planned) {
    ER_RETURN_IF_ERROR(er_exec_plan(e));
  }
  bind_input_data(e);
  if (e->dynamic) return run_dynamic(e);
  const er_graph *g = e->g;
  for (int i = 0; i < g->n_nodes; i++) {
    if (e->folded[i]) continue;
    er_kctx *c = &e->ctx[i];
    uint64_t t0 = e->observe ? e->now() : 0;
    er_status s = e->skip[i] ? NULL : c->node->op->run(c);
    if (s) return node_error(c->node, s);
    if (e->observe) e->observe(e->observe_user, c, t0, e->now(), e->depth);
  }
  return NULL;
}

const er_tensor *er_exec_output(const er_exec *e, int index) {
  if (index < 0 || index >= e->g->n_outputs) return NULL;
  return &e->v[e->g->outputs[index]].t;
}

size_t er_exec_arena_bytes(const er_exec *e) {
  if (e->dynamic) return 0;
  size_t n = e->arena_bytes;
  for (int i = 0; i < e->n_children; i++) { /* statically planned subgraphs have their own */
    const er_exec *ch = e->children[i].e;
    if (ch->planned && !ch->dynamic) n += er_exec_arena_bytes(ch);
  }
  return n;
}
int er_exec_is_dynamic(const er_exec *e) { return e->dynamic; }

/* ---------------------------------------------------------------- control flow support */

er_status er_exec_alloc_output(er_kctx *ctx, int i, int dtype, int rank, const int64_t *dims) {
  er_exec *e = ctx->exec;
  const er_node *n = ctx->node;
  if (i < 0 || i >= n->n_outputs || n->outputs[i] < 0) return NULL; /* absent output: nothing to do */
  rt_val *v = &e->v[n->outputs[i]];
  int node = (int)(ctx - e->ctx);
  if (!e->dynamic && !e->dyn[node]) {
    /* planned statically (If with same-shaped or chosen branches): the output lives in the
     * arena with the planned shape */
    int same = v->t.dtype == dtype && v->t.rank == rank && v->t.data;
    for (int d = 0; same && d < rank; d++) same = v->t.dims[d] == dims[d];
    if (!same) {
      char b1[160], b2[160];
      return ER_ERR(ER_INTERNAL, "output %d has shape %s at run time but %s was planned", i,
                    er_shape_str(dims, rank, b1, sizeof b1),
                    er_shape_str(v->t.dims, v->t.rank, b2, sizeof b2));
    }
    return NULL;
  }
  ER_RETURN_IF_ERROR(er_shape_check(dims, rank, dtype, ER_SIZE_LIMIT));
  er_tensor_set_shape(&v->t, dtype, rank, dims);
  xfree(e, v->owned);
  v->owned = xalloc(e, er_tensor_nbytes(&v->t));
  if (!v->owned) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory for output %d", i);
  v->t.data = v->owned;
  return NULL;
}

er_status er_exec_child(er_kctx *ctx, const er_graph *g, er_exec **out_child) {
  er_exec *e = ctx->exec;
  for (int i = 0; i < e->n_children; i++)
    if (e->children[i].g == g) {
      *out_child = e->children[i].e;
      return NULL;
    }
  if (e->n_children == e->cap_children) {
    int cap = e->cap_children ? e->cap_children * 2 : 4;
    child_rec *c = (child_rec *)xalloc(e, sizeof(child_rec) * (size_t)cap);
    if (!c) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    if (e->children) memcpy(c, e->children, sizeof(child_rec) * (size_t)e->n_children);
    xfree(e, e->children);
    e->children = c;
    e->cap_children = cap;
  }
  er_exec *ch;
  ER_RETURN_IF_ERROR(er_exec_create(g, e, &e->a, &ch));
  e->children[e->n_children++] = (child_rec){g, ch};
  *out_child = ch;
  return NULL;
}

void *er_exec_temp_alloc(er_kctx *ctx, size_t n) { return xalloc(ctx->exec, n); }
void er_exec_temp_free(er_kctx *ctx, void *p) { xfree(ctx->exec, p); }
