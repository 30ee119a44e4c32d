/* Control flow: If, Loop, Scan. They run subgraphs through the executor (runtime/exec.h),
 * so they live in runtime/, not kernels/. Their output shapes are only known by running,
 * so a graph that contains them is planned in dynamic mode -- except an If whose branches
 * plan statically to the same shapes (or whose condition is a known constant). */
#include <string.h>

#include "kernels/kernel.h"
#include "runtime/exec.h"

static er_status cf_infer(er_kctx *c) { return er_needs_data(c); }

static const er_graph *graph_attr(const er_kctx *c, const char *name) {
  const er_attr *a = er_attr_get(c, name);
  return a && a->type == ER_ATTR_GRAPH ? a->g : NULL;
}

/* A snapshot of a tensor in executor temp memory. */
typedef struct held {
  er_tensor t;
  void *mem;
} held;

static er_status hold(er_kctx *c, held *h, const er_tensor *t) {
  size_t nb = er_tensor_nbytes(t);
  void *m = er_exec_temp_alloc(c, nb);
  if (!m) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  if (nb) memcpy(m, t->data, nb);
  er_exec_temp_free(c, h->mem);
  h->t = *t;
  h->t.data = m;
  h->mem = m;
  return NULL;
}

static void release(er_kctx *c, held *h, int n) {
  for (int i = 0; i < n; i++) {
    er_exec_temp_free(c, h[i].mem);
    h[i].mem = NULL;
  }
}

static er_status emit(er_kctx *c, int k, const er_tensor *t) {
  ER_RETURN_IF_ERROR(er_exec_alloc_output(c, k, t->dtype, t->rank, t->dims));
  er_tensor *o = er_out(c, k);
  size_t nb = er_tensor_nbytes(t);
  if (o && nb) memcpy(o->data, t->data, nb);
  return NULL;
}

static int truthy(const er_tensor *t) {
  if (er_tensor_numel(t) < 1) return 0;
  return er_load_f64(t->data, t->dtype, 0) != 0;
}

/* ------------------------------------------------------------------ If */

static er_status if_run(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  if (er_tensor_numel(c->in[0]) != 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "condition must hold exactly one element");
  const er_graph *g = graph_attr(c, truthy(c->in[0]) ? "then_branch" : "else_branch");
  if (!g) return ER_ERR(ER_INVALID_MODEL, "missing then_branch/else_branch attribute");
  if (g->n_outputs != c->n_out)
    return ER_ERR(ER_INVALID_MODEL, "branch has %d outputs, node has %d", g->n_outputs, c->n_out);
  er_exec *ch;
  ER_RETURN_IF_ERROR(er_exec_child(c, g, &ch));
  ER_RETURN_IF_ERROR(er_exec_run(ch));
  for (int k = 0; k < c->n_out; k++) ER_RETURN_IF_ERROR(emit(c, k, er_exec_output(ch, k)));
  return NULL;
}

/* Plan-time shapes of an If: when the condition is a known constant, the taken branch is
 * planned; otherwise both are. If the branches that plan are all static and agree on their
 * output types and shapes, the node's outputs get those shapes, so the enclosing graph can
 * be planned statically and the If runs without allocating. A branch whose plan fails (a
 * shape error: it cannot run with these shapes) does not count: if it is taken, running it
 * plans it again and reports that error (a known condition's branch reports it now).
 * Anything else (a dynamic branch, branches that
 * disagree, no branch that plans) leaves the node to dynamic mode. */
static er_status if_infer(er_kctx *c) {
  if (c->n_in != 1 || !c->in[0] || er_tensor_numel(c->in[0]) != 1) return er_needs_data(c);
  const er_graph *br[2] = {graph_attr(c, "then_branch"), graph_attr(c, "else_branch")};
  if (!br[0] || !br[1]) return er_needs_data(c);
  int lo = 0, hi = 2;
  if (c->in[0]->data) {
    lo = truthy(c->in[0]) ? 0 : 1;
    hi = lo + 1;
  }
  er_exec *first = NULL;
  for (int b = lo; b < hi; b++) {
    if (br[b]->n_outputs != c->n_out) return er_needs_data(c);
    er_exec *ch;
    er_status s = er_exec_child(c, br[b], &ch);
    if (!s) s = er_exec_plan(ch);
    if (s) {
      int code = er_status_code(s);
      if (hi - lo == 1 && code != ER_OUT_OF_MEMORY && code != ER_NEEDS_DATA)
        return s; /* the condition is known: this branch will run and fail */
      er_status_free(s);
      if (code == ER_OUT_OF_MEMORY || code == ER_NEEDS_DATA) return er_needs_data(c);
      continue;
    }
    if (er_exec_is_dynamic(ch)) return er_needs_data(c);
    for (int k = 0; first && k < c->n_out; k++) {
      const er_tensor *x = er_exec_output(first, k), *y = er_exec_output(ch, k);
      int same = x->dtype == y->dtype && x->rank == y->rank;
      for (int d = 0; same && d < x->rank; d++) same = x->dims[d] == y->dims[d];
      if (!same) return er_needs_data(c);
    }
    if (!first) first = ch;
  }
  if (!first) return er_needs_data(c);
  for (int k = 0; k < c->n_out; k++) {
    er_tensor *o = er_out(c, k);
    const er_tensor *t = er_exec_output(first, k);
    if (!o) continue;
    if (!t->dtype || !er_dtype_size(t->dtype)) return er_needs_data(c);
    er_tensor_set_shape(o, t->dtype, t->rank, t->dims);
  }
  return NULL;
}

/* ------------------------------------------------------------------ Loop */

typedef struct stack {
  void *buf;
  size_t cap, used;
  er_tensor elem; /* shape of one iteration's element */
  int64_t count;
} stack;

static er_status stack_push(er_kctx *c, stack *s, const er_tensor *t, int k) {
  size_t nb = er_tensor_nbytes(t);
  if (s->count == 0) {
    s->elem = *t;
  } else {
    int same = s->elem.dtype == t->dtype && s->elem.rank == t->rank;
    for (int i = 0; same && i < t->rank; i++) same = s->elem.dims[i] == t->dims[i];
    if (!same) return ER_ERR(ER_INVALID_ARGUMENT, "scan output %d changes shape across iterations", k);
  }
  if (s->used + nb > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    while (cap < s->used + nb) cap *= 2;
    void *m = er_exec_temp_alloc(c, cap);
    if (!m) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    if (s->used) memcpy(m, s->buf, s->used);
    er_exec_temp_free(c, s->buf);
    s->buf = m;
    s->cap = cap;
  }
  if (nb) memcpy((char *)s->buf + s->used, t->data, nb);
  s->used += nb;
  s->count++;
  return NULL;
}

/* A scalar-ish tensor matching the body's declared rank for that input (0 or 1). */
static er_tensor scalar_for(const er_graph *g, int input, int dtype, void *data) {
  er_tensor t = {0};
  t.dtype = dtype;
  const er_value *v = &g->values[g->inputs[input]];
  t.rank = v->rank == 1 ? 1 : 0;
  t.dims[0] = 1;
  t.data = data;
  return t;
}

#define MAX_CARRIED 64

static er_status loop_run(er_kctx *c) {
  const er_graph *g = graph_attr(c, "body");
  if (!g) return ER_ERR(ER_INVALID_MODEL, "missing body attribute");
  if (c->n_in < 2) return ER_ERR(ER_INVALID_MODEL, "Loop needs at least 2 inputs (M, cond)");
  int n_carried = c->n_in - 2;
  int n_scan = c->n_out - n_carried;
  if (n_carried > MAX_CARRIED) return ER_ERR(ER_UNSUPPORTED, "more than %d loop-carried values", MAX_CARRIED);
  if (g->n_inputs != 2 + n_carried)
    return ER_ERR(ER_INVALID_MODEL, "body has %d inputs, expected %d", g->n_inputs, 2 + n_carried);
  if (g->n_outputs != 1 + n_carried + n_scan || n_scan < 0)
    return ER_ERR(ER_INVALID_MODEL, "body has %d outputs, expected %d", g->n_outputs, 1 + c->n_out);
  int64_t max_trip = INT64_MAX;
  if (c->in[0]) {
    if (er_tensor_numel(c->in[0]) != 1) return ER_ERR(ER_INVALID_ARGUMENT, "M must be a scalar");
    max_trip = er_load_i64(c->in[0]->data, c->in[0]->dtype, 0);
  }
  int cond = c->in[1] ? truthy(c->in[1]) : 1;
  er_exec *ch;
  ER_RETURN_IF_ERROR(er_exec_child(c, g, &ch));
  held carried[MAX_CARRIED];
  stack scans[MAX_CARRIED];
  memset(carried, 0, sizeof carried);
  memset(scans, 0, sizeof scans);
  if (n_scan > MAX_CARRIED) return ER_ERR(ER_UNSUPPORTED, "more than %d scan outputs", MAX_CARRIED);
  er_status st = NULL;
  for (int j = 0; j < n_carried && !st; j++) {
    if (!c->in[2 + j]) st = ER_ERR(ER_INVALID_MODEL, "loop-carried input %d is missing", j);
    else st = hold(c, &carried[j], c->in[2 + j]);
  }
  int64_t it = 0;
  while (!st && it < max_trip && cond) {
    int64_t itv = it;
    uint8_t cv = 1;
    er_tensor ti = scalar_for(g, 0, ER_I64, &itv), tc = scalar_for(g, 1, ER_BOOL, &cv);
    st = er_exec_set_input(ch, 0, &ti);
    if (!st) st = er_exec_set_input(ch, 1, &tc);
    for (int j = 0; j < n_carried && !st; j++) st = er_exec_set_input(ch, 2 + j, &carried[j].t);
    if (!st) st = er_exec_run(ch);
    if (st) break;
    cond = truthy(er_exec_output(ch, 0));
    for (int j = 0; j < n_carried && !st; j++) st = hold(c, &carried[j], er_exec_output(ch, 1 + j));
    for (int k = 0; k < n_scan && !st; k++) st = stack_push(c, &scans[k], er_exec_output(ch, 1 + n_carried + k), k);
    it++;
  }
  for (int j = 0; j < n_carried && !st; j++) st = emit(c, j, &carried[j].t);
  for (int k = 0; k < n_scan && !st; k++) {
    er_tensor o = {0};
    if (scans[k].count == 0) {
      /* no iteration ran: shape [0] plus whatever the body declares */
      const er_value *v = &g->values[g->outputs[1 + n_carried + k]];
      o.dtype = v->dtype ? v->dtype : ER_F32;
      o.rank = 1;
      o.dims[0] = 0;
      if (v->rank > 0 && v->rank < ER_MAX_RANK) {
        o.rank = 1 + v->rank;
        for (int d = 0; d < v->rank; d++) o.dims[1 + d] = v->dims[d] < 0 ? 0 : v->dims[d];
      }
    } else {
      o = scans[k].elem;
      if (o.rank >= ER_MAX_RANK) {
        st = ER_ERR(ER_UNSUPPORTED, "scan output rank exceeds %d", ER_MAX_RANK);
        break;
      }
      memmove(o.dims + 1, o.dims, sizeof(int64_t) * (size_t)o.rank);
      o.dims[0] = scans[k].count;
      o.rank++;
    }
    o.data = scans[k].buf;
    st = emit(c, n_carried + k, &o);
  }
  release(c, carried, n_carried);
  for (int k = 0; k < n_scan; k++) er_exec_temp_free(c, scans[k].buf);
  return st;
}

/* ------------------------------------------------------------------ Scan */

/* Copy slice `idx` along `axis` of t into dst (dims with that axis removed). */
static void slice_axis(const er_tensor *t, int axis, int64_t idx, void *dst) {
  size_t es = er_dtype_size(t->dtype);
  int64_t outer = 1, inner = 1, len = t->dims[axis];
  for (int d = 0; d < axis; d++) outer *= t->dims[d];
  for (int d = axis + 1; d < t->rank; d++) inner *= t->dims[d];
  size_t ib = (size_t)inner * es;
  for (int64_t o = 0; o < outer; o++)
    memcpy((char *)dst + (size_t)o * ib, (const char *)t->data + (size_t)(o * len + idx) * ib, ib);
}

/* Store element tensor e as slice `idx` along `axis` of out. */
static void put_axis(er_tensor *out, int axis, int64_t idx, const er_tensor *e) {
  size_t es = er_dtype_size(out->dtype);
  int64_t outer = 1, inner = 1, len = out->dims[axis];
  for (int d = 0; d < axis; d++) outer *= out->dims[d];
  for (int d = axis + 1; d < out->rank; d++) inner *= out->dims[d];
  size_t ib = (size_t)inner * es;
  for (int64_t o = 0; o < outer; o++)
    memcpy((char *)out->data + (size_t)(o * len + idx) * ib, (const char *)e->data + (size_t)o * ib, ib);
}

static er_status scan_run(er_kctx *c) {
  const er_graph *g = graph_attr(c, "body");
  if (!g) return ER_ERR(ER_INVALID_MODEL, "missing body attribute");
  int n_scan_in = (int)er_attr_int(c, "num_scan_inputs", -1);
  int n_state = c->n_in - n_scan_in;
  int n_scan_out = c->n_out - n_state;
  if (n_scan_in < 1 || n_state < 0 || n_scan_out < 0)
    return ER_ERR(ER_INVALID_MODEL, "num_scan_inputs %d does not fit %d inputs", n_scan_in, c->n_in);
  if (n_state > MAX_CARRIED || n_scan_in > MAX_CARRIED || n_scan_out > MAX_CARRIED)
    return ER_ERR(ER_UNSUPPORTED, "too many Scan inputs or outputs");
  if (g->n_inputs != n_state + n_scan_in || g->n_outputs != n_state + n_scan_out)
    return ER_ERR(ER_INVALID_MODEL, "body signature does not match the node");
  const int64_t *in_axes = NULL, *in_dirs = NULL, *out_axes = NULL, *out_dirs = NULL;
  int n_ia = er_attr_ints(c, "scan_input_axes", &in_axes);
  int n_id = er_attr_ints(c, "scan_input_directions", &in_dirs);
  int n_oa = er_attr_ints(c, "scan_output_axes", &out_axes);
  int n_od = er_attr_ints(c, "scan_output_directions", &out_dirs);
  int axes[MAX_CARRIED], oaxes[MAX_CARRIED];
  int64_t seq = -1;
  for (int j = 0; j < n_scan_in; j++) {
    const er_tensor *t = c->in[n_state + j];
    if (!t) return ER_ERR(ER_INVALID_MODEL, "scan input %d is missing", j);
    ER_RETURN_IF_ERROR(er_normalize_axis(n_ia > j ? in_axes[j] : 0, t->rank, &axes[j]));
    if (t->rank == 0) return ER_ERR(ER_INVALID_ARGUMENT, "scan input %d is a scalar", j);
    int64_t l = t->dims[axes[j]];
    if (seq >= 0 && l != seq) return ER_ERR(ER_INVALID_ARGUMENT, "scan inputs have different lengths (%lld vs %lld)", (long long)seq, (long long)l);
    seq = l;
  }
  er_exec *ch;
  ER_RETURN_IF_ERROR(er_exec_child(c, g, &ch));
  held state[MAX_CARRIED], slices[MAX_CARRIED];
  memset(state, 0, sizeof state);
  memset(slices, 0, sizeof slices);
  er_status st = NULL;
  for (int j = 0; j < n_state && !st; j++) st = hold(c, &state[j], c->in[j]);
  for (int j = 0; j < n_scan_in && !st; j++) {
    const er_tensor *t = c->in[n_state + j];
    er_tensor e = *t;
    memmove(e.dims + axes[j], e.dims + axes[j] + 1, sizeof(int64_t) * (size_t)(t->rank - axes[j] - 1));
    e.rank--;
    slices[j].mem = er_exec_temp_alloc(c, er_tensor_nbytes(&e));
    if (!slices[j].mem) st = ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    e.data = slices[j].mem;
    slices[j].t = e;
  }
  for (int64_t step = 0; step < seq && !st; step++) {
    for (int j = 0; j < n_scan_in; j++) {
      int64_t idx = (n_id > j && in_dirs[j]) ? seq - 1 - step : step;
      slice_axis(c->in[n_state + j], axes[j], idx, slices[j].t.data);
    }
    for (int j = 0; j < n_state && !st; j++) st = er_exec_set_input(ch, j, &state[j].t);
    for (int j = 0; j < n_scan_in && !st; j++) st = er_exec_set_input(ch, n_state + j, &slices[j].t);
    if (!st) st = er_exec_run(ch);
    for (int j = 0; j < n_state && !st; j++) st = hold(c, &state[j], er_exec_output(ch, j));
    for (int k = 0; k < n_scan_out && !st; k++) {
      const er_tensor *e = er_exec_output(ch, n_state + k);
      if (step == 0) {
        st = er_normalize_axis(n_oa > k ? out_axes[k] : 0, e->rank + 1, &oaxes[k]);
        if (st) break;
        if (e->rank + 1 > ER_MAX_RANK) {
          st = ER_ERR(ER_UNSUPPORTED, "scan output rank exceeds %d", ER_MAX_RANK);
          break;
        }
        int64_t d[ER_MAX_RANK];
        for (int i = 0, s = 0; i < e->rank + 1; i++) d[i] = i == oaxes[k] ? seq : e->dims[s++];
        st = er_exec_alloc_output(c, n_state + k, e->dtype, e->rank + 1, d);
        if (st) break;
      }
      er_tensor *o = er_out(c, n_state + k);
      if (!o) continue;
      int bad = o->rank != e->rank + 1 || o->dtype != e->dtype;
      for (int i = 0, s = 0; !bad && i < o->rank; i++)
        if (i != oaxes[k]) bad = o->dims[i] != e->dims[s++];
      if (bad) {
        st = ER_ERR(ER_INVALID_ARGUMENT, "scan output %d changes shape across iterations", k);
        break;
      }
      int64_t idx = (n_od > k && out_dirs[k]) ? seq - 1 - step : step;
      put_axis(o, oaxes[k], idx, e);
    }
  }
  for (int j = 0; j < n_state && !st; j++) st = emit(c, j, &state[j].t);
  if (!st && seq == 0)
    for (int k = 0; k < n_scan_out && !st; k++) {
      int64_t d[1] = {0};
      st = er_exec_alloc_output(c, n_state + k, ER_F32, 1, d);
    }
  release(c, state, n_state);
  release(c, slices, n_scan_in);
  return st;
}


/* Scan opset 8: a batch axis first, then the sequence axis; optional sequence_lens input. */
static er_tensor batch_view(const er_tensor *t, int64_t b) {
  er_tensor v = *t;
  int64_t inner = 1;
  for (int d = 1; d < t->rank; d++) inner *= t->dims[d];
  memmove(v.dims, v.dims + 1, sizeof(int64_t) * (size_t)(t->rank - 1));
  v.rank = t->rank - 1;
  v.data = (char *)t->data + (size_t)(b * inner) * er_dtype_size(t->dtype);
  return v;
}

static er_status scan8_run(er_kctx *c) {
  const er_graph *g = graph_attr(c, "body");
  if (!g) return ER_ERR(ER_INVALID_MODEL, "missing body attribute");
  int n_scan_in = (int)er_attr_int(c, "num_scan_inputs", -1);
  int n_state = c->n_in - 1 - n_scan_in;
  int n_scan_out = c->n_out - n_state;
  if (n_scan_in < 1 || n_state < 0 || n_scan_out < 0 || n_state > MAX_CARRIED || n_scan_in > MAX_CARRIED)
    return ER_ERR(ER_INVALID_MODEL, "num_scan_inputs %d does not fit %d inputs", n_scan_in, c->n_in);
  if (g->n_inputs != n_state + n_scan_in || g->n_outputs != n_state + n_scan_out)
    return ER_ERR(ER_INVALID_MODEL, "body signature does not match the node");
  const int64_t *dirs = NULL;
  int n_dirs = er_attr_ints(c, "directions", &dirs);
  const er_tensor *lens = c->in[0];
  const er_tensor *first = c->in[1 + n_state];
  if (!first || first->rank < 2) return ER_ERR(ER_INVALID_ARGUMENT, "scan inputs need [batch, sequence, ...]");
  int64_t B = first->dims[0], seq = first->dims[1];
  for (int j = 0; j < n_state + n_scan_in; j++) {
    const er_tensor *t = c->in[1 + j];
    if (!t || t->rank < 1 || t->dims[0] != B) return ER_ERR(ER_INVALID_ARGUMENT, "input %d lacks batch size %lld", 1 + j, (long long)B);
    if (j >= n_state && (t->rank < 2 || t->dims[1] != seq)) return ER_ERR(ER_INVALID_ARGUMENT, "scan inputs have different lengths");
  }
  if (lens && er_tensor_numel(lens) != B) return ER_ERR(ER_INVALID_ARGUMENT, "sequence_lens must have %lld values", (long long)B);
  er_exec *ch;
  ER_RETURN_IF_ERROR(er_exec_child(c, g, &ch));
  held state[MAX_CARRIED], slices[MAX_CARRIED];
  memset(state, 0, sizeof state);
  memset(slices, 0, sizeof slices);
  er_status st = NULL;
  for (int j = 0; j < n_scan_in && !st; j++) {
    er_tensor v = batch_view(c->in[1 + n_state + j], 0);
    er_tensor e = batch_view(&v, 0);
    slices[j].mem = er_exec_temp_alloc(c, er_tensor_nbytes(&e));
    if (!slices[j].mem) st = ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    e.data = slices[j].mem;
    slices[j].t = e;
  }
  for (int64_t b = 0; b < B && !st; b++) {
    int64_t len = lens ? er_load_i64(lens->data, lens->dtype, (size_t)b) : seq;
    if (len < 0 || len > seq) {
      st = ER_ERR(ER_OUT_OF_RANGE, "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)b, (long long)len, (long long)seq);
      break;
    }
    for (int j = 0; j < n_state && !st; j++) {
      er_tensor v = batch_view(c->in[1 + j], b);
      st = hold(c, &state[j], &v);
    }
    for (int64_t step = 0; step < len && !st; step++) {
      for (int j = 0; j < n_scan_in; j++) {
        er_tensor v = batch_view(c->in[1 + n_state + j], b);
        int64_t idx = (n_dirs > j && dirs[j]) ? len - 1 - step : step;
        er_tensor e = batch_view(&v, idx);
        memcpy(slices[j].t.data, e.data, er_tensor_nbytes(&e));
      }
      for (int j = 0; j < n_state && !st; j++) st = er_exec_set_input(ch, j, &state[j].t);
      for (int j = 0; j < n_scan_in && !st; j++) st = er_exec_set_input(ch, n_state + j, &slices[j].t);
      if (!st) st = er_exec_run(ch);
      for (int j = 0; j < n_state && !st; j++) st = hold(c, &state[j], er_exec_output(ch, j));
      for (int k = 0; k < n_scan_out && !st; k++) {
        const er_tensor *e = er_exec_output(ch, n_state + k);
        er_tensor *o = er_out(c, n_state + k);
        if (!o) continue;
        if (!o->data || o->rank != e->rank + 2) {
          if (e->rank + 2 > ER_MAX_RANK) { st = ER_ERR(ER_UNSUPPORTED, "scan output rank too large"); break; }
          int64_t d[ER_MAX_RANK] = {B, seq};
          for (int i = 0; i < e->rank; i++) d[2 + i] = e->dims[i];
          st = er_exec_alloc_output(c, n_state + k, e->dtype, e->rank + 2, d);
          if (st) break;
          o = er_out(c, n_state + k);
          memset(o->data, 0, er_tensor_nbytes(o));
        }
        size_t nb = er_tensor_nbytes(e);
        if ((int64_t)nb * B * seq != (int64_t)er_tensor_nbytes(o)) { st = ER_ERR(ER_INVALID_ARGUMENT, "scan output %d changes shape", k); break; }
        int64_t idx = step; /* outputs are written in step order */
        memcpy((char *)o->data + (size_t)(b * seq + idx) * nb, e->data, nb);
      }
    }
    for (int j = 0; j < n_state && !st; j++) {
      er_tensor *o = er_out(c, j);
      if (b == 0) {
        int64_t d[ER_MAX_RANK] = {B};
        if (state[j].t.rank + 1 > ER_MAX_RANK) { st = ER_ERR(ER_UNSUPPORTED, "state rank too large"); break; }
        for (int i = 0; i < state[j].t.rank; i++) d[1 + i] = state[j].t.dims[i];
        st = er_exec_alloc_output(c, j, state[j].t.dtype, state[j].t.rank + 1, d);
        if (st) break;
        o = er_out(c, j);
      }
      if (!o) continue;
      size_t nb = er_tensor_nbytes(&state[j].t);
      if ((int64_t)nb * B != (int64_t)er_tensor_nbytes(o)) { st = ER_ERR(ER_INVALID_ARGUMENT, "state %d changes shape", j); break; }
      memcpy((char *)o->data + (size_t)b * nb, state[j].t.data, nb);
    }
  }
  release(c, state, n_state);
  release(c, slices, n_scan_in);
  return st;
}

const er_op_def er_ops_control[] = {
    ER_OPDEF(If, {"If", "", 1, 0, if_infer, if_run, ER_OP_CONTROL_FLOW})
    ER_OPDEF(Loop, {"Loop", "", 1, 0, cf_infer, loop_run, ER_OP_CONTROL_FLOW})
    ER_OPDEF(Scan, {"Scan", "", 8, 8, cf_infer, scan8_run, ER_OP_CONTROL_FLOW})
    ER_OPDEF(Scan, {"Scan", "", 9, 0, cf_infer, scan_run, ER_OP_CONTROL_FLOW})
    {0},
};
