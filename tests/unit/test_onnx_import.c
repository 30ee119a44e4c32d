/* ONNX importer: protobuf reader, tensors, graph building, errors on corrupt input.
 * Models come from tests/data/import/make.py (committed .onnx files); a few malformed
 * byte strings are written inline. Run from the repository root (or set ER_TEST_DATA). */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"
#include "import/onnx/onnx_internal.h"
#include "kernels/kernel.h"
#include "test.h"

static const char *data_dir(void) {
  const char *d = getenv("ER_TEST_DATA");
  return d ? d : "tests/data/import";
}

static char *path_of(const char *name, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s", data_dir(), name);
  return buf;
}

/* Read a whole file into malloc memory (with `pad` bytes of offset at the front). */
static uint8_t *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = (uint8_t *)malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return b;
}

/* Import tests/data/import/<name>. Returns the status; *buf must be freed after m. */
static er_status import_named(const char *name, er_imported *m, unsigned flags, uint8_t **buf) {
  char p[512];
  size_t n = 0;
  memset(m, 0, sizeof *m);
  *buf = read_file(path_of(name, p, sizeof p), &n);
  if (!*buf) return ER_ERR(ER_IO, "cannot read %s", p);
  return er_onnx_import_ex(*buf, n, data_dir(), name, m, flags);
}

/* Expect import of <name> to fail with `code` and a message containing `text`. */
static int fails_with(const char *name, er_code code, const char *text) {
  er_imported m;
  uint8_t *buf;
  er_status s = import_named(name, &m, ER_ONNX_NO_OP_RESOLVE, &buf);
  int ok = s && er_status_code(s) == code && strstr(er_status_message(s), text) != NULL;
  if (!ok)
    fprintf(stderr, "  %s: expected code %d with '%s', got %d: %s\n", name, (int)code, text,
            (int)er_status_code(s), er_status_message(s));
  er_status_free(s);
  er_imported_free(&m);
  free(buf);
  return ok;
}

static const er_value *val(const er_graph *g, const char *name) {
  int i = er_graph_find_value(g, name);
  return i >= 0 ? &g->values[i] : NULL;
}

static int node_index(const er_graph *g, const char *name) {
  for (int i = 0; i < g->n_nodes; i++)
    if (!strcmp(g->nodes[i].name, name)) return i;
  return -1;
}

/* ---- protobuf reader ---- */

TEST(pb_varint_limits) {
  uint64_t v = 0;
  const uint8_t one[] = {0x01};
  CHECK(pb_varint(one, one + 1, &v) == 1 && v == 1);
  const uint8_t big[] = {0x80, 0x01};
  CHECK(pb_varint(big, big + 2, &v) == 2 && v == 128);
  const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  CHECK(pb_varint(max, max + 10, &v) == 10 && v == UINT64_MAX);
  const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
  CHECK(pb_varint(over, over + 10, &v) == -1); /* bits past 64 */
  const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  CHECK(pb_varint(eleven, eleven + 11, &v) == -1);
  CHECK(pb_varint(big, big + 1, &v) == 0); /* truncated */
}

TEST(pb_fields_and_packed) {
  /* field 1 varint 150; field 2 packed varints {3, 270}; field 2 unpacked 5;
   * field 3 fixed32 0x01020304; field 4 fixed64 1 */
  const uint8_t msg[] = {0x08, 0x96, 0x01, 0x12, 0x03, 0x03, 0x8e, 0x02, 0x10, 0x05,
                         0x1d, 0x04, 0x03, 0x02, 0x01, 0x21, 1, 0, 0, 0, 0, 0, 0, 0};
  pb_reader r;
  pb_init(&r, msg, sizeof msg);
  pb_field f;
  er_status err = NULL;
  size_t n = 0;
  int64_t got[4] = {0};
  int k = 0;
  CHECK(pb_next(&r, &f, &err) == 1 && f.num == 1 && f.wire == PB_VARINT && f.u == 150);
  for (int i = 0; i < 2; i++) {
    CHECK(pb_next(&r, &f, &err) == 1 && f.num == 2);
    CHECK_OK(pb_rep_count(&f, PB_VARINT, "f2", &n));
    pb_iter it;
    uint64_t v;
    pb_iter_init(&it, &f, PB_VARINT);
    while (pb_iter_next(&it, &v) && k < 4) got[k++] = (int64_t)v;
  }
  CHECK(n == 3 && k == 3 && got[0] == 3 && got[1] == 270 && got[2] == 5);
  CHECK(pb_next(&r, &f, &err) == 1 && f.num == 3 && f.wire == PB_I32 && f.u == 0x01020304);
  CHECK(pb_next(&r, &f, &err) == 1 && f.num == 4 && f.wire == PB_I64 && f.u == 1);
  CHECK(pb_next(&r, &f, &err) == 0);
  CHECK(err == NULL);
}

TEST(pb_rejects_bad_wire_data) {
  static const struct { uint8_t b[16]; size_t n; const char *text; } cases[] = {
      {{0x08}, 1, "truncated varint"},
      {{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 12, "overlong"},
      {{0x12, 0x05, 0x01}, 3, "only 1 bytes remain"},
      {{0x12, 0xff, 0xff, 0xff, 0xff, 0x0f}, 6, "only 0 bytes remain"},
      {{0x0b}, 1, "group"},
      {{0x0f}, 1, "invalid"},
      {{0x00}, 1, "field number 0"},
      {{0x1d, 0x01, 0x02}, 3, "truncated 32-bit"},
      {{0x19, 0x01}, 2, "truncated 64-bit"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pb_reader r;
    pb_init(&r, cases[i].b, cases[i].n);
    pb_field f;
    er_status err = NULL;
    int got;
    while ((got = pb_next(&r, &f, &err)) > 0) {
    }
    CHECK(got == -1);
    CHECK(err && strstr(er_status_message(err), cases[i].text));
    if (!err || !strstr(er_status_message(err), cases[i].text))
      fprintf(stderr, "  case %zu: %s\n", i, er_status_message(err));
    er_status_free(err);
  }
  /* packed fixed32 with a length that is not a multiple of 4 */
  const uint8_t pk[] = {0x22, 0x03, 1, 2, 3};
  pb_reader r;
  pb_init(&r, pk, sizeof pk);
  pb_field f;
  er_status err = NULL;
  size_t n = 0;
  CHECK(pb_next(&r, &f, &err) == 1);
  CHECK_ERR(pb_rep_count(&f, PB_I32, "floats", &n), ER_INVALID_MODEL);
  /* nesting limit */
  pb_reader deep = r;
  deep.depth = PB_MAX_DEPTH;
  pb_reader sub;
  const uint8_t nested[] = {0x0a, 0x00};
  pb_init(&r, nested, sizeof nested);
  r.depth = PB_MAX_DEPTH;
  CHECK(pb_next(&r, &f, &err) == 1);
  CHECK_ERR(pb_sub(&r, &f, &sub), ER_INVALID_MODEL);
  (void)deep;
}

/* ---- models ---- */

TEST(onnx_tiny_model) {
  er_imported m;
  uint8_t *buf;
  CHECK_OK(import_named("tiny.onnx", &m, ER_ONNX_NO_OP_RESOLVE, &buf));
  const er_graph *g = m.graph;
  CHECK(g != NULL);
  if (g) {
    CHECK(!strcmp(g->name, "tiny"));
    CHECK(m.ir_version == 8);
    CHECK(!strcmp(m.producer_name, "make.py") && !strcmp(m.producer_version, "1"));
    CHECK(m.n_opsets == 1 && !strcmp(m.opset_domains[0], "") && m.opset_versions[0] == 17);
    CHECK(g->n_inputs == 2 && g->n_outputs == 1 && g->n_nodes == 2);
    const er_value *x = &g->values[g->inputs[0]];
    CHECK(!strcmp(x->name, "x") && x->kind == ER_VALUE_INPUT && x->is_graph_input);
    CHECK(x->dtype == ER_F32 && x->rank == 2 && x->dims[0] == -1 && x->dims[1] == 4);
    CHECK(x->dim_params[0] && !strcmp(x->dim_params[0], "N") && x->dim_params[1] == NULL);
    /* initializer doubling as a graph input */
    const er_value *w = &g->values[g->inputs[1]];
    CHECK(!strcmp(w->name, "w") && w->kind == ER_VALUE_INITIALIZER && w->is_graph_input);
    CHECK(w->rank == 2 && w->dims[0] == 1 && w->dims[1] == 4 && w->data);
    if (w->data) {
      const float *wd = (const float *)w->data;
      CHECK(wd[0] == 0 && wd[1] == 1 && wd[2] == 2 && wd[3] == 3);
      CHECK(((uintptr_t)w->data & 3) == 0);
    }
    const er_value *y = &g->values[g->outputs[0]];
    CHECK(!strcmp(y->name, "y") && y->kind == ER_VALUE_NODE && y->producer == 1);
    CHECK(y->rank == 2 && y->dim_params[0] && !strcmp(y->dim_params[0], "N"));
    CHECK(!strcmp(g->nodes[0].name, "add") && !strcmp(g->nodes[0].op_type, "Add"));
    CHECK(!strcmp(g->nodes[1].name, "#1") && !strcmp(g->nodes[1].op_type, "Relu"));
    CHECK(g->nodes[0].opset == 17 && !strcmp(g->nodes[0].domain, ""));
    CHECK(g->nodes[0].n_inputs == 2 && g->nodes[0].inputs[1] == g->inputs[1]);
    CHECK(g->nodes[1].inputs[0] == g->nodes[0].outputs[0]);
    CHECK(g->parent == NULL && g->nodes[0].op == NULL);
  }
  er_imported_free(&m);
  free(buf);
}

TEST(onnx_ops_resolved) {
  /* Add and Relu are registered kernels: a full import resolves them. */
  if (!er_op_find("", "Add", 17) || !er_op_find("", "Relu", 17)) return;
  er_imported m;
  uint8_t *buf;
  CHECK_OK(import_named("tiny.onnx", &m, 0, &buf));
  if (m.graph) {
    CHECK(m.graph->nodes[0].op == er_op_find("", "Add", 17));
    CHECK(m.graph->nodes[1].op == er_op_find("", "Relu", 17));
  }
  er_imported_free(&m);
  free(buf);
}

TEST(onnx_raw_data_alignment) {
  /* The same model at 4 different buffer offsets: aligned raw_data is used in place,
   * unaligned raw_data is copied into 16-byte aligned pool memory. */
  char p[512];
  size_t n = 0;
  uint8_t *file = read_file(path_of("tiny.onnx", p, sizeof p), &n);
  CHECK(file != NULL);
  if (!file) return;
  uint8_t *buf = (uint8_t *)malloc(n + 16);
  int in_place = 0, copied = 0;
  for (int off = 0; off < 4; off++) {
    memcpy(buf + off, file, n);
    er_imported m;
    memset(&m, 0, sizeof m);
    CHECK_OK(er_onnx_import_ex(buf + off, n, NULL, "tiny", &m, ER_ONNX_NO_OP_RESOLVE));
    if (m.graph) {
      const er_value *w = val(m.graph, "w");
      const uint8_t *d = (const uint8_t *)w->data;
      CHECK(((uintptr_t)d & 3) == 0);
      if (d >= buf && d < buf + off + n) in_place++;
      else {
        copied++;
        CHECK(((uintptr_t)d & 15) == 0);
      }
      CHECK(((const float *)d)[3] == 3.0f);
    }
    er_imported_free(&m);
  }
  CHECK(in_place == 1 && copied == 3);
  free(buf);
  free(file);
}

TEST(onnx_every_prefix_fails) {
  static const char *names[] = {"tiny.onnx", "function.onnx", "subgraph.onnx", "tensors.onnx"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    char p[512];
    size_t n = 0;
    uint8_t *file = read_file(path_of(names[k], p, sizeof p), &n);
    CHECK(file != NULL);
    if (!file) continue;
    int bad = 0;
    for (size_t len = 0; len < n; len++) {
      /* a fresh allocation of exactly len bytes: ASan catches any over-read */
      uint8_t *b = (uint8_t *)malloc(len ? len : 1);
      memcpy(b, file, len);
      er_imported m;
      memset(&m, 0, sizeof m);
      /* ops resolved: a prefix that drops the functions leaves an unknown call */
      er_status s = er_onnx_import_ex(b, len, NULL, "prefix", &m, 0);
      if (!s || !*er_status_message(s)) {
        bad++;
        if (bad < 3) fprintf(stderr, "  %s: prefix of %zu bytes imported\n", names[k], len);
      }
      er_status_free(s);
      er_imported_free(&m);
      free(b);
    }
    CHECK(bad == 0);
    free(file);
  }
}

TEST(onnx_garbage_input) {
  const char *texts[] = {"hello world, this is not a model\n", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
                         "ir_version: 8\ngraph { }\n"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    er_imported m;
    memset(&m, 0, sizeof m);
    er_status s = er_onnx_import(texts[i], strlen(texts[i]) + (i == 1 ? 8 : 0), NULL, "junk", &m);
    CHECK(s != NULL);
    CHECK(s && !strncmp(er_status_message(s), "junk: ", 6));
    er_status_free(s);
    er_imported_free(&m);
  }
  /* random bytes, every single byte, an empty buffer */
  uint32_t seed = 12345;
  uint8_t b[512];
  for (int round = 0; round < 300; round++) {
    size_t n = 1 + (size_t)(round * 7 % 511);
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      b[i] = (uint8_t)(seed >> 16);
    }
    er_imported m;
    memset(&m, 0, sizeof m);
    er_status s = er_onnx_import(b, n, NULL, "random", &m);
    CHECK(s != NULL);
    er_status_free(s);
    er_imported_free(&m);
  }
  for (int c = 0; c < 256; c++) {
    uint8_t one = (uint8_t)c;
    er_imported m;
    memset(&m, 0, sizeof m);
    er_status s = er_onnx_import(&one, 1, NULL, "byte", &m);
    CHECK(s != NULL);
    er_status_free(s);
    er_imported_free(&m);
  }
  er_imported m;
  memset(&m, 0, sizeof m);
  CHECK_ERR(er_onnx_import("", 0, NULL, "empty", &m), ER_INVALID_MODEL);
  er_imported_free(&m);
  /* valid protobuf, no graph */
  const uint8_t nograph[] = {0x08, 0x08, 0x12, 0x01, 'x'};
  memset(&m, 0, sizeof m);
  er_status s = er_onnx_import(nograph, sizeof nograph, NULL, "ng", &m);
  CHECK(s && strstr(er_status_message(s), "has no graph"));
  er_status_free(s);
  er_imported_free(&m);
  /* graph given as a varint */
  const uint8_t wrong[] = {0x08, 0x08, 0x38, 0x01};
  memset(&m, 0, sizeof m);
  s = er_onnx_import(wrong, sizeof wrong, NULL, "wt", &m);
  CHECK(s && strstr(er_status_message(s), "expected length-delimited"));
  er_status_free(s);
  er_imported_free(&m);
}

TEST(onnx_bad_tensors) {
  CHECK(fails_with("absurd_dims.onnx", ER_OUT_OF_RANGE, "initializer 'huge': tensor of shape [1099511627776,1099511627776] is too large"));
  CHECK(fails_with("negative_dim.onnx", ER_INVALID_MODEL, "initializer 'neg': dimension 0 is negative (-3)"));
  CHECK(fails_with("short_raw.onnx", ER_INVALID_MODEL,
                   "short_raw.onnx: initializer 'w': raw_data has 10 bytes, shape [4,4] float32 needs 64"));
  CHECK(fails_with("dup_init.onnx", ER_INVALID_MODEL, "initializer 'w' is defined twice"));
}

TEST(onnx_bad_graphs) {
  CHECK(fails_with("cycle.onnx", ER_INVALID_MODEL, "cycle.onnx: graph has a cycle through node '"));
  CHECK(fails_with("missing_input.onnx", ER_INVALID_MODEL,
                   "missing_input.onnx: node 'adder' (Add) input 'ghost' is not defined"));
  CHECK(fails_with("two_producers.onnx", ER_INVALID_MODEL,
                   "value 'y' is produced by node 'r1' (Relu) and node 'r2' (Relu)"));
  CHECK(fails_with("undefined_output.onnx", ER_INVALID_MODEL,
                   "graph output 'y' is not produced by any node"));
  CHECK(fails_with("no_opset.onnx", ER_INVALID_MODEL,
                   "node 'f' (Foo): domain 'com.example' has no opset_import"));
  CHECK(fails_with("ref_outside.onnx", ER_INVALID_MODEL, "only allowed inside a function"));
  CHECK(fails_with("deep.onnx", ER_INVALID_MODEL, "nested deeper than"));
}

TEST(onnx_unsupported_op_message) {
  er_imported m;
  uint8_t *buf;
  er_status s = import_named("unsupported_op.onnx", &m, 0, &buf);
  CHECK(er_status_code(s) == ER_UNSUPPORTED);
  CHECK(!strcmp(er_status_message(s),
                "unsupported_op.onnx: unsupported operator NoSuchOp (opset 17) at node 'mystery'"));
  er_status_free(s);
  er_imported_free(&m);
  free(buf);
}

TEST(onnx_unsorted_nodes_sorted) {
  er_imported m;
  uint8_t *buf;
  CHECK_OK(import_named("unsorted.onnx", &m, ER_ONNX_NO_OP_RESOLVE, &buf));
  if (m.graph) {
    const er_graph *g = m.graph;
    CHECK(!strcmp(g->nodes[0].name, "n_a") && !strcmp(g->nodes[1].name, "n_b") &&
          !strcmp(g->nodes[2].name, "n_c"));
    for (int i = 0; i < g->n_nodes; i++) /* producers point at the new positions */
      CHECK(g->values[g->nodes[i].outputs[0]].producer == i);
  }
  er_imported_free(&m);
  free(buf);
}

TEST(onnx_external_data) {
  er_imported m;
  uint8_t *buf;
  CHECK_OK(import_named("external.onnx", &m, ER_ONNX_NO_OP_RESOLVE, &buf));
  if (m.graph) {
    const er_value *w = val(m.graph, "w");
    CHECK(w && w->kind == ER_VALUE_INITIALIZER && w->rank == 2 && w->data);
    if (w && w->data) {
      const float *d = (const float *)w->data;
      CHECK(d[0] == 0 && d[5] == 5 && d[15] == 15);
    }
    CHECK(m.mappings != NULL); /* external.bin stays mapped with the model */
  }
  er_imported_free(&m);
  free(buf);
  CHECK_OK(import_named("external_tail.onnx", &m, ER_ONNX_NO_OP_RESOLVE, &buf));
  if (m.graph) {
    const er_value *v = val(m.graph, "v");
    const float *d = (const float *)v->data;
    CHECK(v->dims[0] == 3 && d[0] == 7 && d[1] == 8 && d[2] == 9);
  }
  er_imported_free(&m);
  free(buf);
  /* no base directory: external data cannot be resolved */
  char p[512];
  size_t n = 0;
  buf = read_file(path_of("external.onnx", p, sizeof p), &n);
  memset(&m, 0, sizeof m);
  er_status s = er_onnx_import_ex(buf, n, NULL, "mem", &m, ER_ONNX_NO_OP_RESOLVE);
  CHECK(s && strstr(er_status_message(s), "no base directory"));
  er_status_free(s);
  er_imported_free(&m);
  free(buf);
  CHECK(fails_with("external_eof.onnx", ER_INVALID_MODEL,
                   "initializer 'w': external data offset 64 + length 64 is past the end of "
                   "'external.bin' (76 bytes)"));
  CHECK(fails_with("external_escape.onnx", ER_INVALID_MODEL, "must be a relative path"));
  CHECK(fails_with("external_absolute.onnx", ER_INVALID_MODEL, "must be a relative path"));
  CHECK(fails_with("external_missing.onnx", ER_IO, "no_such_file.bin: cannot open"));
}

TEST(onnx_subgraph_outer_scope) {
  er_imported m;
  uint8_t *buf;
  CHECK_OK(import_named("subgraph.onnx", &m, ER_ONNX_NO_OP_RESOLVE, &buf));
  const er_graph *g = m.graph;
  if (g) {
    /* outer_if uses a and b through its subgraphs: it is sorted after their producers */
    int ia = node_index(g, "make_a"), ib = node_index(g, "make_b"), ii = node_index(g, "outer_if");
    CHECK(ia >= 0 && ib >= 0 && ii >= 0 && ia < ii && ib < ii);
    const er_node *outer_if = &g->nodes[ii];
    const er_attr *then_a = er_node_attr(outer_if, "then_branch");
    CHECK(then_a && then_a->type == ER_ATTR_GRAPH && then_a->g);
    const er_graph *then_g = then_a->g;
    CHECK(then_g->parent == g);
    /* then_g itself only holds the inner If, which needs a, b and c from two levels up */
    const er_value *ta = val(then_g, "a"), *tb = val(then_g, "b"), *tc = val(then_g, "c");
    CHECK(ta && ta->kind == ER_VALUE_OUTER && !strcmp(g->values[ta->outer].name, "a"));
    CHECK(tb && tb->kind == ER_VALUE_OUTER && g->values[tb->outer].kind == ER_VALUE_NODE);
    CHECK(tc && tc->kind == ER_VALUE_OUTER && g->values[tc->outer].kind == ER_VALUE_INPUT);
    const er_attr *inner_a = er_node_attr(&then_g->nodes[0], "then_branch");
    CHECK(inner_a && inner_a->g && inner_a->g->parent == then_g);
    if (inner_a && inner_a->g && ta) {
      const er_graph *ig = inner_a->g;
      const er_value *ia2 = val(ig, "a");
      CHECK(ia2 && ia2->kind == ER_VALUE_OUTER && ia2->outer == (int)(ta - then_g->values));
      CHECK(ig->nodes[0].inputs[0] == (int)(ia2 - ig->values));
      CHECK(ig->n_outputs == 1 && !strcmp(ig->values[ig->outputs[0]].name, "it"));
    }
    const er_attr *else_a = er_node_attr(outer_if, "else_branch");
    CHECK(else_a && else_a->g && val(else_a->g, "b") == NULL); /* only what is used */
  }
  er_imported_free(&m);
  free(buf);
}

TEST(onnx_function_inlining) {
  er_imported m;
  uint8_t *buf;
  CHECK_OK(import_named("function.onnx", &m, ER_ONNX_NO_OP_RESOLVE, &buf));
  const er_graph *g = m.graph;
  if (g) {
    CHECK(g->n_nodes == 6);
    int adds = 0, muls = 0;
    float consts[2] = {0, 0};
    int nc = 0;
    for (int i = 0; i < g->n_nodes; i++) {
      const er_node *n = &g->nodes[i];
      CHECK(strcmp(n->op_type, "ScaleAdd") != 0);
      CHECK(n->opset == 17 && !strcmp(n->domain, ""));
      if (!strcmp(n->op_type, "Add")) adds++;
      if (!strcmp(n->op_type, "Mul")) muls++;
      if (!strcmp(n->op_type, "Constant")) {
        const er_attr *a = er_node_attr(n, "value_float");
        CHECK(a && a->type == ER_ATTR_FLOAT);
        if (a && nc < 2) consts[nc++] = a->f;
      }
    }
    CHECK(adds == 2 && muls == 2 && nc == 2);
    CHECK(consts[0] == 2.0f && consts[1] == 3.0f); /* default, then the call's alpha */
    CHECK(node_index(g, "call1/#0") >= 0 && node_index(g, "call2/#2") >= 0);
    /* formal outputs bound to the call's outputs; internals renamed apart */
    const er_value *u = val(g, "u"), *y = val(g, "y");
    CHECK(u && u->kind == ER_VALUE_NODE && !strcmp(g->nodes[u->producer].op_type, "Mul"));
    CHECK(y && y->kind == ER_VALUE_NODE && g->values[g->outputs[0]].producer == y->producer);
    CHECK(val(g, "s") == NULL && val(g, "k") == NULL && val(g, "X") == NULL);
    const er_node *add2 = &g->nodes[node_index(g, "call2/#0")];
    CHECK(add2->inputs[0] == (int)(u - g->values) && add2->inputs[1] == g->inputs[0]);
    for (int i = 0; i < g->n_values; i++)
      for (int j = i + 1; j < g->n_values; j++) CHECK(strcmp(g->values[i].name, g->values[j].name));
  }
  er_imported_free(&m);
  free(buf);
}

TEST(onnx_tensor_encodings) {
  er_imported m;
  uint8_t *buf;
  CHECK_OK(import_named("tensors.onnx", &m, ER_ONNX_NO_OP_RESOLVE, &buf));
  const er_graph *g = m.graph;
  if (!g) return;
#define T(name) er_node_attr(&g->nodes[node_index(g, "c_" name)], "value")->t
  const er_tensor *t = T("f16");
  const uint16_t *h = (const uint16_t *)t->data;
  CHECK(t->dtype == ER_F16 && h[0] == 0x3e00 && h[1] == 0xc000 && h[2] == 0x7bff);
  t = T("i8");
  CHECK(t->dtype == ER_I8 && ((int8_t *)t->data)[0] == -128 && ((int8_t *)t->data)[2] == 127);
  t = T("bo");
  CHECK(t->dtype == ER_BOOL && ((uint8_t *)t->data)[0] == 1 && ((uint8_t *)t->data)[1] == 0);
  t = T("i4");
  const int8_t *i4 = (const int8_t *)t->data;
  CHECK(t->dtype == ER_I4 && t->dims[0] == 3 && i4[0] == -8 && i4[1] == 7 && i4[2] == -1);
  t = T("u4raw");
  const uint8_t *u4 = (const uint8_t *)t->data;
  CHECK(t->dtype == ER_U4 && u4[0] == 1 && u4[1] == 2 && u4[2] == 15);
  t = T("u64");
  CHECK(((uint64_t *)t->data)[1] == (uint64_t)1 << 63);
  t = T("i64");
  CHECK(((int64_t *)t->data)[0] == -5 && ((int64_t *)t->data)[1] == (int64_t)1 << 40);
  t = T("f64");
  CHECK(((double *)t->data)[0] == 0.25 && ((double *)t->data)[1] == -1e300);
  t = T("bf16");
  CHECK(t->dtype == ER_BF16 && ((uint16_t *)t->data)[0] == 0x3fc0);
#undef T
  er_imported_free(&m);
  free(buf);
}

TEST(onnx_parse_tensor_pb) {
  char p[512];
  size_t n = 0;
  uint8_t *file = read_file(path_of("tensor.pb", p, sizeof p), &n);
  CHECK(file != NULL);
  if (!file) return;
  er_pool pool;
  er_pool_init(&pool);
  er_tensor t;
  const char *name = NULL;
  CHECK_OK(er_onnx_parse_tensor(file, n, &pool, &t, &name));
  CHECK(name && !strcmp(name, "input_0"));
  CHECK(t.dtype == ER_F32 && t.rank == 2 && t.dims[0] == 2 && t.dims[1] == 3);
  const uint8_t *d = (const uint8_t *)t.data;
  CHECK(d && (d < file || d >= file + n)); /* copied into the pool */
  CHECK(((const float *)d)[0] == 1 && ((const float *)d)[5] == 6);
  for (size_t len = 0; len < n; len++) {
    uint8_t *b = (uint8_t *)malloc(len ? len : 1);
    memcpy(b, file, len);
    er_tensor u;
    er_status s = er_onnx_parse_tensor(b, len, &pool, &u, NULL);
    CHECK(s != NULL);
    er_status_free(s);
    free(b);
  }
  /* a string tensor is unsupported; external data has no base directory here */
  const uint8_t str[] = {0x08, 0x01, 0x10, 0x08, 0x32, 0x01, 'a'};
  CHECK_ERR(er_onnx_parse_tensor(str, sizeof str, &pool, &t, NULL), ER_UNSUPPORTED);
  const uint8_t ext[] = {0x10, 0x01, 0x70, 0x01, 0x6a, 0x0a, 0x0a, 0x08, 'l', 'o', 'c', 'a',
                         't', 'i', 'o', 'n', 0x6a, 0x0};
  CHECK_ERR(er_onnx_parse_tensor(ext, sizeof ext - 2, &pool, &t, NULL), ER_INVALID_MODEL);
  /* typed field of the wrong kind, and a count mismatch */
  const uint8_t wrongf[] = {0x08, 0x01, 0x10, 0x01, 0x3a, 0x01, 0x05};      /* f32 + int64_data */
  CHECK_ERR(er_onnx_parse_tensor(wrongf, sizeof wrongf, &pool, &t, NULL), ER_INVALID_MODEL);
  const uint8_t fewer[] = {0x08, 0x02, 0x10, 0x07, 0x3a, 0x01, 0x05};       /* 2 i64, 1 given */
  er_status s = er_onnx_parse_tensor(fewer, sizeof fewer, &pool, &t, NULL);
  CHECK(s && strstr(er_status_message(s), "int64_data has 1 values, shape [2] int64 needs 2"));
  er_status_free(s);
  const uint8_t ok64[] = {0x08, 0x02, 0x10, 0x07, 0x3a, 0x02, 0x05, 0x7f}; /* packed {5,127} */
  CHECK_OK(er_onnx_parse_tensor(ok64, sizeof ok64, &pool, &t, NULL));
  CHECK(((int64_t *)t.data)[0] == 5 && ((int64_t *)t.data)[1] == 127);
  const uint8_t unpk[] = {0x08, 0x02, 0x10, 0x07, 0x38, 0x05, 0x38, 0x7e}; /* unpacked */
  CHECK_OK(er_onnx_parse_tensor(unpk, sizeof unpk, &pool, &t, NULL));
  CHECK(((int64_t *)t.data)[0] == 5 && ((int64_t *)t.data)[1] == 126);
  const uint8_t scalar[] = {0x10, 0x01, 0x25, 0x00, 0x00, 0x80, 0x3f}; /* float_data 1.0 */
  CHECK_OK(er_onnx_parse_tensor(scalar, sizeof scalar, &pool, &t, NULL));
  CHECK(t.rank == 0 && ((float *)t.data)[0] == 1.0f);
  const uint8_t empty[] = {0x08, 0x00, 0x10, 0x01}; /* shape [0]: data pointer still set */
  CHECK_OK(er_onnx_parse_tensor(empty, sizeof empty, &pool, &t, NULL));
  CHECK(t.rank == 1 && t.dims[0] == 0 && t.data != NULL);
  /* huge dims next to a zero dim: rejected before any element count can overflow */
  const uint8_t zbig[] = {0x0a, 0x0f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40,
                          0xff, 0xff, 0xff, 0xff, 0x07, 0x00, 0x10, 0x01};
  CHECK_ERR(er_onnx_parse_tensor(zbig, sizeof zbig, &pool, &t, NULL), ER_OUT_OF_RANGE);
  er_pool_free(&pool);
  free(file);
}

/* Import every model in the ONNX test data shipped by Debian: nothing may crash. The
 * counts are reported; unsupported operators are expected while kernels are missing. */
TEST(onnx_import_libonnx_testdata) {
  glob_t gl;
  if (glob("/usr/share/libonnx-testdata/data/*/*/model.onnx", 0, NULL, &gl) != 0) return;
  int ok = 0, failed = 0, unsupported = 0;
  for (size_t i = 0; i < gl.gl_pathc; i++) {
    size_t n = 0;
    uint8_t *b = read_file(gl.gl_pathv[i], &n);
    if (!b) continue;
    er_imported m;
    memset(&m, 0, sizeof m);
    er_status s = er_onnx_import(b, n, NULL, gl.gl_pathv[i], &m);
    if (!s) ok++;
    else {
      failed++;
      if (er_status_code(s) == ER_UNSUPPORTED) unsupported++;
    }
    er_status_free(s);
    er_imported_free(&m);
    free(b);
  }
  fprintf(stderr, "  libonnx-testdata: %d imported, %d failed (%d unsupported)\n", ok, failed,
          unsupported);
  CHECK(ok + failed == (int)gl.gl_pathc);
  CHECK(failed == unsupported); /* every failure is a missing feature, not a parse error */
  globfree(&gl);
}
