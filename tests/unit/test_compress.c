/* compress/prune.c and compress/factorize.c on the small graphs of tests/data/compress
 * (made by make.py there): structured pruning of channels that are dead by construction
 * leaves the outputs unchanged; skips say why; unstructured pruning zeroes exactly the
 * smallest weights; factorizing low-rank weights at a rank >= theirs is exact. Models are
 * run through the writer and the public API. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/factorize.h"
#include "compress/prune.h"
#include "export/onnx_write.h"
#include "import/onnx/onnx.h"
#include "test.h"

#define DATA "tests/data/compress/"

typedef struct outs {
  int n;
  float *d[4];
  int64_t numel[4];
} outs;

static void outs_free(outs *o) {
  for (int i = 0; i < o->n; i++) free(o->d[i]);
  memset(o, 0, sizeof *o);
}

/* Write m, load it through the API, run it on a deterministic input, keep float outputs. */
static er_status run_ir(const er_imported *m, outs *o) {
  memset(o, 0, sizeof *o);
  void *buf = NULL;
  size_t n = 0;
  ER_RETURN_IF_ERROR(er_onnx_write_buffer(m, &buf, &n));
  er_model *model = NULL;
  er_session *s = NULL;
  er_status st = er_model_load_buffer(buf, n, NULL, &model);
  er_session_options so = {0};
  so.threads = 1;
  if (!st) st = er_session_create(model, &so, &s);
  er_tensor_info info;
  if (!st) st = er_model_input_info(model, 0, &info);
  float *x = NULL;
  if (!st) {
    int64_t numel = 1;
    for (int d = 0; d < info.rank; d++) numel *= info.dims[d];
    x = (float *)malloc(sizeof(float) * (size_t)numel);
    for (int64_t i = 0; i < numel; i++) x[i] = (float)sin(0.37 * (double)i + 0.1) * 2.0f;
    st = er_session_set_input(s, 0, ER_F32, info.dims, info.rank, x, sizeof(float) * (size_t)numel);
  }
  if (!st) st = er_session_run(s);
  for (size_t k = 0; !st && k < er_model_output_count(model) && k < 4; k++) {
    er_tensor_view v;
    st = er_session_get_output(s, k, &v);
    if (st) break;
    o->numel[k] = (int64_t)(v.nbytes / sizeof(float));
    o->d[k] = (float *)malloc(v.nbytes + 1);
    memcpy(o->d[k], v.data, v.nbytes);
    o->n++;
  }
  free(x);
  er_session_destroy(s);
  er_model_destroy(model);
  free(buf);
  return st;
}

/* max |a-b| / max(1, max|a|) over all outputs; -1 if they differ in count or size. */
static double out_diff(const outs *a, const outs *b) {
  if (a->n != b->n) return -1;
  double worst = 0;
  for (int k = 0; k < a->n; k++) {
    if (a->numel[k] != b->numel[k]) return -1;
    double mx = 1;
    for (int64_t i = 0; i < a->numel[k]; i++) mx = fmax(mx, fabs(a->d[k][i]));
    for (int64_t i = 0; i < a->numel[k]; i++) worst = fmax(worst, fabs(a->d[k][i] - b->d[k][i]) / mx);
  }
  return worst;
}

static const er_prune_layer *layer(const er_prune_report *r, const char *node) {
  for (int i = 0; i < r->n_layers; i++)
    if (!strcmp(r->layers[i].node, node)) return &r->layers[i];
  return NULL;
}

static const er_node *node_named(const er_graph *g, const char *name) {
  for (int i = 0; i < g->n_nodes; i++)
    if (!strcmp(g->nodes[i].name, name)) return &g->nodes[i];
  return NULL;
}

/* Prune `file` structured at `s`; the outputs must not change (dead channels go). */
static void structured_same(int *er_failed_, const char *file, double s, int want_pruned) {
  er_imported m;
  outs before, after;
  CHECK_OK(er_onnx_import_file(file, 0, &m));
  CHECK_OK(run_ir(&m, &before));
  er_prune_options po = {s, 1, NULL, 0};
  er_prune_report r;
  CHECK_OK(er_prune(&m, &po, &r));
  CHECK(r.n_pruned == want_pruned);
  CHECK(r.params_after < r.params_before);
  CHECK_OK(run_ir(&m, &after));
  double d = out_diff(&before, &after);
  if (!(d >= 0 && d < 1e-5)) fprintf(stderr, "  %s: outputs changed by %g\n", file, d);
  CHECK(d >= 0 && d < 1e-5);
  outs_free(&before);
  outs_free(&after);
  er_prune_report_free(&r);
  er_imported_free(&m);
}

TEST(prune_structured_chain_bn_depthwise_flatten_gemm) {
  structured_same(er_failed_, DATA "chain.onnx", 0.5, 2);
  er_imported m;
  CHECK_OK(er_onnx_import_file(DATA "chain.onnx", 0, &m));
  er_prune_options po = {0.5, 1, NULL, 0};
  er_prune_report r;
  CHECK_OK(er_prune(&m, &po, &r));
  const er_prune_layer *a = layer(&r, "conv_a"), *b = layer(&r, "conv_b");
  CHECK(a && a->channels_before == 8 && a->channels_after == 4 && !a->skipped);
  CHECK(b && b->channels_before == 6 && b->channels_after == 3 && a->group != b->group);
  const er_node *dw = node_named(m.graph, "dw"), *fc = node_named(m.graph, "fc"), *bn = node_named(m.graph, "bn");
  CHECK(dw && er_node_attr(dw, "group")->i == 4 && m.graph->values[dw->inputs[1]].dims[0] == 4);
  CHECK(fc && m.graph->values[fc->inputs[1]].dims[1] == 3); /* transB: columns follow conv_b */
  CHECK(bn && m.graph->values[bn->inputs[3]].dims[0] == 4);
  er_prune_report_free(&r);
  er_imported_free(&m);
}

TEST(prune_structured_residual_and_squeeze_excitation_group) {
  structured_same(er_failed_, DATA "residual.onnx", 0.34, 4);
  er_imported m;
  CHECK_OK(er_onnx_import_file(DATA "residual.onnx", 0, &m));
  er_prune_options po = {0.34, 1, NULL, 0};
  er_prune_report r;
  CHECK_OK(er_prune(&m, &po, &r));
  const er_prune_layer *c1 = layer(&r, "conv1"), *c2 = layer(&r, "conv2"), *se = layer(&r, "se_expand"),
                       *c3 = layer(&r, "conv3");
  CHECK(c1 && c2 && se && c3);
  if (c1 && c2 && se && c3) {
    CHECK(c1->group == c2->group && c2->group == se->group); /* joined by the Add and the Mul */
    CHECK(c1->channels_after == 4 && se->channels_after == 4);
    CHECK(c3->skipped && strstr(c3->skipped, "graph output") && c3->channels_after == 5);
  }
  er_prune_report_free(&r);
  er_imported_free(&m);
}

TEST(prune_structured_concat_and_flatten_rows) { structured_same(er_failed_, DATA "concat.onnx", 0.5, 3); }

TEST(prune_structured_skips_say_why) {
  er_imported m;
  CHECK_OK(er_onnx_import_file(DATA "blocked.onnx", 0, &m));
  er_prune_options po = {0.5, 1, NULL, 0};
  er_prune_report r;
  CHECK_OK(er_prune(&m, &po, &r));
  CHECK(r.n_pruned == 0 && r.n_layers == 3);
  const er_prune_layer *c1 = layer(&r, "conv1"), *co = layer(&r, "conv_out"), *ct = layer(&r, "conv_t");
  CHECK(c1 && c1->skipped && strstr(c1->skipped, "not tracked") && c1->blocker && !strcmp(c1->blocker, "add_input"));
  CHECK(co && co->skipped && strstr(co->skipped, "graph output"));
  CHECK(ct && ct->skipped && strstr(ct->skipped, "Transpose") && ct->blocker && !strcmp(ct->blocker, "transpose"));
  CHECK(r.params_after == r.params_before);
  er_prune_report_free(&r);
  er_imported_free(&m);
}

TEST(prune_exclude) {
  er_imported m;
  CHECK_OK(er_onnx_import_file(DATA "chain.onnx", 0, &m));
  const char *ex[] = {"conv_a"};
  er_prune_options po = {0.5, 1, ex, 1};
  er_prune_report r;
  CHECK_OK(er_prune(&m, &po, &r));
  const er_prune_layer *a = layer(&r, "conv_a"), *b = layer(&r, "conv_b");
  CHECK(a && a->skipped && !strcmp(a->skipped, "excluded") && a->channels_after == 8);
  CHECK(b && !b->skipped && b->channels_after == 3);
  er_prune_report_free(&r);
  const char *bad[] = {"no_such_node"};
  po.exclude = bad;
  er_status s = er_prune(&m, &po, &r);
  CHECK(s && strstr(er_status_message(s), "'no_such_node'"));
  er_status_free(s);
  po.exclude = NULL;
  po.n_exclude = 0;
  po.sparsity = 1.0;
  CHECK_ERR(er_prune(&m, &po, &r), ER_INVALID_ARGUMENT);
  er_imported_free(&m);
}

/* The zeroed weights are exactly the round(S * n) smallest in magnitude. */
TEST(prune_unstructured_smallest_magnitudes) {
  er_imported orig, m;
  CHECK_OK(er_onnx_import_file(DATA "chain.onnx", 0, &orig));
  CHECK_OK(er_onnx_import_file(DATA "chain.onnx", 0, &m));
  er_prune_options po = {0.6, 0, NULL, 0};
  er_prune_report r;
  CHECK_OK(er_prune(&m, &po, &r));
  CHECK(r.n_layers == 4 && r.n_pruned == 4); /* conv_a, dw, conv_b, fc */
  for (int i = 0; i < r.n_layers; i++) {
    const er_prune_layer *L = &r.layers[i];
    CHECK(L->zeros_after == llround(0.6 * (double)L->params) || L->zeros_after == L->zeros_before);
    const er_node *a = node_named(orig.graph, L->node), *b = node_named(m.graph, L->node);
    if (!a || !b) continue;
    const er_value *wa = &orig.graph->values[a->inputs[1]], *wb = &m.graph->values[b->inputs[1]];
    CHECK(wa->rank == wb->rank && wa->dims[0] == wb->dims[0]);
    float max_zeroed = 0, min_kept = INFINITY;
    int64_t zeros = 0;
    for (int64_t e = 0; e < L->params; e++) {
      float x = fabsf(((const float *)wa->data)[e]), y = ((const float *)wb->data)[e];
      if (y == 0) {
        zeros++;
        max_zeroed = fmaxf(max_zeroed, x);
      } else {
        CHECK(y == ((const float *)wa->data)[e]);
        min_kept = fminf(min_kept, x);
      }
    }
    CHECK(zeros == L->zeros_after);
    CHECK(max_zeroed <= min_kept);
  }
  CHECK(r.nonzero_after < r.nonzero_before && r.params_after == r.params_before);
  er_prune_report_free(&r);
  er_imported_free(&m);
  /* a shared weight is left alone */
  CHECK_OK(er_onnx_import_file(DATA "lowrank.onnx", 0, &m));
  CHECK_OK(er_prune(&m, &po, &r));
  const er_prune_layer *s1 = layer(&r, "shared1");
  CHECK(s1 && s1->skipped && strstr(s1->skipped, "shared"));
  er_prune_report_free(&r);
  er_imported_free(&m);
  er_imported_free(&orig);
}

static const er_factorize_layer *flayer(const er_factorize_report *r, const char *node) {
  for (int i = 0; i < r->n_layers; i++)
    if (!strcmp(r->layers[i].node, node)) return &r->layers[i];
  return NULL;
}

static void factorize_exact(int *er_failed_, const char *file, double ratio, int want) {
  er_imported m;
  outs before, after;
  CHECK_OK(er_onnx_import_file(file, 0, &m));
  CHECK_OK(run_ir(&m, &before));
  int nodes = m.graph->n_nodes;
  er_factorize_options fo = {ratio, 1000, NULL, NULL};
  er_factorize_report r;
  CHECK_OK(er_factorize(&m, &fo, &r));
  CHECK(r.n_factorized == want && m.graph->n_nodes == nodes + want);
  for (int i = 0; i < r.n_layers; i++)
    if (!r.layers[i].skipped) CHECK(r.layers[i].rel_error < 1e-5 && r.layers[i].params_after < r.layers[i].params_before);
  CHECK_OK(run_ir(&m, &after));
  double d = out_diff(&before, &after);
  if (!(d >= 0 && d < 1e-4)) fprintf(stderr, "  %s: outputs changed by %g\n", file, d);
  CHECK(d >= 0 && d < 1e-4);
  outs_free(&before);
  outs_free(&after);
  er_factorize_report_free(&r);
  er_imported_free(&m);
}

TEST(factorize_low_rank_weights_exactly) {
  factorize_exact(er_failed_, DATA "lowrank.onnx", 0.1, 2);
  factorize_exact(er_failed_, DATA "lowrank9.onnx", 0.1, 1); /* Gemm before opset 11: zero C */
  er_imported m;
  CHECK_OK(er_onnx_import_file(DATA "lowrank.onnx", 0, &m));
  er_factorize_options fo = {0.1, 1000, NULL, NULL};
  er_factorize_report r;
  CHECK_OK(er_factorize(&m, &fo, &r));
  const er_factorize_layer *g = flayer(&r, "gemm"), *mm = flayer(&r, "matmul"), *sh = flayer(&r, "shared1"),
                           *sm = flayer(&r, "small");
  CHECK(g && g->k == 64 && g->n == 48 && g->rank == 5 && g->params_after == 5 * (64 + 48));
  CHECK(mm && mm->rank == 4 && mm->params_before == 48 * 40);
  CHECK(sh && sh->skipped && strstr(sh->skipped, "shared"));
  CHECK(sm && sm->skipped && strstr(sm->skipped, "minimum"));
  er_factorize_report_free(&r);
  /* a rank that saves nothing is skipped; a bad ratio is an error */
  fo.rank_ratio = 0.9;
  CHECK_OK(er_factorize(&m, &fo, &r));
  CHECK(r.n_factorized == 0);
  er_factorize_report_free(&r);
  fo.rank_ratio = 0;
  CHECK_ERR(er_factorize(&m, &fo, &r), ER_INVALID_ARGUMENT);
  er_imported_free(&m);
}

TEST(prune_structured_bn_scale_counts) {
  er_imported orig, m;
  CHECK_OK(er_onnx_import_file(DATA "bn_rank.onnx", 0, &orig));
  CHECK_OK(er_onnx_import_file(DATA "bn_rank.onnx", 0, &m));
  er_prune_options po = {0.25, 1, NULL, 0};
  er_prune_report r;
  CHECK_OK(er_prune(&m, &po, &r));
  const er_node *a = node_named(orig.graph, "conv1"), *b = node_named(m.graph, "conv1");
  if (a && b) {
    const er_value *wa = &orig.graph->values[a->inputs[1]], *wb = &m.graph->values[b->inputs[1]];
    CHECK(wb->dims[0] == 3);
    /* kept: channels 0, 2, 3 (channel 1 has the larger weights but a tiny BN scale) */
    CHECK(memcmp(wb->data, wa->data, 2 * sizeof(float)) == 0);
    CHECK(memcmp((const float *)wb->data + 2, (const float *)wa->data + 4, 4 * sizeof(float)) == 0);
  }
  er_prune_report_free(&r);
  er_imported_free(&m);
  er_imported_free(&orig);
}
