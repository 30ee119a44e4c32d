/* QDQ pass (src/opt/qdq.c) on QDQ models made by ONNX Runtime's quantize_static and by hand
 * (tests/data/qdq/make.py): after the pass no float Conv/MatMul/Gemm/Add/pooling is left
 * between quantization nodes, and outputs agree with ONNX Runtime's (reference .npy files)
 * within one quantization step of the output (they are in fact bit-identical on the 8-bit
 * cases; for the 4-bit weight-only case the "step" is 1e-5 of the output's range: float
 * sums in another order); 1 and 2 threads give the same bits. */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/threads.h"
#include "import/onnx/onnx.h"
#include "io/tensor_io.h"
#include "opt/opt.h"
#include "runtime/exec.h"
#include "test.h"

#define QDQ_DATA "tests/data/qdq/"

static er_status qdq_load(const char *name, er_imported *m) {
  char path[256];
  snprintf(path, sizeof path, QDQ_DATA "%s.onnx", name);
  memset(m, 0, sizeof *m);
  const void *data;
  size_t size;
  ER_RETURN_IF_ERROR(er_map_file(path, &m->mappings, &data, &size));
  return er_onnx_import(data, size, NULL, path, m);
}

/* Run g on x (input 0) with the given pool; *out gets a malloc'ed copy of output 0. */
static er_status qdq_run(const er_graph *g, const er_tensor *x, er_threadpool *pool, er_tensor *out) {
  er_exec *e;
  ER_RETURN_IF_ERROR(er_exec_create(g, NULL, er_host_allocator(), &e));
  er_exec_set_threads(e, pool);
  er_status s = er_exec_set_input(e, 0, x);
  if (!s) s = er_exec_run(e);
  if (!s) {
    const er_tensor *t = er_exec_output(e, 0);
    *out = *t;
    out->data = malloc(er_tensor_nbytes(t) + 1);
    memcpy(out->data, t->data, er_tensor_nbytes(t));
  }
  er_exec_destroy(e);
  return s;
}

static int count_op(const er_graph *g, const char *op) {
  int k = 0;
  for (int i = 0; i < g->n_nodes; i++) k += strcmp(g->nodes[i].op_type, op) == 0;
  return k;
}

/* The cases with the pass's channels-last step (default) and without it (ER_QDQ_NHWC=0). */
static void qdq_cases(int *er_failed_);

TEST(qdq_models_vs_onnxruntime) { qdq_cases(er_failed_); }

TEST(qdq_models_channels_first_vs_onnxruntime) {
  setenv("ER_QDQ_NHWC", "0", 1);
  qdq_cases(er_failed_);
  unsetenv("ER_QDQ_NHWC");
}

static void qdq_cases(int *er_failed_) {
  FILE *f = fopen(QDQ_DATA "cases.txt", "r");
  CHECK(f != NULL);
  if (!f) return;
  er_threadpool *pool = NULL;
  CHECK_OK(er_threadpool_create(2, &pool));
  char name[128];
  double step;
  int cases = 0;
  while (fscanf(f, "%127s %lf", name, &step) == 2) {
    er_imported m;
    er_status s = qdq_load(name, &m);
    if (s) {
      fprintf(stderr, "  %s: %s\n", name, er_status_message(s));
      er_status_free(s);
      *er_failed_ = 1;
      continue;
    }
    er_opt_stats st;
    CHECK_OK(er_optimize_ex(&m, ER_OPT_ALL, 0, &st));
    const er_graph *g = m.graph;
    /* only integer ops between the input's QuantizeLinear and the output's DequantizeLinear */
    static const char *float_ops[] = {"Conv", "MatMul", "Gemm", "Add", "GlobalAveragePool", "Relu", "Clip", "Concat"};
    int weight_only = strstr(name, "int4") != NULL, dynamic = strstr(name, "dynamic") != NULL;
    for (size_t k = 0; k < sizeof float_ops / sizeof float_ops[0] && !weight_only && !dynamic; k++)
      if (count_op(g, float_ops[k])) {
        fprintf(stderr, "  %s: %d float %s left\n", name, count_op(g, float_ops[k]), float_ops[k]);
        *er_failed_ = 1;
      }
    CHECK(count_op(g, "QuantizeLinear") <= 1 && count_op(g, "DequantizeLinear") <= 1);
    CHECK(!weight_only || (count_op(g, "MatMulQ4") == 3 && count_op(g, "MatMul") == 0));
    /* ONNX Runtime's dynamic format: MatMulInteger -> Cast -> Mul -> Add fused */
    CHECK(!dynamic || (count_op(g, "MatMulIntegerToFloat") == 2 && count_op(g, "MatMulInteger") == 0 &&
                       count_op(g, "Cast") == 0 && count_op(g, "Add") == 0));
    /* the importer's one-per-byte copies of the 4-bit weights are freed once MatMulQ4 holds
     * them packed (the runs below read only what is left: ASan would see a stale pointer) */
    size_t released = er_imported_release_unused(&m);
    if (!(weight_only ? released > 0 : released == 0)) fprintf(stderr, "  %s: released %zu\n", name, released);
    CHECK(weight_only ? released > 0 : released == 0);
    CHECK(er_imported_release_unused(&m) == 0);
    /* channels-last: every conv converted, Transposes only at the borders of the region */
    const char *nhwc = getenv("ER_QDQ_NHWC");
    int cl = !nhwc || strcmp(nhwc, "0");
    CHECK(count_op(g, "QLinearConv") == 0 || !cl);
    CHECK(count_op(g, "NhwcQLinearConv") == 0 || cl);
    if (count_op(g, "Transpose") > 2) {
      fprintf(stderr, "  %s: %d Transposes left\n", name, count_op(g, "Transpose"));
      *er_failed_ = 1;
    }
    /* channels-last: the input's QuantizeLinear writes channels-last itself (no Transpose) */
    for (int i = 0; i < g->n_nodes && cl; i++) {
      const er_node *n = &g->nodes[i];
      int p = n->n_inputs && n->inputs[0] >= 0 ? g->values[n->inputs[0]].producer : -1;
      if (!strcmp(n->op_type, "Transpose") && p >= 0 && !strcmp(g->nodes[p].op_type, "QuantizeLinear")) {
        fprintf(stderr, "  %s: QuantizeLinear -> Transpose left\n", name);
        *er_failed_ = 1;
      }
    }
    CHECK(st.qdq > 0);
    char path[256];
    er_pool pl = {0};
    er_tensor x, ref, y1 = {0}, y2 = {0};
    snprintf(path, sizeof path, QDQ_DATA "%s.input.npy", name);
    CHECK_OK(er_tensor_file_read(path, &pl, &x));
    snprintf(path, sizeof path, QDQ_DATA "%s.output.npy", name);
    CHECK_OK(er_tensor_file_read(path, &pl, &ref));
    CHECK_OK(qdq_run(g, &x, NULL, &y1));
    CHECK_OK(qdq_run(g, &x, pool, &y2));
    if (y1.data && y2.data) {
      int64_t n = er_tensor_numel(&ref);
      CHECK(er_tensor_numel(&y1) == n && y1.dtype == ER_F32);
      double worst = 0;
      for (int64_t i = 0; i < n && er_tensor_numel(&y1) == n; i++) {
        double d = fabs((double)((float *)y1.data)[i] - (double)((float *)ref.data)[i]) / step;
        if (d > worst) worst = d;
      }
      if (!(worst <= 1.0 + 1e-3)) {
        fprintf(stderr, "  %s: differs from ONNX Runtime by %.2f output steps\n", name, worst);
        *er_failed_ = 1;
      }
      CHECK(memcmp(y1.data, y2.data, er_tensor_nbytes(&y1)) == 0);
    }
    free(y1.data), free(y2.data);
    er_pool_free(&pl);
    er_imported_free(&m);
    cases++;
  }
  fclose(f);
  CHECK(cases >= 10);
  er_threadpool_destroy(pool);
}
