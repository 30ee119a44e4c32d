/*
 * AVX2/FMA micro-kernels of the channels-last ops (kernels/nhwc.h); semantics of each in
 * kernels/dispatch.h ("channels-last" section). The packed weight format is the reference
 * one (16-column panels, kernels/ref/nhwc_mk.h), so the AVX2 table packs with the
 * reference packer.
 *
 *   er_f32_nhwc_gemm_6x16__avx2    pixels x packed weights, 6x16 register tiles (fewer rows:
 *                                  wider tiles up to 1x64), bias + activation epilogue
 *   er_f32_nhwc_dwconv_4x16__avx2  depthwise, up to 4 output pixels x 16 channels per step
 *   er_f32_nhwc_pool__avx2, er_f32_nhwc_gpool__avx2   max / average across channel vectors
 *   er_f32_nhwc_wino_in__avx2, er_f32_nhwc_wino_out__avx2   Winograd F(4x4,3x3) transforms
 */
#ifndef ER_KERNELS_X86_F32_NHWC_H
#define ER_KERNELS_X86_F32_NHWC_H
#include "kernels/dispatch.h"

void er_f32_nhwc_gemm_6x16__avx2(int64_t M, int64_t N, int64_t kc, const float *A, int64_t lda, const void *packed,
                                 int64_t K, int64_t k0, int64_t n0, const float *bias, int accumulate, er_act act,
                                 float *C, int64_t ldc);
void er_f32_nhwc_dwconv_4x16__avx2(int64_t n, int64_t C, int64_t T, const float *const *in, int64_t step,
                                   const float *w, const float *bias, er_act act, float *out, int64_t ldo);
void er_f32_nhwc_pool__avx2(int kind, int64_t C, int64_t T, const float *const *in, float div, float *out);
void er_f32_nhwc_gpool__avx2(int kind, int64_t n, int64_t C, const float *x, int64_t ldx, float *out);
void er_f32_nhwc_wino_in__avx2(int64_t C, const float *const *in, float *V, int64_t xs);
void er_f32_nhwc_wino_out__avx2(int64_t M, const float *O, int64_t xs, const float *bias, er_act act,
                                float *const *out);

#if defined(__AVX2__)
#include <immintrin.h>
/* lanes [0, n) set, n in [0, 8] */
static inline __m256i er_nhwc_mask(int64_t n) {
  static const int32_t src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256((const __m256i *)(src + 8 - n));
}
#endif
#endif
