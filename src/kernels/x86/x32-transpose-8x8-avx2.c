/* 2-D transpose of 32-bit elements with AVX2 8x8 register transposes (the table's
 * x32_transpose): dst[c * ldd + r] = src[r * lds + c]. Column blocks of 8 outside, row
 * blocks of 8 inside, so each destination row is written in consecutive 32-byte pieces
 * while the source lines of the 8 columns stay in L1; edges are copied element by element.
 * Two rows (the channel shuffle of ShuffleNet, [g=2, C/2] per pixel) interleave 8 columns
 * per step instead: dst[2c] = src[c], dst[2c + 1] = src[lds + c] when ldd == 2. */
#include <immintrin.h>

#include "kernels/x86/x32-transpose.h"

static inline void block8(const float *s, int64_t lds, float *d, int64_t ldd) {
  __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + lds);
  __m256 r2 = _mm256_loadu_ps(s + 2 * lds), r3 = _mm256_loadu_ps(s + 3 * lds);
  __m256 r4 = _mm256_loadu_ps(s + 4 * lds), r5 = _mm256_loadu_ps(s + 5 * lds);
  __m256 r6 = _mm256_loadu_ps(s + 6 * lds), r7 = _mm256_loadu_ps(s + 7 * lds);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(d + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(d + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(d + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(d + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(d + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(d + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(d + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/* rows == 2, ldd == 2: interleave the two source rows into one destination run */
static void interleave2(const float *s, int64_t lds, float *d, int64_t cols) {
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    __m256 a = _mm256_loadu_ps(s + c), b = _mm256_loadu_ps(s + lds + c);
    __m256 lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b); /* a0b0a1b1 a4b4a5b5 */
    _mm256_storeu_ps(d + 2 * c, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(d + 2 * c + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
  }
  for (; c < cols; c++) d[2 * c] = s[c], d[2 * c + 1] = s[lds + c];
}

void er_x32_transpose_8x8__avx2(const void *src, int64_t lds, void *dst, int64_t ldd,
                                int64_t rows, int64_t cols) {
  /* 32-bit payloads move through float registers bit-exactly (no arithmetic) */
  const float *s = (const float *)src;
  float *d = (float *)dst;
  if (rows == 2 && ldd == 2) {
    interleave2(s, lds, d, cols);
    return;
  }
  const int64_t R8 = rows & ~(int64_t)7, C8 = cols & ~(int64_t)7;
  for (int64_t c = 0; c < C8; c += 8) {
    for (int64_t r = 0; r < R8; r += 8) block8(s + r * lds + c, lds, d + c * ldd + r, ldd);
    for (int64_t cc = c; cc < c + 8; cc++)
      for (int64_t r = R8; r < rows; r++) d[cc * ldd + r] = s[r * lds + cc];
  }
  for (int64_t cc = C8; cc < cols; cc++)
    for (int64_t r = 0; r < rows; r++) d[cc * ldd + r] = s[r * lds + cc];
}
