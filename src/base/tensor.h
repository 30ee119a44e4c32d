/* Runtime tensor: dense, row-major, contiguous. */
#ifndef ER_BASE_TENSOR_H
#define ER_BASE_TENSOR_H
#include <stddef.h>
#include <stdint.h>
#include "base/dtype.h"
#include "base/status.h"

typedef struct er_tensor {
  int dtype;                 /* er_dtype */
  int rank;                  /* 0 = scalar */
  int64_t dims[ER_MAX_RANK];
  void *data;                /* NULL while the value is unknown (shape inference) */
} er_tensor;

static inline int64_t er_shape_numel(const int64_t *dims, int rank) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  return n;
}
static inline int64_t er_tensor_numel(const er_tensor *t) { return er_shape_numel(t->dims, t->rank); }
static inline size_t er_tensor_nbytes(const er_tensor *t) {
  return (size_t)er_tensor_numel(t) * er_dtype_size(t->dtype);
}
/* Set dtype and shape (does not touch data). */
static inline void er_tensor_set_shape(er_tensor *t, int dtype, int rank, const int64_t *dims) {
  t->dtype = dtype;
  t->rank = rank;
  for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
}

/* Check that a shape is sane: rank <= ER_MAX_RANK, every dim >= 0, and the byte
 * size of the tensor does not overflow or exceed `limit` bytes. */
er_status er_shape_check(const int64_t *dims, int rank, int dtype, uint64_t limit);

/* Format a shape as "[2,3,4]" into buf (always NUL-terminated). */
const char *er_shape_str(const int64_t *dims, int rank, char *buf, size_t cap);

/* ---- broadcasting (numpy rules) ---- */
/* Broadcast the shapes of n tensors into out_dims/out_rank. Error if incompatible. */
er_status er_broadcast_shape(const er_tensor *const *ts, int n, int *out_rank, int64_t *out_dims);
/* Element strides of t when viewed with shape (rank, dims) under broadcasting:
 * 0 along broadcast dimensions. `t` must be broadcastable to dims. */
void er_broadcast_strides(const er_tensor *t, int rank, const int64_t *dims, int64_t *out_strides);
/* Contiguous row-major element strides of a shape. */
void er_contiguous_strides(const int64_t *dims, int rank, int64_t *out_strides);

/* Normalise an axis in [-rank, rank) to [0, rank). Returns error if out of range. */
er_status er_normalize_axis(int64_t axis, int rank, int *out_axis);

/* Iterate an output shape while tracking element offsets into up to 4 broadcast
 * inputs:  er_bcast_iter it; er_bcast_iter_init(&it, 2, ins, r, dims);
 *          for (int64_t k = 0; k < numel; k++, er_bcast_iter_next(&it)) use(it.off[0], it.off[1]); */
typedef struct er_bcast_iter {
  int rank, n;
  int64_t dims[ER_MAX_RANK];
  int64_t idx[ER_MAX_RANK];
  int64_t strides[4][ER_MAX_RANK];
  int64_t off[4];
} er_bcast_iter;
void er_bcast_iter_init(er_bcast_iter *it, int n, const er_tensor *const *ins, int rank,
                        const int64_t *dims);
static inline void er_bcast_iter_next(er_bcast_iter *it) {
  for (int d = it->rank - 1; d >= 0; d--) {
    for (int j = 0; j < it->n; j++) it->off[j] += it->strides[j][d];
    if (++it->idx[d] < it->dims[d]) return;
    for (int j = 0; j < it->n; j++) it->off[j] -= it->strides[j][d] * it->dims[d];
    it->idx[d] = 0;
  }
}
#endif
