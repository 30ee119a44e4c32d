/* ONNX writer (src/export): import -> write -> import gives the same IR (nodes, attributes
 * of every kind, subgraphs, initializer bytes, declared types) for every model we have, the
 * same results when run, and clear errors for what has no ONNX form. */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/dtype.h"
#include "export/onnx_write.h"
#include "export/pb_write.h"
#include "import/onnx/onnx_internal.h"
#include "opt/opt.h"
#include "test.h"

/* ---- deep IR comparison (by names: value indices may differ) ---- */

static int fail_at(const char *what, const char *name) {
  fprintf(stderr, "    differs: %s '%s'\n", what, name ? name : "");
  return 0;
}

static int str_eq(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

static int tensor_eq(int dt, int rank, const int64_t *dims, const void *a, const void *b) {
  int64_t n = rank < 0 ? 0 : er_shape_numel(dims, rank);
  size_t nb = (size_t)n * er_dtype_size(dt);
  return nb == 0 || memcmp(a, b, nb) == 0;
}

static int type_eq(const er_value *a, const er_value *b, int params) {
  if (a->dtype != b->dtype || a->rank != b->rank) return 0;
  for (int d = 0; d < a->rank && d < ER_MAX_RANK; d++) {
    if (a->dims[d] != b->dims[d]) return 0;
    if (params && !str_eq(a->dim_params[d], b->dim_params[d])) return 0;
  }
  return 1;
}

static int graph_eq(const er_graph *a, const er_graph *b);

static int attr_eq(const er_attr *x, const er_attr *y) {
  if (!str_eq(x->name, y->name) || x->type != y->type) return 0;
  switch (x->type) {
    case ER_ATTR_FLOAT: return memcmp(&x->f, &y->f, 4) == 0;
    case ER_ATTR_INT: return x->i == y->i;
    case ER_ATTR_STRING: return x->s_len == y->s_len && memcmp(x->s, y->s, x->s_len) == 0;
    case ER_ATTR_FLOATS: return x->n == y->n && (!x->n || !memcmp(x->floats, y->floats, 4 * (size_t)x->n));
    case ER_ATTR_INTS: return x->n == y->n && (!x->n || !memcmp(x->ints, y->ints, 8 * (size_t)x->n));
    case ER_ATTR_STRINGS:
      if (x->n != y->n) return 0;
      for (int k = 0; k < x->n; k++)
        if (!str_eq(x->strings[k], y->strings[k])) return 0;
      return 1;
    case ER_ATTR_TENSOR:
      if (x->t->dtype != y->t->dtype || x->t->rank != y->t->rank) return 0;
      for (int d = 0; d < x->t->rank; d++)
        if (x->t->dims[d] != y->t->dims[d]) return 0;
      return tensor_eq(x->t->dtype, x->t->rank, x->t->dims, x->t->data, y->t->data);
    case ER_ATTR_GRAPH: return graph_eq(x->g, y->g);
    case ER_ATTR_GRAPHS:
      if (x->n != y->n) return 0;
      for (int k = 0; k < x->n; k++)
        if (!graph_eq(x->graphs[k], y->graphs[k])) return 0;
      return 1;
    default: return 1;
  }
}

static const char *vname(const er_graph *g, int v) { return v >= 0 ? g->values[v].name : ""; }

static int graph_eq(const er_graph *a, const er_graph *b) {
  if (a->n_nodes != b->n_nodes) return fail_at("node count of graph", a->name);
  for (int i = 0; i < a->n_nodes; i++) {
    const er_node *x = &a->nodes[i], *y = &b->nodes[i];
    if (!str_eq(x->name, y->name) || !str_eq(x->op_type, y->op_type) || !str_eq(x->domain, y->domain) ||
        x->opset != y->opset || x->n_inputs != y->n_inputs || x->n_outputs != y->n_outputs ||
        x->n_attrs != y->n_attrs)
      return fail_at("node", x->name);
    for (int k = 0; k < x->n_inputs; k++)
      if (!str_eq(vname(a, x->inputs[k]), vname(b, y->inputs[k]))) return fail_at("input of node", x->name);
    for (int k = 0; k < x->n_outputs; k++)
      if (!str_eq(vname(a, x->outputs[k]), vname(b, y->outputs[k]))) return fail_at("output of node", x->name);
    for (int k = 0; k < x->n_attrs; k++)
      if (!attr_eq(&x->attrs[k], &y->attrs[k])) return fail_at("attribute of node", x->name);
  }
  if (a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs) return fail_at("graph io", a->name);
  for (int k = 0; k < a->n_inputs; k++) {
    const er_value *x = &a->values[a->inputs[k]], *y = &b->values[b->inputs[k]];
    if (!str_eq(x->name, y->name) || x->kind != y->kind || !type_eq(x, y, x->kind == ER_VALUE_INPUT))
      return fail_at("graph input", x->name);
  }
  for (int k = 0; k < a->n_outputs; k++) {
    const er_value *x = &a->values[a->outputs[k]], *y = &b->values[b->outputs[k]];
    if (!str_eq(x->name, y->name) || !type_eq(x, y, 1)) return fail_at("graph output", x->name);
  }
  /* every initializer and declared intermediate type, by name */
  for (int v = 0; v < a->n_values; v++) {
    const er_value *x = &a->values[v];
    int w = er_graph_find_value(b, x->name);
    if (x->kind == ER_VALUE_INITIALIZER) {
      int used = x->is_graph_input;
      for (int i = 0; i < a->n_nodes && !used; i++)
        for (int k = 0; k < a->nodes[i].n_inputs; k++) used |= a->nodes[i].inputs[k] == v;
      if (!used) continue; /* unused initializers are dropped */
      if (w < 0 || b->values[w].kind != ER_VALUE_INITIALIZER || !type_eq(x, &b->values[w], 0) ||
          !tensor_eq(x->dtype, x->rank, x->dims, x->data, b->values[w].data))
        return fail_at("initializer", x->name);
    } else if (x->kind == ER_VALUE_NODE && x->dtype) {
      if (w < 0 || !type_eq(x, &b->values[w], 1)) return fail_at("declared type of", x->name);
    }
  }
  return 1;
}

/* Import path without passes, write, import the bytes again, compare. Returns 1 ok, 0 on a
 * difference or error, -1 when the writer declines (ER_UNSUPPORTED; message printed if
 * verbose). */
static int roundtrip(const char *path, int verbose) {
  er_imported a, b;
  memset(&b, 0, sizeof b);
  er_status s = er_onnx_import_file(path, ER_ONNX_NO_OP_RESOLVE, &a);
  if (s) { /* not importable: not the writer's business */
    er_status_free(s);
    er_imported_free(&a);
    return 2;
  }
  void *buf = NULL;
  size_t n = 0;
  int rc = 1;
  s = er_onnx_write_buffer(&a, &buf, &n);
  if (s) {
    rc = er_status_code(s) == ER_UNSUPPORTED ? -1 : 0;
    if (verbose || rc == 0) fprintf(stderr, "    %s: %s\n", path, er_status_message(s));
    er_status_free(s);
  } else {
    s = er_onnx_import_ex(buf, n, NULL, "written", &b, ER_ONNX_NO_OP_RESOLVE);
    if (s) {
      fprintf(stderr, "    %s: re-import failed: %s\n", path, er_status_message(s));
      er_status_free(s);
      rc = 0;
    } else if (!graph_eq(a.graph, b.graph)) {
      fprintf(stderr, "    %s: round trip differs\n", path);
      rc = 0;
    } else if (b.ir_version < a.ir_version || b.n_opsets < a.n_opsets) {
      fprintf(stderr, "    %s: ir_version or opsets lost\n", path);
      rc = 0;
    }
  }
  er_imported_free(&b);
  er_imported_free(&a);
  free(buf);
  return rc;
}

static void roundtrip_glob(int *er_failed_, const char *const *patterns, int n_patterns,
                           const char *what, int min_ok) {
  glob_t gl;
  memset(&gl, 0, sizeof gl);
  for (int i = 0; i < n_patterns; i++) glob(patterns[i], i ? GLOB_APPEND : 0, NULL, &gl);
  int ok = 0, declined = 0, bad = 0;
  for (size_t i = 0; i < gl.gl_pathc; i++) {
    int rc = roundtrip(gl.gl_pathv[i], 0);
    if (rc == 1) ok++;
    else if (rc == -1) declined++;
    else if (rc == 0) bad++;
  }
  fprintf(stderr, "  %s: %d written and re-imported identically, %d declined (unsupported), %d wrong\n",
          what, ok, declined, bad);
  CHECK(bad == 0);
  CHECK(ok >= min_ok);
  globfree(&gl);
}

TEST(onnx_write_roundtrip_test_data) {
  const char *p[] = {"tests/data/*/*.onnx", "tests/data/*/*/*.onnx"};
  roundtrip_glob(er_failed_, p, 2, "tests/data", 20);
}

TEST(onnx_write_roundtrip_real_models) {
  const char *p[] = {".cache/models/*.onnx", ".cache/models/bench/*.onnx"};
  roundtrip_glob(er_failed_, p, 2, ".cache/models", 0);
}

/* The ONNX backend tests (Debian's package and the onnx wheel's newer ones): every attribute
 * kind, subgraphs, float16/bfloat16/float8/4-bit tensors. */
TEST(onnx_write_roundtrip_onnx_backend_tests) {
  const char *p[] = {"/usr/share/libonnx-testdata/data/*/*/model.onnx",
                     "/root/.pyenv/versions/*/lib/python3*/site-packages/onnx/backend/test/data/node/*/model.onnx",
                     "/usr/local/lib/python3*/dist-packages/onnx/backend/test/data/node/*/model.onnx",
                     "/usr/lib/python3/dist-packages/onnx/backend/test/data/node/*/model.onnx"};
  roundtrip_glob(er_failed_, p, 4, "ONNX backend tests", 0);
}

/* ---- specific contracts ---- */

TEST(onnx_write_rejects_internal_attributes) {
  er_imported m;
  CHECK_OK(er_onnx_import_file("tests/data/opt/act_conv.onnx", 0, &m));
  if (!m.graph) return;
  /* fused activations stay on standard Conv nodes when the layout pass is off */
  CHECK_OK(er_optimize_ex(&m, ER_OPT_ALL & ~(unsigned)ER_OPT_LAYOUT, ER_OPT_F_FORCE_ACT, NULL));
  void *buf = NULL;
  size_t n = 0;
  er_status s = er_onnx_write_buffer(&m, &buf, &n);
  CHECK(er_status_code(s) == ER_UNSUPPORTED);
  CHECK(s && strstr(er_status_message(s), "'_act'") && strstr(er_status_message(s), "(Conv)"));
  CHECK(buf == NULL);
  er_status_free(s);
  /* an edgerun-domain op */
  m.graph->nodes[0].domain = "edgerun";
  s = er_onnx_write_buffer(&m, &buf, &n);
  CHECK(s && strstr(er_status_message(s), "edgerun-internal operator"));
  er_status_free(s);
  /* nothing is left behind by a failed file write */
  char path[] = "/tmp/er_write_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  unlink(path);
  s = er_onnx_write_file(&m, path);
  CHECK(s && strstr(er_status_message(s), path));
  er_status_free(s);
  CHECK(access(path, F_OK) != 0);
  er_imported_free(&m);
}

TEST(onnx_write_4bit_packing_and_opsets) {
  er_imported m;
  CHECK_OK(er_onnx_import_file("tests/data/opt/identity.onnx", 0, &m));
  if (!m.graph) return;
  er_graph *g = m.graph;
  /* turn the first float initializer (or make one) into int4 / uint4 data of odd length */
  int v = -1;
  for (int i = 0; i < g->n_values; i++)
    if (g->values[i].kind == ER_VALUE_INITIALIZER) v = i;
  int8_t q[5] = {-8, -1, 0, 3, 7};
  if (v >= 0) {
    er_value *val = &g->values[v];
    val->dtype = ER_I4;
    val->rank = 1;
    val->dims[0] = 5;
    val->data = q;
  }
  /* a node from a domain the model does not import gets an opset_import entry */
  g->nodes[0].domain = "com.example";
  g->nodes[0].opset = 3;
  void *buf = NULL;
  size_t n = 0;
  CHECK_OK(er_onnx_write_buffer(&m, &buf, &n));
  er_imported b;
  memset(&b, 0, sizeof b);
  CHECK_OK(er_onnx_import_ex(buf, n, NULL, "written", &b, ER_ONNX_NO_OP_RESOLVE));
  if (b.graph && v >= 0) {
    int w = er_graph_find_value(b.graph, g->values[v].name);
    CHECK(w >= 0 && b.graph->values[w].dtype == ER_I4 && b.graph->values[w].dims[0] == 5);
    if (w >= 0) CHECK(memcmp(b.graph->values[w].data, q, 5) == 0);
    CHECK(b.ir_version >= 10); /* int4 needs IR 10 */
    int found = 0;
    for (int i = 0; i < b.n_opsets; i++)
      found |= !strcmp(b.opset_domains[i], "com.example") && b.opset_versions[i] == 3;
    CHECK(found);
  }
  /* the packed bytes: 5 int4 -> 3 bytes {0x?8 ...}: -8 = 0x8, -1 = 0xf -> 0xf8, 0 | 3<<4 = 0x30, 7 */
  const uint8_t want[3] = {0xf8, 0x30, 0x07};
  int seen = 0;
  for (size_t i = 0; i + 4 <= n; i++)
    if (((const uint8_t *)buf)[i] == 0x4a && ((const uint8_t *)buf)[i + 1] == 3 &&
        !memcmp((const uint8_t *)buf + i + 2, want, 3))
      seen = 1; /* field 9 (raw_data), LEN 3 */
  if (v >= 0) CHECK(seen);
  er_imported_free(&b);
  free(buf);
  er_imported_free(&m);
}

TEST(pb_write_lengths_are_minimal) {
  pbw w;
  memset(&w, 0, sizeof w);
  size_t at = pbw_begin(&w, 7);
  static uint8_t big[300];
  memset(big, 0xab, sizeof big);
  pbw_bytes(&w, 9, big, sizeof big);
  pbw_end(&w, at);
  CHECK(!pbw_error(&w));
  /* tag 7/LEN, length 303 = 0xaf 0x02, tag 9/LEN, length 300 = 0xac 0x02, payload */
  CHECK(w.len == 306);
  CHECK(w.buf[0] == (7 << 3 | 2) && w.buf[1] == 0xaf && w.buf[2] == 0x02);
  CHECK(w.buf[3] == (9 << 3 | 2) && w.buf[4] == 0xac && w.buf[5] == 0x02 && w.buf[6] == 0xab);
  pbw_free(&w);
  /* negative ints are ten bytes */
  pbw_int(&w, 1, -1);
  CHECK(w.len == 11 && w.buf[10] == 0x01);
  pbw_free(&w);
}
