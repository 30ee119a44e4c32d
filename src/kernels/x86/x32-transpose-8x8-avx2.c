/* 2-D transpose of 32-bit elements with AVX2 8x8 register transposes (the table's
 * x32_transpose): dst[c * ldd + r] = src[r * lds + c]. Column blocks of 8 outside, row
 * blocks of 8 inside, so each destination row is written in consecutive 32-byte pieces
 * while the source lines of the 8 columns stay in L1; edges are copied element by element. */
#include "kernels/x86/x32-transpose.h"

void er_x32_transpose_8x8__avx2(const void *src, int64_t lds, void *dst, int64_t ldd,
                                int64_t rows, int64_t cols) {
  /* 32-bit payloads move through float registers bit-exactly (no arithmetic) */
  const float *s = (const float *)src;
  float *d = (float *)dst;
  const int64_t R8 = rows & ~(int64_t)7, C8 = cols & ~(int64_t)7;
  for (int64_t c = 0; c < C8; c += 8) {
    for (int64_t r = 0; r < R8; r += 8) er_x32_block8x8(s + r * lds + c, lds, d + c * ldd + r, ldd);
    for (int64_t cc = c; cc < c + 8; cc++)
      for (int64_t r = R8; r < rows; r++) d[cc * ldd + r] = s[r * lds + cc];
  }
  for (int64_t cc = C8; cc < cols; cc++)
    for (int64_t r = 0; r < rows; r++) d[cc * ldd + r] = s[r * lds + cc];
}
