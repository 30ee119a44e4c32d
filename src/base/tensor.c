#include "base/tensor.h"

#include <stdio.h>
#include <string.h>

er_status er_shape_check(const int64_t *dims, int rank, int dtype, uint64_t limit) {
  if (rank < 0 || rank > ER_MAX_RANK)
    return ER_ERR(ER_UNSUPPORTED, "rank %d exceeds the maximum of %d", rank, ER_MAX_RANK);
  uint64_t n = er_dtype_size(dtype);
  if (n == 0) return ER_ERR(ER_UNSUPPORTED, "element type %s is not supported", er_dtype_name(dtype));
  for (int i = 0; i < rank; i++)
    if (dims[i] < 0) return ER_ERR(ER_INVALID_ARGUMENT, "negative dimension %lld", (long long)dims[i]);
  /* The product of the non-zero dims is bounded too, so an empty tensor with huge other
   * dims cannot overflow a later element count. */
  for (int i = 0; i < rank; i++) {
    if (dims[i] == 0) continue;
    if ((uint64_t)dims[i] > limit || n > limit / (uint64_t)dims[i]) {
      char b[160];
      return ER_ERR(ER_OUT_OF_RANGE, "tensor of shape %s is too large",
                    er_shape_str(dims, rank, b, sizeof b));
    }
    n *= (uint64_t)dims[i];
  }
  return NULL;
}

const char *er_shape_str(const int64_t *dims, int rank, char *buf, size_t cap) {
  size_t o = 0;
  if (cap == 0) return buf;
  buf[0] = 0;
  o += (size_t)snprintf(buf + o, cap - o, "[");
  for (int i = 0; i < rank && o < cap; i++)
    o += (size_t)snprintf(buf + o, cap - o, i ? ",%lld" : "%lld", (long long)dims[i]);
  if (o < cap) snprintf(buf + o, cap - o, "]");
  return buf;
}

er_status er_broadcast_shape(const er_tensor *const *ts, int n, int *out_rank, int64_t *out_dims) {
  int r = 0;
  for (int k = 0; k < n; k++)
    if (ts[k] && ts[k]->rank > r) r = ts[k]->rank;
  for (int i = 0; i < r; i++) out_dims[i] = 1;
  for (int k = 0; k < n; k++) {
    const er_tensor *t = ts[k];
    if (!t) continue;
    int off = r - t->rank;
    for (int i = 0; i < t->rank; i++) {
      int64_t d = t->dims[i], *o = &out_dims[off + i];
      if (d == *o) continue;
      if (*o == 1) *o = d;
      else if (d != 1) {
        char a[160], b[160];
        return ER_ERR(ER_INVALID_ARGUMENT, "shapes %s and %s cannot be broadcast",
                      er_shape_str(ts[0]->dims, ts[0]->rank, a, sizeof a),
                      er_shape_str(t->dims, t->rank, b, sizeof b));
      }
    }
  }
  *out_rank = r;
  return NULL;
}

void er_contiguous_strides(const int64_t *dims, int rank, int64_t *s) {
  int64_t acc = 1;
  for (int i = rank - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
}

void er_broadcast_strides(const er_tensor *t, int rank, const int64_t *dims, int64_t *s) {
  int64_t own[ER_MAX_RANK];
  er_contiguous_strides(t->dims, t->rank, own);
  int off = rank - t->rank;
  for (int i = 0; i < rank; i++) {
    int j = i - off;
    s[i] = (j < 0 || t->dims[j] == 1) ? 0 : own[j];
    (void)dims;
  }
}

er_status er_normalize_axis(int64_t axis, int rank, int *out_axis) {
  if (axis < -(int64_t)rank || axis >= (int64_t)(rank == 0 ? 1 : rank))
    return ER_ERR(ER_INVALID_ARGUMENT, "axis %lld is out of range for rank %d", (long long)axis, rank);
  *out_axis = (int)(axis < 0 ? axis + rank : axis);
  return NULL;
}

void er_bcast_iter_init(er_bcast_iter *it, int n, const er_tensor *const *ins, int rank,
                        const int64_t *dims) {
  it->rank = rank;
  it->n = n;
  for (int d = 0; d < rank; d++) {
    it->dims[d] = dims[d];
    it->idx[d] = 0;
  }
  for (int j = 0; j < n; j++) {
    it->off[j] = 0;
    er_broadcast_strides(ins[j], rank, dims, it->strides[j]);
  }
}
