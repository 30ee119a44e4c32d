/*
 * Portable micro-kernels of the channels-last ops (kernels/nhwc.h): the reference table's
 * entries (semantics in kernels/dispatch.h, "channels-last" section). They are the
 * specification the ISA versions are tested against and the fallback on CPUs without them.
 *
 * Loops run over channels innermost in fixed blocks (8 or 16 lanes) with restrict-qualified
 * pointers, so compilers vectorize them at -O2 (SSE, NEON) without runtime checks.
 *
 * Packed weight format (shared with the AVX2 table): B (K x N) cut into ceil(N/16) panels
 * of 16 columns; panel p holds K rows of 16 floats (columns past N are zero), row k of
 * panel p at float offset (p*K + k)*16.
 */
#ifndef ER_KERNELS_REF_NHWC_MK_H
#define ER_KERNELS_REF_NHWC_MK_H
#include "kernels/dispatch.h"

size_t er_f32_nhwc_pack_size__ref(int64_t K, int64_t N);
void er_f32_nhwc_pack__ref(int64_t K, int64_t N, const float *src, int64_t sn, int64_t kin, int64_t sc,
                           int64_t st, void *packed);
void er_f32_nhwc_gemm__ref(int64_t M, int64_t N, int64_t kc, const float *A, int64_t lda, const void *packed,
                           int64_t K, int64_t k0, int64_t n0, const float *bias, int accumulate, er_act act,
                           float *C, int64_t ldc);
void er_f32_nhwc_dwconv__ref(int64_t n, int64_t C, int64_t T, const float *const *in, int64_t step,
                             const float *w, const float *bias, er_act act, float *out, int64_t ldo);
void er_f32_nhwc_pool__ref(int kind, int64_t C, int64_t T, const float *const *in, float div, float *out);
void er_f32_nhwc_gpool__ref(int kind, int64_t n, int64_t C, const float *x, int64_t ldx, float *out);
void er_f32_nhwc_wino_in__ref(int64_t C, const float *const *in, float *V, int64_t xs);
void er_f32_nhwc_wino_out__ref(int64_t M, const float *O, int64_t xs, const float *bias, er_act act,
                               float *const *out);
void er_f32_nhwc_add_act__ref(int64_t rows, int64_t n, const float *z, int64_t ldz, er_act act, float *y,
                              int64_t ldy);
#endif
