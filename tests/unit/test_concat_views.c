/* In-place Concat (runtime/exec.c): a Concat whose inputs are written for it alone places
 * them inside its output and does not run. tests/data/exec/concat_views.onnx (make.py
 * there) has channels-last Concats of NhwcConv outputs on every conv path (rows written
 * with a stride), an axis-0 Concat of MatMuls (contiguous blocks), and two that must copy
 * (an input also read by an Add; a last-axis Concat of MatMuls, which cannot write rows
 * with a stride), and a last-axis Concat of two Slices (one with a negative step) written in
 * place with a row stride. The optimized model's outputs match the unoptimized model's, 1 and 2
 * threads give the same bits, and the inputs of exactly the expected Concats lie inside
 * their outputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/threads.h"
#include "import/onnx/onnx.h"
#include "opt/opt.h"
#include "runtime/exec.h"
#include "test.h"

static er_status cv_load(int optimize, er_imported *m) {
  const char *path = "tests/data/exec/concat_views.onnx";
  memset(m, 0, sizeof *m);
  const void *data;
  size_t size;
  ER_RETURN_IF_ERROR(er_map_file(path, &m->mappings, &data, &size));
  ER_RETURN_IF_ERROR(er_onnx_import(data, size, NULL, path, m));
  return optimize ? er_optimize_ex(m, ER_OPT_ALL, 0, NULL) : NULL;
}

static er_status cv_run(er_exec *e) {
  static float xs[3 * 17 * 16], x2[24], x3[12];
  for (int i = 0; i < 3 * 17 * 16; i++) xs[i] = sinf(0.37f * (float)i);
  for (int i = 0; i < 24; i++) x2[i] = cosf(0.5f * (float)i);
  for (int i = 0; i < 12; i++) x3[i] = 0.1f * (float)i - 0.4f;
  er_tensor x = {.dtype = ER_F32, .rank = 4, .dims = {1, 3, 17, 16}, .data = xs};
  er_tensor a = {.dtype = ER_F32, .rank = 2, .dims = {4, 6}, .data = x2};
  er_tensor b = {.dtype = ER_F32, .rank = 2, .dims = {2, 6}, .data = x3};
  ER_RETURN_IF_ERROR(er_exec_set_input(e, 0, &x));
  ER_RETURN_IF_ERROR(er_exec_set_input(e, 1, &a));
  ER_RETURN_IF_ERROR(er_exec_set_input(e, 2, &b));
  return er_exec_run(e);
}

/* 1 when every input of Concat node i lies inside its output's bytes */
static int inside(const er_exec *e, int i) {
  const er_kctx *c = er_exec_node(e, i);
  const char *o = (const char *)c->out[0]->data, *end = o + er_tensor_nbytes(c->out[0]);
  for (int k = 0; k < c->n_in; k++) {
    const char *p = (const char *)c->in[k]->data;
    if (p < o || p >= end) return 0;
  }
  return 1;
}

TEST(exec_concat_views) {
  er_imported ref, opt;
  er_exec *er = NULL, *e = NULL;
  er_threadpool *pool = NULL;
  CHECK_OK(cv_load(0, &ref));
  CHECK_OK(cv_load(1, &opt));
  CHECK_OK(er_exec_create(ref.graph, NULL, er_host_allocator(), &er));
  CHECK_OK(er_exec_create(opt.graph, NULL, er_host_allocator(), &e));
  CHECK_OK(er_threadpool_create(2, &pool));
  if (!er || !e || !pool) return;
  CHECK_OK(cv_run(er));
  float *first[6] = {0};
  for (int th = 1; th <= 2; th++) {
    er_exec_set_threads(e, th == 2 ? pool : NULL);
    CHECK_OK(cv_run(e));
    for (int k = 0; k < 6; k++) {
      const er_tensor *y = er_exec_output(e, k), *r = er_exec_output(er, k);
      const int64_t n = er_tensor_numel(r);
      CHECK(er_tensor_numel(y) == n);
      double worst = 0;
      for (int64_t i = 0; i < n && er_tensor_numel(y) == n; i++)
        worst = fmax(worst, fabs(((const float *)y->data)[i] - ((const float *)r->data)[i]));
      CHECK(worst < 1e-4);
      if (k == 5 && n == 20) { /* y6 = x2[:, [0, 1, 2, 5, 3]], independent of the planner */
        static const int col[5] = {0, 1, 2, 5, 3};
        for (int i = 0; i < 20; i++)
          CHECK(((const float *)y->data)[i] == cosf(0.5f * (float)(i / 5 * 6 + col[i % 5])));
      }
      if (th == 1) {
        first[k] = (float *)malloc(er_tensor_nbytes(y) + 1);
        memcpy(first[k], y->data, er_tensor_nbytes(y));
      } else {
        CHECK(!memcmp(first[k], y->data, er_tensor_nbytes(y)));
      }
    }
  }
  const char *names[6] = {"cat1", "cat2", "cat3", "cat4", "cat5", "cat6"};
  const int expect[6] = {1, 1, 0, 1, 0, 1};
  int found = 0;
  for (int i = 0; i < opt.graph->n_nodes; i++)
    for (int k = 0; k < 6; k++)
      if (!strcmp(opt.graph->nodes[i].name, names[k])) {
        found++;
        if (inside(e, i) != expect[k]) {
          fprintf(stderr, "  %s: inputs %s the output\n", names[k], expect[k] ? "not inside" : "inside");
          CHECK(0);
        }
      }
  CHECK(found == 6);
  for (int k = 0; k < 6; k++) free(first[k]);
  er_exec_destroy(e);
  er_exec_destroy(er);
  er_threadpool_destroy(pool);
  er_imported_free(&ref);
  er_imported_free(&opt);
}
