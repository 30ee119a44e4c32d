/* AVX2/FMA and AVX-512F vector math entries of the micro-kernel table (private to src/kernels/x86/):
 * f32_vunary, f32_softmax, f32_layernorm as documented in kernels/dispatch.h, with the
 * approximations of kernels/vmath.h (SIMD forms in vmath-simd.h). */
#ifndef ER_KERNELS_X86_F32_VMATH_H
#define ER_KERNELS_X86_F32_VMATH_H
#include "kernels/dispatch.h"

void er_f32_vunary__avx2(int fn, const float *x, float *y, int64_t n);
void er_f32_softmax__avx2(const float *x, int64_t ldx, float *y, int64_t ldy, int64_t rows,
                          int64_t n, float scale, int log_);
void er_f32_layernorm__avx2(const float *x, float *y, int64_t rows, int64_t n, const float *scale,
                            const float *bias, float eps, float *mean, float *istd);

/* AVX-512F versions (f32-vmath-avx512.c), same contracts. */
void er_f32_vunary__avx512(int fn, const float *x, float *y, int64_t n);
void er_f32_softmax__avx512(const float *x, int64_t ldx, float *y, int64_t ldy, int64_t rows,
                            int64_t n, float scale, int log_);
void er_f32_layernorm__avx512(const float *x, float *y, int64_t rows, int64_t n,
                              const float *scale, const float *bias, float eps, float *mean,
                              float *istd);
#endif
