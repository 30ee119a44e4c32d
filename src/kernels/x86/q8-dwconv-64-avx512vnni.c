/* AVX-512 VNNI channels-last depthwise convolution (kernels/q8.h: q8_dwconv_nhwc), 64
 * channels per block; replaces the AVX-VNNI / AVX2 one on CPUs with AVX-512 F/BW/VL/VNNI when
 * the weights minus their zero points fit in int8 (else the packed weights are the AVX2
 * kernel's and it runs).
 *
 * As in q8-dwconv-avxvnni.c, vpdpbusd takes per channel 4 unsigned input bytes and 4 signed
 * weights: the taps of one kernel row 4 columns apart (kw = 4g .. 4g+3; missing ones have
 * weight 0). For each input row an interleaved row holds, per output column and 64-channel
 * block, the 4 input bytes of each channel those taps read (x' = x, or x + 128 for int8 x;
 * the zero point where a tap is in the padding), built once per input row (a ring of KH rows),
 * and
 *   acc[c] = sum over valid kernel rows of sum x' * w'  -  (zx' * sum of their w' - bias)
 * in wrapping int32: the reference's sum exactly.
 *
 * Interleave: 4 zmm (one per tap, 64 channels) -> unpack epi8, epi16 within 128-bit lanes ->
 * q_j (j = 0..3) whose 128-bit lane L holds the quads of channels 16L + 4j .. 16L + 4j + 3.
 * The accumulators stay in that order (weights, weight sums, bias and scales are permuted to
 * match); the output stage's packs (epi32 -> epi16 -> epi8 within lanes) put the 64 results
 * back into channel order.
 *
 * Packed weights: header {kind (1: this format, 0: AVX2's), KH, KW, C} (64 bytes), then
 *   kind 1: int8 [KH][G = ceil(KW/4)][NB = ceil(C/64)][4 j][4 lanes][4 channels][4 taps], then
 *           int32 wsum[KH][NB * 64] (sum of the row's weights, permuted order);
 *   kind 0: the AVX2 packed weights.
 * Work: KH interleaved rows of G * S * 256 bytes (one block, a strip of S output columns:
 * [g][column][q0..q3]), row tags, the permuted bias and scales ([NB * 64] each) and a
 * zero-point pixel. Blocks and strips are the outer loops, so the rows stay in L1. */
#include <immintrin.h>
#include <string.h>

#include "kernels/q8.h"
#include "kernels/x86/q8-common-avx512.h"
#include "kernels/x86/q8-dw-vnni.h"
#include "kernels/x86/q8.h"

enum { HDR = 64 };

typedef struct dwz_hdr {
  int32_t kind, KH, KW, C;
} dwz_hdr;

static inline int64_t cp64(int64_t C) { return (C + 63) & ~(int64_t)63; }
static inline int64_t groups(int64_t KW) { return (KW + 3) / 4; }
/* position (0..63) in the permuted order of channel c of a block */
static inline int64_t perm_pos(int64_t c) {
  int64_t L = c / 16, j = (c % 16) / 4, i = c % 4;
  return j * 16 + L * 4 + i;
}

size_t er_q8_dw_pack_size_64__avx512vnni(int64_t KH, int64_t KW, int64_t C) {
  size_t v = (size_t)(KH * groups(KW) * cp64(C) * 4) + (size_t)(KH * cp64(C)) * 4;
  size_t a = er_q8_dw_pack_size__avx2(KH, KW, C);
  return HDR + (v > a ? v : a);
}

static inline int64_t quad_off(int64_t c) { return perm_pos(c) * 4; }
/* A last block of at most 32 channels is a "half" block: its 256-byte vectors hold two output
 * columns of 32 channels (lanes 0-1 and 2-3), its weights mirrored into both halves. */
static inline int half_last(int64_t C) { return C - (cp64(C) - 64) <= 32; }
static inline int64_t wsum_pos(int64_t c) { return c / 64 * 64 + perm_pos(c % 64); }

void er_q8_dw_pack_64__avx512vnni(int64_t KH, int64_t KW, int64_t C, const void *w, int is_signed, const int32_t *zp,
                                  int zp_stride, void *packed) {
  /* the ring tracks <= 32 rows, the kernel <= 128 (row, group) pairs */
  dwz_hdr h = {KH <= 32 && KH * groups(KW) <= 128, (int32_t)KH, (int32_t)KW, (int32_t)C};
  if (h.kind) h.kind = er_q8_dw_fits_i8(KH * KW, C, w, is_signed, zp, zp_stride);
  unsigned char *d = (unsigned char *)packed + HDR;
  if (!h.kind) er_q8_dw_pack__avx2(KH, KW, C, w, is_signed, zp, zp_stride, d);
  else er_q8_dw_pack_vnni(KH, KW, C, w, is_signed, zp, zp_stride, 64, quad_off, wsum_pos, d);
  if (h.kind && half_last(C)) { /* the last block's channels 0-31 mirrored into 32-63 */
    const int64_t G = groups(KW), Cp = cp64(C), NB = Cp / 64;
    int32_t *wsum = (int32_t *)(d + KH * G * Cp * 4);
    for (int64_t kh = 0; kh < KH; kh++) {
      for (int64_t g = 0; g < G; g++) {
        unsigned char *blk = d + ((kh * G + g) * NB + NB - 1) * 256;
        for (int64_t c = 0; c < 32; c++) memcpy(blk + quad_off(c + 32), blk + quad_off(c), 4);
      }
      for (int64_t c = 0; c < 32; c++) wsum[kh * Cp + (NB - 1) * 64 + perm_pos(c + 32)] = wsum[kh * Cp + (NB - 1) * 64 + perm_pos(c)];
    }
  }
  memcpy(packed, &h, sizeof h);
}

/* Output columns per strip: the KH interleaved rows of one strip and block stay in L1. */
static inline int64_t strip_cols(int64_t KH, int64_t KW, int64_t OW) {
  int64_t s = 24576 / (KH * groups(KW) * 256) / 2 * 2;
  s = s < 2 ? 2 : s;
  return s < OW ? s : OW;
}

/* Work layout: KH rows of G * S * 256 bytes (S = strip_cols), int64 tags[KH], int32 bias[Cp],
 * float scale[Cp], and a zero-point pixel of Cp + 64 bytes. */
size_t er_q8_dw_work_size_64__avx512vnni(int64_t KH, int64_t KW, int64_t OW, int64_t C) {
  const int64_t Cp = cp64(C);
  return (size_t)(KH * groups(KW) * strip_cols(KH, KW, OW) * 256) + (size_t)KH * 8 + (size_t)Cp * 8 + (size_t)Cp +
         64 + 64;
}

/* Interleave columns [ow0, ow0 + n) of input row `row`, channel block b, into dst
 * ([g][unit][256 bytes]): per output column and group g, the 4 pixels iw = ow*sw - pw + (4g+t)*dw
 * (t < 4; past KW or outside the row: the zero-point pixel zpx), XORed with flip. A unit is
 * one column, or for a half block two (32 channels each; a missing second column reads zpx). */
/* The 64 bytes of tap kw (of a group) for unit i of build_row (zero past KW). */
static inline __attribute__((always_inline)) __m512i dw_tap(const unsigned char *row, int64_t W, int64_t C, int64_t KW,
                                                             int64_t b, int half, int64_t ow0, int64_t n, int64_t sw,
                                                             int64_t pw, int64_t dw, const unsigned char *zpx,
                                                             unsigned char flip, __m512i vf, int64_t nc, __mmask64 m,
                                                             int64_t kw, int64_t i) {
  if (kw >= KW) return _mm512_setzero_si512(); /* zero weights: any bytes */
  __m512i p;
  /* channels past C: zero weights, any byte; not read past the pixel */
  if (half) {
    int64_t c0 = ow0 + 2 * i, iw0 = c0 * sw - pw + kw * dw, iw1 = iw0 + sw;
    const unsigned char *s0 = (iw0 >= 0 && iw0 < W ? row + iw0 * C : zpx) + b * 64;
    const unsigned char *s1 = (2 * i + 1 < n && iw1 >= 0 && iw1 < W ? row + iw1 * C : zpx) + b * 64;
    p = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_maskz_loadu_epi8((__mmask32)m, s0)),
                           _mm256_maskz_loadu_epi8((__mmask32)m, s1), 1);
  } else {
    int64_t iw = (ow0 + i) * sw - pw + kw * dw;
    const unsigned char *src = (iw >= 0 && iw < W ? row + iw * C : zpx) + b * 64;
    p = nc >= 64 ? _mm512_loadu_si512(src) : _mm512_maskz_loadu_epi8(m, src);
  }
  return flip ? _mm512_xor_si512(p, vf) : p;
}

static void build_row(const unsigned char *row, int64_t W, int64_t C, int64_t KW, int64_t b, int half, int64_t ow0,
                      int64_t n, int64_t sw, int64_t pw, int64_t dw, const unsigned char *zpx, unsigned char flip,
                      unsigned char *dst) {
  const int64_t G = groups(KW), nc = C - b * 64, units = half ? (n + 1) / 2 : n;
  const __m512i vf = _mm512_set1_epi8((char)flip);
  const __mmask64 m = nc >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << nc) - 1;
  for (int64_t g = 0; g < G; g++)
    for (int64_t i = 0; i < units; i++) {
      const __m512i p0 = dw_tap(row, W, C, KW, b, half, ow0, n, sw, pw, dw, zpx, flip, vf, nc, m, 4 * g, i);
      const __m512i p1 = dw_tap(row, W, C, KW, b, half, ow0, n, sw, pw, dw, zpx, flip, vf, nc, m, 4 * g + 1, i);
      const __m512i p2 = dw_tap(row, W, C, KW, b, half, ow0, n, sw, pw, dw, zpx, flip, vf, nc, m, 4 * g + 2, i);
      const __m512i p3 = dw_tap(row, W, C, KW, b, half, ow0, n, sw, pw, dw, zpx, flip, vf, nc, m, 4 * g + 3, i);
      unsigned char *o = dst + (g * units + i) * 256;
      __m512i u01l = _mm512_unpacklo_epi8(p0, p1), u01h = _mm512_unpackhi_epi8(p0, p1);
      __m512i u23l = _mm512_unpacklo_epi8(p2, p3), u23h = _mm512_unpackhi_epi8(p2, p3);
      _mm512_storeu_si512(o, _mm512_unpacklo_epi16(u01l, u23l));
      _mm512_storeu_si512(o + 64, _mm512_unpackhi_epi16(u01l, u23l));
      _mm512_storeu_si512(o + 128, _mm512_unpacklo_epi16(u01h, u23h));
      _mm512_storeu_si512(o + 192, _mm512_unpackhi_epi16(u01h, u23h));
    }
}

/* The outputs of one unit (a column, or two of a half block: the second only if two) from
 * its accumulators (bias and corrections applied); nc channels of the block. */
static inline __attribute__((always_inline)) void store_unit(const er_q8z_out *z, const __m512i a[4],
                                                              const __m512 s[4], int u8, int half, int two, int64_t nc,
                                                              __mmask64 m, char *dst, int64_t C) {
  if (z->i32) { /* back to channel order (acc j lane L dword i is channel 16L + 4j + i) */
    int32_t t[64], u[64];
    for (int j = 0; j < 4; j++) _mm512_storeu_si512(t + 16 * j, a[j]);
    for (int64_t c = 0; c < 64; c++) u[c] = t[perm_pos(c)];
    memcpy(dst, u, (size_t)nc * sizeof(int32_t));
    if (half && two) memcpy(dst + C * 4, u + 32, (size_t)nc * sizeof(int32_t));
    return;
  }
  const __m512i y = er_q8z_requant64(z, a, s, u8);
  if (!half) {
    _mm512_mask_storeu_epi8(dst, m, y);
  } else {
    _mm256_mask_storeu_epi8(dst, (__mmask32)m, _mm512_castsi512_si256(y));
    if (two) _mm256_mask_storeu_epi8(dst + C, (__mmask32)m, _mm512_extracti64x4_epi64(y, 1));
  }
}

void er_q8_dwconv_nhwc_64__avx512vnni(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, int64_t C,
                                      const void *packed, int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph,
                                      int64_t pw, int64_t dh, int64_t dw, const er_q8_out *o, void *out, int64_t OW,
                                      int64_t oh0, int64_t oh1, void *work) {
  dwz_hdr h;
  memcpy(&h, packed, sizeof h);
  const unsigned char *pk = (const unsigned char *)packed + HDR;
  if (!h.kind) {
    er_q8_dwconv_nhwc__avx2(in, is_signed, xzp, H, W, C, pk, KH, KW, sh, sw, ph, pw, dh, dw, o, out, OW, oh0, oh1,
                            work);
    return;
  }
  const int64_t G = groups(KW), Cp = cp64(C), NB = Cp / 64, S = strip_cols(KH, KW, OW), rowb = G * S * 256;
  const signed char *wq = (const signed char *)pk;
  const int32_t *wsum = (const int32_t *)(pk + KH * G * Cp * 4);
  unsigned char *rows = (unsigned char *)work;
  int64_t *tags = (int64_t *)(rows + KH * rowb);
  int32_t *biasp = (int32_t *)(tags + KH);
  float *scalep = (float *)(biasp + Cp);
  unsigned char *zpx = (unsigned char *)(scalep + Cp);
  const unsigned char flip = is_signed ? 0x80 : 0;
  const int32_t zxf = xzp + (is_signed ? 128 : 0); /* zx' */
  memset(zpx, (unsigned char)xzp, (size_t)Cp + 64); /* XORed like the data when interleaved */
  /* bias and scales in the accumulators' order */
  for (int64_t c = 0; c < Cp; c++) {
    int64_t p = c / 64 * 64 + perm_pos(c % 64), cc = half_last(C) && c >= Cp - 32 ? c - 32 : c; /* mirrored */
    biasp[p] = cc < C && o->bias ? o->bias[cc] : 0;
    scalep[p] = o->type == ER_I32 ? 0.0f : o->scale[o->scale_stride && cc < C ? cc : 0];
  }
  const unsigned char *x = (const unsigned char *)in;
  const int i32 = o->type == ER_I32, u8 = o->type == ER_U8;
  const size_t esz = i32 ? 4 : 1;
  const er_q8z_out z = er_q8z_out_init(o);

  /* per 64-channel block and strip of output columns, the output rows in order (a ring of
   * KH interleaved input rows of the strip) */
  for (int64_t b = 0; b < NB; b++) {
    __m512 s[4];
    for (int j = 0; j < 4; j++) s[j] = _mm512_loadu_ps(scalep + b * 64 + 16 * j);
    const int half = b == NB - 1 && half_last(C);
    const int64_t nc = C - b * 64 < 64 ? C - b * 64 : 64, cstep = half ? 2 : 1; /* columns per unit */
    const __mmask64 m = nc >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << nc) - 1;
    __m512i kfull[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    int kfull_ok = 0;
    for (int64_t ow0 = 0; ow0 < OW; ow0 += S) {
      const int64_t n = OW - ow0 < S ? OW - ow0 : S, units = (n + cstep - 1) / cstep;
      for (int64_t k = 0; k < KH; k++) tags[k] = -1;
      for (int64_t oh = oh0; oh < oh1; oh++) {
        /* the interleaved rows this output row reads (built unless already in the ring) */
        const unsigned char *rp[32];
        int64_t khs[32], slots[32];
        int build[32];
        const int64_t nr = er_q8_dw_ring(oh, KH, H, sh, ph, dh, tags, khs, slots, build);
        for (int64_t i = 0; i < nr; i++) {
          rp[i] = rows + slots[i] * rowb;
          if (build[i])
            build_row(x + tags[slots[i]] * W * C, W, C, KW, b, half, ow0, n, sw, pw, dw, zpx, flip,
                      rows + slots[i] * rowb);
        }
        /* correction: zx' * sum of the weights of the rows read, minus the bias (all KH rows:
         * computed once per block) */
        __m512i k[4];
        if (nr == KH && kfull_ok) {
          for (int j = 0; j < 4; j++) k[j] = kfull[j];
        } else {
          for (int j = 0; j < 4; j++) {
            __m512i t = _mm512_setzero_si512();
            for (int64_t i = 0; i < nr; i++)
              t = _mm512_add_epi32(t, _mm512_loadu_si512(wsum + khs[i] * Cp + b * 64 + 16 * j));
            k[j] = _mm512_sub_epi32(_mm512_mullo_epi32(t, _mm512_set1_epi32(zxf)),
                                    _mm512_loadu_si512(biasp + b * 64 + 16 * j));
          }
          if (nr == KH) {
            for (int j = 0; j < 4; j++) kfull[j] = k[j];
            kfull_ok = 1;
          }
        }
        const int64_t np = nr * G;
        const unsigned char *xp[128];
        const signed char *wp[128];
        for (int64_t i = 0; i < nr; i++)
          for (int64_t g = 0; g < G; g++) {
            xp[i * G + g] = rp[i] + g * units * 256;
            wp[i * G + g] = wq + ((khs[i] * G + g) * NB + b) * 256;
          }
        char *dst = (char *)out + ((oh * OW + ow0) * C + b * 64) * (int64_t)esz;
        const int64_t ustep = cstep * C * (int64_t)esz; /* bytes of output per unit */
        /* two units at a time: 8 independent accumulator chains */
        int64_t i = 0;
        for (; i + 2 <= units; i += 2, dst += 2 * ustep) {
          __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
          for (int64_t q = 0; q < np; q++) {
            const unsigned char *xi = xp[q] + i * 256;
            const signed char *wk = wp[q];
            const __m512i w0 = _mm512_loadu_si512(wk), w1 = _mm512_loadu_si512(wk + 64);
            const __m512i w2 = _mm512_loadu_si512(wk + 128), w3 = _mm512_loadu_si512(wk + 192);
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(xi), w0);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(xi + 64), w1);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(xi + 128), w2);
            a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(xi + 192), w3);
            b0 = _mm512_dpbusd_epi32(b0, _mm512_loadu_si512(xi + 256), w0);
            b1 = _mm512_dpbusd_epi32(b1, _mm512_loadu_si512(xi + 320), w1);
            b2 = _mm512_dpbusd_epi32(b2, _mm512_loadu_si512(xi + 384), w2);
            b3 = _mm512_dpbusd_epi32(b3, _mm512_loadu_si512(xi + 448), w3);
          }
          const __m512i a[4] = {_mm512_sub_epi32(a0, k[0]), _mm512_sub_epi32(a1, k[1]), _mm512_sub_epi32(a2, k[2]),
                                _mm512_sub_epi32(a3, k[3])};
          const __m512i bb[4] = {_mm512_sub_epi32(b0, k[0]), _mm512_sub_epi32(b1, k[1]), _mm512_sub_epi32(b2, k[2]),
                                 _mm512_sub_epi32(b3, k[3])};
          store_unit(&z, a, s, u8, half, 1, nc, m, dst, C);
          store_unit(&z, bb, s, u8, half, cstep * (i + 1) + 1 < n, nc, m, dst + ustep, C);
        }
        if (i < units) {
          __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
          for (int64_t q = 0; q < np; q++) {
            const unsigned char *xi = xp[q] + i * 256;
            const signed char *wk = wp[q];
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(xi), _mm512_loadu_si512(wk));
            a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(xi + 64), _mm512_loadu_si512(wk + 64));
            a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(xi + 128), _mm512_loadu_si512(wk + 128));
            a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(xi + 192), _mm512_loadu_si512(wk + 192));
          }
          const __m512i a[4] = {_mm512_sub_epi32(a0, k[0]), _mm512_sub_epi32(a1, k[1]), _mm512_sub_epi32(a2, k[2]),
                                _mm512_sub_epi32(a3, k[3])};
          store_unit(&z, a, s, u8, half, cstep * i + 1 < n, nc, m, dst, C);
        }
      }
    }
  }
}
