/* Sparse float32 weights, AVX-512F (kernels/sparse.h).
 *   spmm_32: per column, its entries (a multiple of 4) go round-robin to four sets of two
 *            zmm accumulators (32 rows each; four sets hide the FMA latency),
 *            Ct = base + ((s0 + s1) + (s2 + s3)).
 *   spmv_16: per column, 16 nonzeros per gather, two accumulators alternating, the tail
 *            masked; y = base + horizontal sum. */
#include <immintrin.h>

#include "kernels/x86/f32-spmm.h"

#define LD(p) _mm512_loadu_ps(p)
#define STEP(a, b, jj)                                                            \
  do {                                                                            \
    const float *p_ = At + (int64_t)idx[jj] * 32;                                 \
    const __m512 v_ = _mm512_set1_ps(val[jj]);                                    \
    a = _mm512_fmadd_ps(LD(p_), v_, a), b = _mm512_fmadd_ps(LD(p_ + 16), v_, b); \
  } while (0)

/* act on 16 results: RELU / CLIP in registers, other kinds through the reference */
static inline void store_act(float *o, __m512 v, er_act act) {
  if (act.kind == ER_ACT_RELU) v = _mm512_max_ps(v, _mm512_setzero_ps());
  else if (act.kind == ER_ACT_CLIP) v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(act.a)), _mm512_set1_ps(act.b));
  _mm512_storeu_ps(o, v);
  if (act.kind != ER_ACT_NONE && act.kind != ER_ACT_RELU && act.kind != ER_ACT_CLIP) er_f32_apply_act(o, 16, act);
}

void er_f32_spmm_32__avx512(const float *At, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                            const float *bias, int accumulate, er_act act, float *Ct) {
  for (int64_t c = 0; c < n; c++) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
    int32_t j = ptr[c];
    const int32_t e = ptr[c + 1];
    for (; j < e; j += 4) { /* runs are multiples of 4 (ER_SPW_RUN) */
      STEP(a0, a1, j);
      STEP(b0, b1, j + 1);
      STEP(c0, c1, j + 2);
      STEP(d0, d1, j + 3);
    }
    float *o = Ct + c * 32;
    const __m512 s0 = _mm512_add_ps(_mm512_add_ps(a0, b0), _mm512_add_ps(c0, d0));
    const __m512 s1 = _mm512_add_ps(_mm512_add_ps(a1, b1), _mm512_add_ps(c1, d1));
    const __m512 bv = _mm512_set1_ps(!accumulate && bias ? bias[c] : 0.0f);
    store_act(o, _mm512_add_ps(accumulate ? LD(o) : bv, s0), act);
    store_act(o + 16, _mm512_add_ps(accumulate ? LD(o + 16) : bv, s1), act);
  }
}

static inline __m512i idx16(const uint16_t *p) { return _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)); }

void er_f32_spmv_16__avx512(const float *x, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                            const float *bias, int accumulate, float *y) {
  for (int64_t c = 0; c < n; c++) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    int32_t j = ptr[c];
    const int32_t e = ptr[c + 1];
    for (; j + 32 <= e; j += 32) {
      a0 = _mm512_fmadd_ps(_mm512_i32gather_ps(idx16(idx + j), x, 4), LD(val + j), a0);
      a1 = _mm512_fmadd_ps(_mm512_i32gather_ps(idx16(idx + j + 16), x, 4), LD(val + j + 16), a1);
    }
    if (j + 16 <= e) {
      a0 = _mm512_fmadd_ps(_mm512_i32gather_ps(idx16(idx + j), x, 4), LD(val + j), a0);
      j += 16;
    }
    if (j < e) {
      const __mmask16 m = (__mmask16)((1u << (e - j)) - 1u);
      const __m512 g = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx16(idx + j), x, 4);
      a1 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(m, val + j), a1);
    }
    y[c] = (accumulate ? y[c] : bias ? bias[c] : 0.0f) + _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
  }
}
