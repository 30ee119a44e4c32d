/* AVX-512 VNNI 8-bit integer GEMM (kernels/q8.h): 512-bit vpdpbusd, register tiles of up to
 * 8 rows x 32 columns (16 accumulators); replaces the q8 GEMM entries on CPUs with AVX-512
 * F/BW/VL/VNNI (er_q8_use_avx512vnni). Compiled with -mavx512f -mavx512bw -mavx512vl
 * -mavx512vnni.
 *
 * Arithmetic as the AVX-VNNI kernel (q8-gemm-6x16-avxvnni.c): the left operand stored as
 * uint8 (int8 shifted by +128), the right one as int8 (uint8 shifted by -128), vpdpbusd sums 4
 * exact u8 x s8 products per int32 lane, and the zero points are applied afterwards with row
 * and column sums computed while packing:
 *   sum (a - za)(b - zb) = sum a'b' - zb' * (rowsum(a') - K za') - za' * colsum(b')
 * all in wrapping int32 arithmetic, so the result is exactly the reference's int32 sum
 * whatever the order or split of the sums.
 *
 * Packed formats (this file; also read by the AMX kernel, q8-gemm-amx.c):
 *   left   header (64 bytes), uint8 [Mp][Kp] (row m at m * Kp; padding 0), then at a 64-byte
 *          boundary int32 r[Mp] = rowsum' - K za' and int32 za'[Mp].
 *   right  header, int8 [Np/16][Kp/4][16][4]: panel p (columns 16p..16p+15) holds for each
 *          group of 4 depths the 16 columns' 4 bytes (64 bytes: one zmm, or one AMX tile row),
 *          then int32 colsum'[Np] and zb'[Np] (padding columns 0).
 * Kp is K rounded up to 4 (or to 64 for AMX tiles when K >= 32), Mp is M (or M rounded up to
 * 16 for AMX tiles: whole tiles can be loaded), Np is N rounded up to 16. The header says
 * which. */
#include <immintrin.h>
#include <string.h>

#include "kernels/q8.h"
#include "kernels/x86/q8-common-avx512.h"
#include "kernels/x86/q8.h"

enum { HDR = 64 };

typedef struct q8z_hdr {
  int64_t K;
  int32_t Kp, rows; /* padded depth; padded rows (left) or columns (right) */
  int32_t uniform, zp;
} q8z_hdr;

static inline int64_t rup(int64_t n, int64_t a) { return (n + a - 1) / a * a; }
static inline size_t al64(size_t n) { return (n + 63) & ~(size_t)63; }

/* ---------------------------------------------------------------- packing */

static size_t left_size(int64_t M, int64_t K, int64_t ka, int64_t ma) {
  return HDR + al64((size_t)(rup(M, ma) * rup(K, ka))) + (size_t)rup(M, ma) * 8;
}
static size_t right_size(int64_t K, int64_t N, int64_t ka) {
  return HDR + al64((size_t)(rup(N, 16) * rup(K, ka))) + (size_t)rup(N, 16) * 8;
}

static inline int32_t ld8(const void *p, int is_signed, int64_t i) {
  return is_signed ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

static void pack_left(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk, const int32_t *zp,
                      int zp_stride, void *packed, int64_t ka, int64_t ma) {
  const int64_t Kp = rup(K, ka), Mp = rup(M, ma);
  unsigned char *d = (unsigned char *)packed + HDR;
  int32_t *r = (int32_t *)(d + al64((size_t)(Mp * Kp))), *za = r + Mp;
  const unsigned char flip = is_signed ? 0x80 : 0;
  const __m512i vflip = _mm512_set1_epi8((char)flip), zero = _mm512_setzero_si512();
  const __mmask16 in16 = (__mmask16)((1u << (K < 16 ? K : 16)) - 1), out16 = (__mmask16)((1u << (Kp < 16 ? Kp : 16)) - 1);
  const __mmask32 in32 = (__mmask32)((1ull << (K < 32 ? K : 32)) - 1), out32 = (__mmask32)((1ull << (Kp < 32 ? Kp : 32)) - 1);
  /* zmm rows: full 64-byte chunks of K, then at most one partial chunk up to Kp */
  const int64_t kt = K / 64 * 64;
  const __mmask64 in_t = ((__mmask64)1 << (K - kt)) - 1;
  const __mmask64 out_t = Kp - kt >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (Kp - kt)) - 1;
  for (int64_t m = 0; m < M; m++) {
    unsigned char *row = d + m * Kp;
    const unsigned char *s = (const unsigned char *)src + m * sm;
    uint32_t sum = 0;
    if (sk == 1 && Kp <= 16) { /* short rows (small convs): one 16-byte vector */
      __m128i v = _mm_maskz_mov_epi8(in16, _mm_xor_si128(_mm_maskz_loadu_epi8(in16, s), _mm512_castsi512_si128(vflip)));
      _mm_mask_storeu_epi8(row, out16, v);
      __m128i t = _mm_sad_epu8(v, _mm_setzero_si128());
      sum = (uint32_t)(_mm_cvtsi128_si64(t) + _mm_extract_epi64(t, 1));
    } else if (sk == 1 && Kp <= 32) { /* one 32-byte vector */
      __m256i v = _mm256_maskz_mov_epi8(in32, _mm256_xor_si256(_mm256_maskz_loadu_epi8(in32, s), _mm512_castsi512_si256(vflip)));
      _mm256_mask_storeu_epi8(row, out32, v);
      __m256i t = _mm256_sad_epu8(v, _mm256_setzero_si256());
      __m128i u = _mm_add_epi64(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
      sum = (uint32_t)(_mm_cvtsi128_si64(u) + _mm_extract_epi64(u, 1));
    } else if (sk == 1) {
      __m512i acc = zero;
      int64_t k = 0;
      for (; k + 64 <= K; k += 64) {
        __m512i v = _mm512_xor_si512(_mm512_loadu_si512(s + k), vflip);
        _mm512_storeu_si512(row + k, v);
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(v, zero));
      }
      if (k < Kp) { /* the one partial chunk: bytes past K load as 0 and stay 0 (padding) */
        __m512i v = _mm512_maskz_mov_epi8(in_t, _mm512_xor_si512(_mm512_maskz_loadu_epi8(in_t, s + k), vflip));
        _mm512_mask_storeu_epi8(row + k, out_t, v);
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(v, zero));
      }
      sum = (uint32_t)_mm512_reduce_add_epi64(acc);
    } else {
      int64_t k = 0;
      for (; k < K; k++) {
        unsigned char v = (unsigned char)(s[k * sk] ^ flip);
        row[k] = v;
        sum += v;
      }
      for (; k < Kp; k++) row[k] = 0;
    }
    int32_t z = (zp ? zp[m * zp_stride] : 0) + (is_signed ? 128 : 0);
    za[m] = z;
    r[m] = (int32_t)(sum - (uint32_t)K * (uint32_t)z);
  }
  if (Mp > M) memset(d + M * Kp, 0, (size_t)((Mp - M) * Kp));
  for (int64_t m = M; m < Mp; m++) r[m] = za[m] = 0;
  q8z_hdr h;
  memset(&h, 0, sizeof h);
  h.K = K, h.Kp = (int32_t)Kp, h.rows = (int32_t)Mp;
  h.uniform = 1;
  h.zp = M ? za[0] : 0;
  for (int64_t m = 1; m < M; m++) h.uniform &= za[m] == za[0];
  memcpy(packed, &h, sizeof h);
}

static void pack_right(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn, const int32_t *zp,
                       int zp_stride, void *packed, int64_t ka) {
  const int64_t Kp = rup(K, ka), K4 = Kp / 4, Np = rup(N, 16);
  signed char *d = (signed char *)packed + HDR;
  int32_t *cs = (int32_t *)(d + al64((size_t)(Np * Kp))), *zb = cs + Np;
  const unsigned char flip = is_signed ? 0 : 0x80;
  const unsigned char *s = (const unsigned char *)src;
  const __m512i ones = _mm512_set1_epi8(1), vflip = _mm512_set1_epi8((char)flip);
  for (int64_t p = 0; p < Np / 16; p++) {
    signed char *dp = d + p * K4 * 64;
    int64_t n0 = p * 16, nn = N - n0 < 16 ? N - n0 : 16;
    __m512i c = _mm512_setzero_si512(); /* column sums of the stored bytes */
    for (int64_t j = 0; j < K4; j++) {
      __m512i b;
      if (4 * j >= K) {
        b = _mm512_setzero_si512();
      } else if (sn == 1 && nn == 16 && 4 * j + 3 < K) {
        /* rows 4j..4j+3, 16 columns each: interleave bytes into [column][4 depths] */
        __m128i r0 = _mm_loadu_si128((const __m128i *)(s + (4 * j) * sk + n0));
        __m128i r1 = _mm_loadu_si128((const __m128i *)(s + (4 * j + 1) * sk + n0));
        __m128i r2 = _mm_loadu_si128((const __m128i *)(s + (4 * j + 2) * sk + n0));
        __m128i r3 = _mm_loadu_si128((const __m128i *)(s + (4 * j + 3) * sk + n0));
        __m128i a01l = _mm_unpacklo_epi8(r0, r1), a01h = _mm_unpackhi_epi8(r0, r1);
        __m128i a23l = _mm_unpacklo_epi8(r2, r3), a23h = _mm_unpackhi_epi8(r2, r3);
        __m512i q = _mm512_castsi128_si512(_mm_unpacklo_epi16(a01l, a23l));  /* columns 0-3 */
        q = _mm512_inserti32x4(q, _mm_unpackhi_epi16(a01l, a23l), 1);        /* 4-7 */
        q = _mm512_inserti32x4(q, _mm_unpacklo_epi16(a01h, a23h), 2);        /* 8-11 */
        b = _mm512_xor_si512(_mm512_inserti32x4(q, _mm_unpackhi_epi16(a01h, a23h), 3), vflip);
      } else {
        signed char t[64];
        for (int64_t cc = 0; cc < 16; cc++)
          for (int q = 0; q < 4; q++) {
            int64_t k = 4 * j + q, n = n0 + cc;
            t[cc * 4 + q] = (k < K && cc < nn) ? (signed char)(ld8(s, is_signed, k * sk + n * sn) - (is_signed ? 0 : 128)) : 0;
          }
        b = _mm512_loadu_si512(t);
      }
      _mm512_storeu_si512(dp + j * 64, b);
      c = _mm512_dpbusd_epi32(c, ones, b);
    }
    _mm512_storeu_si512(cs + n0, c);
    for (int64_t cc = 0; cc < 16; cc++)
      zb[n0 + cc] = cc < nn ? (zp ? zp[(n0 + cc) * zp_stride] : 0) - (is_signed ? 0 : 128) : 0;
  }
  q8z_hdr h;
  memset(&h, 0, sizeof h);
  h.K = K, h.Kp = (int32_t)Kp, h.rows = (int32_t)Np;
  h.uniform = 1;
  h.zp = N ? zb[0] : 0;
  for (int64_t n = 1; n < N; n++) h.uniform &= zb[n] == zb[0];
  memcpy(packed, &h, sizeof h);
}

size_t er_q8_pack_left_size__avx512vnni(int64_t M, int64_t K) { return left_size(M, K, 4, 1); }
void er_q8_pack_left__avx512vnni(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk,
                                 const int32_t *zp, int zp_stride, void *packed) {
  pack_left(M, K, src, is_signed, sm, sk, zp, zp_stride, packed, 4, 1);
}
size_t er_q8_pack_right_size_16__avx512vnni(int64_t K, int64_t N) { return right_size(K, N, 4); }
void er_q8_pack_right_16__avx512vnni(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn,
                                     const int32_t *zp, int zp_stride, void *packed) {
  pack_right(K, N, src, is_signed, sk, sn, zp, zp_stride, packed, 4);
}
/* The same formats padded for AMX tiles: Kp a multiple of 64, left rows a multiple of 16;
 * except for depths below 32, where tiles would mostly multiply padding (the register
 * kernel is as fast there and its packed rows 4x shorter): those stay unpadded. */
static inline int64_t amx_ka(int64_t K) { return K < 32 ? 4 : 64; }
static inline int64_t amx_ma(int64_t K) { return K < 32 ? 1 : 16; }
size_t er_q8_pack_left_size_16x64__avx512vnni(int64_t M, int64_t K) { return left_size(M, K, amx_ka(K), amx_ma(K)); }
void er_q8_pack_left_16x64__avx512vnni(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk,
                                       const int32_t *zp, int zp_stride, void *packed) {
  pack_left(M, K, src, is_signed, sm, sk, zp, zp_stride, packed, amx_ka(K), amx_ma(K));
}
size_t er_q8_pack_right_size_16x64__avx512vnni(int64_t K, int64_t N) { return right_size(K, N, amx_ka(K)); }
void er_q8_pack_right_16x64__avx512vnni(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn,
                                        const int32_t *zp, int zp_stride, void *packed) {
  pack_right(K, N, src, is_signed, sk, sn, zp, zp_stride, packed, amx_ka(K));
}

/* ---------------------------------------------------------------- GEMM */

/* MR rows x NB panels of 16 columns over K4 groups of 4 depths; L: rows at stride ldl bytes,
 * R: panels at stride rs bytes (64 bytes per depth group). */
#define ZTILE(MR, NB)                                                                                          \
  static void ztile_##MR##x##NB(int64_t K4, const unsigned char *L, int64_t ldl, const signed char *R,        \
                                int64_t rs, __m512i *out) {                                                   \
    __m512i c[MR][NB];                                                                                        \
    _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) _Pragma("GCC unroll 4") for (int p = 0; p < NB; p++) \
        c[r][p] = _mm512_setzero_si512();                                                                     \
    for (int64_t j = 0; j < K4; j++) {                                                                        \
      __m512i b[NB];                                                                                          \
      _Pragma("GCC unroll 4") for (int p = 0; p < NB; p++) b[p] = _mm512_loadu_si512(R + p * rs + 64 * j);    \
      _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {                                                  \
        int32_t v;                                                                                            \
        memcpy(&v, L + r * ldl + 4 * j, 4);                                                                   \
        __m512i a = _mm512_set1_epi32(v);                                                                     \
        _Pragma("GCC unroll 4") for (int p = 0; p < NB; p++) c[r][p] = _mm512_dpbusd_epi32(c[r][p], a, b[p]); \
      }                                                                                                       \
    }                                                                                                         \
    _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) _Pragma("GCC unroll 4") for (int p = 0; p < NB; p++) \
        out[r * 2 + p] = c[r][p];                                                                             \
  }
ZTILE(1, 1)
ZTILE(2, 1)
ZTILE(3, 1)
ZTILE(4, 1)
ZTILE(5, 1)
ZTILE(6, 1)
ZTILE(7, 1)
ZTILE(8, 1)
ZTILE(1, 2)
ZTILE(2, 2)
ZTILE(3, 2)
ZTILE(4, 2)
ZTILE(5, 2)
ZTILE(6, 2)
ZTILE(7, 2)
ZTILE(8, 2)

typedef void (*ztile_fn)(int64_t, const unsigned char *, int64_t, const signed char *, int64_t, __m512i *);
static const ztile_fn ztiles[3][9] = {
    {0},
    {0, ztile_1x1, ztile_2x1, ztile_3x1, ztile_4x1, ztile_5x1, ztile_6x1, ztile_7x1, ztile_8x1},
    {0, ztile_1x2, ztile_2x2, ztile_3x2, ztile_4x2, ztile_5x2, ztile_6x2, ztile_7x2, ztile_8x2},
};

void er_q8_gemm_finish__avx512vnni(const er_q8_out *o, const er_q8z_out *z, const int32_t *rr, const int32_t *za, int luni, int32_t lzp,
                   const int32_t *cs, const int32_t *zb, int runi, int32_t rzp, int64_t m, int mr, int64_t n, int nb,
                   int64_t nn, const __m512i *acc, void *C, int64_t ldc) {
  const int percol = !o->per_row;
  const size_t esz = o->type == ER_I32 ? 4 : 1;
  if (percol && luni && !z->i32) {
    /* the usual case (a channels-last conv, a MatMul): per column one offset, bias - za' *
     * colsum', per row at most zb' * rowterm; 32 outputs requantized and narrowed together */
    __m512i off[2], zbv[2];
    __m512 sc[2];
    const int np = nn > 16 && nb == 2 ? 2 : 1;
    for (int p = 0; p < np; p++) {
      const int64_t n0 = n + 16 * p;
      const __mmask16 mask = er_q8z_mask(nn - 16 * p);
      const __m512i lcs = _mm512_mullo_epi32(_mm512_set1_epi32(lzp), _mm512_loadu_si512(cs + n0));
      off[p] = _mm512_sub_epi32(er_q8z_bias16(o, n0, 1, mask), lcs);
      sc[p] = er_q8z_scale16(o, n0, 1, mask);
      zbv[p] = _mm512_loadu_si512(zb + n0);
    }
    if (np == 1) off[1] = off[0], sc[1] = sc[0], zbv[1] = zbv[0];
    const __mmask32 mask = nn >= 32 ? ~(__mmask32)0 : (__mmask32)((1ull << nn) - 1);
    const int u8 = o->type == ER_U8;
    for (int r = 0; r < mr; r++) {
      __m512i a0 = _mm512_add_epi32(acc[r * 2], off[0]), a1 = _mm512_add_epi32(acc[r * 2 + (np - 1)], off[1]);
      if (!runi) {
        const __m512i u = _mm512_set1_epi32(rr[m + r]);
        a0 = _mm512_sub_epi32(a0, _mm512_mullo_epi32(zbv[0], u));
        a1 = _mm512_sub_epi32(a1, _mm512_mullo_epi32(zbv[1], u));
      } else if (rzp) {
        const __m512i u = _mm512_set1_epi32((int32_t)((uint32_t)rzp * (uint32_t)rr[m + r]));
        a0 = _mm512_sub_epi32(a0, u), a1 = _mm512_sub_epi32(a1, u);
      }
      _mm256_mask_storeu_epi8((char *)C + (m + r) * ldc + n, mask, er_q8z_requant32(z, a0, a1, sc[0], sc[1], u8));
    }
    return;
  }
  for (int p = 0; p < nb; p++) {
    const int64_t n0 = n + 16 * p, cn = nn - 16 * p;
    if (cn <= 0) break;
    const __mmask16 mask = er_q8z_mask(cn);
    const __m512i vcs = _mm512_loadu_si512(cs + n0), vzb = _mm512_loadu_si512(zb + n0);
    const __m512i lcs = luni ? _mm512_mullo_epi32(_mm512_set1_epi32(lzp), vcs) : _mm512_setzero_si512();
    __m512i bias = percol ? er_q8z_bias16(o, n0, 1, mask) : _mm512_setzero_si512();
    __m512 sc = percol ? er_q8z_scale16(o, n0, 1, mask) : _mm512_setzero_ps();
    for (int r = 0; r < mr; r++) {
      __m512i t = luni ? lcs : _mm512_mullo_epi32(_mm512_set1_epi32(za[m + r]), vcs);
      if (!runi) t = _mm512_add_epi32(t, _mm512_mullo_epi32(vzb, _mm512_set1_epi32(rr[m + r])));
      else if (rzp) t = _mm512_add_epi32(t, _mm512_set1_epi32((int32_t)((uint32_t)rzp * (uint32_t)rr[m + r])));
      __m512i a = _mm512_sub_epi32(acc[r * 2 + p], t);
      __m512 s = sc;
      if (!percol) {
        bias = er_q8z_bias16(o, m + r, 0, mask);
        s = er_q8z_scale16(o, m + r, 0, mask);
      }
      er_q8z_store16(z, _mm512_add_epi32(a, bias), s, mask, (char *)C + ((m + r) * ldc + n0) * (int64_t)esz);
    }
  }
}

void er_q8_gemm_8x32__avx512vnni(int64_t K, const void *left, int64_t M, const void *right, int64_t N, int64_t m0,
                                 int64_t m1, int64_t n0, int64_t n1, const er_q8_out *o, void *C, int64_t ldc) {
  q8z_hdr hl, hr; /* memcpy: the buffers need not be 8-byte aligned */
  memcpy(&hl, left, sizeof hl);
  memcpy(&hr, right, sizeof hr);
  const int64_t Kpl = hl.Kp, Kpr = hr.Kp, K4 = (K + 3) / 4, Np = hr.rows;
  const unsigned char *L = (const unsigned char *)left + HDR;
  const signed char *R = (const signed char *)right + HDR;
  const int32_t *rr = (const int32_t *)(L + al64((size_t)(hl.rows * Kpl))), *za = rr + hl.rows;
  const int32_t *cs = (const int32_t *)(R + al64((size_t)(Np * Kpr))), *zb = cs + Np;
  if (m1 > M) m1 = M;
  if (n1 > N) n1 = N;
  const er_q8z_out z = er_q8z_out_init(o);
  const int64_t rs = Kpr / 4 * 64; /* bytes per panel */
  __m512i acc[16];
  for (int64_t n = n0; n < n1; n += 32) {
    const int64_t nn = n1 - n < 32 ? n1 - n : 32;
    const int nb = nn > 16 ? 2 : 1;
    const signed char *Rp = R + (n / 16) * rs;
    for (int64_t m = m0; m < m1; m += 8) {
      const int mr = m1 - m < 8 ? (int)(m1 - m) : 8;
      ztiles[nb][mr](K4, L + m * Kpl, Kpl, Rp, rs, acc);
      er_q8_gemm_finish__avx512vnni(o, &z, rr, za, hl.uniform, hl.zp, cs, zb, hr.uniform, hr.zp, m, mr, n, nb, nn, acc, C, ldc);
    }
  }
}

void er_q8_use_avx512vnni(er_microkernels *t) {
  t->q8_pack_left_size = er_q8_pack_left_size__avx512vnni;
  t->q8_pack_left = er_q8_pack_left__avx512vnni;
  t->q8_pack_right_size = er_q8_pack_right_size_16__avx512vnni;
  t->q8_pack_right = er_q8_pack_right_16__avx512vnni;
  t->q8_gemm = er_q8_gemm_8x32__avx512vnni;
  t->q8_dw_pack_size = er_q8_dw_pack_size_64__avx512vnni;
  t->q8_dw_pack = er_q8_dw_pack_64__avx512vnni;
  t->q8_dw_work_size = er_q8_dw_work_size_64__avx512vnni;
  t->q8_dwconv_nhwc = er_q8_dwconv_nhwc_64__avx512vnni;
}
