/*
 * Winograd F(4x4, 3x3) transforms across channels, AVX2/FMA: f32-nhwc-wino-impl.h on 8-lane
 * vectors, the last block with masked loads and stores.
 */
#include <immintrin.h>

#include "kernels/x86/f32-conv.h"
#include "kernels/x86/f32-nhwc.h"

/* tails are lane counts (8: a full vector) */
static inline __attribute__((always_inline)) __m256 w_load(const float *p, int n) {
  return n == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, er_nhwc_mask(n));
}
static inline __attribute__((always_inline)) void w_store(float *p, int n, __m256 v) {
  if (n == 8)
    _mm256_storeu_ps(p, v);
  else
    _mm256_maskstore_ps(p, er_nhwc_mask(n), v);
}

#define WV __m256
#define WT int
#define WN 8
#define WFULL 8
#define WTAIL(n) ((int)(n))
#define WSET1 _mm256_set1_ps
#define WADD _mm256_add_ps
#define WSUB _mm256_sub_ps
#define WFMA _mm256_fmadd_ps
#define WFNMA _mm256_fnmadd_ps
#define WZERO _mm256_setzero_ps
#define WLOAD w_load
#define WSTORE w_store
#define WACT er_nhwc_act_min_avx2
#define WACT_REGS er_nhwc_act_regs_avx2
#define WACT_ROW er_nhwc_act_stored
#define WIN er_f32_nhwc_wino_in__avx2
#define WOUT er_f32_nhwc_wino_out__avx2
#include "kernels/x86/f32-nhwc-wino-impl.h"
