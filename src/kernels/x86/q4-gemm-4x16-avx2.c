/* AVX2 4-bit-weight GEMM (kernels/q8.h: f32_q4_gemm), 4 rows x 16 columns per tile.
 * For each depth k the 16 columns' nibbles (8 bytes) are split, put in column order,
 * sign-extended (int4), minus the block's zero points (int16, exact), converted to float and
 * scaled: w = (float)(q - z) * s, then every row's acc = acc + a * w (separate multiply and
 * add, as the reference, so the same bits). The weights stay packed in memory. */
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

void er_f32_q4_gemm_4x16__avx2(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint8_t *B,
                               int is_signed, const float *scale, const void *zp, int64_t block, const float *bias,
                               float *C, int64_t ldc, int64_t n0, int64_t n1) {
  const int64_t rb = (N + 1) / 2;
  if (n1 > N) n1 = N;
  int64_t n = n0;
  for (; n + 16 <= n1; n += 16) {
    for (int64_t m = 0; m < M; m += 4) {
      const int64_t mr = M - m < 4 ? M - m : 4;
      __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      for (int64_t k0 = 0; k0 < K; k0 += block) {
        const int64_t b = k0 / block, k1 = k0 + block < K ? k0 + block : K;
        const __m256 s0 = _mm256_loadu_ps(scale + b * N + n), s1 = _mm256_loadu_ps(scale + b * N + n + 8);
        __m256i z16 = _mm256_setzero_si256();
        if (zp) {
          __m128i zb = _mm_loadu_si128((const __m128i *)((const uint8_t *)zp + b * N + n));
          z16 = is_signed ? _mm256_cvtepi8_epi16(zb) : _mm256_cvtepu8_epi16(zb);
        }
        for (int64_t k = k0; k < k1; k++) {
          __m256 w0, w1;
          q4_row16(B + k * rb, n, is_signed, z16, s0, s1, &w0, &w1);
          const float *a = A + m * lda + k;
          __m256 x = _mm256_set1_ps(a[0]);
          a00 = _mm256_add_ps(a00, _mm256_mul_ps(x, w0)), a01 = _mm256_add_ps(a01, _mm256_mul_ps(x, w1));
          if (mr > 1) {
            x = _mm256_set1_ps(a[lda]);
            a10 = _mm256_add_ps(a10, _mm256_mul_ps(x, w0)), a11 = _mm256_add_ps(a11, _mm256_mul_ps(x, w1));
          }
          if (mr > 2) {
            x = _mm256_set1_ps(a[2 * lda]);
            a20 = _mm256_add_ps(a20, _mm256_mul_ps(x, w0)), a21 = _mm256_add_ps(a21, _mm256_mul_ps(x, w1));
          }
          if (mr > 3) {
            x = _mm256_set1_ps(a[3 * lda]);
            a30 = _mm256_add_ps(a30, _mm256_mul_ps(x, w0)), a31 = _mm256_add_ps(a31, _mm256_mul_ps(x, w1));
          }
        }
      }
      __m256 acc[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
      for (int64_t r = 0; r < mr; r++) {
        __m256 c0 = acc[r][0], c1 = acc[r][1];
        if (bias) c0 = _mm256_add_ps(c0, _mm256_loadu_ps(bias + n)), c1 = _mm256_add_ps(c1, _mm256_loadu_ps(bias + n + 8));
        _mm256_storeu_ps(C + (m + r) * ldc + n, c0);
        _mm256_storeu_ps(C + (m + r) * ldc + n + 8, c1);
      }
    }
  }
  if (n < n1) er_f32_q4_gemm_ref(M, N, K, A, lda, B, is_signed, scale, zp, block, bias, C, ldc, n, n1);
}
