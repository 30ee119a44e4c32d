/* Graph optimizer (src/opt): structure after each pass and numeric equality of the
 * optimized model with the original (both run through the executor on the same input).
 * Models: tests/data/opt/NAME.onnx, made by tests/data/opt/make.py (run from the repo root). */
#include <stdlib.h>
#include <string.h>

#include "import/onnx/onnx.h"
#include "kernels/dispatch.h"
#include "opt/opt.h"
#include "base/alloc.h"
#include "runtime/exec.h"
#include "test.h"

#define DATA "tests/data/opt/"


static er_status load(const char *name, er_imported *m) {
  char path[256];
  snprintf(path, sizeof path, DATA "%s.onnx", name);
  memset(m, 0, sizeof *m);
  const void *data;
  size_t size;
  ER_RETURN_IF_ERROR(er_map_file(path, &m->mappings, &data, &size));
  return er_onnx_import(data, size, NULL, path, m);
}

typedef struct outs {
  int n;
  er_tensor t[4];
} outs;

static void outs_free(outs *o) {
  for (int i = 0; i < o->n; i++) free(o->t[i].data);
  o->n = 0;
}

/* Run g with deterministic inputs (float: a smooth pattern in [-2, 2]). */
static er_status run(const er_graph *g, outs *o) {
  memset(o, 0, sizeof *o);
  er_exec *e;
  ER_RETURN_IF_ERROR(er_exec_create(g, NULL, er_host_allocator(), &e));
  er_status s = NULL;
  for (int i = 0; i < g->n_inputs && !s; i++) {
    const er_value *v = &g->values[g->inputs[i]];
    if (v->kind == ER_VALUE_INITIALIZER) continue;
    er_tensor t = {0};
    er_tensor_set_shape(&t, v->dtype, v->rank, v->dims);
    int64_t n = er_tensor_numel(&t);
    float *d = (float *)malloc(sizeof(float) * (size_t)(n + 1));
    for (int64_t k = 0; k < n; k++) d[k] = 2.0f * sinf(0.7f * (float)k + (float)i);
    t.data = d;
    s = er_exec_set_input(e, i, &t);
    free(d);
  }
  if (!s) s = er_exec_run(e);
  for (int i = 0; i < g->n_outputs && i < 4 && !s; i++) {
    const er_tensor *t = er_exec_output(e, i);
    o->t[i] = *t;
    size_t nb = er_tensor_nbytes(t);
    o->t[i].data = malloc(nb ? nb : 1);
    memcpy(o->t[i].data, t->data, nb);
    o->n++;
  }
  er_exec_destroy(e);
  return s;
}

/* Max relative difference between two float32 output sets (inf on shape mismatch). */
static double diff(const outs *a, const outs *b) {
  if (a->n != b->n) return INFINITY;
  double worst = 0;
  for (int i = 0; i < a->n; i++) {
    const er_tensor *x = &a->t[i], *y = &b->t[i];
    if (x->dtype != ER_F32 || y->dtype != ER_F32 || x->rank != y->rank) return INFINITY;
    for (int d = 0; d < x->rank; d++)
      if (x->dims[d] != y->dims[d]) return INFINITY;
    const float *p = (const float *)x->data, *q = (const float *)y->data;
    for (int64_t k = 0; k < er_tensor_numel(x); k++) {
      double e = fabs((double)p[k] - (double)q[k]) / (1.0 + fabs((double)p[k]));
      if (!(e <= worst)) worst = e; /* NaN propagates as inf-like */
    }
  }
  return worst;
}

/* Optimize `name` with passes/flags into *m (caller frees) and compare its results with
 * the unoptimized model's. Returns the max relative difference (inf on any error). */
static double opt_and_compare(const char *name, unsigned passes, unsigned flags, er_imported *m,
                              er_opt_stats *st) {
  er_imported ref;
  outs a = {0}, b = {0};
  double r = INFINITY;
  er_status s = load(name, &ref);
  if (!s) s = load(name, m);
  if (!s) s = er_optimize_ex(m, passes, flags, st);
  if (!s) s = run(ref.graph, &a);
  if (!s) s = run(m->graph, &b);
  if (s) {
    fprintf(stderr, "  %s: %s\n", name, er_status_message(s));
    er_status_free(s);
  } else {
    r = diff(&a, &b);
  }
  outs_free(&a);
  outs_free(&b);
  er_imported_free(&ref);
  return r;
}

static int count_op(const er_graph *g, const char *op) {
  int k = 0;
  for (int i = 0; i < g->n_nodes; i++) k += strcmp(g->nodes[i].op_type, op) == 0;
  return k;
}

static const er_node *find_node(const er_graph *g, const char *name) {
  for (int i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].name, name) == 0) return &g->nodes[i];
  return NULL;
}

/* Node producing graph output k. */
static const er_node *output_producer(const er_graph *g, int k) {
  const er_value *v = &g->values[g->outputs[k]];
  return v->kind == ER_VALUE_NODE && v->producer >= 0 ? &g->nodes[v->producer] : NULL;
}

static int64_t act_of(const er_node *n) {
  const er_attr *a = n ? er_node_attr(n, "_act") : NULL;
  return a && a->type == ER_ATTR_INT ? a->i : -1;
}
static float act_f(const er_node *n, const char *name) {
  const er_attr *a = n ? er_node_attr(n, name) : NULL;
  return a && a->type == ER_ATTR_FLOAT ? a->f : NAN;
}

/* Every producer index and node input is consistent (what the executor relies on). */
static int ir_consistent(const er_graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    for (int k = 0; k < n->n_outputs; k++) {
      int v = n->outputs[k];
      if (v >= g->n_values) return 0;
      if (v >= 0 && (g->values[v].kind != ER_VALUE_NODE || g->values[v].producer != i)) return 0;
    }
    for (int k = 0; k < n->n_inputs; k++) {
      int v = n->inputs[k];
      if (v >= g->n_values) return 0;
      if (v >= 0 && g->values[v].kind == ER_VALUE_NODE && g->values[v].producer >= i) return 0;
      if (v >= 0 && g->values[v].kind == ER_VALUE_NODE && g->values[v].producer < 0) return 0;
    }
  }
  for (int k = 0; k < g->n_outputs; k++)
    if (g->outputs[k] < 0 || g->outputs[k] >= g->n_values) return 0;
  return 1;
}

static const char *output_name(const er_graph *g, int k) { return g->values[g->outputs[k]].name; }

TEST(opt_dce) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("dce", ER_OPT_DCE, 0, &m, &st) == 0);
  CHECK(m.graph->n_nodes == 2);
  CHECK(find_node(m.graph, "live") && find_node(m.graph, "add"));
  CHECK(st.removed_dead == 3 && st.nodes_before == 5 && st.nodes_after == 2);
  CHECK(er_graph_find_value(m.graph, "unused_init") < 0); /* unreferenced values dropped */
  CHECK(er_graph_find_value(m.graph, "c") >= 0);
  CHECK(ir_consistent(m.graph));
  er_imported_free(&m);
}

TEST(opt_dce_keeps_outer_scope_producer) {
  er_imported m;
  CHECK(opt_and_compare("subgraph", ER_OPT_ALL, 0, &m, NULL) == 0);
  CHECK(find_node(m.graph, "producer") != NULL); /* read only by the If's branches */
  CHECK(find_node(m.graph, "dead") == NULL);
  CHECK(m.graph->n_nodes == 4);
  /* the branches' outer references still point at 'outer' after value renumbering */
  const er_node *ifn = find_node(m.graph, "if");
  int outer = er_graph_find_value(m.graph, "outer");
  CHECK(ifn && outer >= 0);
  for (int a = 0; ifn && a < ifn->n_attrs; a++) {
    const er_graph *sg = ifn->attrs[a].g;
    if (!sg) continue;
    int found = 0;
    for (int v = 0; v < sg->n_values; v++)
      if (sg->values[v].kind == ER_VALUE_OUTER) found += sg->values[v].outer == outer;
    CHECK(found == 1);
  }
  CHECK(ir_consistent(m.graph));
  er_imported_free(&m);
}

TEST(opt_identity_dropout) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("identity", ER_OPT_IDENTITY | ER_OPT_DCE, 0, &m, &st) == 0);
  const er_graph *g = m.graph;
  CHECK(count_op(g, "Dropout") == 0);
  CHECK(count_op(g, "Identity") == 1); /* graph input -> graph output stays */
  CHECK(find_node(g, "id_in_out") != NULL);
  CHECK(g->n_nodes == 3);
  CHECK(st.removed_identity == 3);
  CHECK(strcmp(output_name(g, 0), "y") == 0 && strcmp(output_name(g, 1), "z") == 0);
  CHECK(output_producer(g, 0) && strcmp(output_producer(g, 0)->op_type, "Sigmoid") == 0);
  CHECK(find_node(g, "relu")->inputs[0] == g->inputs[0]);
  CHECK(ir_consistent(g));
  er_imported_free(&m);
}

TEST(opt_bn_fold_conv) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("bn_conv", ER_OPT_BN_FOLD | ER_OPT_DCE, 0, &m, &st) < 1e-5);
  CHECK(m.graph->n_nodes == 1 && count_op(m.graph, "Conv") == 1 && st.folded_bn == 1);
  CHECK(find_node(m.graph, "conv+bn") != NULL);
  CHECK(strcmp(output_name(m.graph, 0), "y") == 0);
  CHECK(er_graph_find_value(m.graph, "W") < 0); /* old weights no longer referenced */
  CHECK(ir_consistent(m.graph));
  er_imported_free(&m);
}

TEST(opt_bn_fold_convtranspose_group) {
  er_imported m;
  CHECK(opt_and_compare("bn_convtranspose", ER_OPT_ALL, 0, &m, NULL) < 1e-5);
  CHECK(m.graph->n_nodes == 1 && count_op(m.graph, "ConvTranspose") == 1);
  CHECK(m.graph->nodes[0].n_inputs == 3); /* bias added */
  er_imported_free(&m);
}

TEST(opt_bn_fold_gemm_transb_beta) {
  er_imported m;
  CHECK(opt_and_compare("bn_gemm", ER_OPT_ALL, 0, &m, NULL) < 1e-5);
  CHECK(m.graph->n_nodes == 1 && count_op(m.graph, "Gemm") == 1);
  CHECK(act_f(&m.graph->nodes[0], "beta") == 1.0f);
  er_imported_free(&m);
}

TEST(opt_bn_not_folded_when_conv_output_shared) {
  er_imported m;
  CHECK(opt_and_compare("bn_shared", ER_OPT_ALL & ~(unsigned)ER_OPT_LAYOUT, ER_OPT_F_FORCE_ACT, &m, NULL) == 0);
  CHECK(count_op(m.graph, "BatchNormalization") == 1);
  CHECK(count_op(m.graph, "Relu") == 1); /* shared output: no activation fusion either */
  er_imported_free(&m);
}

TEST(opt_conv_add_bias) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("conv_add", ER_OPT_CONSTANTS | ER_OPT_CONV_ADD | ER_OPT_DCE, 0, &m, &st) < 1e-6);
  CHECK(st.constants == 1 && st.folded_conv_add == 2);
  CHECK(count_op(m.graph, "Constant") == 0);
  CHECK(count_op(m.graph, "Add") == 1); /* [1,2,4,1] varies along W: stays */
  CHECK(find_node(m.graph, "conv1+add1") && find_node(m.graph, "conv2+add2"));
  CHECK(find_node(m.graph, "conv1+add1")->n_inputs == 3);
  CHECK(ir_consistent(m.graph));
  er_imported_free(&m);
}

TEST(opt_conv_mul_fold) {
  er_imported m;
  CHECK(opt_and_compare("conv_mul", ER_OPT_ALL & ~(unsigned)ER_OPT_LAYOUT, 0, &m, NULL) < 1e-5);
  const er_graph *g = m.graph;
  const er_node *c1 = find_node(g, "conv1+mul1+add1+hs1"), *t = find_node(g, "convt+mul2");
  CHECK(c1 && act_of(c1) == ER_ACT_HARDSWISH && c1->n_inputs == 3);
  CHECK(t && t->n_inputs == 2); /* no bias before: none made */
  CHECK(count_op(g, "Mul") == 2 && find_node(g, "mul3") && find_node(g, "mul4"));
  CHECK(ir_consistent(g));
  er_imported_free(&m);
}

TEST(opt_act_default_gate) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("act_conv", ER_OPT_ALL, 0, &m, &st) < 1e-5);
  /* kernel_reads_act() in src/opt/opt.c decides whether er_optimize fuses by default */
  int on = er_opt_act_enabled("Conv");
  CHECK(st.fused_act == (on ? 8 : 0));
  int with_act = 0;
  for (int i = 0; i < m.graph->n_nodes; i++) with_act += act_of(&m.graph->nodes[i]) != -1;
  CHECK(with_act == (on ? 8 : 0));
  er_imported_free(&m);
}

TEST(opt_act_fusion_structure) {
  er_imported m;
  er_opt_stats st;
  CHECK_OK(load("act_conv", &m));
  CHECK_OK(er_optimize_ex(&m, ER_OPT_ALL & ~(unsigned)ER_OPT_LAYOUT, ER_OPT_F_FORCE_ACT, &st));
  const er_graph *g = m.graph;
  CHECK(st.fused_act == 8);
  CHECK(g->n_nodes == 11); /* 9 Conv + Relu + Sigmoid of the shared last Conv */
  CHECK(count_op(g, "Conv") == 9 && count_op(g, "Relu") == 1 && count_op(g, "Sigmoid") == 1);
  const er_node *n;
  CHECK(act_of(n = find_node(g, "conv0+act0")) == ER_ACT_RELU);
  CHECK(act_of(n = find_node(g, "conv1+act1")) == ER_ACT_CLIP);
  CHECK(act_f(n, "_act_a") == -0.5f && act_f(n, "_act_b") == 0.6f);
  CHECK(act_of(n = find_node(g, "conv2+act2")) == ER_ACT_LEAKYRELU);
  CHECK_NEAR(act_f(n, "_act_a"), 0.1, 1e-7);
  CHECK(act_of(n = find_node(g, "conv3+act3")) == ER_ACT_HARDSIGMOID);
  CHECK_NEAR(act_f(n, "_act_a"), 0.3, 1e-7);
  CHECK_NEAR(act_f(n, "_act_b"), 0.4, 1e-7);
  CHECK(act_of(find_node(g, "conv4+act4")) == ER_ACT_HARDSWISH);
  CHECK(act_of(find_node(g, "conv5+act5")) == ER_ACT_SIGMOID);
  CHECK(act_of(find_node(g, "conv6+act6")) == ER_ACT_TANH);
  CHECK(act_of(find_node(g, "conv7+silu7")) == ER_ACT_SILU);
  CHECK(act_of(find_node(g, "convl")) == -1);
  /* each fused Conv reads the previous fused Conv's output */
  CHECK(find_node(g, "conv1+act1")->inputs[0] == find_node(g, "conv0+act0")->outputs[0]);
  CHECK(strcmp(g->values[find_node(g, "conv7+silu7")->outputs[0]].name, "a7") == 0);
  CHECK(ir_consistent(g));
  er_imported_free(&m);
}

TEST(opt_act_fusion_matmul_gelu_tanh) {
  er_imported m;
  CHECK_OK(load("act_matmul", &m));
  CHECK_OK(er_optimize_ex(&m, ER_OPT_ALL, ER_OPT_F_FORCE_ACT, NULL));
  CHECK(m.graph->n_nodes == 2);
  CHECK(act_of(find_node(m.graph, "mm+gelu")) == ER_ACT_GELU);
  CHECK(act_of(find_node(m.graph, "mm2+tanh")) == ER_ACT_TANH);
  CHECK(strcmp(output_name(m.graph, 0), "y") == 0 && output_producer(m.graph, 0) == find_node(m.graph, "mm2+tanh"));
  er_imported_free(&m);
}

TEST(opt_matmul_add_to_gemm) {
  er_imported m;
  er_opt_stats st;
  /* MatMul+Add -> Gemm alone (no activation): numerically checked */
  CHECK(opt_and_compare("matmul_add", ER_OPT_MATMUL_ADD | ER_OPT_DCE, ER_OPT_F_FORCE_ACT, &m, &st) < 1e-6);
  CHECK(st.matmul_gemm == 2);
  const er_node *n = find_node(m.graph, "mm+bias");
  CHECK(n && strcmp(n->op_type, "Gemm") == 0 && n->n_inputs == 3 && n->op != NULL);
  /* 3-D A stays a MatMul that takes the bias as a third input (_bias = 1) */
  const er_node *n3 = find_node(m.graph, "mm3+bias3");
  CHECK(n3 && strcmp(n3->op_type, "MatMul") == 0 && n3->n_inputs == 3);
  CHECK(n3 && er_node_attr(n3, "_bias") && er_node_attr(n3, "_bias")->i == 1);
  CHECK(count_op(m.graph, "MatMul") == 1 && count_op(m.graph, "Add") == 0);
  er_imported_free(&m);
  /* with the activation pass too: Gemm carries the Relu */
  CHECK_OK(load("matmul_add", &m));
  CHECK_OK(er_optimize_ex(&m, ER_OPT_ALL, ER_OPT_F_FORCE_ACT, NULL));
  CHECK(act_of(find_node(m.graph, "mm+bias+relu")) == ER_ACT_RELU);
  CHECK(m.graph->n_nodes == 2);
  er_imported_free(&m);
  /* by default only when the Gemm kernel reads _act (kernel_reads_act("Gemm")) */
  CHECK(opt_and_compare("matmul_add", ER_OPT_ALL, 0, &m, NULL) < 1e-6);
  int on = er_opt_act_enabled("Gemm");
  CHECK(count_op(m.graph, "MatMul") == (on ? 1 : 2) && count_op(m.graph, "Gemm") == (on ? 1 : 0));
  CHECK(count_op(m.graph, "Add") == (er_opt_act_enabled("MatMul") ? 0 : 1) + (on ? 0 : 1));
  er_imported_free(&m);
}

TEST(opt_layernorm_pattern) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("layernorm", ER_OPT_ALL, 0, &m, &st) < 1e-5);
  CHECK(st.layernorms == 1 && m.graph->n_nodes == 1);
  const er_node *n = &m.graph->nodes[0];
  CHECK(strcmp(n->op_type, "LayerNormalization") == 0 && n->opset == 17 && n->n_inputs == 3);
  CHECK_NEAR(act_f(n, "epsilon"), 1e-5, 1e-12);
  CHECK(strcmp(output_name(m.graph, 0), "y") == 0);
  er_imported_free(&m);
  /* opset 18 form: axes input, d*d, no beta */
  CHECK(opt_and_compare("layernorm18", ER_OPT_ALL, 0, &m, &st) < 1e-5);
  CHECK(st.layernorms == 1 && m.graph->n_nodes == 1 && m.graph->nodes[0].n_inputs == 2);
  er_imported_free(&m);
}

TEST(opt_gelu_patterns) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("gelu", ER_OPT_ALL, 0, &m, &st) < 1e-5);
  CHECK(st.gelus == 3 && m.graph->n_nodes == 3 && count_op(m.graph, "Gelu") == 3);
  for (int i = 0; i < m.graph->n_nodes; i++) CHECK(m.graph->nodes[i].opset == 20 && m.graph->nodes[i].op);
  CHECK(ir_consistent(m.graph));
  er_imported_free(&m);
}

TEST(opt_hardswish_pattern) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("hardswish", ER_OPT_ALL & ~(unsigned)(ER_OPT_ACT_FUSE | ER_OPT_LAYOUT), 0, &m, &st) < 1e-5);
  CHECK(st.hardswishes == 2 && count_op(m.graph, "HardSwish") == 2);
  CHECK(count_op(m.graph, "Conv") == 2 && m.graph->n_nodes == 4); /* bias Add folded */
  er_imported_free(&m);
  CHECK(opt_and_compare("hardswish", ER_OPT_ALL & ~(unsigned)ER_OPT_LAYOUT, ER_OPT_F_FORCE_ACT, &m, &st) < 1e-5);
  CHECK(m.graph->n_nodes == 2);
  CHECK(act_of(find_node(m.graph, "conv1+bias1+hs1")) == ER_ACT_HARDSWISH);
  CHECK(act_of(find_node(m.graph, "conv2+hs2")) == ER_ACT_HARDSWISH);
  er_imported_free(&m);
}

TEST(opt_transpose_reshape) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("reshape", ER_OPT_RESHAPE | ER_OPT_DCE, 0, &m, &st) == 0);
  const er_graph *g = m.graph;
  CHECK(count_op(g, "Transpose") == 1);
  const er_node *t = find_node(g, "t3+t4");
  const er_attr *p = t ? er_node_attr(t, "perm") : NULL;
  CHECK(p && p->n == 3 && p->ints[0] == 1 && p->ints[1] == 2 && p->ints[2] == 0);
  CHECK(t && t->inputs[0] == g->inputs[0]);
  /* r2 skips r1 (reads t4); r3 and r6 reshape [6,4] to [6,4] and go */
  CHECK(find_node(g, "r1") == NULL && find_node(g, "r3") == NULL && find_node(g, "r6") == NULL);
  CHECK(find_node(g, "r2") && t && find_node(g, "r2")->inputs[0] == t->outputs[0]);
  CHECK(find_node(g, "relu") && find_node(g, "relu")->inputs[0] == find_node(g, "r2")->outputs[0]);
  CHECK(st.reshapes == 6);
  /* r4 copies a dim (0 in its shape) so r5 may skip it; r4 stays since z is an output */
  CHECK(find_node(g, "r4") && find_node(g, "r5") && find_node(g, "r5")->inputs[0] == g->inputs[0]);
  CHECK(count_op(g, "Reshape") == 3);
  CHECK(strcmp(output_name(g, 0), "y") == 0 && strcmp(output_name(g, 2), "w") == 0);
  CHECK(ir_consistent(g));
  er_imported_free(&m);
}

TEST(opt_level_and_env) {
  er_imported m;
  CHECK_OK(load("identity", &m));
  int n0 = m.graph->n_nodes;
  CHECK_OK(er_optimize(&m, 0));
  CHECK(m.graph->n_nodes == n0);
  setenv("ER_OPT", "0", 1);
  CHECK_OK(er_optimize(&m, 1));
  CHECK(m.graph->n_nodes == n0);
  unsetenv("ER_OPT");
  CHECK_OK(er_optimize(&m, 1));
  CHECK(m.graph->n_nodes == 3);
  CHECK_OK(er_optimize(&m, 1)); /* idempotent */
  CHECK(m.graph->n_nodes == 3 && ir_consistent(m.graph));
  er_imported_free(&m);
  CHECK_ERR(er_optimize_ex(NULL, ER_OPT_ALL, 0, NULL), ER_INVALID_ARGUMENT);
}

TEST(opt_all_models_default_numeric) {
  static const char *names[] = {"dce", "subgraph", "identity", "bn_conv", "bn_convtranspose",
                                "bn_gemm", "bn_shared", "conv_add", "act_conv", "act_matmul",
                                "matmul_add", "layernorm", "layernorm18", "gelu", "hardswish",
                                "reshape"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    er_imported m;
    double d = opt_and_compare(names[i], ER_OPT_ALL, 0, &m, NULL);
    if (!(d < 1e-5)) fprintf(stderr, "  %s: max rel diff %g\n", names[i], d);
    CHECK(d < 1e-5);
    CHECK(ir_consistent(m.graph));
    er_imported_free(&m);
  }
}

/* Fused activations computed by the kernels (Conv/ConvTranspose/Gemm/MatMul read _act):
 * same results as the separate activation nodes. */
TEST(opt_act_fusion_numeric_forced) {
  static const char *names[] = {"act_conv", "act_matmul", "matmul_add", "bn_conv", "conv_add"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    er_imported m;
    er_opt_stats st;
    double d = opt_and_compare(names[i], ER_OPT_ALL, ER_OPT_F_FORCE_ACT, &m, &st);
    if (!(d < 1e-5)) fprintf(stderr, "  %s: max rel diff %g\n", names[i], d);
    CHECK(d < 1e-5);
    CHECK(i >= 3 || st.fused_act > 0);
    er_imported_free(&m);
  }
}

/* opt_add_node: a node appended at the end of the array lands before its consumer after
 * opt_compact, and the graph computes what the edit says. conv_add ends in
 * y = Conv3(a2) + k3; a Relu inserted after the last Conv gives y' = Relu(Conv3(a2)) + k3,
 * so y' >= y everywhere and y' > y where Conv3 was negative. */
#include "opt/ir_edit.h"
TEST(opt_add_node_resorts) {
  er_imported m, ref;
  CHECK_OK(load("conv_add", &m));
  CHECK_OK(load("conv_add", &ref));
  er_graph *g = m.graph;
  opt_ctx c;
  CHECK_OK(opt_ctx_init(&c, &m.pool, g, 0));
  int conv = -1;
  for (int i = 0; i < g->n_nodes; i++)
    if (opt_is(&g->nodes[i], "Conv")) conv = i;
  CHECK(conv >= 0);
  if (conv >= 0) {
    int y = g->nodes[conv].outputs[0];
    int r = opt_new_value(&c, "relu_out", ER_VALUE_NODE);
    opt_replace_uses(&c, y, r);
    int idx = opt_add_node(&c, "", "Relu", 14, "inserted_relu", 1, &y, 1, &r);
    CHECK(idx == g->n_nodes - 1);
    CHECK(opt_add_node(&c, "", "NoSuchOp", 14, "x", 1, &y, 1, &r) == -1);
    CHECK_OK(opt_compact(&c));
    const er_node *rn = find_node(g, "inserted_relu");
    CHECK(rn && opt_node_index(&c, rn) == conv + 1);
    CHECK(ir_consistent(g));
  }
  opt_ctx_free(&c);
  outs a = {0}, b = {0};
  CHECK_OK(run(ref.graph, &a));
  CHECK_OK(run(g, &b));
  if (a.n == 1 && b.n == 1) {
    int64_t n = er_tensor_numel(&a.t[0]);
    const float *pa = (const float *)a.t[0].data, *pb = (const float *)b.t[0].data;
    int changed = 0, ok = 1;
    for (int64_t k = 0; k < n; k++) {
      if (pb[k] < pa[k] - 1e-6f) ok = 0; /* Relu only raises the Conv term */
      changed += pb[k] > pa[k] + 1e-6f;
    }
    CHECK(ok && changed > 0);
  }
  outs_free(&a);
  outs_free(&b);
  er_imported_free(&m);
  er_imported_free(&ref);
}

/* Channels-last layout pass (src/opt/layout.c). Every case is compared numerically with the
 * unoptimized model (run through the executor) and checked for the Transposes left. */
static int count_domain_op(const er_graph *g, const char *op) {
  int k = 0;
  for (int i = 0; i < g->n_nodes; i++)
    k += !strcmp(g->nodes[i].op_type, op) && !strcmp(g->nodes[i].domain, "edgerun");
  return k;
}

TEST(opt_layout_cnn) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("layout_cnn", ER_OPT_ALL, 0, &m, &st) < 1e-5);
  const er_graph *g = m.graph;
  CHECK(count_op(g, "Conv") == 0 && count_domain_op(g, "NhwcConv") == 6);
  CHECK(count_domain_op(g, "NhwcMaxPool") == 1 && count_domain_op(g, "NhwcAveragePool") == 1);
  CHECK(count_domain_op(g, "NhwcGlobalAveragePool") == 1);
  /* one that yields output z (also read by the pooling after it) and one before Flatten:
   * every other Transpose cancelled, the input's replaced by conv1 reading it channels-first */
  CHECK(count_op(g, "Transpose") == 2);
  const er_node *c1 = find_node(g, "conv1+relu1");
  CHECK(c1 && !strcmp(c1->op_type, "NhwcConv") && opt_attr_int(c1, "_nchw_in", 0) == 1);
  CHECK(c1 && !strcmp(g->values[c1->inputs[0]].name, "x"));
  CHECK(st.layouts == 9);
  CHECK(!strcmp(output_name(g, 0), "y") && !strcmp(output_name(g, 1), "z"));
  CHECK(ir_consistent(g));
  er_imported_free(&m);
}

TEST(opt_layout_shuffle_split) {
  er_imported m;
  CHECK(opt_and_compare("layout_shuffle", ER_OPT_ALL, 0, &m, NULL) < 1e-5);
  const er_graph *g = m.graph;
  CHECK(count_domain_op(g, "NhwcConv") == 2);
  /* output and the shuffle's own (now channels-last) 5-D Transpose (conv1 reads x itself) */
  CHECK(count_op(g, "Transpose") == 2);
  int five_d = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const er_attr *a = er_node_attr(&g->nodes[i], "perm");
    if (opt_is(&g->nodes[i], "Transpose") && a && a->n == 5)
      five_d += a->ints[3] == 4 && a->ints[4] == 3;
  }
  CHECK(five_d == 1);
  CHECK(ir_consistent(g));
  er_imported_free(&m);
}

TEST(opt_layout_conv1d_and_dynamic_weights) {
  er_imported m;
  CHECK(opt_and_compare("layout_conv1d", ER_OPT_ALL, 0, &m, NULL) < 1e-5);
  const er_graph *g = m.graph;
  CHECK(count_domain_op(g, "NhwcConv") == 2 && count_domain_op(g, "NhwcMaxPool") == 1);
  CHECK(count_op(g, "Conv") == 1); /* weights from a graph input: stays channels-first */
  CHECK(count_op(g, "Transpose") == 1);                               /* x read by conv1 itself */
  CHECK(ir_consistent(g));
  er_imported_free(&m);
}

TEST(opt_layout_input_two_readers) {
  er_imported m;
  CHECK(opt_and_compare("layout_two_readers", ER_OPT_ALL, 0, &m, NULL) < 1e-5);
  const er_graph *g = m.graph;
  CHECK(count_domain_op(g, "NhwcConv") == 2 && count_domain_op(g, "NhwcMaxPool") == 1);
  CHECK(count_op(g, "Transpose") == 2); /* the pool's input and the output */
  /* conv_b (the later one) takes conv_a's output as its residual Z (conv_residual.c) */
  const er_node *a = find_node(g, "conv_a"), *b = find_node(g, "conv_b+add"), *p = find_node(g, "pool");
  CHECK(b && b->n_inputs == 4 && a && b->inputs[3] == a->outputs[0]);
  CHECK(a && opt_attr_int(a, "_nchw_in", 0) == 1 && !strcmp(g->values[a->inputs[0]].name, "x"));
  CHECK(b && opt_attr_int(b, "_nchw_in", 0) == 1 && !strcmp(g->values[b->inputs[0]].name, "x"));
  CHECK(p && strcmp(g->values[p->inputs[0]].name, "x") != 0);
  CHECK(ir_consistent(g));
  er_imported_free(&m);
}

/* op type of the node producing value v ("" for graph inputs and constants) */
static const char *producer_op(const er_graph *g, int v) {
  const er_value *val = &g->values[v];
  return val->kind == ER_VALUE_NODE && val->producer >= 0 ? g->nodes[val->producer].op_type : "";
}

TEST(opt_layout_reduce_without_keepdims) {
  er_imported m;
  CHECK(opt_and_compare("layout_reduce", ER_OPT_ALL, 0, &m, NULL) < 1e-5);
  const er_graph *g = m.graph;
  CHECK(count_domain_op(g, "NhwcConv") == 1);
  CHECK(count_op(g, "Transpose") == 1); /* only before max_w */
  const er_node *mw = find_node(g, "max_w"), *mhw = find_node(g, "mean_hw"), *sc = find_node(g, "sum_c");
  CHECK(mw && output_producer(g, 2) == mw && !strcmp(producer_op(g, mw->inputs[0]), "Transpose"));
  CHECK(mhw && output_producer(g, 0) == mhw && !strcmp(producer_op(g, mhw->inputs[0]), "NhwcConv"));
  CHECK(sc && output_producer(g, 1) == sc && !strcmp(producer_op(g, sc->inputs[0]), "NhwcConv"));
  CHECK(ir_consistent(g));
  er_imported_free(&m);
}

TEST(opt_layout_convtranspose) {
  er_imported m;
  CHECK(opt_and_compare("layout_convt", ER_OPT_ALL, 0, &m, NULL) < 1e-5);
  const er_graph *g = m.graph;
  const er_node *up = find_node(g, "up+sig"), *ov = find_node(g, "overlap"), *u1 = find_node(g, "up1d");
  CHECK(up && !strcmp(up->op_type, "NhwcConv") && act_of(up) == ER_ACT_SIGMOID);
  const er_attr *a = up ? er_node_attr(up, "_up") : NULL;
  CHECK(a && a->n == 2 && a->ints[0] == 2 && a->ints[1] == 2);
  CHECK(u1 && !strcmp(u1->op_type, "NhwcConv"));
  a = u1 ? er_node_attr(u1, "_up") : NULL;
  CHECK(a && a->n == 2 && a->ints[0] == 1 && a->ints[1] == 4);
  CHECK(ov && !strcmp(ov->op_type, "ConvTranspose")); /* overlapping windows: unchanged */
  CHECK(count_op(g, "ConvTranspose") == 1);
  CHECK(ir_consistent(g));
  er_imported_free(&m);
}

TEST(opt_layout_env_off) {
  er_imported m;
  setenv("ER_LAYOUT", "0", 1);
  CHECK(opt_and_compare("layout_cnn", ER_OPT_ALL, 0, &m, NULL) < 1e-5);
  unsetenv("ER_LAYOUT");
  CHECK(count_op(m.graph, "Conv") == 6 && count_op(m.graph, "Transpose") == 0);
  er_imported_free(&m);
}

/* Residual fusion (src/opt/conv_residual.c): NhwcConv -> Add(same-shape z) [-> Relu] ->
 * one NhwcConv with input Z; not with two readers of the conv, a broadcasting Add or a conv
 * whose activation is already fused. */
TEST(opt_conv_residual) {
  er_imported m, off;
  er_opt_stats st;
  CHECK(opt_and_compare("conv_residual", ER_OPT_ALL, 0, &m, &st) < 1e-5);
  const er_graph *g = m.graph;
  CHECK(st.conv_residuals == 2);
  const er_node *f1 = find_node(g, "c2+a1+r2"), *f2 = find_node(g, "c3+a2");
  CHECK(f1 && !strcmp(f1->op_type, "NhwcConv") && f1->n_inputs == 4 && act_of(f1) == ER_ACT_RELU);
  CHECK(f1 && f1->inputs[2] >= 0 && !strcmp(producer_op(g, f1->inputs[3]), "NhwcConv")); /* r1: c1+r1 */
  CHECK(f2 && f2->n_inputs == 4 && f2->inputs[2] < 0 && !strcmp(producer_op(g, f2->inputs[3]), "Sigmoid"));
  CHECK(f2 && act_of(f2) < 0);
  CHECK(count_op(g, "Add") == 3 && count_op(g, "Relu") == 1); /* a3, a4, a5; r5 */
  CHECK(find_node(g, "c5") && find_node(g, "c6") && find_node(g, "c7") && find_node(g, "c8+r8"));
  CHECK(ir_consistent(g));
  /* ER_FUSE_ADD=0: nothing fused, and the same bits */
  setenv("ER_FUSE_ADD", "0", 1);
  CHECK(opt_and_compare("conv_residual", ER_OPT_ALL, 0, &off, &st) < 1e-5);
  unsetenv("ER_FUSE_ADD");
  CHECK(st.conv_residuals == 0 && count_op(off.graph, "Add") == 5);
  outs a = {0}, b = {0};
  CHECK(!run(m.graph, &a) && !run(off.graph, &b) && a.n == 3 && b.n == 3);
  for (int i = 0; i < a.n && i < b.n; i++)
    CHECK(er_tensor_nbytes(&a.t[i]) == er_tensor_nbytes(&b.t[i]) &&
          !memcmp(a.t[i].data, b.t[i].data, er_tensor_nbytes(&a.t[i])));
  outs_free(&a);
  outs_free(&b);
  er_imported_free(&m);
  er_imported_free(&off);
}

/* Attention pass (src/opt/attention.c): the BERT export pattern with its head Transposes
 * becomes one Attention op reading Q/K/V as [B,S,H,D] and writing [B,S,H,D]; the masked
 * pattern with Div keeps K's Transpose as a BHSD layout; a pattern whose scores are a graph
 * output, and one with Softmax on another axis, stay. Numerically equal to the originals. */
TEST(opt_attention_pattern) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("attention_bert", ER_OPT_ALL, 0, &m, &st) < 1e-5);
  CHECK(st.attentions == 1 && count_op(m.graph, "Attention") == 1);
  CHECK(count_op(m.graph, "Transpose") == 0 && count_op(m.graph, "Softmax") == 0);
  const er_node *a = NULL;
  for (int i = 0; i < m.graph->n_nodes; i++)
    if (strcmp(m.graph->nodes[i].op_type, "Attention") == 0) a = &m.graph->nodes[i];
  const er_attr *lay = a ? er_node_attr(a, "layouts") : NULL;
  CHECK(lay && lay->n == 4 && lay->ints[0] == 1 && lay->ints[1] == 1 && lay->ints[2] == 1 &&
        lay->ints[3] == 1);
  CHECK_NEAR(act_f(a, "scale"), 0.5, 0);
  CHECK(ir_consistent(m.graph));
  er_imported_free(&m);

  CHECK(opt_and_compare("attention_mask", ER_OPT_ALL, 0, &m, &st) < 1e-5);
  CHECK(st.attentions == 1 && count_op(m.graph, "Attention") == 1);
  CHECK(count_op(m.graph, "Softmax") == 2 && count_op(m.graph, "Transpose") == 0);
  a = find_node(m.graph, "qk+attention");
  lay = a ? er_node_attr(a, "layouts") : NULL;
  CHECK(a && a->n_inputs == 4 && lay && lay->ints[0] == 0 && lay->ints[1] == 0 &&
        lay->ints[2] == 0 && lay->ints[3] == 0);
  CHECK_NEAR(act_f(a, "scale"), 0.5, 0);
  CHECK(ir_consistent(m.graph));
  er_imported_free(&m);

  /* rank 3 ([B*H, S, D]): K's Transpose and the output's are absorbed */
  CHECK(opt_and_compare("attention_rank3", ER_OPT_ALL, 0, &m, &st) < 1e-5);
  CHECK(st.attentions == 1 && m.graph->n_nodes == 1);
  a = &m.graph->nodes[0];
  lay = er_node_attr(a, "layouts");
  CHECK(strcmp(a->op_type, "Attention") == 0 && a->n_inputs == 4 && lay && lay->ints[0] == 0 &&
        lay->ints[1] == 0 && lay->ints[2] == 0 && lay->ints[3] == 1);
  er_imported_free(&m);
}

/* Constant folding (src/opt/fold.c): float16 weights + Cast before a Conv + BN + Relu, int8
 * weights + DequantizeLinear + Transpose before a MatMul, a Reshape shape built from
 * Unsqueeze/Concat of constants, a Mul of constants and a small ConstantOfShape fold; after
 * that BN folds, Relu fuses, the conv goes channels-last and MatMul + Add becomes Gemm. An
 * Expand growing 64 bytes to 256 KiB, a Cast of an initializer listed as a graph input and
 * a node producing a graph output stay. Numerically equal to the unoptimized model, and
 * bit-identical to the same passes without folding (ER_FOLD=0). */
TEST(opt_fold_constants) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("fold", ER_OPT_ALL, 0, &m, &st) < 1e-5);
  CHECK(st.folded == 7); /* cast_w, unsq, cat_shape, dq_w, t_w, bias_mul, cos */
  CHECK(st.folded_bn == 1 && count_op(m.graph, "BatchNormalization") == 0);
  CHECK(count_op(m.graph, "NhwcConv") == 1 && count_op(m.graph, "Gemm") == 1);
  CHECK(count_op(m.graph, "DequantizeLinear") == 0 && count_op(m.graph, "ConstantOfShape") == 0 &&
        count_op(m.graph, "Concat") == 0 && count_op(m.graph, "Unsqueeze") == 0 && count_op(m.graph, "Mul") == 0);
  CHECK(count_op(m.graph, "Transpose") == 1); /* the conv's back to channels-first */
  CHECK(find_node(m.graph, "expand") && find_node(m.graph, "cast_gin") && find_node(m.graph, "neg_const"));
  const er_node *gemm = find_node(m.graph, "mm+bias_add");
  CHECK(gemm && gemm->n_inputs == 3);
  if (gemm && gemm->n_inputs == 3) {
    const er_value *w = &m.graph->values[gemm->inputs[1]];
    CHECK(w->kind == ER_VALUE_INITIALIZER && w->dtype == ER_F32 && w->rank == 2 && w->dims[0] == 32 &&
          w->dims[1] == 6);
  }
  CHECK(ir_consistent(m.graph));

  /* the folded constants are exactly what the unfolded graph computes (no other rewrite:
   * BN folding changes the conv's rounding) */
  const unsigned only = ER_OPT_DCE | ER_OPT_CONSTANTS | ER_OPT_IDENTITY | ER_OPT_FOLD;
  er_imported ref, m2;
  outs a = {0}, b = {0};
  CHECK_OK(load("fold", &ref));
  setenv("ER_FOLD", "0", 1);
  er_status s = er_optimize_ex(&ref, only, 0, &st);
  unsetenv("ER_FOLD");
  CHECK_OK(s);
  CHECK(st.folded == 0);
  CHECK_OK(load("fold", &m2));
  CHECK_OK(er_optimize_ex(&m2, only, 0, &st));
  CHECK(st.folded == 7 && m2.graph->n_nodes == 13);
  CHECK_OK(run(ref.graph, &a));
  CHECK_OK(run(m2.graph, &b));
  CHECK(a.n == 2 && b.n == 2);
  for (int i = 0; i < a.n && i < b.n; i++)
    CHECK(er_tensor_nbytes(&a.t[i]) == er_tensor_nbytes(&b.t[i]) &&
          memcmp(a.t[i].data, b.t[i].data, er_tensor_nbytes(&a.t[i])) == 0);
  outs_free(&a);
  outs_free(&b);
  er_imported_free(&ref);
  er_imported_free(&m2);
  er_imported_free(&m);

  /* without the pass in the mask nothing folds (the quantizer's passes) */
  CHECK(opt_and_compare("fold", ER_OPT_ALL & ~(unsigned)ER_OPT_FOLD, 0, &m, &st) < 1e-5);
  CHECK(st.folded == 0 && count_op(m.graph, "DequantizeLinear") == 1 && count_op(m.graph, "Cast") == 2);
  er_imported_free(&m);
}

/* QDQ model: the weight DequantizeLinear of the integer pattern goes into a QLinearConv (the
 * QDQ pass runs first), the one of the float conv after it folds. */
TEST(opt_fold_qdq) {
  er_imported m;
  er_opt_stats st;
  CHECK(opt_and_compare("fold_qdq", ER_OPT_ALL, 0, &m, &st) < 1e-5);
  CHECK(st.qdq >= 1 && st.folded == 1);
  CHECK(count_op(m.graph, "NhwcQLinearConv") == 1 && count_op(m.graph, "NhwcConv") == 1);
  CHECK(count_op(m.graph, "DequantizeLinear") == 1 && find_node(m.graph, "dq_c1"));
  CHECK(ir_consistent(m.graph));
  er_imported_free(&m);
}
