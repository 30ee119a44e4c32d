/* Sparse float32 weights, AVX2/FMA (kernels/sparse.h).
 *   spmm_32: per column, its entries (a multiple of 4) alternate between two sets of four ymm accumulators
 *            (32 rows each; two sets hide the FMA latency), Ct = base + (set0 + set1).
 *   spmv_8:  per column, 8 nonzeros per gather, two accumulators alternating, the tail
 *            masked; y = base + horizontal sum. */
#include <immintrin.h>

#include "kernels/x86/f32-spmm.h"

#define LD(p) _mm256_loadu_ps(p)

/* act on 8 results: RELU / CLIP in registers, other kinds through the reference */
static inline void store_act(float *o, __m256 v, er_act act) {
  if (act.kind == ER_ACT_RELU) v = _mm256_max_ps(v, _mm256_setzero_ps());
  else if (act.kind == ER_ACT_CLIP) v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(act.a)), _mm256_set1_ps(act.b));
  _mm256_storeu_ps(o, v);
  if (act.kind != ER_ACT_NONE && act.kind != ER_ACT_RELU && act.kind != ER_ACT_CLIP) er_f32_apply_act(o, 8, act);
}

void er_f32_spmm_32__avx2(const float *At, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                          const float *bias, int accumulate, er_act act, float *Ct) {
  for (int64_t c = 0; c < n; c++) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int32_t j = ptr[c];
    const int32_t e = ptr[c + 1];
    for (; j < e; j += 2) { /* runs are multiples of 4 (ER_SPW_RUN) */
      const float *p = At + (int64_t)idx[j] * 32, *q = At + (int64_t)idx[j + 1] * 32;
      const __m256 v = _mm256_broadcast_ss(val + j), u = _mm256_broadcast_ss(val + j + 1);
      a0 = _mm256_fmadd_ps(LD(p), v, a0), a1 = _mm256_fmadd_ps(LD(p + 8), v, a1);
      a2 = _mm256_fmadd_ps(LD(p + 16), v, a2), a3 = _mm256_fmadd_ps(LD(p + 24), v, a3);
      b0 = _mm256_fmadd_ps(LD(q), u, b0), b1 = _mm256_fmadd_ps(LD(q + 8), u, b1);
      b2 = _mm256_fmadd_ps(LD(q + 16), u, b2), b3 = _mm256_fmadd_ps(LD(q + 24), u, b3);
    }
    float *o = Ct + c * 32;
    const __m256 bv = _mm256_set1_ps(!accumulate && bias ? bias[c] : 0.0f);
    store_act(o, _mm256_add_ps(accumulate ? LD(o) : bv, _mm256_add_ps(a0, b0)), act);
    store_act(o + 8, _mm256_add_ps(accumulate ? LD(o + 8) : bv, _mm256_add_ps(a1, b1)), act);
    store_act(o + 16, _mm256_add_ps(accumulate ? LD(o + 16) : bv, _mm256_add_ps(a2, b2)), act);
    store_act(o + 24, _mm256_add_ps(accumulate ? LD(o + 24) : bv, _mm256_add_ps(a3, b3)), act);
  }
}

static inline __m256i idx8(const uint16_t *p) { return _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)); }

void er_f32_spmv_8__avx2(const float *x, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                         const float *bias, int accumulate, float *y) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int64_t c = 0; c < n; c++) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    int32_t j = ptr[c];
    const int32_t e = ptr[c + 1];
    for (; j + 16 <= e; j += 16) {
      a0 = _mm256_fmadd_ps(_mm256_i32gather_ps(x, idx8(idx + j), 4), LD(val + j), a0);
      a1 = _mm256_fmadd_ps(_mm256_i32gather_ps(x, idx8(idx + j + 8), 4), LD(val + j + 8), a1);
    }
    if (j + 8 <= e) {
      a0 = _mm256_fmadd_ps(_mm256_i32gather_ps(x, idx8(idx + j), 4), LD(val + j), a0);
      j += 8;
    }
    if (j < e) {
      const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(e - j), lane);
      const __m256 g = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), x, idx8(idx + j), _mm256_castsi256_ps(m), 4);
      a1 = _mm256_fmadd_ps(g, _mm256_maskload_ps(val + j, m), a1);
    }
    const __m256 s = _mm256_add_ps(a0, a1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    y[c] = (accumulate ? y[c] : bias ? bias[c] : 0.0f) + _mm_cvtss_f32(h);
  }
}
