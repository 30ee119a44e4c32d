/* Inline helpers shared by the AVX2 8-bit kernels (src/kernels/x86/q8-*-avx2.c only). */
#ifndef ER_KERNELS_X86_Q8_COMMON_AVX2_H
#define ER_KERNELS_X86_Q8_COMMON_AVX2_H
#include <immintrin.h>
#include <string.h>

#include "kernels/q8.h"

/* 16 bytes widened to int16 (sign- or zero-extended) */
static inline __m256i er_q8_widen16_avx2(const void *p, int is_signed) {
  __m128i v = _mm_loadu_si128((const __m128i *)p);
  return is_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v);
}

/* 16 floats (v0: 0-7, v1: 8-15) -> clamp(rint(v) + zp, lo, hi) as 16 bytes (er_q8_round_clamp:
 * the float clamp comes first, so NaN gives lo) */
static inline __m128i er_q8_round_pack16_avx2(__m256 v0, __m256 v1, int32_t zp, int32_t lo, int32_t hi, int is_u8) {
  const __m256 flo = _mm256_set1_ps((float)(lo - zp)), fhi = _mm256_set1_ps((float)(hi - zp));
  const __m256i vzp = _mm256_set1_epi32(zp);
  v0 = _mm256_min_ps(_mm256_max_ps(v0, flo), fhi);
  v1 = _mm256_min_ps(_mm256_max_ps(v1, flo), fhi);
  __m256i y0 = _mm256_add_epi32(_mm256_cvtps_epi32(v0), vzp), y1 = _mm256_add_epi32(_mm256_cvtps_epi32(v1), vzp);
  /* values are within [lo, hi]: the saturating packs do not change them */
  __m256i w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(y0, y1), 0xD8);
  __m128i l = _mm256_castsi256_si128(w16), h = _mm256_extracti128_si256(w16, 1);
  return is_u8 ? _mm_packus_epi16(l, h) : _mm_packs_epi16(l, h);
}

/* Store the first nn (<= 16) bytes of v at dst. */
static inline void er_q8_store_bytes_avx2(__m128i v, int64_t nn, void *dst) {
  if (nn == 16) {
    _mm_storeu_si128((__m128i *)dst, v);
  } else {
    char t[16];
    _mm_storeu_si128((__m128i *)t, v);
    memcpy(dst, t, (size_t)nn);
  }
}

/* Output stage for 16 ordered accumulators a0 (outputs 0-7) and a1 (8-15), bias already
 * added: int32 stores, or the float requantization of er_q8_requant with scales s0/s1 then
 * 8-bit stores; nn (<= 16) outputs are written to dst. */
static inline __attribute__((always_inline)) void er_q8_store16_avx2(const er_q8_out *o, __m256i a0, __m256i a1, __m256 s0, __m256 s1, int64_t nn,
                                      void *dst) {
  if (o->type == ER_I32) {
    int32_t t[16];
    int32_t *d = nn == 16 ? (int32_t *)dst : t;
    _mm256_storeu_si256((__m256i *)d, a0);
    _mm256_storeu_si256((__m256i *)(d + 8), a1);
    if (d == t) memcpy(dst, t, (size_t)nn * sizeof(int32_t));
    return;
  }
  __m256 v0 = _mm256_mul_ps(_mm256_cvtepi32_ps(a0), s0), v1 = _mm256_mul_ps(_mm256_cvtepi32_ps(a1), s1);
  er_q8_store_bytes_avx2(er_q8_round_pack16_avx2(v0, v1, o->zp, o->lo, o->hi, o->type == ER_U8), nn, dst);
}
/* GEMM output stage: acc[r][0..1] hold columns n..n+15 of row m+r (r < mr) of the product;
 * bias and scales are indexed by row or column as o says; nn (<= 16) columns are stored to
 * C (element (m, n) at C + m * ldc + n). */
static inline void er_q8_store_tile_avx2(const er_q8_out *o, int mr, int64_t m, int64_t n, int64_t nn, __m256i acc[6][2], void *C,
                       int64_t ldc) {
  int32_t pb[16];
  float ps[16];
  __m256i bias0 = _mm256_setzero_si256(), bias1 = bias0;
  __m256 sc0 = _mm256_setzero_ps(), sc1 = sc0;
  const int percol = !o->per_row;
  if (percol && o->bias) {
    const int32_t *b = o->bias + n;
    if (nn < 16) {
      memset(pb, 0, sizeof pb);
      memcpy(pb, b, (size_t)nn * sizeof(int32_t));
      b = pb;
    }
    bias0 = _mm256_loadu_si256((const __m256i *)b);
    bias1 = _mm256_loadu_si256((const __m256i *)(b + 8));
  }
  if (o->type != ER_I32) {
    if (o->scale_stride == 0) {
      sc0 = sc1 = _mm256_set1_ps(o->scale[0]);
    } else if (percol) {
      const float *s = o->scale + n;
      if (nn < 16) {
        memset(ps, 0, sizeof ps);
        memcpy(ps, s, (size_t)nn * sizeof(float));
        s = ps;
      }
      sc0 = _mm256_loadu_ps(s);
      sc1 = _mm256_loadu_ps(s + 8);
    }
  }
  const size_t esz = o->type == ER_I32 ? 4 : 1;
  for (int r = 0; r < mr; r++) {
    __m256i a0 = acc[r][0], a1 = acc[r][1];
    if (o->bias) {
      __m256i b0 = bias0, b1 = bias1;
      if (!percol) b0 = b1 = _mm256_set1_epi32(o->bias[m + r]);
      a0 = _mm256_add_epi32(a0, b0), a1 = _mm256_add_epi32(a1, b1);
    }
    __m256 s0 = sc0, s1 = sc1;
    if (!percol && o->scale_stride && o->type != ER_I32) s0 = s1 = _mm256_set1_ps(o->scale[(m + r) * o->scale_stride]);
    er_q8_store16_avx2(o, a0, a1, s0, s1, nn, (char *)C + ((m + r) * ldc + n) * (int64_t)esz);
  }
}
/* Output stage for 16 ordered accumulators a0 (outputs 0-7), a1 (8-15) whose parameters
 * (bias, scale) are indices i..i+15 when percol, else index i for all; nn (<= 16) outputs
 * are stored to dst. Partial per-channel groups go through the scalar stage (same bits)
 * so that no parameter past the end is read. */
static inline __attribute__((always_inline)) void er_q8_store16_at_avx2(const er_q8_out *o, __m256i a0, __m256i a1, int64_t i, int percol,
                                         int64_t nn, void *dst) {
  if (percol && nn < 16) { /* parameters past the end: scalar output stage (same bits) */
    int32_t t[16];
    _mm256_storeu_si256((__m256i *)t, a0);
    _mm256_storeu_si256((__m256i *)(t + 8), a1);
    for (int64_t j = 0; j < nn; j++) er_q8_store(o, i + j, t[j], dst, j);
    return;
  }
  if (o->bias) {
    __m256i b0, b1;
    if (percol) {
      b0 = _mm256_loadu_si256((const __m256i *)(o->bias + i));
      b1 = _mm256_loadu_si256((const __m256i *)(o->bias + i + 8));
    } else {
      b0 = b1 = _mm256_set1_epi32(o->bias[i]);
    }
    a0 = _mm256_add_epi32(a0, b0), a1 = _mm256_add_epi32(a1, b1);
  }
  __m256 s0 = _mm256_setzero_ps(), s1 = s0;
  if (o->type != ER_I32) {
    if (o->scale_stride && percol) {
      s0 = _mm256_loadu_ps(o->scale + i), s1 = _mm256_loadu_ps(o->scale + i + 8);
    } else {
      s0 = s1 = _mm256_set1_ps(o->scale[o->scale_stride ? i : 0]);
    }
  }
  er_q8_store16_avx2(o, a0, a1, s0, s1, nn, dst);
}
#endif
