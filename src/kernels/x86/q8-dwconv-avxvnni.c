/* AVX-VNNI channels-last depthwise convolution (kernels/q8.h: q8_dwconv_nhwc), replacing the
 * AVX2 one on CPUs with AVX-VNNI when the weights minus their zero points fit in int8 (else
 * the packed weights are the AVX2 kernel's and it runs).
 *
 * vpdpbusd takes, per channel, 4 unsigned input bytes and 4 signed weights: the 4 taps of one
 * kernel row that are 4 columns apart (kw = 4g .. 4g+3; missing ones have weight 0). For each
 * input row an "interleaved row" holds, per output column ow and channel, the 4 input bytes
 * those taps read (x' = x, or x + 128 for int8 x; the input zero point where a tap falls in
 * the padding), built once per input row and kept in a ring of KH rows, so stride-1 rows are
 * interleaved once, not once per kernel row. Then
 *   acc[c] = sum over valid kernel rows of sum x' * w'  -  zx' * sum over those rows of w'
 * (w' = w - zw), all exact in wrapping int32: the reference's sum.
 *
 * Channels go 32 at a time; the byte interleave (unpack epi8 then epi16 within 128-bit
 * lanes) leaves each of the 4 accumulators holding channels {0-3,16-19}, {4-7,20-23},
 * {8-11,24-27}, {12-15,28-31} of the chunk; weights are packed in that order and the output
 * stage permutes the lanes back.
 *
 * Packed weights: header {kind (1: this format, 0: AVX2's), KH, KW, C} (64 bytes), then
 *   kind 1: int8 [KH][G = ceil(KW/4)][ceil(C/32)][4 quads][8 channels][4 taps], then int32
 *           wsum[KH][Cp] (per kernel row: sum of its weights; Cp = C rounded up to 32);
 *   kind 0: the AVX2 packed weights.
 * Work: KH interleaved rows of G * OW * Cp * 4 bytes ([g][chunk][ow][128 bytes]: a chunk's
 * columns are contiguous), their row tags, a zero-point pixel and the per-row correction. */
#include <immintrin.h>
#include <string.h>

#include "kernels/q8.h"
#include "kernels/x86/q8-common-avx2.h"
#include "kernels/x86/q8-dw-vnni.h"
#include "kernels/x86/q8.h"

enum { HDR = 64 };

typedef struct dwv_hdr {
  int32_t kind, KH, KW, C;
} dwv_hdr;

static inline int64_t cp32(int64_t C) { return (C + 31) & ~(int64_t)31; }
static inline int64_t groups(int64_t KW) { return (KW + 3) / 4; }

size_t er_q8_dw_pack_size__avxvnni(int64_t KH, int64_t KW, int64_t C) {
  size_t v = (size_t)(KH * groups(KW) * cp32(C) * 4) + (size_t)(KH * cp32(C)) * 4;
  size_t a = er_q8_dw_pack_size__avx2(KH, KW, C);
  return HDR + (v > a ? v : a);
}

static inline int64_t natural_pos(int64_t c) { return c; }
/* byte offset of channel c's quad inside a 128-byte chunk block */
static inline int64_t quad_pos(int64_t c) {
  int64_t q = c % 32, lane = q / 16, r = q % 16; /* r: quad (r/4) and channel in quad (r%4) */
  return ((r / 4) * 32 + lane * 16 + (r % 4) * 4);
}

void er_q8_dw_pack__avxvnni(int64_t KH, int64_t KW, int64_t C, const void *w, int is_signed, const int32_t *zp,
                            int zp_stride, void *packed) {
  /* the ring tracks <= 32 rows, the kernel <= 128 (row, group) pairs */
  dwv_hdr h = {KH <= 32 && KH * groups(KW) <= 128, (int32_t)KH, (int32_t)KW, (int32_t)C};
  if (h.kind) h.kind = er_q8_dw_fits_i8(KH * KW, C, w, is_signed, zp, zp_stride);
  unsigned char *d = (unsigned char *)packed + HDR;
  if (!h.kind) er_q8_dw_pack__avx2(KH, KW, C, w, is_signed, zp, zp_stride, d);
  else er_q8_dw_pack_vnni(KH, KW, C, w, is_signed, zp, zp_stride, 32, quad_pos, natural_pos, d);
  memcpy(packed, &h, sizeof h);
}

/* Work layout: KH rows of G * OW * Cp * 4 bytes, then int64 tags[KH], int32 corr[Cp], and a
 * zero-point pixel of Cp + 32 bytes. */
size_t er_q8_dw_work_size__avxvnni(int64_t KH, int64_t KW, int64_t OW, int64_t C) {
  const int64_t Cp = cp32(C);
  return (size_t)(KH * groups(KW) * OW * Cp * 4) + (size_t)KH * 8 + (size_t)Cp * 4 + (size_t)Cp + 64;
}

/* Interleave input row ih (or a padding row) into dst: for each output column and group g,
 * per channel the 4 bytes of columns iw = ow*sw - pw + (4g+t)*dw (t < 4, 4g+t < KW), XORed
 * with flip; taps outside the row, or past KW, read the zero-point pixel zpx. */
static void build_row(const unsigned char *row, int64_t W, int64_t C, int64_t KW, int64_t OW, int64_t sw, int64_t pw,
                      int64_t dw, const unsigned char *zpx, unsigned char flip, const unsigned char *end,
                      unsigned char *dst) {
  const int64_t G = groups(KW), Cp = cp32(C), nch = Cp / 32;
  const __m256i vf = _mm256_set1_epi8((char)flip);
  for (int64_t g = 0; g < G; g++)
    for (int64_t ow = 0; ow < OW; ow++) {
      const unsigned char *src[4];
      for (int t = 0; t < 4; t++) {
        int64_t kw = 4 * g + t, iw = ow * sw - pw + kw * dw;
        src[t] = kw < KW && iw >= 0 && iw < W ? row + iw * C : zpx;
      }
      unsigned char *o = dst + (g * nch * OW + ow) * 128;
      for (int64_t ch = 0; ch < nch; ch++, o += OW * 128) {
        __m256i p[4];
        for (int t = 0; t < 4; t++) {
          /* bytes past the last channel belong to the next pixel and meet zero weights: read
           * them, unless that would run past the end of the input */
          if (ch * 32 + 32 <= C || src[t] + ch * 32 + 32 <= end || src[t] == zpx) {
            p[t] = _mm256_loadu_si256((const __m256i *)(src[t] + ch * 32));
          } else { /* the last, partial chunk: do not read past the pixel */
            unsigned char tmp[32] = {0};
            memcpy(tmp, src[t] + ch * 32, (size_t)(C - ch * 32));
            p[t] = _mm256_loadu_si256((const __m256i *)tmp);
          }
          p[t] = _mm256_xor_si256(p[t], vf);
        }
        __m256i u01l = _mm256_unpacklo_epi8(p[0], p[1]), u01h = _mm256_unpackhi_epi8(p[0], p[1]);
        __m256i u23l = _mm256_unpacklo_epi8(p[2], p[3]), u23h = _mm256_unpackhi_epi8(p[2], p[3]);
        _mm256_storeu_si256((__m256i *)o, _mm256_unpacklo_epi16(u01l, u23l));
        _mm256_storeu_si256((__m256i *)(o + 32), _mm256_unpackhi_epi16(u01l, u23l));
        _mm256_storeu_si256((__m256i *)(o + 64), _mm256_unpacklo_epi16(u01h, u23h));
        _mm256_storeu_si256((__m256i *)(o + 96), _mm256_unpackhi_epi16(u01h, u23h));
      }
    }
}

void er_q8_dwconv_nhwc__avxvnni(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, int64_t C,
                                const void *packed, int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph,
                                int64_t pw, int64_t dh, int64_t dw, const er_q8_out *o, void *out, int64_t OW,
                                int64_t oh0, int64_t oh1, void *work) {
  dwv_hdr h;
  memcpy(&h, packed, sizeof h);
  const unsigned char *pk = (const unsigned char *)packed + HDR;
  if (!h.kind) {
    er_q8_dwconv_nhwc__avx2(in, is_signed, xzp, H, W, C, pk, KH, KW, sh, sw, ph, pw, dh, dw, o, out, OW, oh0, oh1,
                            work);
    return;
  }
  const int64_t G = groups(KW), Cp = cp32(C), nch = Cp / 32, rowb = G * OW * Cp * 4;
  const signed char *wq = (const signed char *)pk;
  const int32_t *wsum = (const int32_t *)(pk + KH * G * Cp * 4);
  unsigned char *rows = (unsigned char *)work;
  int64_t *tags = (int64_t *)(rows + KH * rowb);
  int32_t *corr = (int32_t *)(tags + KH);
  unsigned char *zpx = (unsigned char *)(corr + Cp);
  const unsigned char flip = is_signed ? 0x80 : 0;
  const int32_t zxf = xzp + (is_signed ? 128 : 0); /* zx' */
  memset(zpx, (unsigned char)xzp, (size_t)Cp + 32);  /* XORed like the data when interleaved */
  for (int64_t k = 0; k < KH; k++) tags[k] = -1;
  const unsigned char *x = (const unsigned char *)in;
  const size_t esz = o->type == ER_I32 ? 4 : 1;
  er_q8_out ol = *o; /* a local copy: stores through dst cannot alias it; bias goes in corr */
  ol.bias = NULL;
  const unsigned char *rp[32];

  for (int64_t oh = oh0; oh < oh1; oh++) {
    /* the interleaved rows this output row reads (built unless already in the ring) */
    int64_t khs[32], slots[32];
    int build[32];
    const int64_t nr = er_q8_dw_ring(oh, KH, H, sh, ph, dh, tags, khs, slots, build);
    for (int64_t i = 0; i < nr; i++) {
      rp[i] = rows + slots[i] * rowb;
      if (build[i])
        build_row(x + tags[slots[i]] * W * C, W, C, KW, OW, sw, pw, dw, zpx, flip, x + H * W * C, rows + slots[i] * rowb);
    }
    /* correction: zx' * sum of the weights of the rows read, minus the bias */
    for (int64_t c = 0; c < Cp; c += 8) {
      __m256i s = _mm256_setzero_si256();
      for (int64_t i = 0; i < nr; i++) s = _mm256_add_epi32(s, _mm256_loadu_si256((const __m256i *)(wsum + khs[i] * Cp + c)));
      s = _mm256_mullo_epi32(s, _mm256_set1_epi32(zxf));
      if (o->bias && c + 8 <= C) s = _mm256_sub_epi32(s, _mm256_loadu_si256((const __m256i *)(o->bias + c)));
      _mm256_storeu_si256((__m256i *)(corr + c), s);
      if (o->bias && c + 8 > C)
        for (int64_t k = c; k < C; k++) corr[k] = (int32_t)((uint32_t)corr[k] - (uint32_t)o->bias[k]);
    }
    /* per chunk of 32 channels, the (kernel row, group) pairs' interleaved inputs and weights;
     * the output columns then step through the interleaved rows */
    const int64_t np = nr * G, xstep = 128;
    for (int64_t ch = 0; ch < nch; ch++) {
      const unsigned char *xp[128];
      const signed char *wp[128];
      for (int64_t i = 0; i < nr; i++)
        for (int64_t g = 0; g < G; g++) {
          xp[i * G + g] = rp[i] + (g * nch + ch) * OW * 128;
          wp[i * G + g] = wq + ((khs[i] * G + g) * nch + ch) * 128;
        }
      const int32_t *cr = corr + ch * 32;
      const __m256i k0 = _mm256_loadu_si256((const __m256i *)cr), k1 = _mm256_loadu_si256((const __m256i *)(cr + 8));
      const __m256i k2 = _mm256_loadu_si256((const __m256i *)(cr + 16)), k3 = _mm256_loadu_si256((const __m256i *)(cr + 24));
      const int64_t c = ch * 32, n0 = C - c < 16 ? C - c : 16, n1 = C - c - 16;
      char *dst = (char *)out + (oh * OW * C + c) * (int64_t)esz;
      for (int64_t ow = 0; ow < OW; ow++, dst += C * (int64_t)esz) {
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        const int64_t xo = ow * xstep;
        for (int64_t k = 0; k < np; k++) {
          const unsigned char *xi = xp[k] + xo;
          const signed char *wk = wp[k];
          a0 = _mm256_dpbusd_avx_epi32(a0, _mm256_loadu_si256((const __m256i *)xi), _mm256_loadu_si256((const __m256i *)wk));
          a1 = _mm256_dpbusd_avx_epi32(a1, _mm256_loadu_si256((const __m256i *)(xi + 32)),
                                       _mm256_loadu_si256((const __m256i *)(wk + 32)));
          a2 = _mm256_dpbusd_avx_epi32(a2, _mm256_loadu_si256((const __m256i *)(xi + 64)),
                                       _mm256_loadu_si256((const __m256i *)(wk + 64)));
          a3 = _mm256_dpbusd_avx_epi32(a3, _mm256_loadu_si256((const __m256i *)(xi + 96)),
                                       _mm256_loadu_si256((const __m256i *)(wk + 96)));
        }
        /* back to channel order, minus the zero-point correction (and bias) */
        __m256i c0 = _mm256_sub_epi32(_mm256_permute2x128_si256(a0, a1, 0x20), k0);
        __m256i c1 = _mm256_sub_epi32(_mm256_permute2x128_si256(a2, a3, 0x20), k1);
        __m256i c2 = _mm256_sub_epi32(_mm256_permute2x128_si256(a0, a1, 0x31), k2);
        __m256i c3 = _mm256_sub_epi32(_mm256_permute2x128_si256(a2, a3, 0x31), k3);
        er_q8_store16_at_avx2(&ol, c0, c1, c, 1, n0, dst);
        if (n1 > 0) er_q8_store16_at_avx2(&ol, c2, c3, c + 16, 1, n1 < 16 ? n1 : 16, dst + 16 * (int64_t)esz);
      }
    }
  }
}
