/* AVX2 4-bit-weight GEMM (kernels/q8.h: f32_q4_gemm), 4 rows x 16 columns per tile.
 * Per panel of 16 columns and chunk of 64 depths, the nibbles (8 bytes per depth) are split,
 * put in column order, sign-extended (int4), minus the block's zero points (int16, exact),
 * converted to float and scaled once, w = (float)(q - z) * s, into a 4 KB buffer on the
 * stack; then every tile of 4 rows does acc = fma(a, w, acc) over the chunk (partial sums
 * wait in C between chunks). Float results: within rounding of the reference (which
 * multiplies and adds separately), identical for any split of rows or columns. The weights
 * stay packed in memory. */
#include <immintrin.h>
#include <string.h>

#include "kernels/q8.h"
#include "kernels/x86/q8.h"

/* The 16 dequantized weights of columns n..n+15 of packed row `row`. */
static inline void q4_row16(const uint8_t *row, int64_t n, int is_signed, __m256i z16, __m256 s0, __m256 s1, __m256 *w0,
                            __m256 *w1) {
  __m128i b = _mm_loadl_epi64((const __m128i *)(row + n / 2));
  const __m128i m4 = _mm_set1_epi8(0x0f);
  __m128i lo = _mm_and_si128(b, m4), hi = _mm_and_si128(_mm_srli_epi16(b, 4), m4);
  __m128i v = _mm_unpacklo_epi8(lo, hi); /* 16 nibbles in column order */
  if (is_signed) v = _mm_sub_epi8(_mm_xor_si128(v, _mm_set1_epi8(8)), _mm_set1_epi8(8));
  __m256i d = _mm256_sub_epi16(is_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v), z16);
  __m256 f0 = _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(d)));
  __m256 f1 = _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(d, 1)));
  *w0 = _mm256_mul_ps(f0, s0);
  *w1 = _mm256_mul_ps(f1, s1);
}

enum { KB = 64, TR = 64 }; /* depths per dequantized chunk (4 KB of floats); tail-panel rows */

/* One panel of nn (<= 16) columns starting at n, rows [0, M), into Cp (row stride ldc; 16
 * columns are written, the caller keeps nn of them when nn < 16). */
static void q4_panel(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint8_t *B, int is_signed,
                     const float *scale, const void *zp, int64_t block, const float *bias, int64_t n, int64_t nn,
                     float *Cp, int64_t ldc) {
  const int64_t rb = (N + 1) / 2;
  float wbuf[KB * 16], sp[16] = {0}, bp[16] = {0};
  unsigned char zpp[16] = {0}, row[8];
  if (bias) memcpy(bp, bias + n, sizeof(float) * (size_t)nn);
  /* K in chunks: the chunk's panel dequantized once, then every row tile accumulates over it
   * (partial sums kept in C between chunks) */
  for (int64_t k0 = 0; k0 < K; k0 += KB) {
    const int64_t kn = K - k0 < KB ? K - k0 : KB;
    for (int64_t k = k0; k < k0 + kn;) {
      const int64_t b = k / block, kend = (b + 1) * block < k0 + kn ? (b + 1) * block : k0 + kn;
      const float *sb = scale + b * N + n;
      const uint8_t *zb = zp ? (const uint8_t *)zp + b * N + n : NULL;
      if (nn < 16) { /* padded copies: nothing past the last column is read */
        memcpy(sp, sb, sizeof(float) * (size_t)nn), sb = sp;
        if (zb) memcpy(zpp, zb, (size_t)nn), zb = zpp;
      }
      const __m256 s0 = _mm256_loadu_ps(sb), s1 = _mm256_loadu_ps(sb + 8);
      __m256i z16 = _mm256_setzero_si256();
      if (zb) {
        __m128i zv = _mm_loadu_si128((const __m128i *)zb);
        z16 = is_signed ? _mm256_cvtepi8_epi16(zv) : _mm256_cvtepu8_epi16(zv);
      }
      for (; k < kend; k++) {
        __m256 w0, w1;
        if (nn == 16) {
          q4_row16(B + k * rb, n, is_signed, z16, s0, s1, &w0, &w1);
        } else {
          memset(row, 0, sizeof row);
          memcpy(row, B + k * rb + n / 2, (size_t)(nn + 1) / 2);
          q4_row16(row, 0, is_signed, z16, s0, s1, &w0, &w1);
        }
        _mm256_storeu_ps(wbuf + (k - k0) * 16, w0);
        _mm256_storeu_ps(wbuf + (k - k0) * 16 + 8, w1);
      }
    }
    for (int64_t m = 0; m < M; m += 4) {
      const int64_t mr = M - m < 4 ? M - m : 4;
      /* rows past M repeat row m (computed, never stored): the loop has no row branch */
      const float *a0 = A + m * lda + k0, *a1 = mr > 1 ? a0 + lda : a0, *a2 = mr > 2 ? a0 + 2 * lda : a0,
                  *a3 = mr > 3 ? a0 + 3 * lda : a0;
      float *c0p = Cp + m * ldc, *c1p = mr > 1 ? c0p + ldc : c0p, *c2p = mr > 2 ? c0p + 2 * ldc : c0p,
            *c3p = mr > 3 ? c0p + 3 * ldc : c0p;
      __m256 x00 = _mm256_setzero_ps(), x01 = x00, x10 = x00, x11 = x00, x20 = x00, x21 = x00, x30 = x00, x31 = x00;
      if (k0) {
        x00 = _mm256_loadu_ps(c0p), x01 = _mm256_loadu_ps(c0p + 8), x10 = _mm256_loadu_ps(c1p);
        x11 = _mm256_loadu_ps(c1p + 8), x20 = _mm256_loadu_ps(c2p), x21 = _mm256_loadu_ps(c2p + 8);
        x30 = _mm256_loadu_ps(c3p), x31 = _mm256_loadu_ps(c3p + 8);
      }
      for (int64_t k = 0; k < kn; k++) {
        const __m256 w0 = _mm256_loadu_ps(wbuf + k * 16), w1 = _mm256_loadu_ps(wbuf + k * 16 + 8);
        __m256 v = _mm256_set1_ps(a0[k]);
        x00 = _mm256_fmadd_ps(v, w0, x00), x01 = _mm256_fmadd_ps(v, w1, x01);
        v = _mm256_set1_ps(a1[k]);
        x10 = _mm256_fmadd_ps(v, w0, x10), x11 = _mm256_fmadd_ps(v, w1, x11);
        v = _mm256_set1_ps(a2[k]);
        x20 = _mm256_fmadd_ps(v, w0, x20), x21 = _mm256_fmadd_ps(v, w1, x21);
        v = _mm256_set1_ps(a3[k]);
        x30 = _mm256_fmadd_ps(v, w0, x30), x31 = _mm256_fmadd_ps(v, w1, x31);
      }
      if (bias && k0 + kn == K) {
        const __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
        x00 = _mm256_add_ps(x00, b0), x01 = _mm256_add_ps(x01, b1), x10 = _mm256_add_ps(x10, b0);
        x11 = _mm256_add_ps(x11, b1), x20 = _mm256_add_ps(x20, b0), x21 = _mm256_add_ps(x21, b1);
        x30 = _mm256_add_ps(x30, b0), x31 = _mm256_add_ps(x31, b1);
      }
      /* stored last row first, so a repeated row's (identical) values land last */
      if (mr > 3) _mm256_storeu_ps(c3p, x30), _mm256_storeu_ps(c3p + 8, x31);
      if (mr > 2) _mm256_storeu_ps(c2p, x20), _mm256_storeu_ps(c2p + 8, x21);
      if (mr > 1) _mm256_storeu_ps(c1p, x10), _mm256_storeu_ps(c1p + 8, x11);
      _mm256_storeu_ps(c0p, x00), _mm256_storeu_ps(c0p + 8, x01);
    }
  }
}

void er_f32_q4_gemm_4x16__avx2(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint8_t *B,
                               int is_signed, const float *scale, const void *zp, int64_t block, const float *bias,
                               float *C, int64_t ldc, int64_t n0, int64_t n1) {
  if (n1 > N) n1 = N;
  int64_t n = n0;
  for (; n + 16 <= n1; n += 16) q4_panel(M, N, K, A, lda, B, is_signed, scale, zp, block, bias, n, 16, C + n, ldc);
  if (n < n1) { /* the last, partial panel: rows in blocks through a 16-column buffer */
    float ct[TR * 16];
    for (int64_t m = 0; m < M; m += TR) {
      int64_t mr = M - m < TR ? M - m : TR;
      q4_panel(mr, N, K, A + m * lda, lda, B, is_signed, scale, zp, block, bias, n, n1 - n, ct, 16);
      for (int64_t r = 0; r < mr; r++) memcpy(C + (m + r) * ldc + n, ct + r * 16, sizeof(float) * (size_t)(n1 - n));
    }
  }
}
