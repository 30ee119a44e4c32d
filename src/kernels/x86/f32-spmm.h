/* Sparse float32 weight kernels (contract: kernels/sparse.h and the f32_spmm_32 / f32_spmv
 * entries of kernels/dispatch.h). */
#ifndef ER_KERNELS_X86_F32_SPMM_H
#define ER_KERNELS_X86_F32_SPMM_H
#include <stdint.h>

#include "kernels/dispatch.h"

void er_f32_spmm_32__avx2(const float *At, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                          const float *bias, int accumulate, er_act act, float *Ct);
void er_f32_spmv_8__avx2(const float *x, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                         const float *bias, int accumulate, float *y);
void er_f32_spmm_32__avx512(const float *At, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                            const float *bias, int accumulate, er_act act, float *Ct);
void er_f32_spmv_16__avx512(const float *x, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                            const float *bias, int accumulate, float *y);
#endif
