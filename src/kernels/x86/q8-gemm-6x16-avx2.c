/* AVX2 8-bit integer GEMM (kernels/q8.h), 6 x 16 register tile.
 *
 * Both operands are widened to int16 with their zero points subtracted when packed, so the
 * inner loop is vpmaddwd (two exact int16 products summed into int32) + vpaddd: no
 * saturation anywhere (vpmaddubsw would saturate its int16 pair sums for large u8 x s8
 * products), any zero points, u8 or s8 on either side, and no zero-point correction terms.
 *
 * Packed formats (this table):
 *   left  int16 [M][Kp], Kp = K rounded up to even, padding 0.
 *   right int16 [ceil(N/16)][Kp/2][16][2]: panel p holds columns 16p..16p+15; for each pair
 *         of depths (2j, 2j+1) the 16 columns' pairs, columns past N and the depth past K 0.
 * The K loop runs over all of K in order for every tile, so any split of rows / column
 * panels gives the same bits. */
#include <immintrin.h>
#include <string.h>

#include "kernels/q8.h"
#include "kernels/x86/q8.h"
#include "kernels/x86/q8-common-avx2.h"

static inline int64_t q8_kp(int64_t K) { return (K + 1) & ~(int64_t)1; }

size_t er_q8_pack_left_size__avx2(int64_t M, int64_t K) { return (size_t)(M * q8_kp(K)) * sizeof(int16_t); }

size_t er_q8_pack_right_size_16__avx2(int64_t K, int64_t N) {
  return (size_t)(((N + 15) / 16) * 16 * q8_kp(K)) * sizeof(int16_t);
}

static inline int32_t ld8(const void *p, int is_signed, int64_t i) {
  return is_signed ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

void er_q8_pack_left__avx2(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk,
                           const int32_t *zp, int zp_stride, void *packed) {
  const int64_t Kp = q8_kp(K);
  for (int64_t m = 0; m < M; m++) {
    int16_t *d = (int16_t *)packed + m * Kp;
    int32_t z = zp ? zp[m * zp_stride] : 0;
    const char *s = (const char *)src + m * sm;
    int64_t k = 0;
    if (sk == 1) {
      __m256i vz = _mm256_set1_epi16((int16_t)z);
      for (; k + 16 <= K; k += 16)
        _mm256_storeu_si256((__m256i *)(d + k), _mm256_sub_epi16(er_q8_widen16_avx2(s + k, is_signed), vz));
    }
    for (; k < K; k++) d[k] = (int16_t)(ld8(s, is_signed, k * sk) - z);
    if (K < Kp) d[K] = 0;
  }
}

void er_q8_pack_right_16__avx2(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn,
                               const int32_t *zp, int zp_stride, void *packed) {
  const int64_t K2 = q8_kp(K) / 2;
  const char *s = (const char *)src;
  for (int64_t p = 0; p < (N + 15) / 16; p++) {
    int16_t *d = (int16_t *)packed + p * K2 * 32;
    int64_t n0 = p * 16, nn = N - n0 < 16 ? N - n0 : 16;
    if (sn == 1 && nn == 16 && (!zp || zp_stride == 0)) {
      __m256i vz = _mm256_set1_epi16((int16_t)(zp ? zp[0] : 0));
      for (int64_t j = 0; j < K2; j++) {
        __m256i r0 = _mm256_sub_epi16(er_q8_widen16_avx2(s + 2 * j * sk + n0, is_signed), vz);
        __m256i r1 = 2 * j + 1 < K ? _mm256_sub_epi16(er_q8_widen16_avx2(s + (2 * j + 1) * sk + n0, is_signed), vz)
                                   : _mm256_setzero_si256();
        __m256i lo = _mm256_unpacklo_epi16(r0, r1), hi = _mm256_unpackhi_epi16(r0, r1);
        _mm256_storeu_si256((__m256i *)(d + j * 32), _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(d + j * 32 + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
      }
      continue;
    }
    for (int64_t j = 0; j < K2; j++)
      for (int64_t c = 0; c < 16; c++)
        for (int h = 0; h < 2; h++) {
          int64_t k = 2 * j + h, n = n0 + c;
          int16_t v = 0;
          if (k < K && c < nn) v = (int16_t)(ld8(s, is_signed, k * sk + n * sn) - (zp ? zp[n * zp_stride] : 0));
          d[j * 32 + c * 2 + h] = v;
        }
  }
}

/* ---- the register tile: MR rows x 16 columns over all of K ---- */

static inline __m256i bcast_pair(const int16_t *p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

#define Q8_ROW(r)                                                                 \
  if (mrc > r) {                                                                  \
    __m256i a = bcast_pair(L + (r) * ldl + 2 * j);                                \
    c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(a, b0));                \
    c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(a, b1));                \
  }

#define Q8_TILE(MR)                                                                                       \
  static void tile_##MR(int64_t K2, const int16_t *L, int64_t ldl, const int16_t *R, __m256i acc[6][2]) { \
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;          \
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;                             \
    const int mrc = MR;                                                                                   \
    for (int64_t j = 0; j < K2; j++) {                                                                    \
      __m256i b0 = _mm256_loadu_si256((const __m256i *)(R + 32 * j));                                     \
      __m256i b1 = _mm256_loadu_si256((const __m256i *)(R + 32 * j + 16));                                \
      Q8_ROW(0) Q8_ROW(1) Q8_ROW(2) Q8_ROW(3) Q8_ROW(4) Q8_ROW(5)                                         \
    }                                                                                                     \
    acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11, acc[2][0] = c20;                  \
    acc[2][1] = c21, acc[3][0] = c30, acc[3][1] = c31, acc[4][0] = c40, acc[4][1] = c41;                  \
    acc[5][0] = c50, acc[5][1] = c51;                                                                     \
  }
Q8_TILE(1)
Q8_TILE(2)
Q8_TILE(3)
Q8_TILE(4)
Q8_TILE(5)
Q8_TILE(6)

typedef void (*tile_fn)(int64_t, const int16_t *, int64_t, const int16_t *, __m256i[6][2]);
static const tile_fn tiles[7] = {0, tile_1, tile_2, tile_3, tile_4, tile_5, tile_6};

void er_q8_gemm_6x16__avx2(int64_t K, const void *left, int64_t M, const void *right, int64_t N, int64_t m0,
                           int64_t m1, int64_t n0, int64_t n1, const er_q8_out *o, void *C, int64_t ldc) {
  const int64_t Kp = q8_kp(K), K2 = Kp / 2;
  if (m1 > M) m1 = M;
  if (n1 > N) n1 = N;
  __m256i acc[6][2];
  for (int64_t n = n0; n < n1; n += 16) {
    const int16_t *R = (const int16_t *)right + (n / 16) * K2 * 32;
    int64_t nn = n1 - n < 16 ? n1 - n : 16;
    for (int64_t m = m0; m < m1; m += 6) {
      int mr = m1 - m < 6 ? (int)(m1 - m) : 6;
      tiles[mr](K2, (const int16_t *)left + m * Kp, Kp, R, acc);
      er_q8_store_tile_avx2(o, mr, m, n, nn, acc, C, ldc);
    }
  }
}
