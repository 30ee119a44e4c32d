/* runtime/exec: static plan with arena reuse, caller arena, re-plan on shape change,
 * dynamic mode, constant folding, error prefixing. Graphs are built by hand; the If
 * planning tests load the models in tests/data/exec (made by tests/data/exec/make.py). */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "import/onnx/onnx.h"
#include "runtime/exec.h"
#include "test.h"


/* A tiny graph builder over static storage. */
typedef struct gb {
  er_graph g;
  er_value v[16];
  er_node n[8];
  int io[8][2][4];
  int gin[4], gout[4];
} gb;

static int gb_value(gb *b, const char *name, int kind) {
  int i = b->g.n_values++;
  b->v[i] = (er_value){.name = name, .kind = kind, .rank = -1, .producer = -1, .outer = -1};
  return i;
}
static void gb_node(gb *b, const char *op, int n_in, const int *ins, int out, int opset) {
  int i = b->g.n_nodes++;
  er_node *n = &b->n[i];
  memset(n, 0, sizeof *n);
  n->name = op;
  n->op_type = op;
  n->domain = "";
  n->opset = opset;
  n->n_inputs = n_in;
  n->inputs = b->io[i][0];
  for (int k = 0; k < n_in; k++) n->inputs[k] = ins[k];
  n->n_outputs = 1;
  n->outputs = b->io[i][1];
  n->outputs[0] = out;
  n->op = er_op_find("", op, opset);
  b->v[out].producer = i;
}
static void gb_init(gb *b) {
  memset(b, 0, sizeof *b);
  b->g.values = b->v;
  b->g.nodes = b->n;
  b->g.inputs = b->gin;
  b->g.outputs = b->gout;
}

/* x -> Relu -> a ; a + a -> b ; Relu(b) -> c */
static void chain(gb *b) {
  gb_init(b);
  int x = gb_value(b, "x", ER_VALUE_INPUT), a = gb_value(b, "a", ER_VALUE_NODE),
      bb = gb_value(b, "b", ER_VALUE_NODE), c = gb_value(b, "c", ER_VALUE_NODE);
  b->v[x].is_graph_input = 1;
  b->v[x].dtype = ER_F32;
  b->gin[b->g.n_inputs++] = x;
  b->gout[b->g.n_outputs++] = c;
  gb_node(b, "Relu", 1, (int[]){x}, a, 14);
  gb_node(b, "Add", 2, (int[]){a, a}, bb, 14);
  gb_node(b, "Relu", 1, (int[]){bb}, c, 14);
}

TEST(exec_static_plan_reuses_arena) {
  gb b;
  chain(&b);
  if (!b.n[0].op || !b.n[1].op) { CHECK(!"Relu/Add not registered"); return; }
  er_exec *e;
  CHECK_OK(er_exec_create(&b.g, NULL, er_host_allocator(), &e));
  float xs[256];
  for (int i = 0; i < 256; i++) xs[i] = (float)(i % 7) - 3.0f;
  er_tensor x = {.dtype = ER_F32, .rank = 2, .dims = {16, 16}, .data = xs};
  CHECK_OK(er_exec_set_input(e, 0, &x));
  CHECK_OK(er_exec_run(e));
  CHECK(!er_exec_is_dynamic(e));
  /* Add and the second Relu are in-place (their input 0 dies there): a, b and c share one
   * 1 KiB buffer (the graph input x lives outside the arena) */
  CHECK(er_exec_arena_bytes(e) == 1024);
  const er_tensor *y = er_exec_output(e, 0);
  int ok = y->rank == 2 && y->dims[0] == 16;
  for (int i = 0; i < 256; i++) ok &= ((float *)y->data)[i] == (xs[i] > 0 ? 2 * xs[i] : 0);
  CHECK(ok);
  /* a new shape re-plans */
  er_tensor x2 = {.dtype = ER_F32, .rank = 1, .dims = {3}, .data = (float[]){-1, 2, 3}};
  CHECK_OK(er_exec_set_input(e, 0, &x2));
  CHECK_OK(er_exec_run(e));
  y = er_exec_output(e, 0);
  CHECK(y->rank == 1 && y->dims[0] == 3 && ((float *)y->data)[0] == 0 && ((float *)y->data)[2] == 6);
  er_exec_destroy(e);
}

TEST(exec_caller_arena) {
  gb b;
  chain(&b);
  if (!b.n[0].op || !b.n[1].op) return;
  float xs[256] = {1};
  er_tensor x = {.dtype = ER_F32, .rank = 2, .dims = {16, 16}, .data = xs};
  static _Alignas(64) unsigned char arena[2048];
  er_exec *e;
  CHECK_OK(er_exec_create(&b.g, NULL, er_host_allocator(), &e));
  er_exec_use_arena(e, arena, 1000);
  CHECK_OK(er_exec_set_input(e, 0, &x));
  CHECK_ERR(er_exec_run(e), ER_INVALID_ARGUMENT); /* too small, says so at plan time */
  er_exec_use_arena(e, arena, sizeof arena);
  CHECK_OK(er_exec_run(e));
  const er_tensor *y = er_exec_output(e, 0);
  CHECK((unsigned char *)y->data >= arena && (unsigned char *)y->data < arena + sizeof arena);
  CHECK(((float *)y->data)[0] == 2.0f);
  er_exec_destroy(e);
}

TEST(exec_input_validation_and_errors) {
  gb b;
  chain(&b);
  if (!b.n[0].op) return;
  b.v[0].rank = 2;
  b.v[0].dims[0] = -1;
  b.v[0].dims[1] = 4;
  er_exec *e;
  CHECK_OK(er_exec_create(&b.g, NULL, er_host_allocator(), &e));
  int32_t xi[8] = {0};
  er_tensor wrong_type = {.dtype = ER_I32, .rank = 2, .dims = {2, 4}, .data = xi};
  CHECK_ERR(er_exec_set_input(e, 0, &wrong_type), ER_INVALID_ARGUMENT);
  float xf[8] = {0};
  er_tensor wrong_shape = {.dtype = ER_F32, .rank = 2, .dims = {4, 2}, .data = xf};
  CHECK_ERR(er_exec_set_input(e, 0, &wrong_shape), ER_INVALID_ARGUMENT);
  er_tensor ok = {.dtype = ER_F32, .rank = 2, .dims = {2, 4}, .data = xf};
  CHECK_OK(er_exec_set_input(e, 0, &ok));
  CHECK_ERR(er_exec_set_input(e, 1, &ok), ER_INVALID_ARGUMENT);
  er_exec_destroy(e);
  /* run without inputs */
  CHECK_OK(er_exec_create(&b.g, NULL, er_host_allocator(), &e));
  er_status s = er_exec_run(e);
  CHECK(s && strstr(er_status_message(s), "'x' was not set"));
  er_status_free(s);
  er_exec_destroy(e);
}

TEST(exec_folds_constants_and_goes_dynamic) {
  /* Shape(x) -> s (folded at plan); NonZero(x) -> nz (dynamic shape) */
  gb b;
  gb_init(&b);
  int x = gb_value(&b, "x", ER_VALUE_INPUT), s = gb_value(&b, "s", ER_VALUE_NODE),
      nz = gb_value(&b, "nz", ER_VALUE_NODE);
  b.v[x].is_graph_input = 1;
  b.gin[b.g.n_inputs++] = x;
  b.gout[b.g.n_outputs++] = s;
  b.gout[b.g.n_outputs++] = nz;
  gb_node(&b, "Shape", 1, (int[]){x}, s, 13);
  gb_node(&b, "NonZero", 1, (int[]){x}, nz, 13);
  if (!b.n[0].op || !b.n[1].op) { CHECK(!"Shape/NonZero not registered"); return; }
  er_exec *e;
  CHECK_OK(er_exec_create(&b.g, NULL, er_host_allocator(), &e));
  float xs[6] = {0, 1, 0, 2, 3, 0};
  er_tensor xt = {.dtype = ER_F32, .rank = 2, .dims = {2, 3}, .data = xs};
  CHECK_OK(er_exec_set_input(e, 0, &xt));
  CHECK_OK(er_exec_run(e));
  CHECK(er_exec_is_dynamic(e));
  const er_tensor *st = er_exec_output(e, 0), *nt = er_exec_output(e, 1);
  CHECK(st->dtype == ER_I64 && st->dims[0] == 2 && ((int64_t *)st->data)[1] == 3);
  CHECK(nt->rank == 2 && nt->dims[0] == 2 && nt->dims[1] == 3);
  if (nt->dims[1] == 3) {
    const int64_t *p = (const int64_t *)nt->data;
    CHECK(p[0] == 0 && p[1] == 1 && p[2] == 1 && p[3] == 1 && p[4] == 0 && p[5] == 1);
  }
  /* run again with other data: dynamic shapes follow */
  float ys[6] = {1, 1, 1, 1, 1, 1};
  er_tensor yt = {.dtype = ER_F32, .rank = 2, .dims = {2, 3}, .data = ys};
  CHECK_OK(er_exec_set_input(e, 0, &yt));
  CHECK_OK(er_exec_run(e));
  CHECK(er_exec_output(e, 1)->dims[1] == 6);
  er_exec_destroy(e);
}

TEST(exec_kernel_error_names_node) {
  gb b;
  gb_init(&b);
  int x = gb_value(&b, "x", ER_VALUE_INPUT), y = gb_value(&b, "y", ER_VALUE_INPUT),
      z = gb_value(&b, "z", ER_VALUE_NODE);
  b.v[x].is_graph_input = b.v[y].is_graph_input = 1;
  b.gin[b.g.n_inputs++] = x;
  b.gin[b.g.n_inputs++] = y;
  b.gout[b.g.n_outputs++] = z;
  gb_node(&b, "Add", 2, (int[]){x, y}, z, 14);
  if (!b.n[0].op) return;
  b.n[0].name = "adder";
  er_exec *e;
  CHECK_OK(er_exec_create(&b.g, NULL, er_host_allocator(), &e));
  float d[5] = {0};
  er_tensor a = {.dtype = ER_F32, .rank = 1, .dims = {3}, .data = d};
  er_tensor c = {.dtype = ER_F32, .rank = 1, .dims = {5}, .data = d};
  CHECK_OK(er_exec_set_input(e, 0, &a));
  CHECK_OK(er_exec_set_input(e, 1, &c));
  er_status s = er_exec_run(e);
  CHECK(s && strstr(er_status_message(s), "node 'adder' (Add)"));
  er_status_free(s);
  er_exec_destroy(e);
}

/* Views: Identity's output takes its input's buffer (no copy), and an in-place op on that
 * input must then not overwrite it while the view is still read:
 * a = Relu(x); b = Identity(a); c = Neg(a) (a dies here, b does not); y = Add(b, c). */
TEST(exec_view_shares_buffer_and_blocks_in_place) {
  gb b;
  gb_init(&b);
  int x = gb_value(&b, "x", ER_VALUE_INPUT), a = gb_value(&b, "a", ER_VALUE_NODE),
      v = gb_value(&b, "b", ER_VALUE_NODE), c = gb_value(&b, "c", ER_VALUE_NODE),
      y = gb_value(&b, "y", ER_VALUE_NODE);
  b.v[x].is_graph_input = 1;
  b.v[x].dtype = ER_F32;
  b.gin[b.g.n_inputs++] = x;
  b.gout[b.g.n_outputs++] = y;
  b.gout[b.g.n_outputs++] = v;
  gb_node(&b, "Relu", 1, (int[]){x}, a, 14);
  gb_node(&b, "Identity", 1, (int[]){a}, v, 14);
  gb_node(&b, "Neg", 1, (int[]){a}, c, 13);
  gb_node(&b, "Add", 2, (int[]){v, c}, y, 14);
  for (int i = 0; i < 4; i++)
    if (!b.n[i].op) { CHECK(!"op not registered"); return; }
  er_exec *e;
  CHECK_OK(er_exec_create(&b.g, NULL, er_host_allocator(), &e));
  float xs[6] = {1, 2, -3, 4, 5, 6};
  er_tensor xt = {.dtype = ER_F32, .rank = 1, .dims = {6}, .data = xs};
  CHECK_OK(er_exec_set_input(e, 0, &xt));
  CHECK_OK(er_exec_run(e));
  CHECK(!er_exec_is_dynamic(e));
  CHECK(er_exec_node(e, 1)->out[0]->data == er_exec_node(e, 0)->out[0]->data); /* b is a */
  CHECK(er_exec_node(e, 2)->out[0]->data != er_exec_node(e, 0)->out[0]->data); /* Neg not in a */
  const float *yv = (const float *)er_exec_output(e, 0)->data, *bv = (const float *)er_exec_output(e, 1)->data;
  int ok = 1;
  for (int i = 0; i < 6; i++) ok &= yv[i] == 0.0f && bv[i] == (xs[i] > 0 ? xs[i] : 0);
  CHECK(ok);
  er_exec_destroy(e);
}

/* ---- If planning (tests/data/exec) ---- */

static er_status load_exec_model(const char *name, er_imported *m, er_exec **e) {
  char path[256];
  snprintf(path, sizeof path, "tests/data/exec/%s.onnx", name);
  memset(m, 0, sizeof *m);
  *e = NULL;
  const void *data;
  size_t size;
  ER_RETURN_IF_ERROR(er_map_file(path, &m->mappings, &data, &size));
  ER_RETURN_IF_ERROR(er_onnx_import(data, size, NULL, path, m));
  return er_exec_create(m->graph, NULL, er_host_allocator(), e);
}

/* Bind x (n floats: i - 1.5) and, when the graph has a second input, the bool c. */
static er_status bind_xc(er_exec *e, int64_t n, int c) {
  float xs[16];
  for (int i = 0; i < 16; i++) xs[i] = (float)i - 1.5f;
  er_tensor x = {.dtype = ER_F32, .rank = 1, .dims = {n}, .data = xs};
  ER_RETURN_IF_ERROR(er_exec_set_input(e, 0, &x));
  uint8_t cv = (uint8_t)c;
  er_tensor ct = {.dtype = ER_BOOL, .rank = 0, .data = &cv};
  return c >= 0 ? er_exec_set_input(e, 1, &ct) : NULL;
}

static float relu1(int i) { return i - 1.5f > 0 ? i - 1.5f : 0; }

TEST(exec_if_same_shapes_static) {
  er_imported m;
  er_exec *e;
  CHECK_OK(load_exec_model("if_same", &m, &e));
  if (!e) return;
  for (int round = 0; round < 4; round++) { /* alternate the branches: no re-plan */
    int c = round & 1;
    CHECK_OK(bind_xc(e, 4, c));
    CHECK_OK(er_exec_run(e));
    CHECK(!er_exec_is_dynamic(e) && er_exec_arena_bytes(e) > 0);
    const er_tensor *y = er_exec_output(e, 0), *b = er_exec_output(e, 1);
    int ok = y->rank == 1 && y->dims[0] == 4 && b->dims[0] == 4;
    for (int i = 0; ok && i < 4; i++) {
      float a = relu1(i);
      ok &= ((float *)y->data)[i] == (c ? a + a : a * a);
      ok &= ((float *)b->data)[i] == -((float)i - 1.5f); /* b did not overwrite a */
    }
    CHECK(ok);
  }
  er_exec_destroy(e);
  er_imported_free(&m);
}

TEST(exec_if_different_shapes_dynamic) {
  er_imported m;
  er_exec *e;
  CHECK_OK(load_exec_model("if_diff", &m, &e));
  if (!e) return;
  for (int c = 1; c >= 0; c--) {
    CHECK_OK(bind_xc(e, 4, c));
    CHECK_OK(er_exec_run(e));
    CHECK(er_exec_is_dynamic(e));
    const er_tensor *y = er_exec_output(e, 0);
    CHECK(y->rank == 1 && y->dims[0] == (c ? 4 : 8));
    int ok = y->dims[0] == (c ? 4 : 8);
    for (int i = 0; ok && i < y->dims[0]; i++)
      ok &= ((float *)y->data)[i] == (c ? 2 * relu1(i) : relu1(i % 4));
    CHECK(ok);
  }
  er_exec_destroy(e);
  er_imported_free(&m);
}

TEST(exec_if_failing_branch_reports_when_taken) {
  er_imported m;
  er_exec *e;
  CHECK_OK(load_exec_model("if_fails", &m, &e));
  if (!e) return;
  /* 4 elements: the else branch's Reshape to [3,-1] cannot plan; the If is static */
  CHECK_OK(bind_xc(e, 4, 1));
  CHECK_OK(er_exec_run(e));
  CHECK(!er_exec_is_dynamic(e));
  CHECK(er_exec_output(e, 0)->dims[0] == 4 && ((float *)er_exec_output(e, 0)->data)[3] == 3.0f);
  CHECK_OK(bind_xc(e, 4, 0));
  er_status s = er_exec_run(e);
  CHECK(s && strstr(er_status_message(s), "node 'if' (If)") &&
        strstr(er_status_message(s), "node 'else_reshape' (Reshape)"));
  er_status_free(s);
  /* 6 elements: both branches plan, to different shapes ([6] and [3,2]): dynamic */
  CHECK_OK(bind_xc(e, 6, 0));
  CHECK_OK(er_exec_run(e));
  CHECK(er_exec_is_dynamic(e));
  const er_tensor *y = er_exec_output(e, 0);
  CHECK(y->rank == 2 && y->dims[0] == 3 && y->dims[1] == 2 && ((float *)y->data)[5] == 3.5f);
  er_exec_destroy(e);
  er_imported_free(&m);
}

TEST(exec_if_known_condition_plans_taken_branch) {
  er_imported m;
  er_exec *e;
  CHECK_OK(load_exec_model("if_const", &m, &e));
  if (!e) return;
  CHECK_OK(bind_xc(e, 4, -1)); /* Shape(x) == 4: then (Neg) */
  CHECK_OK(er_exec_run(e));
  CHECK(!er_exec_is_dynamic(e));
  const er_tensor *y = er_exec_output(e, 0);
  CHECK(y->rank == 1 && y->dims[0] == 4 && ((float *)y->data)[0] == 1.5f);
  CHECK_OK(bind_xc(e, 6, -1)); /* else: Reshape to [3, 2] */
  CHECK_OK(er_exec_run(e));
  CHECK(!er_exec_is_dynamic(e));
  y = er_exec_output(e, 0);
  CHECK(y->rank == 2 && y->dims[0] == 3 && y->dims[1] == 2 && ((float *)y->data)[1] == -0.5f);
  CHECK_OK(bind_xc(e, 5, -1)); /* else with 5 elements: certain to fail, so planning does */
  er_status s = er_exec_plan(e);
  CHECK(s && strstr(er_status_message(s), "else_reshape"));
  er_status_free(s);
  er_exec_destroy(e);
  er_imported_free(&m);
}

/* er_exec_set_release: after planning, constants packed into a kernel's state (LSTM W and R)
 * are reported once, with their own bytes; a constant also read elsewhere (B, read by the
 * LSTM and by a Relu) and graph inputs never are. A re-plan prepares again (the data is
 * still readable) and reports again. */
typedef struct rel_log {
  int n;
  const void *p[8];
  size_t bytes[8];
} rel_log;
static void rel_cb(void *user, const void *data, size_t bytes) {
  rel_log *l = (rel_log *)user;
  if (l->n < 8) l->p[l->n] = data, l->bytes[l->n] = bytes;
  l->n++;
}
TEST(exec_release_packed_constants) {
  enum { T = 3, I = 4, H = 8 };
  static float W[4 * H * I], R[4 * H * H], Bv[8 * H], X[T * I];
  for (int k = 0; k < 4 * H * I; k++) W[k] = 0.01f * (float)(k % 17) - 0.08f;
  for (int k = 0; k < 4 * H * H; k++) R[k] = 0.02f * (float)(k % 13) - 0.12f;
  for (int k = 0; k < 8 * H; k++) Bv[k] = 0.05f * (float)(k % 5) - 0.1f;
  for (int k = 0; k < T * I; k++) X[k] = 0.3f * (float)k - 1.0f;
  gb b;
  gb_init(&b);
  int x = gb_value(&b, "x", ER_VALUE_INPUT), w = gb_value(&b, "W", ER_VALUE_INITIALIZER),
      r = gb_value(&b, "R", ER_VALUE_INITIALIZER), bb = gb_value(&b, "B", ER_VALUE_INITIALIZER),
      y = gb_value(&b, "y", ER_VALUE_NODE), z = gb_value(&b, "z", ER_VALUE_NODE);
  int64_t dx[3] = {T, 1, I}, dw[3] = {1, 4 * H, I}, dr[3] = {1, 4 * H, H}, db[2] = {1, 8 * H};
  b.v[x].is_graph_input = 1;
  b.v[x].dtype = ER_F32, b.v[x].rank = 3;
  memcpy(b.v[x].dims, dx, sizeof dx);
  b.v[x].dims[0] = -1; /* symbolic sequence length */
  b.v[x].dim_params[0] = "T";
  b.v[w].dtype = ER_F32, b.v[w].rank = 3, b.v[w].data = W;
  memcpy(b.v[w].dims, dw, sizeof dw);
  b.v[r].dtype = ER_F32, b.v[r].rank = 3, b.v[r].data = R;
  memcpy(b.v[r].dims, dr, sizeof dr);
  b.v[bb].dtype = ER_F32, b.v[bb].rank = 2, b.v[bb].data = Bv;
  memcpy(b.v[bb].dims, db, sizeof db);
  b.gin[b.g.n_inputs++] = x;
  static er_attr hs;
  hs = (er_attr){.name = "hidden_size", .type = ER_ATTR_INT, .i = H};
  gb_node(&b, "LSTM", 4, (int[]){x, w, r, bb}, y, 14);
  b.n[0].n_attrs = 1;
  b.n[0].attrs = &hs;
  gb_node(&b, "Relu", 1, (int[]){bb}, z, 14);
  b.gout[b.g.n_outputs++] = y;
  b.gout[b.g.n_outputs++] = z;
  er_exec *e = NULL;
  CHECK_OK(er_exec_create(&b.g, NULL, er_host_allocator(), &e));
  if (!e) return;
  rel_log log = {0};
  er_exec_set_release(e, rel_cb, &log);
  er_tensor t = {0};
  er_tensor_set_shape(&t, ER_F32, 3, dx);
  t.data = X;
  CHECK_OK(er_exec_set_input(e, 0, &t));
  CHECK_OK(er_exec_run(e));
  CHECK(log.n == 2);
  int seen_w = 0, seen_r = 0;
  for (int k = 0; k < log.n && k < 8; k++) {
    seen_w += log.p[k] == (const void *)W && log.bytes[k] == sizeof W;
    seen_r += log.p[k] == (const void *)R && log.bytes[k] == sizeof R;
  }
  CHECK(seen_w == 1 && seen_r == 1);
  /* the result does not depend on the weights being released (they are re-read) */
  const er_tensor *out = er_exec_output(e, 0);
  float first[T * H];
  CHECK(out && er_tensor_numel(out) == T * H);
  if (out) memcpy(first, out->data, sizeof first);
  int64_t dx2[3] = {T - 1, 1, I};
  er_tensor_set_shape(&t, ER_F32, 3, dx2);
  CHECK_OK(er_exec_set_input(e, 0, &t));
  CHECK_OK(er_exec_run(e)); /* new shape: planned and prepared again */
  CHECK(log.n == 4);
  out = er_exec_output(e, 0);
  CHECK(out && er_tensor_numel(out) == (T - 1) * H && !memcmp(out->data, first, sizeof(float) * (T - 1) * H));
  er_exec_destroy(e);
}
