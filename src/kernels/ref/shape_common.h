/* Helpers shared by the shape and indexing family (ops_shape.c, shape_index.c). */
#ifndef ER_KERNELS_REF_SHAPE_COMMON_H
#define ER_KERNELS_REF_SHAPE_COMMON_H
#include "kernels/kernel.h"

/* Largest tensor (bytes) an op of this family may produce. */
#define SHAPE_LIMIT ((uint64_t)1 << 46)
#define MAXR ER_MAX_RANK

static inline er_status elem_size(const er_tensor *t, size_t *out) {
  size_t es = er_dtype_size(t->dtype);
  if (!es) return ER_ERR(ER_UNSUPPORTED, "element type %s is not supported", er_dtype_name((er_dtype)t->dtype));
  *out = es;
  return NULL;
}

/* Set output i's dtype and shape after checking rank and size. Absent outputs are skipped. */
static inline er_status set_out(er_kctx *c, int i, int dtype, int rank, const int64_t *dims) {
  ER_RETURN_IF_ERROR(er_shape_check(dims, rank, dtype, SHAPE_LIMIT));
  er_tensor *o = er_out(c, i);
  if (o) er_tensor_set_shape(o, dtype, rank, dims);
  return NULL;
}
#endif
