/* 2-D transpose of 32-bit elements with AVX2 8x8 register transposes (the table's
 * x32_transpose): dst[c * ldd + r] = src[r * lds + c]. Column blocks of 8 outside, row
 * blocks of 8 inside, so each destination row is written in consecutive 32-byte pieces
 * while the source lines of the 8 columns stay in L1; edges are copied element by element.
 * Two rows (the channel shuffle of ShuffleNet, [g=2, C/2] per pixel) interleave 8 columns
 * per step instead: dst[2c] = src[c], dst[2c + 1] = src[lds + c] when ldd == 2. */
#include <immintrin.h>

#include "kernels/x86/x32-transpose.h"

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
    for (int64_t r = 0; r < R8; r += 8) er_x32_block8x8(s + r * lds + c, lds, d + c * ldd + r, ldd);
    for (int64_t cc = c; cc < c + 8; cc++)
      for (int64_t r = R8; r < rows; r++) d[cc * ldd + r] = s[r * lds + cc];
  }
  for (int64_t cc = C8; cc < cols; cc++)
    for (int64_t r = 0; r < rows; r++) d[cc * ldd + r] = s[r * lds + cc];
}
