/* AVX-VNNI 8-bit integer GEMM (kernels/q8.h), 6 x 16 register tile; replaces the q8 GEMM
 * entries of the AVX2 table on CPUs with AVX-VNNI (compiled with -mavxvnni).
 *
 * vpdpbusd multiplies 4 unsigned bytes of the left operand with 4 signed bytes of the right
 * one and adds the 4 products to an int32 lane, with no intermediate saturation: exact. So
 * the left operand is stored as uint8 (an int8 source is shifted by +128: a' = a + 128 and
 * za' = za + 128) and the right one as int8 (a uint8 source by -128), and the zero points
 * are applied afterwards:
 *   sum (a - za)(b - zb) = sum a'b' - zb' * (rowsum'(a') - K za') - za' * colsum(b')
 * all in wrapping int32, which is exactly the reference's int32 sum.
 *
 * Packed formats (this variant):
 *   left   header {K, za' uniform flag, za'} (64 bytes), then uint8 [M][Kp] (Kp = K rounded up
 *          to 4, padding 0), then int32 r[M] = rowsum' - K za' and int32 za'[M].
 *   right  header {K, zb' uniform flag, zb'} (64 bytes), then int8 [ceil(N/16)][Kp/4][16][4]
 *          (for each group of 4 depths the 16 columns' 4 bytes), then int32 colsum'[Np] and
 *          int32 zb'[Np] (Np = N rounded up to 16; padding columns 0).
 * The K loop runs over all of K in order for every tile: same bits for any split. */
#include <immintrin.h>
#include <string.h>

#include "kernels/q8.h"
#include "kernels/x86/q8-common-avx2.h"
#include "kernels/x86/q8.h"

enum { HDR = 64 };

typedef struct q8v_hdr {
  int64_t K;
  int32_t uniform, zp;
} q8v_hdr;

static inline int64_t kp4(int64_t K) { return (K + 3) & ~(int64_t)3; }
static inline int64_t np16(int64_t N) { return (N + 15) & ~(int64_t)15; }

size_t er_q8_pack_left_size__avxvnni(int64_t M, int64_t K) { return HDR + (size_t)(M * kp4(K)) + (size_t)M * 8 + 4; }

size_t er_q8_pack_right_size_16__avxvnni(int64_t K, int64_t N) {
  return HDR + (size_t)(np16(N) * kp4(K)) + (size_t)np16(N) * 8;
}

static inline int32_t ld8(const void *p, int is_signed, int64_t i) {
  return is_signed ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

/* int32 arrays after the bytes (kept 4-byte aligned) */
static inline int32_t *tail32(void *packed, size_t bytes) {
  return (int32_t *)((char *)packed + HDR + ((bytes + 3) & ~(size_t)3));
}

void er_q8_pack_left__avxvnni(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk,
                              const int32_t *zp, int zp_stride, void *packed) {
  const int64_t Kp = kp4(K);
  q8v_hdr h;
  unsigned char *d = (unsigned char *)packed + HDR;
  int32_t *r = tail32(packed, (size_t)(M * Kp)), *za = r + M;
  const unsigned char flip = is_signed ? 0x80 : 0;
  const __m256i vflip = _mm256_set1_epi8((char)flip);
  for (int64_t m = 0; m < M; m++) {
    unsigned char *row = d + m * Kp;
    const unsigned char *s = (const unsigned char *)src + m * sm;
    uint32_t sum = 0;
    int64_t k = 0;
    if (sk == 1) {
      __m256i acc = _mm256_setzero_si256();
      for (; k + 32 <= K; k += 32) {
        __m256i v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(s + k)), vflip);
        _mm256_storeu_si256((__m256i *)(row + k), v);
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, _mm256_setzero_si256()));
      }
      const __m128i f16 = _mm_set1_epi8((char)flip);
      __m128i a16 = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
      for (; k + 16 <= K; k += 16) {
        __m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(s + k)), f16);
        _mm_storeu_si128((__m128i *)(row + k), v);
        a16 = _mm_add_epi64(a16, _mm_sad_epu8(v, _mm_setzero_si128()));
      }
      for (; k + 8 <= K; k += 8) {
        __m128i v = _mm_xor_si128(_mm_loadl_epi64((const __m128i *)(s + k)), _mm_move_epi64(f16));
        _mm_storel_epi64((__m128i *)(row + k), v);
        a16 = _mm_add_epi64(a16, _mm_sad_epu8(v, _mm_setzero_si128()));
      }
      sum = (uint32_t)(_mm_cvtsi128_si64(a16) + _mm_extract_epi64(a16, 1));
    }
    for (; k < K; k++) {
      unsigned char v = (unsigned char)(s[k * sk] ^ flip);
      row[k] = v;
      sum += v;
    }
    for (; k < Kp; k++) row[k] = 0;
    int32_t z = (zp ? zp[m * zp_stride] : 0) + (is_signed ? 128 : 0);
    za[m] = z;
    r[m] = (int32_t)(sum - (uint32_t)K * (uint32_t)z);
  }
  memset(&h, 0, sizeof h);
  h.K = K;
  h.uniform = 1;
  h.zp = M ? za[0] : 0;
  for (int64_t m = 1; m < M; m++) h.uniform &= za[m] == za[0];
  memcpy(packed, &h, sizeof h);
}

void er_q8_pack_right_16__avxvnni(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn,
                                  const int32_t *zp, int zp_stride, void *packed) {
  const int64_t Kp = kp4(K), K4 = Kp / 4, Np = np16(N);
  q8v_hdr h;
  signed char *d = (signed char *)packed + HDR;
  int32_t *cs = tail32(packed, (size_t)(Np * Kp)), *zb = cs + Np;
  const unsigned char flip = is_signed ? 0 : 0x80;
  const unsigned char *s = (const unsigned char *)src;
  const __m256i ones = _mm256_set1_epi8(1), vflip = _mm256_set1_epi8((char)flip);
  for (int64_t p = 0; p < Np / 16; p++) {
    signed char *dp = d + p * K4 * 64;
    int64_t n0 = p * 16, nn = N - n0 < 16 ? N - n0 : 16;
    __m256i c0 = _mm256_setzero_si256(), c1 = c0; /* column sums of the stored bytes */
    for (int64_t j = 0; j < K4; j++) {
      __m256i b0, b1;
      if (sn == 1 && nn == 16 && 4 * j + 3 < K) {
        /* rows 4j..4j+3, 16 columns each: interleave bytes into [column][4 depths] */
        __m128i r0 = _mm_loadu_si128((const __m128i *)(s + (4 * j) * sk + n0));
        __m128i r1 = _mm_loadu_si128((const __m128i *)(s + (4 * j + 1) * sk + n0));
        __m128i r2 = _mm_loadu_si128((const __m128i *)(s + (4 * j + 2) * sk + n0));
        __m128i r3 = _mm_loadu_si128((const __m128i *)(s + (4 * j + 3) * sk + n0));
        __m128i a01l = _mm_unpacklo_epi8(r0, r1), a01h = _mm_unpackhi_epi8(r0, r1);
        __m128i a23l = _mm_unpacklo_epi8(r2, r3), a23h = _mm_unpackhi_epi8(r2, r3);
        __m128i q0 = _mm_unpacklo_epi16(a01l, a23l), q1 = _mm_unpackhi_epi16(a01l, a23l); /* cols 0-3, 4-7 */
        __m128i q2 = _mm_unpacklo_epi16(a01h, a23h), q3 = _mm_unpackhi_epi16(a01h, a23h); /* 8-11, 12-15 */
        b0 = _mm256_xor_si256(_mm256_set_m128i(q1, q0), vflip);
        b1 = _mm256_xor_si256(_mm256_set_m128i(q3, q2), vflip);
      } else {
        signed char t[64];
        for (int64_t c = 0; c < 16; c++)
          for (int q = 0; q < 4; q++) {
            int64_t k = 4 * j + q, n = n0 + c;
            t[c * 4 + q] = (k < K && c < nn) ? (signed char)(ld8(s, is_signed, k * sk + n * sn) - (is_signed ? 0 : 128)) : 0;
          }
        b0 = _mm256_loadu_si256((const __m256i *)t);
        b1 = _mm256_loadu_si256((const __m256i *)(t + 32));
      }
      _mm256_storeu_si256((__m256i *)(dp + j * 64), b0);
      _mm256_storeu_si256((__m256i *)(dp + j * 64 + 32), b1);
      c0 = _mm256_dpbusd_avx_epi32(c0, ones, b0);
      c1 = _mm256_dpbusd_avx_epi32(c1, ones, b1);
    }
    _mm256_storeu_si256((__m256i *)(cs + n0), c0);
    _mm256_storeu_si256((__m256i *)(cs + n0 + 8), c1);
    for (int64_t c = 0; c < 16; c++)
      zb[n0 + c] = c < nn ? (zp ? zp[(n0 + c) * zp_stride] : 0) - (is_signed ? 0 : 128) : 0;
  }
  memset(&h, 0, sizeof h);
  h.K = K;
  h.uniform = 1;
  h.zp = N ? zb[0] : 0;
  for (int64_t n = 1; n < N; n++) h.uniform &= zb[n] == zb[0];
  memcpy(packed, &h, sizeof h);
}

#define QV_ROW(r)                                                              \
  if (mrc > r) {                                                               \
    int32_t v;                                                                 \
    memcpy(&v, L + (r) * ldl + 4 * j, 4);                                      \
    __m256i a = _mm256_set1_epi32(v);                                          \
    c##r##0 = _mm256_dpbusd_avx_epi32(c##r##0, a, b0);                         \
    c##r##1 = _mm256_dpbusd_avx_epi32(c##r##1, a, b1);                         \
  }

#define QV_TILE(MR)                                                                                         \
  static void vtile_##MR(int64_t K4, const unsigned char *L, int64_t ldl, const signed char *R,              \
                         __m256i acc[6][2]) {                                                               \
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;            \
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;                               \
    const int mrc = MR;                                                                                     \
    for (int64_t j = 0; j < K4; j++) {                                                                      \
      __m256i b0 = _mm256_loadu_si256((const __m256i *)(R + 64 * j));                                       \
      __m256i b1 = _mm256_loadu_si256((const __m256i *)(R + 64 * j + 32));                                  \
      QV_ROW(0) QV_ROW(1) QV_ROW(2) QV_ROW(3) QV_ROW(4) QV_ROW(5)                                           \
    }                                                                                                       \
    acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11, acc[2][0] = c20;                    \
    acc[2][1] = c21, acc[3][0] = c30, acc[3][1] = c31, acc[4][0] = c40, acc[4][1] = c41;                    \
    acc[5][0] = c50, acc[5][1] = c51;                                                                       \
  }
QV_TILE(1)
QV_TILE(2)
QV_TILE(3)
QV_TILE(4)
QV_TILE(5)
QV_TILE(6)

typedef void (*vtile_fn)(int64_t, const unsigned char *, int64_t, const signed char *, __m256i[6][2]);
static const vtile_fn vtiles[7] = {0, vtile_1, vtile_2, vtile_3, vtile_4, vtile_5, vtile_6};

void er_q8_gemm_6x16__avxvnni(int64_t K, const void *left, int64_t M, const void *right, int64_t N, int64_t m0,
                              int64_t m1, int64_t n0, int64_t n1, const er_q8_out *o, void *C, int64_t ldc) {
  const int64_t Kp = kp4(K), K4 = Kp / 4, Np = np16(N);
  q8v_hdr hl_, hr_; /* memcpy: the buffers need not be 8-byte aligned */
  memcpy(&hl_, left, sizeof hl_);
  memcpy(&hr_, right, sizeof hr_);
  const q8v_hdr *hl = &hl_, *hr = &hr_;
  const unsigned char *L = (const unsigned char *)left + HDR;
  const signed char *R = (const signed char *)right + HDR;
  const int32_t *rr = tail32((void *)left, (size_t)(M * Kp)), *za = rr + M;
  const int32_t *cs = tail32((void *)right, (size_t)(Np * Kp)), *zb = cs + Np;
  if (m1 > M) m1 = M;
  if (n1 > N) n1 = N;
  __m256i acc[6][2];
  for (int64_t n = n0; n < n1; n += 16) {
    const signed char *Rp = R + (n / 16) * K4 * 64;
    int64_t nn = n1 - n < 16 ? n1 - n : 16;
    const __m256i cs0 = _mm256_loadu_si256((const __m256i *)(cs + n)), cs1 = _mm256_loadu_si256((const __m256i *)(cs + n + 8));
    const __m256i zb0 = _mm256_loadu_si256((const __m256i *)(zb + n)), zb1 = _mm256_loadu_si256((const __m256i *)(zb + n + 8));
    /* za' * colsum' once per panel when za' is the same for every row */
    __m256i cc0 = _mm256_setzero_si256(), cc1 = cc0;
    if (hl->uniform) {
      __m256i z = _mm256_set1_epi32(hl->zp);
      cc0 = _mm256_mullo_epi32(z, cs0), cc1 = _mm256_mullo_epi32(z, cs1);
    }
    for (int64_t m = m0; m < m1; m += 6) {
      int mr = m1 - m < 6 ? (int)(m1 - m) : 6;
      vtiles[mr](K4, L + m * Kp, Kp, Rp, acc);
      for (int r = 0; r < mr; r++) {
        __m256i t0 = cc0, t1 = cc1;
        if (!hl->uniform) {
          __m256i z = _mm256_set1_epi32(za[m + r]);
          t0 = _mm256_mullo_epi32(z, cs0), t1 = _mm256_mullo_epi32(z, cs1);
        }
        if (hr->uniform) {
          if (hr->zp) {
            __m256i u = _mm256_set1_epi32((int32_t)((uint32_t)hr->zp * (uint32_t)rr[m + r]));
            t0 = _mm256_add_epi32(t0, u), t1 = _mm256_add_epi32(t1, u);
          }
        } else {
          __m256i u = _mm256_set1_epi32(rr[m + r]);
          t0 = _mm256_add_epi32(t0, _mm256_mullo_epi32(zb0, u));
          t1 = _mm256_add_epi32(t1, _mm256_mullo_epi32(zb1, u));
        }
        acc[r][0] = _mm256_sub_epi32(acc[r][0], t0);
        acc[r][1] = _mm256_sub_epi32(acc[r][1], t1);
      }
      er_q8_store_tile_avx2(o, mr, m, n, nn, acc, C, ldc);
    }
  }
}

void er_q8_use_avxvnni(er_microkernels *t) {
  t->q8_pack_left_size = er_q8_pack_left_size__avxvnni;
  t->q8_pack_left = er_q8_pack_left__avxvnni;
  t->q8_pack_right_size = er_q8_pack_right_size_16__avxvnni;
  t->q8_pack_right = er_q8_pack_right_16__avxvnni;
  t->q8_gemm = er_q8_gemm_6x16__avxvnni;
  t->q8_dw_pack_size = er_q8_dw_pack_size__avxvnni;
  t->q8_dw_pack = er_q8_dw_pack__avxvnni;
  t->q8_dw_work_size = er_q8_dw_work_size__avxvnni;
  t->q8_dwconv_nhwc = er_q8_dwconv_nhwc__avxvnni;
}
