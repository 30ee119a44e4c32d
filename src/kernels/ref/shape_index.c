/*
 * Indexing operators (reference kernels): Gather, GatherElements, GatherND,
 * Scatter/ScatterElements, ScatterND, OneHot, NonZero, Compress, Unique.
 * Registered in ops_shape.c. Data is moved by element size (type-agnostic);
 * only scatter reductions, OneHot and Unique look at element values.
 * Every index is checked against its axis: out-of-range is an error, never a read
 * or write outside a buffer.
 */
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"
#include "kernels/ref/shape_common.h"


static int64_t prod(const int64_t *dims, int lo, int hi) {
  int64_t p = 1;
  for (int d = lo; d < hi; d++) p *= dims[d];
  return p;
}

static const int index_types[] = {ER_I32, ER_I64, 0};

/* Index value i of t, made non-negative for an axis of size dim; error if out of range. */
static er_status load_index(const er_tensor *t, int64_t i, int64_t dim, int64_t *out) {
  int64_t v = er_load_i64(t->data, t->dtype, (size_t)i);
  if (v < -dim || v >= dim)
    return ER_ERR(ER_OUT_OF_RANGE, "index %lld is out of range for an axis of size %lld", (long long)v, (long long)dim);
  *out = v < 0 ? v + dim : v;
  return NULL;
}

/* ---- Gather ---- */

er_status er_shape_gather_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, index_types));
  const er_tensor *x = c->in[0], *ind = c->in[1];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  if (x->rank < 1) return ER_ERR(ER_INVALID_ARGUMENT, "Gather data must have rank >= 1");
  int axis;
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 0), x->rank, &axis));
  int r = x->rank - 1 + ind->rank;
  if (r > MAXR) return ER_ERR(ER_UNSUPPORTED, "output rank %d exceeds the maximum of %d", r, MAXR);
  int64_t d[MAXR];
  int k = 0;
  for (int i = 0; i < axis; i++) d[k++] = x->dims[i];
  for (int i = 0; i < ind->rank; i++) d[k++] = ind->dims[i];
  for (int i = axis + 1; i < x->rank; i++) d[k++] = x->dims[i];
  return set_out(c, 0, x->dtype, r, d);
}

er_status er_shape_gather_run(er_kctx *c) {
  const er_tensor *x = c->in[0], *ind = c->in[1];
  int axis;
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 0), x->rank, &axis));
  size_t es = er_dtype_size(x->dtype);
  int64_t outer = prod(x->dims, 0, axis), dim = x->dims[axis], inner = prod(x->dims, axis + 1, x->rank);
  int64_t n = er_tensor_numel(ind);
  size_t blk = (size_t)inner * es;
  char *o = (char *)c->out[0]->data;
  for (int64_t j = 0; j < n; j++) { /* validate first: no partial output on error */
    int64_t v;
    ER_RETURN_IF_ERROR(load_index(ind, j, dim, &v));
  }
  for (int64_t i = 0; i < outer; i++)
    for (int64_t j = 0; j < n; j++, o += blk) {
      int64_t v;
      load_index(ind, j, dim, &v);
      memcpy(o, (const char *)x->data + (size_t)(i * dim + v) * blk, blk);
    }
  return NULL;
}

/* ---- GatherElements / ScatterElements shared checks ---- */

/* indices (and updates, if given) must match data's rank and not exceed it on other axes. */
static er_status elements_check(const er_tensor *x, const er_tensor *ind, const er_tensor *upd, int axis) {
  if (ind->rank != x->rank) return ER_ERR(ER_INVALID_ARGUMENT, "indices rank %d differs from data rank %d", ind->rank, x->rank);
  for (int d = 0; d < x->rank; d++)
    if (d != axis && ind->dims[d] > x->dims[d])
      return ER_ERR(ER_INVALID_ARGUMENT, "indices dim %d (%lld) exceeds data dim (%lld)", d, (long long)ind->dims[d],
                    (long long)x->dims[d]);
  if (upd) {
    if (upd->rank != ind->rank || memcmp(upd->dims, ind->dims, sizeof(int64_t) * (size_t)ind->rank))
      return ER_ERR(ER_INVALID_ARGUMENT, "updates shape differs from indices shape");
    if (upd->dtype != x->dtype) return ER_ERR(ER_INVALID_ARGUMENT, "updates type differs from data type");
  }
  return NULL;
}

/* Visit every element j of `ind` (row-major); *off = data offset of its position with
 * the axis coordinate replaced by the (checked) index value. */
typedef struct {
  int rank, axis;
  int64_t dims[MAXR], idx[MAXR], xst[MAXR], base;
} elem_iter;

static void elem_iter_init(elem_iter *it, const er_tensor *x, const er_tensor *ind, int axis) {
  it->rank = ind->rank, it->axis = axis, it->base = 0;
  memcpy(it->dims, ind->dims, sizeof(int64_t) * (size_t)ind->rank);
  memset(it->idx, 0, sizeof it->idx);
  er_contiguous_strides(x->dims, x->rank, it->xst);
}
static void elem_iter_next(elem_iter *it) {
  for (int d = it->rank - 1; d >= 0; d--) {
    if (d != it->axis) it->base += it->xst[d];
    if (++it->idx[d] < it->dims[d]) return;
    if (d != it->axis) it->base -= it->xst[d] * it->dims[d];
    it->idx[d] = 0;
  }
}

er_status er_shape_gather_elements_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, index_types));
  const er_tensor *x = c->in[0], *ind = c->in[1];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  int axis;
  if (x->rank < 1) return ER_ERR(ER_INVALID_ARGUMENT, "data must have rank >= 1");
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 0), x->rank, &axis));
  ER_RETURN_IF_ERROR(elements_check(x, ind, NULL, axis));
  return set_out(c, 0, x->dtype, ind->rank, ind->dims);
}

er_status er_shape_gather_elements_run(er_kctx *c) {
  const er_tensor *x = c->in[0], *ind = c->in[1];
  int axis;
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 0), x->rank, &axis));
  size_t es = er_dtype_size(x->dtype);
  int64_t n = er_tensor_numel(ind);
  elem_iter it;
  elem_iter_init(&it, x, ind, axis);
  char *o = (char *)c->out[0]->data;
  for (int64_t j = 0; j < n; j++, elem_iter_next(&it), o += es) {
    int64_t v;
    ER_RETURN_IF_ERROR(load_index(ind, j, x->dims[axis], &v));
    memcpy(o, (const char *)x->data + (size_t)(it.base + v * it.xst[axis]) * es, es);
  }
  return NULL;
}

/* ---- scatter reductions ---- */

enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

static er_status reduction_attr(const er_kctx *c, int *red) {
  const char *r = er_attr_str(c, "reduction", "none");
  if (!strcmp(r, "none")) *red = RED_NONE;
  else if (!strcmp(r, "add") && c->opset >= 16) *red = RED_ADD;
  else if (!strcmp(r, "mul") && c->opset >= 16) *red = RED_MUL;
  else if (!strcmp(r, "max") && c->opset >= 18) *red = RED_MAX;
  else if (!strcmp(r, "min") && c->opset >= 18) *red = RED_MIN;
  else return ER_ERR(ER_INVALID_ARGUMENT, "reduction '%s' is not supported at opset %d", r, c->opset);
  return NULL;
}

#define RED_APPLY(a, b)                                                                             \
  (red == RED_ADD ? (a) + (b) : red == RED_MUL ? (a) * (b) : red == RED_MAX ? ((a) > (b) ? (a) : (b)) \
                                                                         : ((a) < (b) ? (a) : (b)))

/* dst[di] = dst[di] (red) src[si] for elements of type dtype. */
static void reduce_into(void *dst, int64_t di, const void *src, int64_t si, int dtype, size_t es, int red) {
  if (red == RED_NONE) {
    memcpy((char *)dst + (size_t)di * es, (const char *)src + (size_t)si * es, es);
    return;
  }
  switch (dtype) {
    case ER_BOOL: { /* add/max = or, mul/min = and */
      uint8_t *a = (uint8_t *)dst + di, b = ((const uint8_t *)src)[si] != 0;
      *a = (red == RED_ADD || red == RED_MAX) ? (*a || b) : (*a && b);
      return;
    }
#define X(E, T, S)                       \
  case E: {                              \
    T *a = (T *)dst + di;                \
    T b = ((const T *)src)[si];          \
    *a = (T)RED_APPLY(*a, b);            \
    return;                              \
  }
      X(ER_F32, float, f32)
      X(ER_F64, double, f64)
      X(ER_I8, int8_t, i8)
      X(ER_I16, int16_t, i16)
      X(ER_I32, int32_t, i32)
      X(ER_I64, int64_t, i64)
      X(ER_U8, uint8_t, u8)
      X(ER_U16, uint16_t, u16)
      X(ER_U32, uint32_t, u32)
      X(ER_U64, uint64_t, u64)
#undef X
    default: { /* float16, bfloat16, float8: compute in double, round back */
      double a = er_load_f64(dst, dtype, (size_t)di), b = er_load_f64(src, dtype, (size_t)si);
      er_store_f64(dst, dtype, (size_t)di, RED_APPLY(a, b));
    }
  }
}

/* ---- ScatterElements (and deprecated Scatter) ---- */

er_status er_shape_scatter_elements_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, 3));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, index_types));
  const er_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  int axis, red;
  ER_RETURN_IF_ERROR(reduction_attr(c, &red));
  if (x->rank < 1) return ER_ERR(ER_INVALID_ARGUMENT, "data must have rank >= 1");
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 0), x->rank, &axis));
  ER_RETURN_IF_ERROR(elements_check(x, ind, upd, axis));
  return set_out(c, 0, x->dtype, x->rank, x->dims);
}

er_status er_shape_scatter_elements_run(er_kctx *c) {
  const er_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
  er_tensor *y = c->out[0];
  int axis, red;
  ER_RETURN_IF_ERROR(reduction_attr(c, &red));
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 0), x->rank, &axis));
  size_t es = er_dtype_size(x->dtype);
  int64_t n = er_tensor_numel(ind);
  for (int64_t j = 0; j < n; j++) {
    int64_t v;
    ER_RETURN_IF_ERROR(load_index(ind, j, x->dims[axis], &v));
  }
  if (y->data != x->data) memcpy(y->data, x->data, er_tensor_nbytes(x));
  elem_iter it;
  elem_iter_init(&it, x, ind, axis);
  for (int64_t j = 0; j < n; j++, elem_iter_next(&it)) {
    int64_t v;
    load_index(ind, j, x->dims[axis], &v);
    reduce_into(y->data, it.base + v * it.xst[axis], upd->data, j, x->dtype, es, red);
  }
  return NULL;
}

/* ---- GatherND / ScatterND shared ---- */

/* Data offset (elements) of index tuple t (k values from row `row` of ind). */
static er_status nd_offset(const er_tensor *ind, int64_t row, int k, const int64_t *xdims, const int64_t *xst,
                           int64_t *off) {
  int64_t o = 0;
  for (int j = 0; j < k; j++) {
    int64_t v;
    ER_RETURN_IF_ERROR(load_index(ind, row * k + j, xdims[j], &v));
    o += v * xst[j];
  }
  *off = o;
  return NULL;
}

er_status er_shape_gather_nd_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, (const int[]){ER_I64, 0}));
  const er_tensor *x = c->in[0], *ind = c->in[1];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  int64_t b = c->opset >= 12 ? er_attr_int(c, "batch_dims", 0) : 0;
  if (x->rank < 1 || ind->rank < 1) return ER_ERR(ER_INVALID_ARGUMENT, "data and indices must have rank >= 1");
  if (b < 0 || b >= ind->rank || b >= x->rank)
    return ER_ERR(ER_INVALID_ARGUMENT, "batch_dims %lld is out of range", (long long)b);
  int64_t k = ind->dims[ind->rank - 1];
  if (k < 1 || k > x->rank - b)
    return ER_ERR(ER_INVALID_ARGUMENT, "indices last dim %lld must be in [1, %lld]", (long long)k, (long long)(x->rank - b));
  for (int i = 0; i < b; i++)
    if (ind->dims[i] != x->dims[i]) return ER_ERR(ER_INVALID_ARGUMENT, "batch dim %d differs between data and indices", i);
  int r = ind->rank - 1 + x->rank - (int)b - (int)k;
  if (r > MAXR) return ER_ERR(ER_UNSUPPORTED, "output rank %d exceeds the maximum of %d", r, MAXR);
  int64_t d[MAXR];
  int n = 0;
  for (int i = 0; i < ind->rank - 1; i++) d[n++] = ind->dims[i];
  for (int i = (int)(b + k); i < x->rank; i++) d[n++] = x->dims[i];
  return set_out(c, 0, x->dtype, r, d);
}

er_status er_shape_gather_nd_run(er_kctx *c) {
  const er_tensor *x = c->in[0], *ind = c->in[1];
  int b = c->opset >= 12 ? (int)er_attr_int(c, "batch_dims", 0) : 0;
  int k = (int)ind->dims[ind->rank - 1];
  size_t es = er_dtype_size(x->dtype);
  int64_t nb = prod(x->dims, 0, b);                      /* batches */
  int64_t per = prod(ind->dims, b, ind->rank - 1);       /* index tuples per batch */
  int64_t blk = prod(x->dims, b + k, x->rank);           /* elements copied per tuple */
  int64_t xbatch = prod(x->dims, b, x->rank);            /* data elements per batch */
  int64_t xst[MAXR];
  er_contiguous_strides(x->dims + b, x->rank - b, xst);
  char *o = (char *)c->out[0]->data;
  for (int64_t i = 0; i < nb; i++)
    for (int64_t t = 0; t < per; t++, o += (size_t)blk * es) {
      int64_t off;
      ER_RETURN_IF_ERROR(nd_offset(ind, i * per + t, k, x->dims + b, xst, &off));
      memcpy(o, (const char *)x->data + (size_t)(i * xbatch + off) * es, (size_t)blk * es);
    }
  return NULL;
}

er_status er_shape_scatter_nd_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, 3));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, (const int[]){ER_I64, 0}));
  const er_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
  size_t es = 0;
  int red;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  ER_RETURN_IF_ERROR(reduction_attr(c, &red));
  if (x->rank < 1 || ind->rank < 1) return ER_ERR(ER_INVALID_ARGUMENT, "data and indices must have rank >= 1");
  int64_t k = ind->dims[ind->rank - 1];
  if (k < 1 || k > x->rank) return ER_ERR(ER_INVALID_ARGUMENT, "indices last dim %lld must be in [1, %d]", (long long)k, x->rank);
  if (upd->dtype != x->dtype) return ER_ERR(ER_INVALID_ARGUMENT, "updates type differs from data type");
  int ur = ind->rank - 1 + x->rank - (int)k, ok = upd->rank == ur;
  for (int i = 0; ok && i < ind->rank - 1; i++) ok = upd->dims[i] == ind->dims[i];
  for (int i = 0; ok && i < x->rank - k; i++) ok = upd->dims[ind->rank - 1 + i] == x->dims[k + i];
  if (!ok) return ER_ERR(ER_INVALID_ARGUMENT, "updates shape must be indices.shape[:-1] + data.shape[%lld:]", (long long)k);
  return set_out(c, 0, x->dtype, x->rank, x->dims);
}

er_status er_shape_scatter_nd_run(er_kctx *c) {
  const er_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
  er_tensor *y = c->out[0];
  int red;
  ER_RETURN_IF_ERROR(reduction_attr(c, &red));
  int k = (int)ind->dims[ind->rank - 1];
  size_t es = er_dtype_size(x->dtype);
  int64_t n = prod(ind->dims, 0, ind->rank - 1), blk = prod(x->dims, k, x->rank), xst[MAXR], off;
  er_contiguous_strides(x->dims, x->rank, xst);
  for (int64_t t = 0; t < n; t++) ER_RETURN_IF_ERROR(nd_offset(ind, t, k, x->dims, xst, &off));
  if (y->data != x->data) memcpy(y->data, x->data, er_tensor_nbytes(x));
  for (int64_t t = 0; t < n; t++) {
    nd_offset(ind, t, k, x->dims, xst, &off);
    if (red == RED_NONE) {
      memcpy((char *)y->data + (size_t)off * es, (const char *)upd->data + (size_t)(t * blk) * es, (size_t)blk * es);
    } else {
      for (int64_t e = 0; e < blk; e++) reduce_into(y->data, off + e, upd->data, t * blk + e, x->dtype, es, red);
    }
  }
  return NULL;
}

/* ---- OneHot ---- */

static er_status onehot_depth(const er_kctx *c, int64_t *depth) {
  const er_tensor *d = c->in[1];
  if (er_tensor_numel(d) != 1) return ER_ERR(ER_INVALID_ARGUMENT, "depth must have exactly one element");
  if (!d->data) return er_needs_data(c);
  double v = er_load_f64(d->data, d->dtype, 0);
  if (!(v >= 1) || v > 9e15) return ER_ERR(ER_INVALID_ARGUMENT, "depth %g is invalid", v);
  *depth = (int64_t)v;
  return NULL;
}

er_status er_shape_onehot_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, 3));
  const er_tensor *ind = c->in[0], *val = c->in[2];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(val, &es));
  ER_RETURN_IF_ERROR(elem_size(ind, &es));
  if (er_tensor_numel(val) != 2) return ER_ERR(ER_INVALID_ARGUMENT, "values must have 2 elements (off, on)");
  int r = ind->rank + 1, axis;
  if (r > MAXR) return ER_ERR(ER_UNSUPPORTED, "output rank %d exceeds the maximum of %d", r, MAXR);
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", -1), r, &axis));
  int64_t depth = 0;
  ER_RETURN_IF_ERROR(onehot_depth(c, &depth));
  int64_t d[MAXR];
  for (int i = 0, j = 0; i < r; i++) d[i] = i == axis ? depth : ind->dims[j++];
  return set_out(c, 0, val->dtype, r, d);
}

er_status er_shape_onehot_run(er_kctx *c) {
  const er_tensor *ind = c->in[0], *val = c->in[2];
  er_tensor *y = c->out[0];
  int axis;
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", -1), y->rank, &axis));
  size_t es = er_dtype_size(y->dtype);
  int64_t depth = y->dims[axis], outer = prod(ind->dims, 0, axis), inner = prod(ind->dims, axis, ind->rank);
  const char *off = (const char *)val->data, *on = off + es;
  char *o = (char *)y->data;
  int64_t total = er_tensor_numel(y);
  for (int64_t i = 0; i < total; i++) memcpy(o + (size_t)i * es, off, es);
  for (int64_t i = 0; i < outer; i++)
    for (int64_t j = 0; j < inner; j++) {
      double v = er_load_f64(ind->data, ind->dtype, (size_t)(i * inner + j));
      if (!(v >= -(double)depth && v < (double)depth)) continue; /* out of range: all off */
      int64_t h = (int64_t)v;
      if (h < 0) h += depth;
      if (h < 0 || h >= depth) continue;
      memcpy(o + (size_t)((i * depth + h) * inner + j) * es, on, es);
    }
  return NULL;
}

/* ---- NonZero ---- */

static int is_nonzero(const void *p, int dtype, size_t es, int64_t i) {
  if (er_dtype_is_float(dtype)) return er_load_f64(p, dtype, (size_t)i) != 0.0;
  const unsigned char *b = (const unsigned char *)p + (size_t)i * es;
  for (size_t k = 0; k < es; k++)
    if (b[k]) return 1;
  return 0;
}

er_status er_shape_nonzero_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  if (!x->data) return er_needs_data(c);
  int64_t n = er_tensor_numel(x), nz = 0;
  for (int64_t i = 0; i < n; i++) nz += is_nonzero(x->data, x->dtype, es, i);
  int64_t d[2] = {x->rank ? x->rank : 1, nz}; /* a scalar is treated as shape [1] */
  return set_out(c, 0, ER_I64, 2, d);
}

er_status er_shape_nonzero_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  size_t es = er_dtype_size(x->dtype);
  int r = x->rank, rr = r ? r : 1;
  int64_t n = er_tensor_numel(x), nz = c->out[0]->dims[1], k = 0, idx[MAXR] = {0};
  int64_t *o = (int64_t *)c->out[0]->data;
  for (int64_t i = 0; i < n; i++) {
    if (is_nonzero(x->data, x->dtype, es, i)) {
      if (k >= nz) return ER_ERR(ER_INTERNAL, "NonZero count changed since shape inference");
      for (int d = 0; d < rr; d++) o[d * nz + k] = r ? idx[d] : 0;
      k++;
    }
    for (int d = r - 1; d >= 0; d--) {
      if (++idx[d] < x->dims[d]) break;
      idx[d] = 0;
    }
  }
  if (k != nz) return ER_ERR(ER_INTERNAL, "NonZero count changed since shape inference");
  return NULL;
}

/* ---- Compress ---- */

/* Number of selected entries; condition entries past `dim` must be false. */
static er_status compress_count(const er_kctx *c, int64_t dim, int64_t *count) {
  const er_tensor *cond = c->in[1];
  if (cond->rank != 1) return ER_ERR(ER_INVALID_ARGUMENT, "condition must be 1-D");
  if (!cond->data) return er_needs_data(c);
  int64_t n = cond->dims[0], k = 0;
  for (int64_t i = 0; i < n; i++)
    if (((const uint8_t *)cond->data)[i]) {
      if (i >= dim) return ER_ERR(ER_OUT_OF_RANGE, "condition selects index %lld of an axis of size %lld", (long long)i, (long long)dim);
      k++;
    }
  *count = k;
  return NULL;
}

static er_status compress_axis(const er_kctx *c, int *axis) {
  const er_attr *a = er_attr_get(c, "axis");
  if (!a) {
    *axis = -1;
    return NULL;
  }
  if (c->in[0]->rank < 1) return ER_ERR(ER_INVALID_ARGUMENT, "axis given for a scalar input");
  return er_normalize_axis(a->i, c->in[0]->rank, axis);
}

er_status er_shape_compress_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, (const int[]){ER_BOOL, 0}));
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  int axis;
  ER_RETURN_IF_ERROR(compress_axis(c, &axis));
  int64_t k;
  ER_RETURN_IF_ERROR(compress_count(c, axis < 0 ? er_tensor_numel(x) : x->dims[axis], &k));
  if (axis < 0) return set_out(c, 0, x->dtype, 1, &k);
  int64_t d[MAXR];
  memcpy(d, x->dims, sizeof(int64_t) * (size_t)x->rank);
  d[axis] = k;
  return set_out(c, 0, x->dtype, x->rank, d);
}

er_status er_shape_compress_run(er_kctx *c) {
  const er_tensor *x = c->in[0], *cond = c->in[1];
  int axis;
  ER_RETURN_IF_ERROR(compress_axis(c, &axis));
  size_t es = er_dtype_size(x->dtype);
  int64_t outer = 1, dim = er_tensor_numel(x), inner = 1;
  if (axis >= 0) outer = prod(x->dims, 0, axis), dim = x->dims[axis], inner = prod(x->dims, axis + 1, x->rank);
  int64_t n = cond->dims[0] < dim ? cond->dims[0] : dim;
  const uint8_t *m = (const uint8_t *)cond->data;
  size_t blk = (size_t)inner * es;
  char *o = (char *)c->out[0]->data;
  for (int64_t i = 0; i < outer; i++)
    for (int64_t j = 0; j < n; j++)
      if (m[j]) {
        memcpy(o, (const char *)x->data + (size_t)(i * dim + j) * blk, blk);
        o += blk;
      }
  return NULL;
}

/* ---- Unique ---- */

typedef struct {
  const void *data;
  int dtype;
  int64_t outer, n, inner; /* items are x[o, item, i] for o < outer, i < inner */
} uq_items;

static int cmp_elem(const void *p, int dtype, int64_t a, int64_t b) {
  if (er_dtype_is_float(dtype)) {
    double x = er_load_f64(p, dtype, (size_t)a), y = er_load_f64(p, dtype, (size_t)b);
    int nx = isnan(x), ny = isnan(y); /* NaNs sort last and equal each other */
    if (nx || ny) return nx - ny;
    return x < y ? -1 : x > y;
  }
  if (er_dtype_is_signed_int(dtype)) {
    int64_t x = er_load_i64(p, dtype, (size_t)a), y = er_load_i64(p, dtype, (size_t)b);
    return x < y ? -1 : x > y;
  }
  uint64_t x = (uint64_t)er_load_i64(p, dtype, (size_t)a), y = (uint64_t)er_load_i64(p, dtype, (size_t)b);
  return x < y ? -1 : x > y;
}

/* Lexicographic comparison of items a and b. */
static int cmp_item(const uq_items *u, int64_t a, int64_t b) {
  for (int64_t o = 0; o < u->outer; o++)
    for (int64_t i = 0; i < u->inner; i++) {
      int r = cmp_elem(u->data, u->dtype, (o * u->n + a) * u->inner + i, (o * u->n + b) * u->inner + i);
      if (r) return r;
    }
  return 0;
}

static er_status uq_setup(const er_kctx *c, uq_items *u, int *axis) {
  const er_tensor *x = c->in[0];
  const er_attr *a = er_attr_get(c, "axis");
  u->data = x->data, u->dtype = x->dtype;
  if (!a) {
    *axis = -1;
    u->outer = 1, u->n = er_tensor_numel(x), u->inner = 1;
    return NULL;
  }
  if (x->rank < 1) return ER_ERR(ER_INVALID_ARGUMENT, "axis given for a scalar input");
  ER_RETURN_IF_ERROR(er_normalize_axis(a->i, x->rank, axis));
  u->outer = prod(x->dims, 0, *axis), u->n = x->dims[*axis], u->inner = prod(x->dims, *axis + 1, x->rank);
  return NULL;
}

er_status er_shape_unique_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  uq_items u;
  int axis;
  ER_RETURN_IF_ERROR(uq_setup(c, &u, &axis));
  if (!x->data) return er_needs_data(c);
  /* Count distinct items without memory: O(n^2) comparisons. */
  int64_t nu = 0;
  for (int64_t i = 0; i < u.n; i++) {
    int64_t j = 0;
    while (j < i && cmp_item(&u, i, j)) j++;
    nu += j == i;
  }
  if (axis < 0) {
    ER_RETURN_IF_ERROR(set_out(c, 0, x->dtype, 1, &nu));
  } else {
    int64_t d[MAXR];
    memcpy(d, x->dims, sizeof(int64_t) * (size_t)x->rank);
    d[axis] = nu;
    ER_RETURN_IF_ERROR(set_out(c, 0, x->dtype, x->rank, d));
  }
  ER_RETURN_IF_ERROR(set_out(c, 1, ER_I64, 1, &nu));
  ER_RETURN_IF_ERROR(set_out(c, 2, ER_I64, 1, &u.n));
  ER_RETURN_IF_ERROR(set_out(c, 3, ER_I64, 1, &nu));
  c->scratch_bytes = (size_t)u.n * 6 * sizeof(int64_t);
  return NULL;
}

/* Stable bottom-up merge sort of item ids. */
static void uq_sort(const uq_items *u, int64_t *a, int64_t *tmp, int64_t n) {
  for (int64_t w = 1; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = cmp_item(u, a[j], a[i]) < 0 ? a[j++] : a[i++];
      while (i < mid) tmp[k++] = a[i++];
      while (j < hi) tmp[k++] = a[j++];
    }
    memcpy(a, tmp, sizeof(int64_t) * (size_t)n);
  }
}

er_status er_shape_unique_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  uq_items u;
  int axis;
  ER_RETURN_IF_ERROR(uq_setup(c, &u, &axis));
  int64_t n = u.n;
  if (c->scratch_bytes < (size_t)n * 6 * sizeof(int64_t)) return ER_ERR(ER_INTERNAL, "Unique scratch too small");
  int64_t *order = (int64_t *)c->scratch, *tmp = order + n, *grp = tmp + n, *first = grp + n, *count = first + n,
          *outpos = count + n;
  for (int64_t i = 0; i < n; i++) order[i] = i;
  uq_sort(&u, order, tmp, n);
  int64_t ng = 0;
  for (int64_t j = 0; j < n; j++) {
    if (j == 0 || cmp_item(&u, order[j - 1], order[j])) {
      first[ng] = order[j];
      count[ng++] = 0;
    }
    grp[order[j]] = ng - 1;
    count[ng - 1]++;
  }
  int sorted = er_attr_int(c, "sorted", 1) != 0;
  int64_t next = 0;
  for (int64_t g = 0; g < ng && sorted; g++) outpos[g] = g;
  for (int64_t i = 0; i < n && !sorted; i++)
    if (first[grp[i]] == i) outpos[grp[i]] = next++;
  er_tensor *y = c->out[0];
  int64_t ylen = axis < 0 ? y->dims[0] : y->dims[axis];
  if (ylen != ng) return ER_ERR(ER_INTERNAL, "Unique count changed since shape inference");
  size_t es = er_dtype_size(x->dtype), blk = (size_t)u.inner * es;
  for (int64_t g = 0; g < ng; g++) {
    int64_t p = outpos[g];
    for (int64_t o = 0; o < u.outer; o++)
      memcpy((char *)y->data + (size_t)(o * ng + p) * blk, (const char *)x->data + (size_t)(o * n + first[g]) * blk, blk);
    if (er_out(c, 1)) ((int64_t *)c->out[1]->data)[p] = first[g];
    if (er_out(c, 3)) ((int64_t *)c->out[3]->data)[p] = count[g];
  }
  if (er_out(c, 2))
    for (int64_t i = 0; i < n; i++) ((int64_t *)c->out[2]->data)[i] = outpos[grp[i]];
  return NULL;
}
