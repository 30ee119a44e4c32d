#include "kernels/kernel.h"

static int str_eq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}
static int domain_eq(const char *a, const char *b) {
  if (!a || str_eq(a, "ai.onnx")) a = "";
  if (!b || str_eq(b, "ai.onnx")) b = "";
  return str_eq(a, b);
}

static const er_op_def *const families[] = {
    er_ops_elementwise, er_ops_conv, er_ops_linalg, er_ops_shape, er_ops_rnn,
    er_ops_quant,       er_ops_signal, er_ops_sequence, er_ops_control, er_ops_ml,
    er_ops_nhwc,
};

const er_op_def *er_op_at(int index) {
  for (unsigned f = 0; f < sizeof families / sizeof families[0]; f++)
    for (const er_op_def *d = families[f]; d->op_type; d++)
      if (index-- == 0) return d;
  return 0;
}

const er_op_def *er_op_find(const char *domain, const char *op_type, int opset) {
  for (unsigned f = 0; f < sizeof families / sizeof families[0]; f++)
    for (const er_op_def *d = families[f]; d->op_type; d++)
      if (str_eq(d->op_type, op_type) && domain_eq(d->domain, domain) && opset >= d->min_opset &&
          (d->max_opset == 0 || opset <= d->max_opset))
        return d;
  return 0;
}

const er_op_def *er_op_find_any(const char *domain, const char *op_type) {
  for (unsigned f = 0; f < sizeof families / sizeof families[0]; f++)
    for (const er_op_def *d = families[f]; d->op_type; d++)
      if (str_eq(d->op_type, op_type) && domain_eq(d->domain, domain)) return d;
  return 0;
}

/* 1 in a selective-op build (make OPS=FILE): ops missing from the registry may exist in a full build. */
int er_op_build_selective(void) {
#ifdef ER_OPS_SELECTED
  return 1;
#else
  return 0;
#endif
}

/* ---- kernel helpers ---- */
int64_t er_attr_int(const er_kctx *c, const char *name, int64_t def) {
  const er_attr *a = er_node_attr(c->node, name);
  return a && a->type == ER_ATTR_INT ? a->i : def;
}
float er_attr_float(const er_kctx *c, const char *name, float def) {
  const er_attr *a = er_node_attr(c->node, name);
  return a && a->type == ER_ATTR_FLOAT ? a->f : def;
}
const char *er_attr_str(const er_kctx *c, const char *name, const char *def) {
  const er_attr *a = er_node_attr(c->node, name);
  return a && a->type == ER_ATTR_STRING ? a->s : def;
}
int er_attr_ints(const er_kctx *c, const char *name, const int64_t **out) {
  const er_attr *a = er_node_attr(c->node, name);
  if (!a || a->type != ER_ATTR_INTS) return -1;
  *out = a->ints;
  return a->n;
}
int er_attr_floats(const er_kctx *c, const char *name, const float **out) {
  const er_attr *a = er_node_attr(c->node, name);
  if (!a || a->type != ER_ATTR_FLOATS) return -1;
  *out = a->floats;
  return a->n;
}

er_status er_needs_data(const er_kctx *c) {
  (void)c;
  return ER_ERR(ER_NEEDS_DATA, "output shape depends on input values");
}

er_status er_check_inputs(const er_kctx *c, int lo, int hi) {
  int n = c->n_in;
  while (n > 0 && !c->in[n - 1]) n--;
  if (n < lo || n > hi) {
    if (lo == hi) return ER_ERR(ER_INVALID_MODEL, "expects %d inputs, got %d", lo, n);
    return ER_ERR(ER_INVALID_MODEL, "expects %d to %d inputs, got %d", lo, hi, n);
  }
  for (int i = 0; i < lo; i++)
    if (!c->in[i]) return ER_ERR(ER_INVALID_MODEL, "required input %d is missing", i);
  return 0;
}

er_status er_check_type(const er_kctx *c, int i, const int *allowed) {
  if (i >= c->n_in || !c->in[i]) return ER_ERR(ER_INVALID_MODEL, "input %d is missing", i);
  int t = c->in[i]->dtype;
  for (const int *a = allowed; *a; a++)
    if (*a == t) return 0;
  return ER_ERR(ER_INVALID_ARGUMENT, "input %d has unsupported type %s", i,
                er_dtype_name((er_dtype)t));
}

er_status er_read_ints(const er_tensor *t, int64_t *out, int cap, int *out_n) {
  if (!t->data) return ER_ERR(ER_NEEDS_DATA, "values not known");
  if (!er_dtype_is_signed_int(t->dtype) && !er_dtype_is_unsigned_int(t->dtype))
    return ER_ERR(ER_INVALID_ARGUMENT, "expected an integer tensor, got %s",
                  er_dtype_name((er_dtype)t->dtype));
  if (t->rank > 1) return ER_ERR(ER_INVALID_ARGUMENT, "expected a 1-D tensor, got rank %d", t->rank);
  int64_t n = er_tensor_numel(t);
  if (n > cap) return ER_ERR(ER_OUT_OF_RANGE, "too many values (%lld, at most %d)", (long long)n, cap);
  for (int64_t i = 0; i < n; i++) out[i] = er_load_i64(t->data, t->dtype, (size_t)i);
  *out_n = (int)n;
  return 0;
}
