/* AVX2 8-bit depthwise convolutions (kernels/q8.h), exact int32 sums like the reference.
 *
 * Both kernels work on 16 outputs at a time (16 pixels of a plane for the channels-first
 * kernel, 16 channels of a pixel for the channels-last one) and take the taps in pairs:
 * inputs of taps t and t+1 are widened to int16 minus the input zero point, interleaved,
 * and multiplied with the (w_t, w_t+1) pairs by vpmaddwd, so every product is exact.
 * unpacklo/unpackhi interleave within 128-bit lanes, so the accumulators hold outputs
 * [0-3 | 8-11] and [4-7 | 12-15]; the output stage puts them back in order.
 *
 * Channels-last packed weights (this table): [ceil(C/16)][ceil(taps/2)][32] int16, per chunk
 * of 16 channels and pair of taps first the pairs of channels 0-3 and 8-11, then 4-7 and
 * 12-15 (the unpack order), minus the zero points; padding 0. */
#include <immintrin.h>
#include <string.h>

#include "kernels/q8.h"
#include "kernels/x86/q8.h"
#include "kernels/x86/q8-common-avx2.h"

static inline int32_t ld8(const void *p, int is_signed, int64_t i) {
  return is_signed ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

/* 16 bytes at even offsets of p[0..31], widened in order */
static inline __m256i widen16_even(const void *p, int is_signed) {
  __m256i v = _mm256_loadu_si256((const __m256i *)p);
  return is_signed ? _mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8) : _mm256_and_si256(v, _mm256_set1_epi16(0xff));
}

/* Output stage for 16 outputs: acc lo/hi in unpack order -> ordered, then stored */
static inline void store16(const er_q8_out *o, __m256i lo, __m256i hi, int64_t i, int percol, int64_t nn, void *dst) {
  er_q8_store16_at_avx2(o, _mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31), i,
                        percol, nn, dst);
}

/* ---------------------------------------------------------------- channels-first plane */

enum { DW_ROWBUF = 8192 };

void er_q8_dwconv2d__avx2(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, const int16_t *w,
                          int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,
                          int64_t dw, const er_q8_out *o, int64_t ch, void *out, int64_t OH, int64_t OW) {
  const int64_t taps = KH * KW;
  /* padded input row: every column an output chunk of 16 may read, plus load slack */
  const int64_t span = ((OW + 15) / 16 * 16 - 1) * sw + (KW - 1) * dw + 1 + 32;
  if (sw > 2 || taps > 64 || span * KH > DW_ROWBUF) {
    er_q8_dwconv2d_ref(in, is_signed, xzp, H, W, w, KH, KW, sh, sw, ph, pw, dh, dw, o, ch, out, OH, OW);
    return;
  }
  unsigned char rows[DW_ROWBUF];
  const unsigned char *src = (const unsigned char *)in;
  const unsigned char fill = (unsigned char)xzp;
  __m256i wp[32]; /* tap pairs (w_t, w_t+1) broadcast */
  int16_t wt[66];
  for (int64_t t = 0; t < taps; t++) wt[t] = w[t];
  wt[taps] = 0;
  for (int64_t t = 0; t < taps; t += 2) {
    int32_t v = (int32_t)(uint16_t)wt[t] | (int32_t)((uint32_t)(uint16_t)wt[t + 1] << 16);
    wp[t / 2] = _mm256_set1_epi32(v);
  }
  const __m256i vzx = _mm256_set1_epi16((int16_t)xzp);
  char *dst = (char *)out;
  const size_t esz = o->type == ER_I32 ? 4 : 1;
  for (int64_t oh = 0; oh < OH; oh++) {
    int valid[64];
    for (int64_t kh = 0; kh < KH; kh++) {
      int64_t ih = oh * sh - ph + kh * dh;
      valid[kh] = ih >= 0 && ih < H;
      if (!valid[kh]) continue;
      unsigned char *r = rows + kh * span;
      /* r[j] = x[ih][j - pw] or the zero point */
      int64_t a = pw < span ? pw : span, b = pw + W < span ? pw + W : span;
      memset(r, fill, (size_t)a);
      if (b > a) memcpy(r + a, src + ih * W + (a - pw), (size_t)(b - a));
      if (span > b) memset(r + (b > a ? b : a), fill, (size_t)(span - (b > a ? b : a)));
    }
    /* taps as a flat list (valid rows only), paired */
    const unsigned char *tp[66];
    int16_t tw[66];
    int nt = 0;
    for (int64_t kh = 0; kh < KH; kh++) {
      if (!valid[kh]) continue;
      for (int64_t kw = 0; kw < KW; kw++) {
        tp[nt] = rows + kh * span + kw * dw;
        tw[nt++] = wt[kh * KW + kw];
      }
    }
    __m256i pw2[33];
    int full = nt == taps; /* every row valid: the precomputed pairs apply */
    if (!full) {
      tw[nt] = 0;
      for (int t = 0; t < nt; t += 2) {
        int32_t v = (int32_t)(uint16_t)tw[t] | (int32_t)((uint32_t)(uint16_t)tw[t + 1] << 16);
        pw2[t / 2] = _mm256_set1_epi32(v);
      }
    }
    tp[nt] = tp[0] ? tp[0] : rows; /* odd count: the pair's second weight is 0 */
    for (int64_t ow = 0; ow < OW; ow += 16) {
      __m256i lo = _mm256_setzero_si256(), hi = lo;
      const int64_t off = ow * sw;
      for (int t = 0; t < nt; t += 2) {
        __m256i x0, x1;
        if (sw == 1) {
          x0 = er_q8_widen16_avx2(tp[t] + off, 0), x1 = er_q8_widen16_avx2(tp[t + 1] + off, 0);
        } else {
          x0 = widen16_even(tp[t] + off, 0), x1 = widen16_even(tp[t + 1] + off, 0);
        }
        if (is_signed) { /* bytes were read unsigned: sign-extend */
          x0 = _mm256_srai_epi16(_mm256_slli_epi16(x0, 8), 8);
          x1 = _mm256_srai_epi16(_mm256_slli_epi16(x1, 8), 8);
        }
        x0 = _mm256_sub_epi16(x0, vzx), x1 = _mm256_sub_epi16(x1, vzx);
        __m256i wv = full ? wp[t / 2] : pw2[t / 2];
        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), wv));
        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), wv));
      }
      int64_t nn = OW - ow < 16 ? OW - ow : 16;
      store16(o, lo, hi, ch, 0, nn, dst + (oh * OW + ow) * esz);
    }
  }
}

/* ---------------------------------------------------------------- channels-last */

size_t er_q8_dw_pack_size__avx2(int64_t KH, int64_t KW, int64_t C) {
  return (size_t)(((C + 15) / 16) * ((KH * KW + 1) / 2) * 32) * sizeof(int16_t);
}

size_t er_q8_dw_work_size__avx2(int64_t KH, int64_t KW, int64_t OW, int64_t C) { return 0; }

void er_q8_dw_pack__avx2(int64_t KH, int64_t KW, int64_t C, const void *w, int is_signed, const int32_t *zp,
                         int zp_stride, void *packed) {
  const int64_t taps = KH * KW, T2 = (taps + 1) / 2;
  int16_t *p = (int16_t *)packed;
  for (int64_t cb = 0; cb < (C + 15) / 16; cb++)
    for (int64_t j = 0; j < T2; j++)
      for (int64_t e = 0; e < 32; e++) {
        /* e: half (0: channels 0-3 | 8-11, 1: 4-7 | 12-15), lane, channel in 4, tap in pair */
        int64_t half = e / 16, lane = (e / 8) % 2, q = (e / 2) % 4, h = e % 2;
        int64_t c = cb * 16 + lane * 8 + half * 4 + q, t = 2 * j + h;
        int16_t v = 0;
        if (c < C && t < taps) v = (int16_t)(ld8(w, is_signed, t * C + c) - (zp ? zp[c * zp_stride] : 0));
        p[(cb * T2 + j) * 32 + e] = v;
      }
}

static inline __m256i load_ch(const unsigned char *p, int64_t n, int is_signed) {
  if (n >= 16) return er_q8_widen16_avx2(p, is_signed);
  unsigned char t[16] = {0};
  memcpy(t, p, (size_t)n);
  return er_q8_widen16_avx2(t, is_signed);
}

void er_q8_dwconv_nhwc__avx2(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, int64_t C,
                             const void *packed, int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph,
                             int64_t pw, int64_t dh, int64_t dw, const er_q8_out *o, void *out, int64_t OW,
                             int64_t oh0, int64_t oh1, void *work) {
  const int64_t T2 = (KH * KW + 1) / 2;
  const unsigned char *x = (const unsigned char *)in;
  const int16_t *wp = (const int16_t *)packed;
  const __m256i vzx = _mm256_set1_epi16((int16_t)xzp);
  const size_t esz = o->type == ER_I32 ? 4 : 1;
  for (int64_t oh = oh0; oh < oh1; oh++)
    for (int64_t ow = 0; ow < OW; ow++) {
      char *dst = (char *)out + (oh * OW + ow) * C * (int64_t)esz;
      for (int64_t c = 0; c < C; c += 16) {
        const int16_t *wc = wp + (c / 16) * T2 * 32;
        const int64_t n = C - c;
        __m256i lo = _mm256_setzero_si256(), hi = lo;
        /* taps in order, paired: (kh, kw) advances with a carry */
        int64_t kh = 0, kw = 0;
        for (int64_t j = 0; j < T2; j++) {
          int64_t off[2];
          for (int h = 0; h < 2; h++) {
            off[h] = -1;
            if (kh >= KH) continue;
            int64_t ih = oh * sh - ph + kh * dh, iw = ow * sw - pw + kw * dw;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) off[h] = (ih * W + iw) * C;
            if (++kw == KW) kw = 0, kh++;
          }
          if (off[0] < 0 && off[1] < 0) continue;
          __m256i x0 = off[0] >= 0 ? _mm256_sub_epi16(load_ch(x + off[0] + c, n, is_signed), vzx) : _mm256_setzero_si256();
          __m256i x1 = off[1] >= 0 ? _mm256_sub_epi16(load_ch(x + off[1] + c, n, is_signed), vzx) : _mm256_setzero_si256();
          __m256i w0 = _mm256_loadu_si256((const __m256i *)(wc + j * 32));
          __m256i w1 = _mm256_loadu_si256((const __m256i *)(wc + j * 32 + 16));
          lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), w0));
          hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), w1));
        }
        store16(o, lo, hi, c, 1, n < 16 ? n : 16, dst + c * (int64_t)esz);
      }
    }
}
