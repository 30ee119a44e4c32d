/* AVX2 8-bit elementwise kernels (kernels/q8.h): quantize, dequantize, quantized add, and
 * the float min/max of DynamicQuantizeLinear. Same float operations in the same order as
 * the reference (one rounding per product and per sum, no fused multiply-add), so the same
 * bits. 16 elements per step; the tail goes through the reference. */
#include <immintrin.h>

#include "kernels/q8.h"
#include "kernels/x86/q8-common-avx2.h"
#include "kernels/x86/q8.h"

void er_q8_quantize__avx2(int64_t n, const float *x, float scale, int32_t zp, int32_t lo, int32_t hi, int type,
                          void *y) {
  const __m256 vs = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 v0 = _mm256_div_ps(_mm256_loadu_ps(x + i), vs), v1 = _mm256_div_ps(_mm256_loadu_ps(x + i + 8), vs);
    _mm_storeu_si128((__m128i *)((char *)y + i), er_q8_round_pack16_avx2(v0, v1, zp, lo, hi, type == ER_U8));
  }
  er_q8_quantize_ref(n - i, x + i, scale, zp, lo, hi, type, (char *)y + i);
}

void er_q8_dequantize__avx2(int64_t n, const void *x, int is_signed, int32_t zp, float scale, float *y) {
  const __m256 vs = _mm256_set1_ps(scale);
  const __m256i vz = _mm256_set1_epi16((int16_t)zp);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i d = _mm256_sub_epi16(er_q8_widen16_avx2((const char *)x + i, is_signed), vz);
    __m256i d0 = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(d)), d1 = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(d, 1));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(d0), vs));
    _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(d1), vs));
  }
  er_q8_dequantize_ref(n - i, (const char *)x + i, is_signed, zp, scale, y + i);
}

void er_q8_add__avx2(int64_t n, const void *a, const void *b, int64_t b_stride, int is_signed, int32_t za, int32_t zb,
                     float ra, float rb, int32_t zc, int32_t lo, int32_t hi, void *c) {
  if (b_stride != 0 && b_stride != 1) {
    er_q8_add_ref(n, a, b, b_stride, is_signed, za, zb, ra, rb, zc, lo, hi, c);
    return;
  }
  const __m256 vra = _mm256_set1_ps(ra), vrb = _mm256_set1_ps(rb);
  const __m256i vza = _mm256_set1_epi16((int16_t)za);
  __m256 tb0 = _mm256_setzero_ps(), tb1 = tb0;
  if (b_stride == 0) {
    int32_t bv = (is_signed ? (int32_t)((const int8_t *)b)[0] : (int32_t)((const uint8_t *)b)[0]) - zb;
    tb0 = tb1 = _mm256_mul_ps(vrb, _mm256_set1_ps((float)bv));
  }
  const __m256i vzb = _mm256_set1_epi16((int16_t)zb);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i da = _mm256_sub_epi16(er_q8_widen16_avx2((const char *)a + i, is_signed), vza);
    __m256 ta0 = _mm256_mul_ps(vra, _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(da))));
    __m256 ta1 = _mm256_mul_ps(vra, _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(da, 1))));
    if (b_stride) {
      __m256i db = _mm256_sub_epi16(er_q8_widen16_avx2((const char *)b + i, is_signed), vzb);
      tb0 = _mm256_mul_ps(vrb, _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(db))));
      tb1 = _mm256_mul_ps(vrb, _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(db, 1))));
    }
    __m128i q = er_q8_round_pack16_avx2(_mm256_add_ps(ta0, tb0), _mm256_add_ps(ta1, tb1), zc, lo, hi, !is_signed);
    _mm_storeu_si128((__m128i *)((char *)c + i), q);
  }
  er_q8_add_ref(n - i, (const char *)a + i, (const char *)b + i * b_stride, b_stride, is_signed, za, zb, ra, rb, zc,
                lo, hi, (char *)c + i);
}

void er_f32_minmax__avx2(int64_t n, const float *x, float *mn, float *mx) {
  __m256 a = _mm256_set1_ps(*mn), b = _mm256_set1_ps(*mx);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    a = _mm256_min_ps(v, a); /* NaN in v: keeps a */
    b = _mm256_max_ps(v, b);
  }
  float ta[8], tb[8];
  _mm256_storeu_ps(ta, a), _mm256_storeu_ps(tb, b);
  for (int k = 0; k < 8; k++) {
    *mn = ta[k] < *mn ? ta[k] : *mn;
    *mx = tb[k] > *mx ? tb[k] : *mx;
  }
  er_f32_minmax_ref(n - i, x + i, mn, mx);
}

/* 16 x 16 byte tiles through a 4-stage unpack network; the edges go through the reference */
/* 3 rows of 16 bytes -> 16 interleaved triples (48 bytes): byte 3c + r of the output is byte c
 * of row r; output vector v, source row r: pshufb with index (16v + p - r) / 3 where
 * (16v + p) % 3 == r, else 0x80 (zero) */
static void interleave3_16(const unsigned char *r0, const unsigned char *r1, const unsigned char *r2,
                           unsigned char *d) {
  static const signed char idx[3][3][16] = { /* [v][r][p] */
    {{0, -128, -128, 1, -128, -128, 2, -128, -128, 3, -128, -128, 4, -128, -128, 5},
     {-128, 0, -128, -128, 1, -128, -128, 2, -128, -128, 3, -128, -128, 4, -128, -128},
     {-128, -128, 0, -128, -128, 1, -128, -128, 2, -128, -128, 3, -128, -128, 4, -128}},
    {{-128, -128, 6, -128, -128, 7, -128, -128, 8, -128, -128, 9, -128, -128, 10, -128},
     {5, -128, -128, 6, -128, -128, 7, -128, -128, 8, -128, -128, 9, -128, -128, 10},
     {-128, 5, -128, -128, 6, -128, -128, 7, -128, -128, 8, -128, -128, 9, -128, -128}},
    {{-128, 11, -128, -128, 12, -128, -128, 13, -128, -128, 14, -128, -128, 15, -128, -128},
     {-128, -128, 11, -128, -128, 12, -128, -128, 13, -128, -128, 14, -128, -128, 15, -128},
     {10, -128, -128, 11, -128, -128, 12, -128, -128, 13, -128, -128, 14, -128, -128, 15}}};
  const __m128i a[3] = {_mm_loadu_si128((const __m128i *)r0), _mm_loadu_si128((const __m128i *)r1),
                        _mm_loadu_si128((const __m128i *)r2)};
  for (int v = 0; v < 3; v++) {
    __m128i o = _mm_setzero_si128();
    for (int r = 0; r < 3; r++) o = _mm_or_si128(o, _mm_shuffle_epi8(a[r], _mm_loadu_si128((const __m128i *)idx[v][r])));
    _mm_storeu_si128((__m128i *)(d + 16 * v), o);
  }
}

void er_u8_transpose__avx2(int64_t rows, int64_t cols, const void *src, int64_t lds, void *dst, int64_t ldd) {
  const unsigned char *s = (const unsigned char *)src;
  unsigned char *d = (unsigned char *)dst;
  if (rows == 3 && ldd == 3) { /* 3 planes -> interleaved triples (an RGB image to channels-last) */
    int64_t c = 0;
    for (; c + 16 <= cols; c += 16) interleave3_16(s + c, s + lds + c, s + 2 * lds + c, d + 3 * c);
    if (c < cols) er_u8_transpose_ref(3, cols - c, s + c, lds, d + 3 * c, 3);
    return;
  }
  const int64_t R16 = rows & ~(int64_t)15, C16 = cols & ~(int64_t)15;
  for (int64_t r0 = 0; r0 < R16; r0 += 16)
    for (int64_t c0 = 0; c0 < C16; c0 += 16) {
      __m128i a[16], b[16];
      for (int i = 0; i < 16; i++) a[i] = _mm_loadu_si128((const __m128i *)(s + (r0 + i) * lds + c0));
      for (int i = 0; i < 8; i++) {
        b[2 * i] = _mm_unpacklo_epi8(a[2 * i], a[2 * i + 1]);
        b[2 * i + 1] = _mm_unpackhi_epi8(a[2 * i], a[2 * i + 1]);
      }
      for (int i = 0; i < 4; i++)
        for (int h = 0; h < 2; h++) {
          a[4 * i + h] = _mm_unpacklo_epi16(b[4 * i + h], b[4 * i + 2 + h]);
          a[4 * i + 2 + h] = _mm_unpackhi_epi16(b[4 * i + h], b[4 * i + 2 + h]);
        }
      for (int i = 0; i < 2; i++)
        for (int h = 0; h < 4; h++) {
          b[8 * i + h] = _mm_unpacklo_epi32(a[8 * i + h], a[8 * i + 4 + h]);
          b[8 * i + 4 + h] = _mm_unpackhi_epi32(a[8 * i + h], a[8 * i + 4 + h]);
        }
      for (int h = 0; h < 8; h++) {
        a[h] = _mm_unpacklo_epi64(b[h], b[8 + h]);
        a[8 + h] = _mm_unpackhi_epi64(b[h], b[8 + h]);
      }
      /* a[k] now holds one source column; its index in the network's order: */
      static const int col[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
      for (int k = 0; k < 16; k++) _mm_storeu_si128((__m128i *)(d + (c0 + col[k]) * ldd + r0), a[k]);
    }
  if (C16 < cols) er_u8_transpose_ref(R16, cols - C16, s + C16, lds, d + C16 * ldd, ldd);
  if (R16 < rows) er_u8_transpose_ref(rows - R16, cols, s + R16 * lds, lds, d + R16, ldd);
}
