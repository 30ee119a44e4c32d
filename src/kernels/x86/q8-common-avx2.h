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
static inline void er_q8_store16_avx2(const er_q8_out *o, __m256i a0, __m256i a1, __m256 s0, __m256 s1, int64_t nn,
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
#endif
