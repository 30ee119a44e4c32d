/* Run one operator directly (no model, no executor) for kernel unit tests.
 *
 *   int64_t d[] = {2, 3};
 *   er_tensor *x = ot_tensor(ER_F32, 2, d, (float[]){1,2,3,4,5,6});
 *   er_attr at[] = {ot_int("axis", 1)};
 *   er_tensor *y[1];
 *   CHECK_OK(ot_run("Softmax", 13, at, 1, (er_tensor*[]){x}, 1, y, 1));
 *   ... y[0]->data ...
 *   ot_free_all();   // frees every tensor made by ot_* since the last call
 */
#ifndef ER_OPTEST_H
#define ER_OPTEST_H
#include "kernels/kernel.h"

/* Tensor with a copy of `values` (may be NULL: zero-filled). */
er_tensor *ot_tensor(int dtype, int rank, const int64_t *dims, const void *values);
er_attr ot_int(const char *name, int64_t v);
er_attr ot_float(const char *name, float v);
er_attr ot_str(const char *name, const char *s);
er_attr ot_ints(const char *name, int n, const int64_t *v);
er_attr ot_floats(const char *name, int n, const float *v);
/* Infer + allocate outputs + run. Inputs may be NULL (absent optional).
 * Outputs are allocated here and freed by ot_free_all(). out[i] may be requested as
 * absent by passing n_out smaller than the op's maximum. */
er_status ot_run(const char *op_type, int opset, const er_attr *attrs, int n_attrs,
                 er_tensor **in, int n_in, er_tensor **out, int n_out);
/* Same, for a non-default domain. */
er_status ot_run_domain(const char *domain, const char *op_type, int opset, const er_attr *attrs,
                        int n_attrs, er_tensor **in, int n_in, er_tensor **out, int n_out);
/* ot_run_domain with table mk and thread pool `pool` (may be NULL) for this call only
 * (see ot_set_microkernels for what a table changes). */
er_status ot_run_ex(const char *domain, const char *op_type, int opset, const er_attr *attrs,
                    int n_attrs, er_tensor **in, int n_in, er_tensor **out, int n_out,
                    const er_microkernels *mk, er_threadpool *pool);
void ot_free_all(void);
/* Micro-kernel table given to ops as ctx->mk and the session thread count (<= 1: no pool).
 * They stay set until changed. With a table set, ot_run also does what a session does
 * before run: allocates ctx->state when infer asks for state_bytes and calls the op's
 * prepare (all inputs known, as in dynamic mode). The default (NULL table) runs ops with
 * ctx->mk NULL and without state or prepare, as before. */
void ot_set_microkernels(const er_microkernels *mk);
void ot_set_threads(int n);
/* Max |a-b| over float32 tensors' elements (inf if shapes differ). */
double ot_max_abs_diff_f32(const er_tensor *a, const float *expect, int64_t n);
#endif
