/*
 * Shape and layout operators (reference kernels).
 *
 * These ops move elements without doing arithmetic on them, so they work on the
 * element SIZE and are type-agnostic (every numeric type, bool, float16, ...).
 * Most of them are one primitive, table_copy(): every output element reads the
 * input at  sum_d tab[d][i_d]  (one offset table per output axis), or takes a fill
 * value where a table entry is negative. Transpose, Slice, Expand, Tile, Pad (all
 * modes), DepthToSpace, SpaceToDepth and CenterCropPad only differ in the tables.
 * The tables live in scratch: sum(output dims) int64 values.
 *
 * Indexing ops (Gather*, Scatter*, OneHot, NonZero, Compress, Unique) are in
 * shape_index.c; misc generators (Range, EyeLike, Trilu, ...) are at the end here.
 */
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"
#include "kernels/ref/shape_common.h"


/* ---- small helpers ---- */

/* Values of integer input i (scalar or 1-D); needs-data if unknown. */
static er_status input_ints(const er_kctx *c, int i, int64_t *out, int cap, int *n) {
  if (!er_in_known(c, i)) return er_needs_data(c);
  return er_read_ints(c->in[i], out, cap, n);
}

static int64_t sum_dims(const int64_t *dims, int rank) {
  int64_t s = 0;
  for (int d = 0; d < rank; d++) s += dims[d];
  return s;
}

static int64_t prod(const int64_t *dims, int lo, int hi) {
  int64_t p = 1;
  for (int d = lo; d < hi; d++) p *= dims[d];
  return p;
}

/* Normalise a list of axes for rank r; rejects out-of-range and repeated axes. */
static er_status norm_axes(const int64_t *axes, int n, int r, int *out) {
  for (int k = 0; k < n; k++) {
    if (axes[k] < -(int64_t)r || axes[k] >= r)
      return ER_ERR(ER_INVALID_ARGUMENT, "axis %lld is out of range for rank %d", (long long)axes[k], r);
    out[k] = (int)(axes[k] < 0 ? axes[k] + r : axes[k]);
    for (int j = 0; j < k; j++)
      if (out[j] == out[k]) return ER_ERR(ER_INVALID_ARGUMENT, "axis %d is repeated", out[k]);
  }
  return NULL;
}

static void copy_elem(char *dst, const char *src, size_t es) {
  switch (es) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, es);
  }
}

/* dst (row-major over dims) element at (i_0..i_{r-1}) = src element at sum_d tab[d][i_d],
 * or `fill` (one element) when any of those table entries is negative. */
static void table_copy(void *dst, const void *src, size_t es, int rank, const int64_t *dims,
                       int64_t *const *tab, const void *fill) {
  char *o = (char *)dst;
  const char *s = (const char *)src;
  if (rank == 0) {
    copy_elem(o, s, es);
    return;
  }
  for (int d = 0; d < rank; d++)
    if (dims[d] == 0) return;
  int last = rank - 1;
  int64_t n = dims[last];
  const int64_t *t = tab[last];
  int contig = t[0] >= 0;
  for (int64_t j = 1; j < n && contig; j++) contig = t[j] == t[0] + j;
  /* Axes top..last form one contiguous run of n source elements from base + t[0] when each
   * outer one steps by the run below it (a slice of whole rows, a pad of outer axes...):
   * one memcpy per run instead of one per row. */
  int top = last;
  int64_t base = 0;
  while (contig && top > 0) {
    const int64_t *u = tab[top - 1];
    int ok = u[0] >= 0;
    for (int64_t j = 1; j < dims[top - 1] && ok; j++) ok = u[j] == u[0] + j * n;
    if (!ok) break;
    base += u[0];
    n *= dims[--top];
  }
  int64_t idx[MAXR] = {0}, part[MAXR + 1];
  part[0] = 0;
  for (int d = 0; d < top; d++) part[d + 1] = (part[d] < 0 || tab[d][0] < 0) ? -1 : part[d] + tab[d][0];
  for (;;) {
    int64_t p = part[top];
    if (p >= 0 && contig) {
      memcpy(o, s + (size_t)(p + base + t[0]) * es, (size_t)n * es);
      o += (size_t)n * es;
    } else if (p < 0) {
      for (int64_t j = 0; j < n; j++, o += es) copy_elem(o, (const char *)fill, es);
    } else {
      for (int64_t j = 0; j < n;) { /* runs of consecutive source elements in one memcpy */
        if (t[j] < 0) {
          copy_elem(o, (const char *)fill, es);
          o += es, j++;
          continue;
        }
        int64_t k = j + 1;
        while (k < n && t[k] == t[k - 1] + 1) k++;
        if (k - j == 1) copy_elem(o, s + (size_t)(p + t[j]) * es, es);
        else memcpy(o, s + (size_t)(p + t[j]) * es, (size_t)(k - j) * es);
        o += (size_t)(k - j) * es;
        j = k;
      }
    }
    int d = top - 1;
    while (d >= 0 && ++idx[d] == dims[d]) idx[d--] = 0;
    if (d < 0) return;
    for (; d < top; d++) {
      int64_t v = tab[d][idx[d]];
      part[d + 1] = (part[d] < 0 || v < 0) ? -1 : part[d] + v;
    }
  }
}

/* dst element at sum_d i_d * dst_st[d] = src element at sum_d i_d * sst[d] over dims (strides
 * in elements, any sign; dst_st NULL: dst row-major over dims). Axes of one element drop out,
 * neighbours contiguous in both merge, and rows contiguous in both are one memcpy each. */
static void strided_copy2(void *dst, const int64_t *dst_st, const void *src, size_t es, int rank,
                          const int64_t *dims, const int64_t *sst) {
  int64_t D[MAXR], S[MAXR], T[MAXR], row[MAXR];
  if (!dst_st) {
    er_contiguous_strides(dims, rank, row);
    dst_st = row;
  }
  int m = 0;
  for (int d = 0; d < rank; d++) {
    if (dims[d] == 0) return;
    if (dims[d] == 1) continue;
    if (m > 0 && S[m - 1] == sst[d] * dims[d] && T[m - 1] == dst_st[d] * dims[d]) {
      D[m - 1] *= dims[d];
      S[m - 1] = sst[d], T[m - 1] = dst_st[d];
    } else {
      D[m] = dims[d], S[m] = sst[d], T[m] = dst_st[d];
      m++;
    }
  }
  if (m == 0) D[0] = 1, S[0] = T[0] = 1, m = 1;
  char *o = (char *)dst;
  const char *s = (const char *)src;
  const int64_t n = D[m - 1], ss = S[m - 1], ds = T[m - 1];
  int64_t idx[MAXR] = {0}, so = 0, doff = 0;
  for (;;) {
    char *q = o + doff * (int64_t)es;
    const char *p = s + so * (int64_t)es;
    if (ss == 1 && ds == 1) memcpy(q, p, (size_t)n * es);
    else if (es == 4) /* the common case without a per-element size switch */
      for (int64_t j = 0; j < n; j++) memcpy(q + j * ds * 4, p + j * ss * 4, 4);
    else
      for (int64_t j = 0; j < n; j++) copy_elem(q + j * ds * (int64_t)es, p + j * ss * (int64_t)es, es);
    int d = m - 2;
    for (; d >= 0; d--) {
      so += S[d], doff += T[d];
      if (++idx[d] < D[d]) break;
      so -= S[d] * D[d], doff -= T[d] * D[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

static void strided_copy(void *dst, const void *src, size_t es, int rank, const int64_t *dims,
                         const int64_t *sst) {
  strided_copy2(dst, NULL, src, es, rank, dims, sst);
}

/* Carve per-axis tables for dims out of scratch. */
static void carve_tables(void *scratch, int rank, const int64_t *dims, int64_t **tab) {
  int64_t *p = (int64_t *)scratch;
  for (int d = 0; d < rank; d++) {
    tab[d] = p;
    p += dims[d];
  }
}

static size_t table_scratch(const int64_t *dims, int rank) { return (size_t)sum_dims(dims, rank) * sizeof(int64_t); }

/* Copy input 0 to output 0 unchanged (Reshape, Flatten, Squeeze, Unsqueeze...). */
static er_status run_copy(er_kctx *c) {
  size_t nb = er_tensor_nbytes(c->out[0]);
  if (nb && c->out[0]->data != c->in[0]->data) memmove(c->out[0]->data, c->in[0]->data, nb);
  return NULL;
}

/* ---- Constant ---- */

static er_status constant_value(const er_kctx *c, er_tensor *tmp, const er_tensor **out) {
  static const char *const unsupported[] = {"sparse_value", "value_string", "value_strings"};
  for (int k = 0; k < 3; k++)
    if (er_attr_get(c, unsupported[k]))
      return ER_ERR(ER_UNSUPPORTED, "Constant attribute '%s' is not supported", unsupported[k]);
  const er_attr *a;
  int found = 0;
  if ((a = er_attr_get(c, "value"))) {
    if (a->type != ER_ATTR_TENSOR || !a->t) return ER_ERR(ER_INVALID_MODEL, "'value' must be a tensor");
    *out = a->t;
    found++;
  }
  if ((a = er_attr_get(c, "value_float"))) {
    *tmp = (er_tensor){.dtype = ER_F32, .rank = 0, .data = (void *)&a->f};
    *out = tmp, found++;
  }
  if ((a = er_attr_get(c, "value_floats"))) {
    *tmp = (er_tensor){.dtype = ER_F32, .rank = 1, .dims = {a->n}, .data = (void *)a->floats};
    *out = tmp, found++;
  }
  if ((a = er_attr_get(c, "value_int"))) {
    *tmp = (er_tensor){.dtype = ER_I64, .rank = 0, .data = (void *)&a->i};
    *out = tmp, found++;
  }
  if ((a = er_attr_get(c, "value_ints"))) {
    *tmp = (er_tensor){.dtype = ER_I64, .rank = 1, .dims = {a->n}, .data = (void *)a->ints};
    *out = tmp, found++;
  }
  if (found != 1) return ER_ERR(ER_INVALID_MODEL, "Constant needs exactly one value attribute, got %d", found);
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(*out, &es));
  if (!(*out)->data && er_tensor_numel(*out) > 0) return ER_ERR(ER_INVALID_MODEL, "Constant value has no data");
  return NULL;
}

static er_status constant_infer(er_kctx *c) {
  er_tensor tmp;
  const er_tensor *v;
  ER_RETURN_IF_ERROR(constant_value(c, &tmp, &v));
  return set_out(c, 0, v->dtype, v->rank, v->dims);
}

static er_status constant_run(er_kctx *c) {
  er_tensor tmp;
  const er_tensor *v;
  ER_RETURN_IF_ERROR(constant_value(c, &tmp, &v));
  size_t nb = er_tensor_nbytes(v);
  if (nb) memcpy(c->out[0]->data, v->data, nb);
  return NULL;
}

/* ---- Shape, Size ---- */

static void shape_range(const er_kctx *c, int64_t *start, int64_t *end) {
  int64_t r = c->in[0]->rank;
  int64_t s = 0, e = r;
  if (c->opset >= 15) {
    s = er_attr_int(c, "start", 0);
    e = er_attr_int(c, "end", r);
  }
  if (s < 0) s += r;
  if (e < 0) e += r;
  s = s < 0 ? 0 : s > r ? r : s;
  e = e < 0 ? 0 : e > r ? r : e;
  *start = s;
  *end = e < s ? s : e;
}

static er_status shape_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  int64_t s, e;
  shape_range(c, &s, &e);
  int64_t n = e - s;
  return set_out(c, 0, ER_I64, 1, &n);
}

static er_status shape_run(er_kctx *c) {
  int64_t s, e;
  shape_range(c, &s, &e);
  int64_t *o = (int64_t *)c->out[0]->data;
  for (int64_t i = s; i < e; i++) o[i - s] = c->in[0]->dims[i];
  return NULL;
}

static er_status size_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  return set_out(c, 0, ER_I64, 0, NULL);
}

static er_status size_run(er_kctx *c) {
  *(int64_t *)c->out[0]->data = er_tensor_numel(c->in[0]);
  return NULL;
}

/* ---- Reshape ---- */

static er_status reshape_infer(er_kctx *c) {
  int64_t shape[MAXR + 1];
  int n;
  const er_tensor *x = er_in(c, 0);
  if (c->opset < 5) {
    ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
    const int64_t *a;
    n = er_attr_ints(c, "shape", &a);
    if (n < 0) return ER_ERR(ER_INVALID_MODEL, "Reshape-1 needs the 'shape' attribute");
    if (n > MAXR) return ER_ERR(ER_UNSUPPORTED, "rank %d exceeds the maximum of %d", n, MAXR);
    memcpy(shape, a, sizeof(int64_t) * (size_t)n);
  } else {
    ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
    ER_RETURN_IF_ERROR(input_ints(c, 1, shape, MAXR, &n));
  }
  int allowzero = c->opset >= 14 ? (int)er_attr_int(c, "allowzero", 0) : 0;
  int infer_at = -1;
  int64_t known = 1;
  for (int i = 0; i < n; i++) {
    if (shape[i] == 0 && !allowzero) {
      if (i >= x->rank) return ER_ERR(ER_INVALID_ARGUMENT, "shape[%d] = 0 copies a dimension the input (rank %d) lacks", i, x->rank);
      shape[i] = x->dims[i];
    }
    if (shape[i] == -1) {
      if (infer_at >= 0) return ER_ERR(ER_INVALID_ARGUMENT, "shape has more than one -1");
      infer_at = i;
    } else if (shape[i] < 0) {
      return ER_ERR(ER_INVALID_ARGUMENT, "shape[%d] = %lld is invalid", i, (long long)shape[i]);
    } else {
      known *= shape[i];
    }
  }
  int64_t total = er_tensor_numel(x);
  if (infer_at >= 0) {
    if (known == 0 || total % known)
      return ER_ERR(ER_INVALID_ARGUMENT, "cannot infer the -1 dimension: %lld elements into blocks of %lld",
                    (long long)total, (long long)known);
    shape[infer_at] = total / known;
  } else if (known != total) {
    char a[160], b[160];
    return ER_ERR(ER_INVALID_ARGUMENT, "cannot reshape %s to %s", er_shape_str(x->dims, x->rank, a, sizeof a),
                  er_shape_str(shape, n, b, sizeof b));
  }
  return set_out(c, 0, x->dtype, n, shape);
}

/* ---- Flatten ---- */

static er_status flatten_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  const er_tensor *x = c->in[0];
  int64_t axis = er_attr_int(c, "axis", 1);
  if (axis < -(int64_t)x->rank || axis > x->rank)
    return ER_ERR(ER_INVALID_ARGUMENT, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
  if (axis < 0) axis += x->rank;
  int64_t d[2] = {prod(x->dims, 0, (int)axis), prod(x->dims, (int)axis, x->rank)};
  return set_out(c, 0, x->dtype, 2, d);
}

/* ---- Squeeze / Unsqueeze ---- */

/* axes from the attribute (opset < 13) or input 1. Returns n = -1 when not given. */
static er_status axes_arg(const er_kctx *c, int64_t *axes, int cap, int *n) {
  if (c->opset < 13) {
    const int64_t *a;
    *n = er_attr_ints(c, "axes", &a);
    if (*n > cap) return ER_ERR(ER_INVALID_ARGUMENT, "too many axes (%d)", *n);
    if (*n > 0) memcpy(axes, a, sizeof(int64_t) * (size_t)*n);
    return NULL;
  }
  if (!er_in(c, 1)) {
    *n = -1;
    return NULL;
  }
  return input_ints(c, 1, axes, cap, n);
}

static er_status squeeze_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, c->opset >= 13 ? 2 : 1));
  const er_tensor *x = c->in[0];
  int64_t axes[MAXR + 1];
  int n, ax[MAXR + 1];
  ER_RETURN_IF_ERROR(axes_arg(c, axes, MAXR, &n));
  int drop[MAXR] = {0};
  if (n < 0) {
    for (int d = 0; d < x->rank; d++) drop[d] = x->dims[d] == 1;
  } else {
    ER_RETURN_IF_ERROR(norm_axes(axes, n, x->rank, ax));
    for (int k = 0; k < n; k++) {
      if (x->dims[ax[k]] != 1)
        return ER_ERR(ER_INVALID_ARGUMENT, "cannot squeeze axis %d of size %lld", ax[k], (long long)x->dims[ax[k]]);
      drop[ax[k]] = 1;
    }
  }
  int64_t d[MAXR];
  int r = 0;
  for (int i = 0; i < x->rank; i++)
    if (!drop[i]) d[r++] = x->dims[i];
  return set_out(c, 0, x->dtype, r, d);
}

static er_status unsqueeze_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, c->opset >= 13 ? 2 : 1, c->opset >= 13 ? 2 : 1));
  const er_tensor *x = c->in[0];
  int64_t axes[MAXR + 1];
  int n, ax[MAXR + 1];
  ER_RETURN_IF_ERROR(axes_arg(c, axes, MAXR, &n));
  if (n < 0) return ER_ERR(ER_INVALID_MODEL, "Unsqueeze needs axes");
  int r = x->rank + n;
  if (r > MAXR) return ER_ERR(ER_UNSUPPORTED, "rank %d exceeds the maximum of %d", r, MAXR);
  ER_RETURN_IF_ERROR(norm_axes(axes, n, r, ax));
  int ins[MAXR] = {0};
  for (int k = 0; k < n; k++) ins[ax[k]] = 1;
  int64_t d[MAXR];
  for (int i = 0, j = 0; i < r; i++) d[i] = ins[i] ? 1 : x->dims[j++];
  return set_out(c, 0, x->dtype, r, d);
}

/* ---- Transpose ---- */

static er_status transpose_perm(const er_kctx *c, int *perm) {
  int r = c->in[0]->rank;
  const int64_t *p;
  int n = er_attr_ints(c, "perm", &p);
  if (n < 0) {
    for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
    return NULL;
  }
  if (n != r) return ER_ERR(ER_INVALID_ARGUMENT, "perm has %d entries for rank %d", n, r);
  return norm_axes(p, n, r, perm);
}

static er_status transpose_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  int perm[MAXR];
  ER_RETURN_IF_ERROR(transpose_perm(c, perm));
  int64_t d[MAXR];
  for (int i = 0; i < x->rank; i++) d[i] = x->dims[perm[i]];
  return set_out(c, 0, x->dtype, x->rank, d);
}

int er_transpose_fast(er_kctx *c, const er_tensor *x, er_tensor *y, const int *perm); /* shape_transpose.c */
/* Test hook: non-zero keeps Transpose on the generic strided copy. */
int er_transpose_fast_disabled;

static er_status transpose_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  int perm[MAXR];
  ER_RETURN_IF_ERROR(transpose_perm(c, perm));
  if (!er_transpose_fast_disabled && er_transpose_fast(c, x, y, perm)) return NULL;
  int64_t st[MAXR], sst[MAXR];
  er_contiguous_strides(x->dims, x->rank, st);
  for (int d = 0; d < y->rank; d++) sst[d] = st[perm[d]];
  strided_copy(y->data, x->data, er_dtype_size(x->dtype), y->rank, y->dims, sst);
  return NULL;
}

/* ---- Concat ---- */

static er_status concat_infer(er_kctx *c) {
  if (c->n_in < 1 || !c->in[0]) return ER_ERR(ER_INVALID_MODEL, "Concat needs at least one input");
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  const er_attr *aa = er_attr_get(c, "axis");
  if (!aa && c->opset >= 4) return ER_ERR(ER_INVALID_MODEL, "Concat needs the 'axis' attribute");
  int axis;
  ER_RETURN_IF_ERROR(er_normalize_axis(aa ? aa->i : 1, x->rank, &axis));
  if (x->rank == 0) return ER_ERR(ER_INVALID_ARGUMENT, "cannot concatenate scalars");
  int64_t d[MAXR];
  memcpy(d, x->dims, sizeof(int64_t) * (size_t)x->rank);
  d[axis] = 0;
  for (int k = 0; k < c->n_in; k++) {
    const er_tensor *t = c->in[k];
    if (!t) return ER_ERR(ER_INVALID_MODEL, "input %d is missing", k);
    if (t->dtype != x->dtype) return ER_ERR(ER_INVALID_ARGUMENT, "input %d has type %s, input 0 has %s", k,
                                            er_dtype_name((er_dtype)t->dtype), er_dtype_name((er_dtype)x->dtype));
    if (t->rank != x->rank) return ER_ERR(ER_INVALID_ARGUMENT, "input %d has rank %d, input 0 has %d", k, t->rank, x->rank);
    for (int i = 0; i < x->rank; i++)
      if (i != axis && t->dims[i] != x->dims[i]) {
        char a[160], b[160];
        return ER_ERR(ER_INVALID_ARGUMENT, "input %d shape %s does not match input 0 shape %s on axis %d", k,
                      er_shape_str(t->dims, t->rank, a, sizeof a), er_shape_str(x->dims, x->rank, b, sizeof b), i);
      }
    d[axis] += t->dims[axis];
  }
  return set_out(c, 0, x->dtype, x->rank, d);
}

static er_status concat_run(er_kctx *c) {
  er_tensor *y = c->out[0];
  size_t es = er_dtype_size(y->dtype);
  int axis;
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 1), y->rank, &axis));
  int64_t outer = prod(y->dims, 0, axis), inner = prod(y->dims, axis + 1, y->rank);
  char *o = (char *)y->data;
  for (int64_t i = 0; i < outer; i++)
    for (int k = 0; k < c->n_in; k++) {
      size_t chunk = (size_t)(c->in[k]->dims[axis] * inner) * es;
      if (!chunk) continue;
      memcpy(o, (const char *)c->in[k]->data + (size_t)i * chunk, chunk);
      o += chunk;
    }
  return NULL;
}

/* ---- Split ---- */

/* Sizes of the n_out chunks along the axis. */
static er_status split_sizes(const er_kctx *c, int axis, int64_t *sizes) {
  const er_tensor *x = c->in[0];
  int nout = c->n_out, n = -1;
  int64_t dim = x->dims[axis];
  if (nout < 1 || nout > 64) return ER_ERR(ER_UNSUPPORTED, "Split with %d outputs", nout);
  const int64_t *a;
  int na = er_attr_ints(c, "split", &a);
  if (c->opset < 13 && na >= 0) {
    if (na > 64) return ER_ERR(ER_INVALID_ARGUMENT, "too many split sizes (%d)", na);
    memcpy(sizes, a, sizeof(int64_t) * (size_t)na);
    n = na;
  } else if ((c->opset >= 13 || c->opset == 1) && er_in(c, 1)) {
    ER_RETURN_IF_ERROR(input_ints(c, 1, sizes, 64, &n));
  }
  if (n >= 0) {
    if (n != nout) return ER_ERR(ER_INVALID_ARGUMENT, "split has %d sizes for %d outputs", n, nout);
    int64_t s = 0;
    for (int i = 0; i < n; i++) {
      if (sizes[i] < 0) return ER_ERR(ER_INVALID_ARGUMENT, "split size %lld is negative", (long long)sizes[i]);
      s += sizes[i];
    }
    if (s != dim) return ER_ERR(ER_INVALID_ARGUMENT, "split sizes sum to %lld, axis %d has %lld", (long long)s,
                                axis, (long long)dim);
    return NULL;
  }
  int64_t parts = nout;
  if (c->opset >= 18) {
    parts = er_attr_int(c, "num_outputs", -1);
    if (parts < 1) return ER_ERR(ER_INVALID_MODEL, "Split-18 needs 'split' or 'num_outputs'");
    if (parts != nout) return ER_ERR(ER_INVALID_MODEL, "num_outputs is %lld but the node has %d outputs", (long long)parts, nout);
  } else if (dim % parts) {
    return ER_ERR(ER_INVALID_ARGUMENT, "axis %d of size %lld does not split evenly into %d", axis, (long long)dim, nout);
  }
  int64_t chunk = (dim + parts - 1) / parts;
  for (int i = 0; i < nout; i++) {
    int64_t left = dim - chunk * i;
    sizes[i] = left < 0 ? 0 : left < chunk ? left : chunk;
  }
  return NULL;
}

static er_status split_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, (c->opset >= 13 || c->opset == 1) ? 2 : 1));
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  int axis;
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 0), x->rank, &axis));
  if (x->rank == 0) return ER_ERR(ER_INVALID_ARGUMENT, "cannot split a scalar");
  int64_t sizes[64];
  ER_RETURN_IF_ERROR(split_sizes(c, axis, sizes));
  for (int i = 0; i < c->n_out; i++) {
    int64_t d[MAXR];
    memcpy(d, x->dims, sizeof(int64_t) * (size_t)x->rank);
    d[axis] = sizes[i];
    ER_RETURN_IF_ERROR(set_out(c, i, x->dtype, x->rank, d));
  }
  return NULL;
}

static er_status split_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  size_t es = er_dtype_size(x->dtype);
  int axis;
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 0), x->rank, &axis));
  int64_t sizes[64];
  ER_RETURN_IF_ERROR(split_sizes(c, axis, sizes));
  int64_t outer = prod(x->dims, 0, axis), inner = prod(x->dims, axis + 1, x->rank);
  const char *s = (const char *)x->data;
  for (int64_t i = 0; i < outer; i++)
    for (int k = 0; k < c->n_out; k++) {
      size_t chunk = (size_t)(sizes[k] * inner) * es;
      if (c->out[k] && chunk) memcpy((char *)c->out[k]->data + (size_t)i * chunk, s, chunk);
      s += chunk;
    }
  return NULL;
}

/* ---- Slice ---- */

/* Per-axis start/step/count for the full rank of input 0. */
static er_status slice_params(const er_kctx *c, int64_t *start, int64_t *step, int64_t *count) {
  const er_tensor *x = c->in[0];
  int r = x->rank;
  int64_t st[MAXR], en[MAXR], ax[MAXR], sp[MAXR];
  int ns, ne, na = -1, np = -1;
  if (c->opset < 10) {
    const int64_t *a;
    ns = er_attr_ints(c, "starts", &a);
    if (ns < 0 || ns > r) return ER_ERR(ER_INVALID_ARGUMENT, "bad or missing 'starts'");
    memcpy(st, a, sizeof(int64_t) * (size_t)ns);
    ne = er_attr_ints(c, "ends", &a);
    if (ne < 0 || ne > r) return ER_ERR(ER_INVALID_ARGUMENT, "bad or missing 'ends'");
    memcpy(en, a, sizeof(int64_t) * (size_t)ne);
    na = er_attr_ints(c, "axes", &a);
    if (na > r) return ER_ERR(ER_INVALID_ARGUMENT, "too many axes");
    if (na > 0) memcpy(ax, a, sizeof(int64_t) * (size_t)na);
  } else {
    ER_RETURN_IF_ERROR(input_ints(c, 1, st, r, &ns));
    ER_RETURN_IF_ERROR(input_ints(c, 2, en, r, &ne));
    if (er_in(c, 3)) ER_RETURN_IF_ERROR(input_ints(c, 3, ax, r, &na));
    if (er_in(c, 4)) ER_RETURN_IF_ERROR(input_ints(c, 4, sp, r, &np));
  }
  if (ne != ns) return ER_ERR(ER_INVALID_ARGUMENT, "starts has %d values, ends has %d", ns, ne);
  if (na >= 0 && na != ns) return ER_ERR(ER_INVALID_ARGUMENT, "starts has %d values, axes has %d", ns, na);
  if (np >= 0 && np != ns) return ER_ERR(ER_INVALID_ARGUMENT, "starts has %d values, steps has %d", ns, np);
  int axes[MAXR];
  if (na < 0)
    for (int k = 0; k < ns; k++) axes[k] = k;
  else
    ER_RETURN_IF_ERROR(norm_axes(ax, na, r, axes));
  for (int d = 0; d < r; d++) start[d] = 0, step[d] = 1, count[d] = x->dims[d];
  for (int k = 0; k < ns; k++) {
    int d = axes[k];
    int64_t dim = x->dims[d], s = st[k], e = en[k], p = np >= 0 ? sp[k] : 1;
    if (p == 0) return ER_ERR(ER_INVALID_ARGUMENT, "slice step on axis %d is 0", d);
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (p > 0) {
      s = s < 0 ? 0 : s > dim ? dim : s;
      e = e < 0 ? 0 : e > dim ? dim : e;
    } else {
      s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
      e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
    }
    int64_t n = 0;
    if (p > 0 && e > s) n = (e - s - 1) / p + 1;
    if (p < 0 && e < s) n = (s - e - 1) / (p == INT64_MIN ? INT64_MAX : -p) + 1;
    start[d] = s, step[d] = p, count[d] = n;
  }
  return NULL;
}

static er_status slice_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, c->opset >= 10 ? 3 : 1, c->opset >= 10 ? 5 : 1));
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  int64_t start[MAXR], step[MAXR], count[MAXR];
  ER_RETURN_IF_ERROR(slice_params(c, start, step, count));
  c->out_ld_ok = x->rank >= 1; /* rows may go into a channels-last Concat (planner) */
  return set_out(c, 0, x->dtype, x->rank, count);
}

static er_status slice_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  int64_t start[MAXR], step[MAXR], count[MAXR], st[MAXR], sst[MAXR], off = 0;
  ER_RETURN_IF_ERROR(slice_params(c, start, step, count));
  er_contiguous_strides(x->dims, x->rank, st);
  for (int d = 0; d < y->rank; d++) {
    off += start[d] * st[d];
    sst[d] = step[d] * st[d];
  }
  /* out_ld: rows of the last dim out_ld elements apart (inside an in-place Concat) */
  int64_t dst[MAXR], *dp = NULL;
  if (c->out_ld > 0 && y->rank >= 1) {
    dst[y->rank - 1] = 1;
    int64_t s = c->out_ld;
    for (int d = y->rank - 2; d >= 0; d--) dst[d] = s, s *= y->dims[d];
    dp = dst;
  }
  strided_copy2(y->data, dp, (const char *)x->data + (size_t)off * er_dtype_size(x->dtype),
                er_dtype_size(x->dtype), y->rank, y->dims, sst);
  return NULL;
}

/* ---- Expand ---- */

static er_status expand_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  int64_t shape[MAXR];
  int n;
  ER_RETURN_IF_ERROR(input_ints(c, 1, shape, MAXR, &n));
  int r = n > x->rank ? n : x->rank;
  int64_t d[MAXR];
  for (int i = 0; i < r; i++) {
    int j = i - (r - x->rank), k = i - (r - n);
    int64_t a = j >= 0 ? x->dims[j] : 1, b = k >= 0 ? shape[k] : 1;
    if (b < 0) return ER_ERR(ER_INVALID_ARGUMENT, "shape value %lld is negative", (long long)b);
    if (a != b && a != 1 && b != 1) {
      char s1[160], s2[160];
      return ER_ERR(ER_INVALID_ARGUMENT, "input shape %s cannot be expanded to %s",
                    er_shape_str(x->dims, x->rank, s1, sizeof s1), er_shape_str(shape, n, s2, sizeof s2));
    }
    d[i] = a == 1 ? b : a;
  }
  c->scratch_bytes = table_scratch(d, r);
  return set_out(c, 0, x->dtype, r, d);
}

static er_status expand_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  int64_t st[MAXR], *tab[MAXR];
  er_broadcast_strides(x, y->rank, y->dims, st);
  carve_tables(c->scratch, y->rank, y->dims, tab);
  for (int d = 0; d < y->rank; d++)
    for (int64_t i = 0; i < y->dims[d]; i++) tab[d][i] = i * st[d];
  table_copy(y->data, x->data, er_dtype_size(x->dtype), y->rank, y->dims, tab, NULL);
  return NULL;
}

/* ---- Tile ---- */

static er_status tile_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  int64_t rep[MAXR], d[MAXR];
  int n;
  ER_RETURN_IF_ERROR(input_ints(c, 1, rep, MAXR, &n));
  if (n != x->rank) return ER_ERR(ER_INVALID_ARGUMENT, "repeats has %d values for rank %d", n, x->rank);
  for (int i = 0; i < n; i++) {
    if (rep[i] < 0) return ER_ERR(ER_INVALID_ARGUMENT, "repeats[%d] = %lld is negative", i, (long long)rep[i]);
    if (x->dims[i] && rep[i] > INT64_MAX / x->dims[i]) return ER_ERR(ER_OUT_OF_RANGE, "tiled shape overflows");
    d[i] = x->dims[i] * rep[i];
  }
  c->scratch_bytes = table_scratch(d, n);
  return set_out(c, 0, x->dtype, n, d);
}

static er_status tile_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  int64_t st[MAXR], *tab[MAXR];
  er_contiguous_strides(x->dims, x->rank, st);
  carve_tables(c->scratch, y->rank, y->dims, tab);
  for (int d = 0; d < y->rank; d++)
    for (int64_t i = 0; i < y->dims[d]; i++) tab[d][i] = (i % x->dims[d]) * st[d];
  table_copy(y->data, x->data, er_dtype_size(x->dtype), y->rank, y->dims, tab, NULL);
  return NULL;
}

/* ---- DepthToSpace / SpaceToDepth ---- */

static er_status d2s_check(er_kctx *c, int64_t *bs_out) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  if (x->rank != 4) return ER_ERR(ER_INVALID_ARGUMENT, "input must be 4-D, got rank %d", x->rank);
  int64_t bs = er_attr_int(c, "blocksize", 0);
  if (bs < 1 || bs > (1 << 20)) return ER_ERR(ER_INVALID_ARGUMENT, "blocksize %lld is invalid", (long long)bs);
  *bs_out = bs;
  return NULL;
}

static er_status d2s_mode(const er_kctx *c, int *crd) {
  const char *m = er_attr_str(c, "mode", "DCR");
  if (!strcmp(m, "DCR")) *crd = 0;
  else if (!strcmp(m, "CRD")) *crd = 1;
  else return ER_ERR(ER_INVALID_ARGUMENT, "mode '%s' is not DCR or CRD", m);
  return NULL;
}

static er_status depth_to_space_infer(er_kctx *c) {
  int64_t bs;
  int crd;
  ER_RETURN_IF_ERROR(d2s_check(c, &bs));
  ER_RETURN_IF_ERROR(d2s_mode(c, &crd));
  const int64_t *x = c->in[0]->dims;
  if (x[1] % (bs * bs)) return ER_ERR(ER_INVALID_ARGUMENT, "channels %lld not divisible by blocksize^2", (long long)x[1]);
  int64_t d[4] = {x[0], x[1] / (bs * bs), x[2] * bs, x[3] * bs};
  c->scratch_bytes = table_scratch(d, 4);
  return set_out(c, 0, c->in[0]->dtype, 4, d);
}

static er_status depth_to_space_run(er_kctx *c) {
  int64_t bs;
  int crd;
  ER_RETURN_IF_ERROR(d2s_check(c, &bs));
  ER_RETURN_IF_ERROR(d2s_mode(c, &crd));
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  int64_t st[4], *tab[4], cp = y->dims[1];
  er_contiguous_strides(x->dims, 4, st);
  carve_tables(c->scratch, 4, y->dims, tab);
  for (int64_t i = 0; i < y->dims[0]; i++) tab[0][i] = i * st[0];
  for (int64_t i = 0; i < y->dims[1]; i++) tab[1][i] = i * st[1] * (crd ? bs * bs : 1);
  for (int64_t i = 0; i < y->dims[2]; i++)
    tab[2][i] = (i / bs) * st[2] + (i % bs) * st[1] * (crd ? bs : bs * cp);
  for (int64_t i = 0; i < y->dims[3]; i++) tab[3][i] = (i / bs) * st[3] + (i % bs) * st[1] * (crd ? 1 : cp);
  table_copy(y->data, x->data, er_dtype_size(x->dtype), 4, y->dims, tab, NULL);
  return NULL;
}

static er_status space_to_depth_infer(er_kctx *c) {
  int64_t bs;
  ER_RETURN_IF_ERROR(d2s_check(c, &bs));
  const int64_t *x = c->in[0]->dims;
  if (x[2] % bs || x[3] % bs) return ER_ERR(ER_INVALID_ARGUMENT, "spatial dims not divisible by blocksize %lld", (long long)bs);
  int64_t d[4] = {x[0], x[1] * bs * bs, x[2] / bs, x[3] / bs};
  c->scratch_bytes = table_scratch(d, 4);
  return set_out(c, 0, c->in[0]->dtype, 4, d);
}

static er_status space_to_depth_run(er_kctx *c) {
  int64_t bs;
  ER_RETURN_IF_ERROR(d2s_check(c, &bs));
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  int64_t st[4], *tab[4], ch = x->dims[1];
  er_contiguous_strides(x->dims, 4, st);
  carve_tables(c->scratch, 4, y->dims, tab);
  for (int64_t i = 0; i < y->dims[0]; i++) tab[0][i] = i * st[0];
  for (int64_t i = 0; i < y->dims[1]; i++) {
    int64_t b = i / ch;
    tab[1][i] = (i % ch) * st[1] + (b / bs) * st[2] + (b % bs) * st[3];
  }
  for (int64_t i = 0; i < y->dims[2]; i++) tab[2][i] = i * bs * st[2];
  for (int64_t i = 0; i < y->dims[3]; i++) tab[3][i] = i * bs * st[3];
  table_copy(y->data, x->data, er_dtype_size(x->dtype), 4, y->dims, tab, NULL);
  return NULL;
}

/* ---- Pad ---- */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

/* Per-axis begin/end pads for the full rank, and the mode. */
static er_status pad_params(const er_kctx *c, int64_t *begin, int64_t *end, int *mode) {
  const er_tensor *x = c->in[0];
  int r = x->rank;
  const char *m = er_attr_str(c, "mode", "constant");
  if (!strcmp(m, "constant")) *mode = PAD_CONSTANT;
  else if (!strcmp(m, "reflect")) *mode = PAD_REFLECT;
  else if (!strcmp(m, "edge")) *mode = PAD_EDGE;
  else if (!strcmp(m, "wrap") && c->opset >= 19) *mode = PAD_WRAP;
  else return ER_ERR(ER_INVALID_ARGUMENT, "pad mode '%s' is not supported at opset %d", m, c->opset);
  int64_t pads[2 * MAXR], axv[MAXR];
  int np, na = -1, axes[MAXR];
  if (c->opset < 11) {
    const int64_t *a;
    np = er_attr_ints(c, c->opset < 2 ? "paddings" : "pads", &a);
    if (np < 0) return ER_ERR(ER_INVALID_MODEL, "missing the pads attribute");
    if (np > 2 * MAXR) return ER_ERR(ER_INVALID_ARGUMENT, "too many pads (%d)", np);
    memcpy(pads, a, sizeof(int64_t) * (size_t)np);
  } else {
    ER_RETURN_IF_ERROR(input_ints(c, 1, pads, 2 * MAXR, &np));
    if (c->opset >= 18 && er_in(c, 3)) ER_RETURN_IF_ERROR(input_ints(c, 3, axv, MAXR, &na));
  }
  if (na < 0) {
    na = r;
    for (int i = 0; i < r; i++) axes[i] = i;
  } else {
    ER_RETURN_IF_ERROR(norm_axes(axv, na, r, axes));
  }
  if (np != 2 * na) return ER_ERR(ER_INVALID_ARGUMENT, "pads has %d values, expected %d", np, 2 * na);
  for (int i = 0; i < r; i++) begin[i] = end[i] = 0;
  for (int k = 0; k < na; k++) {
    int d = axes[k];
    begin[d] = pads[k], end[d] = pads[na + k];
    int64_t dim = x->dims[d], od = dim + begin[d] + end[d];
    if (od < 0) return ER_ERR(ER_INVALID_ARGUMENT, "pads on axis %d make its size negative", d);
    if (dim == 0 && od > 0 && *mode != PAD_CONSTANT)
      return ER_ERR(ER_INVALID_ARGUMENT, "cannot pad an empty axis %d in this mode", d);
  }
  return NULL;
}

static er_status pad_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, c->opset >= 11 ? 2 : 1, c->opset >= 18 ? 4 : c->opset >= 11 ? 3 : 1));
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  int64_t b[MAXR], e[MAXR], d[MAXR];
  int mode;
  ER_RETURN_IF_ERROR(pad_params(c, b, e, &mode));
  for (int i = 0; i < x->rank; i++) d[i] = x->dims[i] + b[i] + e[i];
  const er_tensor *v = er_in(c, 2);
  if (v && c->opset >= 11) {
    if (v->dtype != x->dtype) return ER_ERR(ER_INVALID_ARGUMENT, "constant_value type differs from data type");
    if (er_tensor_numel(v) > 1) return ER_ERR(ER_INVALID_ARGUMENT, "constant_value must be a scalar");
  }
  c->scratch_bytes = table_scratch(d, x->rank);
  return set_out(c, 0, x->dtype, x->rank, d);
}

static int64_t pad_src(int64_t i, int64_t dim, int mode) {
  if (i >= 0 && i < dim) return i;
  switch (mode) {
    case PAD_EDGE: return i < 0 ? 0 : dim - 1;
    case PAD_WRAP: return ((i % dim) + dim) % dim;
    case PAD_REFLECT: {
      if (dim == 1) return 0;
      int64_t p = 2 * (dim - 1), m = ((i % p) + p) % p;
      return m < dim ? m : p - m;
    }
    default: return -1;
  }
}

/* Pads all >= 0 and x not empty: the input goes into the interior with one strided copy,
 * then the borders of each axis, last to first, are whole slabs of y (the axes after it
 * already padded) copied from the slab the mode maps them to, or filled. */
static void pad_separable(const er_tensor *x, er_tensor *y, const int64_t *b, int mode, const void *fill,
                          size_t es) {
  const int r = y->rank;
  int64_t yst[MAXR], xst[MAXR], off = 0;
  er_contiguous_strides(y->dims, r, yst);
  er_contiguous_strides(x->dims, r, xst);
  for (int d = 0; d < r; d++) off += b[d] * yst[d];
  char *Y = (char *)y->data;
  strided_copy2(Y + off * (int64_t)es, yst, x->data, es, r, x->dims, xst);
  for (int d = r - 1; d >= 0; d--) {
    const int64_t lo = b[d], hi = b[d] + x->dims[d], n = y->dims[d];
    if (lo == 0 && hi == n) continue;
    const size_t slab = (size_t)yst[d] * es; /* axes after d, full */
    int64_t idx[MAXR] = {0}, base = 0;       /* axes before d, interior only */
    for (int k = 0; k < d; k++) base += b[k] * yst[k];
    for (;;) {
      char *row = Y + base * (int64_t)es;
      for (int64_t i = 0; i < n; i++) {
        if (i == lo) i = hi;
        if (i >= n) break;
        char *to = row + (size_t)i * slab;
        if (mode == PAD_CONSTANT) {
          for (size_t q = 0; q < slab; q += es) copy_elem(to + q, (const char *)fill, es);
        } else {
          memcpy(to, row + (size_t)(lo + pad_src(i - lo, x->dims[d], mode)) * slab, slab);
        }
      }
      int k = d - 1;
      for (; k >= 0; k--) {
        base += yst[k];
        if (++idx[k] < x->dims[k]) break;
        base -= yst[k] * x->dims[k];
        idx[k] = 0;
      }
      if (k < 0) break;
    }
  }
}

static er_status pad_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  size_t es = er_dtype_size(x->dtype);
  int64_t b[MAXR], e[MAXR], st[MAXR], *tab[MAXR];
  int mode;
  ER_RETURN_IF_ERROR(pad_params(c, b, e, &mode));
  uint64_t fill[2] = {0, 0};
  const er_tensor *v = er_in(c, 2);
  if (c->opset >= 11) {
    if (v && er_tensor_numel(v) == 1) memcpy(fill, v->data, es);
  } else {
    er_store_f64(fill, x->dtype, 0, (double)er_attr_float(c, "value", 0.0f));
  }
  int separable = er_tensor_numel(x) > 0;
  for (int d = 0; d < x->rank; d++) separable &= b[d] >= 0 && e[d] >= 0;
  if (separable) {
    pad_separable(x, y, b, mode, fill, es);
    return NULL;
  }
  er_contiguous_strides(x->dims, x->rank, st); /* cropping pads, empty input: tables */
  carve_tables(c->scratch, y->rank, y->dims, tab);
  for (int d = 0; d < y->rank; d++)
    for (int64_t i = 0; i < y->dims[d]; i++) {
      int64_t s = pad_src(i - b[d], x->dims[d], mode);
      tab[d][i] = s < 0 ? -1 : s * st[d];
    }
  table_copy(y->data, x->data, es, y->rank, y->dims, tab, fill);
  return NULL;
}

/* ---- CenterCropPad ---- */

static er_status ccp_params(const er_kctx *c, int64_t *target) {
  const er_tensor *x = c->in[0];
  int r = x->rank, n, axes[MAXR];
  int64_t sh[MAXR];
  ER_RETURN_IF_ERROR(input_ints(c, 1, sh, MAXR, &n));
  const int64_t *a;
  int na = er_attr_ints(c, "axes", &a);
  if (na < 0) {
    na = r;
    for (int i = 0; i < r; i++) axes[i] = i;
  } else {
    if (na > r) return ER_ERR(ER_INVALID_ARGUMENT, "too many axes (%d)", na);
    ER_RETURN_IF_ERROR(norm_axes(a, na, r, axes));
  }
  if (n != na) return ER_ERR(ER_INVALID_ARGUMENT, "shape has %d values for %d axes", n, na);
  for (int i = 0; i < r; i++) target[i] = x->dims[i];
  for (int k = 0; k < n; k++) {
    if (sh[k] < 0) return ER_ERR(ER_INVALID_ARGUMENT, "shape value %lld is negative", (long long)sh[k]);
    target[axes[k]] = sh[k];
  }
  return NULL;
}

static er_status center_crop_pad_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(c->in[0], &es));
  int64_t d[MAXR];
  ER_RETURN_IF_ERROR(ccp_params(c, d));
  c->scratch_bytes = table_scratch(d, c->in[0]->rank);
  return set_out(c, 0, c->in[0]->dtype, c->in[0]->rank, d);
}

static er_status center_crop_pad_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  int64_t st[MAXR], *tab[MAXR];
  uint64_t zero[2] = {0, 0};
  er_contiguous_strides(x->dims, x->rank, st);
  carve_tables(c->scratch, y->rank, y->dims, tab);
  for (int d = 0; d < y->rank; d++) {
    int64_t dim = x->dims[d], t = y->dims[d];
    int64_t shift = t <= dim ? (dim - t) / 2 : -((t - dim) / 2);
    for (int64_t i = 0; i < t; i++) {
      int64_t s = i + shift;
      tab[d][i] = (s < 0 || s >= dim) ? -1 : s * st[d];
    }
  }
  table_copy(y->data, x->data, er_dtype_size(x->dtype), y->rank, y->dims, tab, zero);
  return NULL;
}

/* ---- ReverseSequence ---- */

static er_status reverse_sequence_axes(const er_kctx *c, int *tax, int *bax) {
  int64_t t = er_attr_int(c, "time_axis", 0), b = er_attr_int(c, "batch_axis", 1);
  if (!((t == 0 && b == 1) || (t == 1 && b == 0)))
    return ER_ERR(ER_INVALID_ARGUMENT, "time_axis/batch_axis must be 0/1 or 1/0, got %lld/%lld", (long long)t, (long long)b);
  *tax = (int)t, *bax = (int)b;
  return NULL;
}

static er_status reverse_sequence_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  const er_tensor *x = c->in[0], *l = c->in[1];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  int tax, bax;
  ER_RETURN_IF_ERROR(reverse_sequence_axes(c, &tax, &bax));
  if (x->rank < 2) return ER_ERR(ER_INVALID_ARGUMENT, "input must have rank >= 2");
  if (l->dtype != ER_I64 && l->dtype != ER_I32) return ER_ERR(ER_INVALID_ARGUMENT, "sequence_lens must be int64");
  if (l->rank != 1 || l->dims[0] != x->dims[bax])
    return ER_ERR(ER_INVALID_ARGUMENT, "sequence_lens must have %lld values", (long long)x->dims[bax]);
  return set_out(c, 0, x->dtype, x->rank, x->dims);
}

static er_status reverse_sequence_run(er_kctx *c) {
  const er_tensor *x = c->in[0], *l = c->in[1];
  int tax, bax;
  ER_RETURN_IF_ERROR(reverse_sequence_axes(c, &tax, &bax));
  size_t es = er_dtype_size(x->dtype);
  int64_t T = x->dims[tax], B = x->dims[bax], inner = prod(x->dims, 2, x->rank);
  int64_t st[MAXR];
  er_contiguous_strides(x->dims, x->rank, st);
  size_t blk = (size_t)inner * es;
  for (int64_t b = 0; b < B; b++) {
    int64_t len = er_load_i64(l->data, l->dtype, (size_t)b);
    if (len < 0 || len > T)
      return ER_ERR(ER_OUT_OF_RANGE, "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)b, (long long)len, (long long)T);
    for (int64_t t = 0; t < T; t++) {
      int64_t src = t < len ? len - 1 - t : t;
      size_t o = (size_t)(t * st[tax] + b * st[bax]) * es, s = (size_t)(src * st[tax] + b * st[bax]) * es;
      if (blk) memcpy((char *)c->out[0]->data + o, (const char *)x->data + s, blk);
    }
  }
  return NULL;
}

/* ---- ConstantOfShape ---- */

static er_status cos_value(const er_kctx *c, const er_tensor **v) {
  const er_attr *a = er_attr_get(c, "value");
  *v = NULL;
  if (!a) return NULL;
  if (a->type != ER_ATTR_TENSOR || !a->t) return ER_ERR(ER_INVALID_MODEL, "'value' must be a tensor");
  if (er_tensor_numel(a->t) != 1) return ER_ERR(ER_INVALID_ARGUMENT, "'value' must have exactly one element");
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(a->t, &es));
  if (!a->t->data) return ER_ERR(ER_INVALID_MODEL, "'value' has no data");
  *v = a->t;
  return NULL;
}

static er_status constant_of_shape_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  const er_tensor *v;
  ER_RETURN_IF_ERROR(cos_value(c, &v));
  int64_t d[MAXR];
  int n;
  ER_RETURN_IF_ERROR(input_ints(c, 0, d, MAXR, &n));
  for (int i = 0; i < n; i++)
    if (d[i] < 0) return ER_ERR(ER_INVALID_ARGUMENT, "shape value %lld is negative", (long long)d[i]);
  return set_out(c, 0, v ? v->dtype : ER_F32, n, d);
}

static er_status constant_of_shape_run(er_kctx *c) {
  const er_tensor *v;
  ER_RETURN_IF_ERROR(cos_value(c, &v));
  er_tensor *y = c->out[0];
  size_t es = er_dtype_size(y->dtype), nb = er_tensor_nbytes(y);
  if (!v) {
    memset(y->data, 0, nb);
    return NULL;
  }
  for (size_t o = 0; o < nb; o += es) memcpy((char *)y->data + o, v->data, es);
  return NULL;
}

/* ---- Range ---- */

static const int range_types[] = {ER_F32, ER_F64, ER_I16, ER_I32, ER_I64, 0};

static er_status range_count(const er_kctx *c, int64_t *n) {
  const er_tensor *s = c->in[0], *l = c->in[1], *d = c->in[2];
  if (!s->data || !l->data || !d->data) return er_needs_data(c);
  if (er_dtype_is_float(s->dtype)) {
    double a = er_load_f64(s->data, s->dtype, 0), b = er_load_f64(l->data, l->dtype, 0),
           dl = er_load_f64(d->data, d->dtype, 0);
    if (dl == 0 || !isfinite(a) || !isfinite(b) || !isfinite(dl))
      return ER_ERR(ER_INVALID_ARGUMENT, "Range needs finite start/limit and a non-zero delta");
    double k = ceil((b - a) / dl);
    if (k > 9e15) return ER_ERR(ER_OUT_OF_RANGE, "Range has too many elements");
    *n = k > 0 ? (int64_t)k : 0;
  } else {
    int64_t a = er_load_i64(s->data, s->dtype, 0), b = er_load_i64(l->data, l->dtype, 0),
            dl = er_load_i64(d->data, d->dtype, 0);
    if (dl == 0) return ER_ERR(ER_INVALID_ARGUMENT, "Range delta is 0");
    double k = ceil(((double)b - (double)a) / (double)dl);
    *n = k > 0 ? (int64_t)k : 0;
  }
  return NULL;
}

static er_status range_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, 3));
  for (int i = 0; i < 3; i++) {
    ER_RETURN_IF_ERROR(er_check_type(c, i, range_types));
    if (c->in[i]->dtype != c->in[0]->dtype) return ER_ERR(ER_INVALID_ARGUMENT, "Range inputs must share one type");
    if (er_tensor_numel(c->in[i]) != 1) return ER_ERR(ER_INVALID_ARGUMENT, "Range input %d must be a scalar", i);
  }
  int64_t n;
  ER_RETURN_IF_ERROR(range_count(c, &n));
  return set_out(c, 0, c->in[0]->dtype, 1, &n);
}

static er_status range_run(er_kctx *c) {
  er_tensor *y = c->out[0];
  int64_t n = y->dims[0];
  int t = y->dtype;
  if (t == ER_F32) {
    float a = *(const float *)c->in[0]->data, d = *(const float *)c->in[2]->data;
    for (int64_t i = 0; i < n; i++) ((float *)y->data)[i] = a + (float)i * d;
  } else if (t == ER_F64) {
    double a = *(const double *)c->in[0]->data, d = *(const double *)c->in[2]->data;
    for (int64_t i = 0; i < n; i++) ((double *)y->data)[i] = a + (double)i * d;
  } else {
    int64_t a = er_load_i64(c->in[0]->data, t, 0), d = er_load_i64(c->in[2]->data, t, 0);
    for (int64_t i = 0; i < n; i++) er_store_i64(y->data, t, (size_t)i, a + i * d);
  }
  return NULL;
}

/* ---- EyeLike ---- */

static er_status eye_like_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  const er_tensor *x = c->in[0];
  if (x->rank != 2) return ER_ERR(ER_INVALID_ARGUMENT, "EyeLike input must be 2-D, got rank %d", x->rank);
  int dt = (int)er_attr_int(c, "dtype", x->dtype);
  if (!er_dtype_size(dt) || dt == ER_STRING)
    return ER_ERR(ER_UNSUPPORTED, "EyeLike output type %d is not supported", dt);
  return set_out(c, 0, dt, 2, x->dims);
}

static er_status eye_like_run(er_kctx *c) {
  er_tensor *y = c->out[0];
  int64_t k = er_attr_int(c, "k", 0), R = y->dims[0], C = y->dims[1];
  memset(y->data, 0, er_tensor_nbytes(y));
  for (int64_t i = 0; i < R; i++) {
    int64_t j = i + k;
    if (j >= 0 && j < C) er_store_f64(y->data, y->dtype, (size_t)(i * C + j), 1.0);
  }
  return NULL;
}

/* ---- Trilu ---- */

static er_status trilu_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 2));
  const er_tensor *x = c->in[0];
  size_t es = 0;
  ER_RETURN_IF_ERROR(elem_size(x, &es));
  if (x->rank < 2) return ER_ERR(ER_INVALID_ARGUMENT, "Trilu input must have rank >= 2");
  const er_tensor *k = er_in(c, 1);
  if (k && (er_tensor_numel(k) != 1 || (k->dtype != ER_I64 && k->dtype != ER_I32)))
    return ER_ERR(ER_INVALID_ARGUMENT, "k must be an int64 scalar");
  return set_out(c, 0, x->dtype, x->rank, x->dims);
}

static er_status trilu_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  size_t es = er_dtype_size(x->dtype);
  int64_t k = er_in(c, 1) ? er_load_i64(c->in[1]->data, c->in[1]->dtype, 0) : 0;
  int upper = er_attr_int(c, "upper", 1) != 0;
  int64_t R = x->dims[x->rank - 2], C = x->dims[x->rank - 1], B = prod(x->dims, 0, x->rank - 2);
  const char *s = (const char *)x->data;
  char *o = (char *)y->data;
  for (int64_t b = 0; b < B; b++)
    for (int64_t i = 0; i < R; i++)
      for (int64_t j = 0; j < C; j++, s += es, o += es) {
        int keep = upper ? (j - i >= k) : (j - i <= k);
        if (keep) copy_elem(o, s, es);
        else memset(o, 0, es);
      }
  return NULL;
}

/* ---- registry ---- */

/* Defined in shape_index.c */
er_status er_shape_gather_infer(er_kctx *c);
er_status er_shape_gather_run(er_kctx *c);
er_status er_shape_gather_elements_infer(er_kctx *c);
er_status er_shape_gather_elements_run(er_kctx *c);
er_status er_shape_gather_nd_infer(er_kctx *c);
er_status er_shape_gather_nd_run(er_kctx *c);
er_status er_shape_scatter_elements_infer(er_kctx *c);
er_status er_shape_scatter_elements_run(er_kctx *c);
er_status er_shape_scatter_nd_infer(er_kctx *c);
er_status er_shape_scatter_nd_run(er_kctx *c);
er_status er_shape_onehot_infer(er_kctx *c);
er_status er_shape_onehot_run(er_kctx *c);
er_status er_shape_nonzero_infer(er_kctx *c);
er_status er_shape_nonzero_run(er_kctx *c);
er_status er_shape_compress_infer(er_kctx *c);
er_status er_shape_compress_run(er_kctx *c);
er_status er_shape_unique_infer(er_kctx *c);
er_status er_shape_unique_run(er_kctx *c);

const er_op_def er_ops_shape[] = {
    ER_OPDEF(Constant, {"Constant", "", 1, 0, constant_infer, constant_run, 0})
    ER_OPDEF(Shape, {"Shape", "", 1, 0, shape_infer, shape_run, ER_OP_SHAPE_ONLY})
    ER_OPDEF(Size, {"Size", "", 1, 0, size_infer, size_run, ER_OP_SHAPE_ONLY})
    ER_OPDEF(Reshape, {"Reshape", "", 1, 0, reshape_infer, run_copy, ER_OP_VIEW})
    ER_OPDEF(Flatten, {"Flatten", "", 1, 0, flatten_infer, run_copy, ER_OP_VIEW})
    ER_OPDEF(Squeeze, {"Squeeze", "", 1, 0, squeeze_infer, run_copy, ER_OP_VIEW})
    ER_OPDEF(Unsqueeze, {"Unsqueeze", "", 1, 0, unsqueeze_infer, run_copy, ER_OP_VIEW})
    ER_OPDEF(Transpose, {"Transpose", "", 1, 0, transpose_infer, transpose_run, 0})
    ER_OPDEF(Concat, {"Concat", "", 1, 0, concat_infer, concat_run, 0})
    ER_OPDEF(Split, {"Split", "", 1, 0, split_infer, split_run, 0})
    ER_OPDEF(Slice, {"Slice", "", 1, 0, slice_infer, slice_run, 0})
    ER_OPDEF(Expand, {"Expand", "", 8, 0, expand_infer, expand_run, 0})
    ER_OPDEF(Tile, {"Tile", "", 6, 0, tile_infer, tile_run, 0})
    ER_OPDEF(Pad, {"Pad", "", 1, 0, pad_infer, pad_run, 0})
    ER_OPDEF(CenterCropPad, {"CenterCropPad", "", 18, 0, center_crop_pad_infer, center_crop_pad_run, 0})
    ER_OPDEF(DepthToSpace, {"DepthToSpace", "", 1, 0, depth_to_space_infer, depth_to_space_run, 0})
    ER_OPDEF(SpaceToDepth, {"SpaceToDepth", "", 1, 0, space_to_depth_infer, space_to_depth_run, 0})
    ER_OPDEF(ReverseSequence, {"ReverseSequence", "", 10, 0, reverse_sequence_infer, reverse_sequence_run, 0})
    ER_OPDEF(ConstantOfShape, {"ConstantOfShape", "", 9, 0, constant_of_shape_infer, constant_of_shape_run, 0})
    ER_OPDEF(Range, {"Range", "", 11, 0, range_infer, range_run, 0})
    ER_OPDEF(EyeLike, {"EyeLike", "", 9, 0, eye_like_infer, eye_like_run, 0})
    ER_OPDEF(Trilu, {"Trilu", "", 14, 0, trilu_infer, trilu_run, 0})
    ER_OPDEF(Gather, {"Gather", "", 1, 0, er_shape_gather_infer, er_shape_gather_run, 0})
    ER_OPDEF(GatherElements, {"GatherElements", "", 11, 0, er_shape_gather_elements_infer, er_shape_gather_elements_run, 0})
    ER_OPDEF(GatherND, {"GatherND", "", 11, 0, er_shape_gather_nd_infer, er_shape_gather_nd_run, 0})
    ER_OPDEF(Scatter, {"Scatter", "", 9, 10, er_shape_scatter_elements_infer, er_shape_scatter_elements_run, 0})
    ER_OPDEF(ScatterElements, {"ScatterElements", "", 11, 0, er_shape_scatter_elements_infer, er_shape_scatter_elements_run, 0})
    ER_OPDEF(ScatterND, {"ScatterND", "", 11, 0, er_shape_scatter_nd_infer, er_shape_scatter_nd_run, 0})
    ER_OPDEF(OneHot, {"OneHot", "", 9, 0, er_shape_onehot_infer, er_shape_onehot_run, 0})
    ER_OPDEF(NonZero, {"NonZero", "", 9, 0, er_shape_nonzero_infer, er_shape_nonzero_run, 0})
    ER_OPDEF(Compress, {"Compress", "", 9, 0, er_shape_compress_infer, er_shape_compress_run, 0})
    ER_OPDEF(Unique, {"Unique", "", 11, 0, er_shape_unique_infer, er_shape_unique_run, 0})
    {0},
};
