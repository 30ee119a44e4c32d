#include "optest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void *allocs[1 << 14];
static int n_allocs;
static void *track(void *p) {
  if (p && n_allocs < (int)(sizeof allocs / sizeof allocs[0])) allocs[n_allocs++] = p;
  return p;
}

void ot_free_all(void) {
  for (int i = 0; i < n_allocs; i++) free(allocs[i]);
  n_allocs = 0;
}

er_tensor *ot_tensor(int dtype, int rank, const int64_t *dims, const void *values) {
  er_tensor *t = (er_tensor *)track(calloc(1, sizeof *t));
  er_tensor_set_shape(t, dtype, rank, dims);
  size_t nb = er_tensor_nbytes(t);
  t->data = track(calloc(1, nb ? nb : 1));
  if (values && nb) memcpy(t->data, values, nb);
  return t;
}

er_attr ot_int(const char *name, int64_t v) { return (er_attr){.name = name, .type = ER_ATTR_INT, .i = v}; }
er_attr ot_float(const char *name, float v) { return (er_attr){.name = name, .type = ER_ATTR_FLOAT, .f = v}; }
er_attr ot_str(const char *name, const char *s) {
  return (er_attr){.name = name, .type = ER_ATTR_STRING, .s = s, .s_len = strlen(s)};
}
er_attr ot_ints(const char *name, int n, const int64_t *v) {
  return (er_attr){.name = name, .type = ER_ATTR_INTS, .n = n, .ints = v};
}
er_attr ot_floats(const char *name, int n, const float *v) {
  return (er_attr){.name = name, .type = ER_ATTR_FLOATS, .n = n, .floats = v};
}

static const er_microkernels *ot_mk;
static er_threadpool *ot_pool;

void ot_set_microkernels(const er_microkernels *mk) { ot_mk = mk; }

void ot_set_threads(int n) {
  er_threadpool_destroy(ot_pool);
  ot_pool = NULL;
  if (n > 1) {
    er_status s = er_threadpool_create(n, &ot_pool);
    if (s) er_status_free(s), ot_pool = NULL;
  }
}

er_status ot_run_domain(const char *domain, const char *op_type, int opset, const er_attr *attrs,
                        int n_attrs, er_tensor **in, int n_in, er_tensor **out, int n_out) {
  const er_op_def *op = er_op_find(domain, op_type, opset);
  if (!op) return ER_ERR(ER_UNSUPPORTED, "unsupported operator %s (opset %d)", op_type, opset);
  er_node node = {.name = "test", .op_type = op_type, .domain = domain, .opset = opset,
                  .n_inputs = n_in, .n_outputs = n_out, .n_attrs = n_attrs,
                  .attrs = (er_attr *)attrs, .op = op};
  er_tensor *outs[16];
  for (int i = 0; i < n_out; i++) {
    outs[i] = (er_tensor *)track(calloc(1, sizeof(er_tensor)));
    out[i] = outs[i];
  }
  er_kctx c = {.node = &node, .opset = opset, .n_in = n_in, .n_out = n_out, .in = in, .out = outs,
               .threads = ot_pool, .mk = ot_mk};
  ER_RETURN_IF_ERROR(op->infer(&c));
  for (int i = 0; i < n_out; i++) {
    size_t nb = er_tensor_nbytes(outs[i]);
    outs[i]->data = track(calloc(1, nb ? nb : 1));
  }
  if (ot_mk) { /* as a session does: persistent state, then prepare */
    c.state = c.state_bytes ? track(calloc(1, c.state_bytes)) : NULL;
    if (op->prepare) ER_RETURN_IF_ERROR(op->prepare(&c));
  }
  c.scratch = c.scratch_bytes ? track(calloc(1, c.scratch_bytes)) : NULL;
  return op->run(&c);
}

er_status ot_run_ex(const char *domain, const char *op_type, int opset, const er_attr *attrs,
                    int n_attrs, er_tensor **in, int n_in, er_tensor **out, int n_out,
                    const er_microkernels *mk, er_threadpool *pool) {
  const er_microkernels *mk0 = ot_mk;
  er_threadpool *pool0 = ot_pool;
  ot_mk = mk, ot_pool = pool;
  er_status s = ot_run_domain(domain, op_type, opset, attrs, n_attrs, in, n_in, out, n_out);
  ot_mk = mk0, ot_pool = pool0;
  return s;
}

er_status ot_run(const char *op_type, int opset, const er_attr *attrs, int n_attrs, er_tensor **in,
                 int n_in, er_tensor **out, int n_out) {
  return ot_run_domain("", op_type, opset, attrs, n_attrs, in, n_in, out, n_out);
}

double ot_max_abs_diff_f32(const er_tensor *a, const float *expect, int64_t n) {
  if (er_tensor_numel(a) != n || a->dtype != ER_F32) return INFINITY;
  double m = 0;
  const float *p = (const float *)a->data;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)p[i] - (double)expect[i]);
    if (isnan(p[i]) != isnan(expect[i])) return INFINITY;
    if (d > m) m = d;
  }
  return m;
}
