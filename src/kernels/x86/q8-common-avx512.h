/* Inline helpers shared by the AVX-512 8-bit kernels (src/kernels/x86/q8-*-avx512vnni.c and
 * q8-*-amx.c only; compiled with AVX-512 F/BW/VL). The output stage is er_q8_requant's, 16
 * lanes at a time, with masked stores for partial vectors. */
#ifndef ER_KERNELS_X86_Q8_COMMON_AVX512_H
#define ER_KERNELS_X86_Q8_COMMON_AVX512_H
#include <immintrin.h>
#include <string.h>

#include "kernels/q8.h"

/* The constant part of an output stage (one per kernel call). */
typedef struct er_q8z_out {
  __m512 flo, fhi;     /* lo - zp, hi - zp */
  __m512i zp;
  __m512i lo16, zp16;  /* lo - zp and zp as int16 */
  int i32;             /* int32 output (no requantization) */
} er_q8z_out;

static inline er_q8z_out er_q8z_out_init(const er_q8_out *o) {
  er_q8z_out z;
  z.flo = _mm512_set1_ps((float)(o->lo - o->zp));
  z.fhi = _mm512_set1_ps((float)(o->hi - o->zp));
  z.zp = _mm512_set1_epi32(o->zp);
  z.lo16 = _mm512_set1_epi16((short)(o->lo - o->zp));
  z.zp16 = _mm512_set1_epi16((short)o->zp);
  z.i32 = o->type == ER_I32;
  return z;
}

static inline __mmask16 er_q8z_mask(int64_t nn) { return nn >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nn) - 1); }

/* 16 accumulators (bias added) -> outputs; lanes outside mask are not stored. dst addresses
 * lane 0 (8-bit or int32 elements). Float ops as er_q8_requant: the clamp comes first (NaN
 * gives lo - zp, as maxps returns its second operand), then round half to even. */
static inline __attribute__((always_inline)) void er_q8z_store16(const er_q8z_out *z, __m512i a, __m512 s,
                                                                  __mmask16 mask, void *dst) {
  if (z->i32) {
    _mm512_mask_storeu_epi32(dst, mask, a);
    return;
  }
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(a), s);
  v = _mm512_min_ps(_mm512_max_ps(v, z->flo), z->fhi);
  /* in [lo, hi] after the clamp: the truncating narrowing is exact */
  __m128i b = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), z->zp));
  _mm_mask_storeu_epi8(dst, mask, b);
}

/* The same output stage for n x 16 accumulators (bias added) at once, narrowing with packs:
 *   i = cvt(min(hi - zp, (float)a * s))   (NaN stays NaN and converts to INT32_MIN)
 *   y = max(packs16(i), lo - zp) + zp      (int16), then packs / packus to bytes
 * which equals er_q8_requant: rint is monotonic and lo - zp is an integer, so clamping below
 * after rounding gives the same value, and every value below lo - zp (NaN, -inf, huge)
 * becomes lo - zp either way. Results: lane L of register j lands at bytes 16j.. in the
 * order packs leaves them: dword 4L + j of the result holds elements 4L..4L+3 of a[j]. */
static inline __attribute__((always_inline)) __m512i er_q8z_round16x2(const er_q8z_out *z, __m512i a0, __m512i a1,
                                                                       __m512 s0, __m512 s1) {
  __m512i i0 = _mm512_cvtps_epi32(_mm512_min_ps(z->fhi, _mm512_mul_ps(_mm512_cvtepi32_ps(a0), s0)));
  __m512i i1 = _mm512_cvtps_epi32(_mm512_min_ps(z->fhi, _mm512_mul_ps(_mm512_cvtepi32_ps(a1), s1)));
  return _mm512_add_epi16(_mm512_max_epi16(_mm512_packs_epi32(i0, i1), z->lo16), z->zp16);
}
/* 4 x 16 accumulators -> 64 bytes; byte 16L + 4j + i is element 4L + i of a[j] */
static inline __attribute__((always_inline)) __m512i er_q8z_requant64(const er_q8z_out *z, const __m512i a[4],
                                                                       const __m512 s[4], int u8) {
  __m512i p01 = er_q8z_round16x2(z, a[0], a[1], s[0], s[1]), p23 = er_q8z_round16x2(z, a[2], a[3], s[2], s[3]);
  return u8 ? _mm512_packus_epi16(p01, p23) : _mm512_packs_epi16(p01, p23);
}
/* 2 x 16 accumulators -> 32 bytes in order (a0 then a1) */
static inline __attribute__((always_inline)) __m256i er_q8z_requant32(const er_q8z_out *z, __m512i a0, __m512i a1,
                                                                       __m512 s0, __m512 s1, int u8) {
  __m512i p = er_q8z_round16x2(z, a0, a1, s0, s1);
  __m512i b = u8 ? _mm512_packus_epi16(p, p) : _mm512_packs_epi16(p, p);
  /* dword 4L + j (j < 2) holds elements 4L.. of a[j]: gather dwords 0,4,8,12 then 1,5,9,13 */
  return _mm512_castsi512_si256(_mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0), b));
}

/* Bias (int32) and scale vectors for outputs i..i+15 of a per-channel parameter set (lanes
 * outside mask read as 0 and are not stored), or broadcast when per-tensor. */
static inline __m512i er_q8z_bias16(const er_q8_out *o, int64_t i, int percol, __mmask16 mask) {
  if (!o->bias) return _mm512_setzero_si512();
  return percol ? _mm512_maskz_loadu_epi32(mask, o->bias + i) : _mm512_set1_epi32(o->bias[i]);
}
static inline __m512 er_q8z_scale16(const er_q8_out *o, int64_t i, int percol, __mmask16 mask) {
  if (o->type == ER_I32) return _mm512_setzero_ps();
  if (!o->scale_stride) return _mm512_set1_ps(o->scale[0]);
  return percol ? _mm512_maskz_loadu_ps(mask, o->scale + i) : _mm512_set1_ps(o->scale[i]);
}

/* GEMM zero-point corrections and output stage for rows [m, m + mr) and the 16-column panels
 * [n, n + 16 * nb) of acc (row r, panel p at acc[r * 2 + p]); nn columns are valid. rr/za:
 * the left operand's row terms (uniform: za' is lzp for all), cs/zb: the right operand's
 * column terms (uniform: zb' is rzp for all). q8-gemm-avx512vnni.c. */
void er_q8_gemm_finish__avx512vnni(const er_q8_out *o, const er_q8z_out *z, const int32_t *rr, const int32_t *za,
                                   int luni, int32_t lzp, const int32_t *cs, const int32_t *zb, int runi, int32_t rzp,
                                   int64_t m, int mr, int64_t n, int nb, int64_t nn, const __m512i *acc, void *C,
                                   int64_t ldc);
#endif
