/*
 * Depthwise 2-D convolution of one plane, AVX2/FMA (semantics in dispatch.h).
 *
 * Each output row is split into a left border, an interior where every horizontal tap is
 * inside the input row, and a right border. The interior is vectorized along the output
 * width (32 then 8 outputs at a time; stride 2 de-interleaves pairs of loads); borders and
 * other strides use a scalar loop with bounds checks. Taps whose input row is outside
 * [0, H) are skipped. Bias starts the sum; the activation is applied per row.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "kernels/x86/f32-conv.h"

static inline int64_t cdiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
static inline int64_t fdiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* 8 consecutive outputs starting at input column x (stride 1) or x, x+2, ... (stride 2). */
static inline __m256 load8(const float *p, int s2) {
  if (!s2) return _mm256_loadu_ps(p);
  __m256 lo = _mm256_loadu_ps(p), hi = _mm256_loadu_ps(p + 8);
  __m256 ev = _mm256_shuffle_ps(lo, hi, 0x88); /* a0 a2 b0 b2 | a4 a6 b4 b6 */
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), 0xD8));
}

static void row_vec(const float *in, int64_t H, int64_t W, const float *w, int64_t KH, int64_t KW,
                    int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, float bias,
                    float *orow, int64_t oh, int64_t lo, int64_t hi, int64_t *out_done) {
  const int s2 = sw == 2;
  /* the vector loads of a block starting at ow read input columns up to
   * ow*sw - pw + (KW-1)*dw + 8*sw - 1, which must stay inside the row */
  const int64_t base = -pw + (KW - 1) * dw + 8 * sw - 1;
  int64_t ow = lo;
  int64_t kh0 = 0, kh1 = KH;
  while (kh0 < KH && oh * sh - ph + kh0 * dh < 0) kh0++;
  while (kh1 > kh0 && oh * sh - ph + (kh1 - 1) * dh >= H) kh1--;
  for (; ow + 32 <= hi && (ow + 24) * sw + base <= W - 1; ow += 32) {
    __m256 a0 = _mm256_set1_ps(bias), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t kh = kh0; kh < kh1; kh++) {
      const float *r = in + (oh * sh - ph + kh * dh) * W + ow * sw - pw;
      const float *wk = w + kh * KW;
      for (int64_t kw = 0; kw < KW; kw++) {
        const float *p = r + kw * dw;
        const __m256 wv = _mm256_broadcast_ss(wk + kw);
        a0 = _mm256_fmadd_ps(wv, load8(p, s2), a0);
        a1 = _mm256_fmadd_ps(wv, load8(p + 8 * sw, s2), a1);
        a2 = _mm256_fmadd_ps(wv, load8(p + 16 * sw, s2), a2);
        a3 = _mm256_fmadd_ps(wv, load8(p + 24 * sw, s2), a3);
      }
    }
    _mm256_storeu_ps(orow + ow, a0);
    _mm256_storeu_ps(orow + ow + 8, a1);
    _mm256_storeu_ps(orow + ow + 16, a2);
    _mm256_storeu_ps(orow + ow + 24, a3);
  }
  for (; ow + 8 <= hi && ow * sw + base <= W - 1; ow += 8) {
    __m256 a0 = _mm256_set1_ps(bias);
    for (int64_t kh = kh0; kh < kh1; kh++) {
      const float *r = in + (oh * sh - ph + kh * dh) * W + ow * sw - pw;
      const float *wk = w + kh * KW;
      for (int64_t kw = 0; kw < KW; kw++)
        a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(wk + kw), load8(r + kw * dw, s2), a0);
    }
    _mm256_storeu_ps(orow + ow, a0);
  }
  *out_done = ow;
}

static inline float point(const float *in, int64_t H, int64_t W, const float *w, int64_t KH, int64_t KW,
                          int64_t ih0, int64_t iw0, int64_t dh, int64_t dw, float bias) {
  float acc = bias;
  for (int64_t kh = 0; kh < KH; kh++) {
    int64_t ih = ih0 + kh * dh;
    if (ih < 0 || ih >= H) continue;
    for (int64_t kw = 0; kw < KW; kw++) {
      int64_t iw = iw0 + kw * dw;
      if (iw < 0 || iw >= W) continue;
      acc = fmaf(w[kh * KW + kw], in[ih * W + iw], acc);
    }
  }
  return acc;
}

/* ---- banded path: copy a band of input rows into a zero-padded buffer with the columns
 * split by stride phase (column c goes to phase c % sw, index c / sw), so every output
 * vector of every tap is one unaligned load and no bounds checks remain. */
enum { DW_BUF = 16384 }; /* floats (64 KB of stack) */

static const int32_t dw_mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

enum { DW_MAXTAPS = 256 };

/* R output rows x V vectors of 8 outputs at column ow; the last vector may be partial
 * (masked store). off[t]: buffer offset of tap t = (kh, kw). rs: buffer distance between
 * consecutive output rows. R*V independent accumulators hide the FMA latency. */
static inline __attribute__((always_inline)) void dw_block(const int R, const int V, const float *top, int64_t rs,
                                                           const int64_t *off, const float *w, int64_t T,
                                                           float bias, er_act act, int vact, float *orow,
                                                           int64_t OW, int64_t ow, __m256i tail, int masked) {
  __m256 acc[4][4];
#pragma GCC unroll 4
  for (int i = 0; i < R; i++)
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) acc[i][v] = _mm256_set1_ps(bias);
  for (int64_t t = 0; t < T; t++) {
    const __m256 wv = _mm256_broadcast_ss(w + t);
    const float *p = top + ow + off[t];
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 4
      for (int v = 0; v < V; v++) acc[i][v] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + i * rs + 8 * v), acc[i][v]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < R; i++)
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      __m256 a = vact ? er_act_avx2(acc[i][v], act) : acc[i][v];
      float *o = orow + i * OW + ow + 8 * v;
      if (masked && v == V - 1)
        _mm256_maskstore_ps(o, tail, a);
      else
        _mm256_storeu_ps(o, a);
    }
}

static void band_rows(const float *buf, int64_t RS, const int64_t *off, const float *w, int64_t KH, int64_t KW,
                      int64_t sh, float bias, er_act act, float *out, int64_t nrows, int64_t OW) {
  const int64_t T = KH * KW, rs = sh * RS;
  const int vact = er_act_is_vector(act.kind) && act.kind != ER_ACT_NONE;
  const int64_t OW8 = OW & ~(int64_t)7;
  const __m256i tail = _mm256_loadu_si256((const __m256i *)(dw_mask_src + 8 - (OW - OW8)));
  int64_t r = 0;
  for (; r + 4 <= nrows; r += 4) {
    const float *top = buf + r * rs;
    float *orow = out + r * OW;
    int64_t ow = 0;
    for (; ow + 16 <= OW; ow += 16) dw_block(4, 2, top, rs, off, w, T, bias, act, vact, orow, OW, ow, tail, 0);
    for (; ow < OW; ow += 8) dw_block(4, 1, top, rs, off, w, T, bias, act, vact, orow, OW, ow, tail, ow + 8 > OW);
    if (!vact)
      for (int i = 0; i < 4; i++) er_act_row_avx2(orow + i * OW, OW, act);
  }
  for (; r < nrows; r++) {
    const float *top = buf + r * rs;
    float *orow = out + r * OW;
    int64_t ow = 0;
    for (; ow + 32 <= OW; ow += 32) dw_block(1, 4, top, rs, off, w, T, bias, act, vact, orow, OW, ow, tail, 0);
    for (; ow < OW; ow += 8) dw_block(1, 1, top, rs, off, w, T, bias, act, vact, orow, OW, ow, tail, ow + 8 > OW);
    if (!vact) er_act_row_avx2(orow, OW, act);
  }
}

void er_f32_dwconv2d__avx2(const float *in, int64_t H, int64_t W, const float *w, int64_t KH,
                           int64_t KW, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,
                           int64_t dw, float bias, er_act act, float *out, int64_t OH, int64_t OW) {
  if (OH <= 0 || OW <= 0) return;
  /* per phase: OW rounded up to 8 outputs plus the widest tap offset */
  const int64_t Wq = (OW + 7) / 8 * 8 + ((KW - 1) * dw) / sw + 1, RS = sw * Wq;
  const int64_t span = (KH - 1) * dh + 1; /* input rows under one output row */
  const int64_t fit = RS > 0 ? DW_BUF / RS : 0;
  if (fit >= span && KH * KW <= DW_MAXTAPS) {
    float buf[DW_BUF] __attribute__((aligned(32)));
    int64_t off[DW_MAXTAPS];
    for (int64_t kw = 0, q = 0, idx = 0; kw < KW; kw++) { /* column kw*dw = idx*sw + q */
      for (int64_t kh = 0; kh < KH; kh++) off[kh * KW + kw] = kh * dh * RS + q * Wq + idx;
      q += dw;
      while (q >= sw) q -= sw, idx++;
    }
    const int64_t band = (fit - span) / sh + 1; /* output rows per band */
    for (int64_t oh0 = 0; oh0 < OH; oh0 += band) {
      const int64_t nrows = OH - oh0 < band ? OH - oh0 : band;
      const int64_t rows = (nrows - 1) * sh + span;
      for (int64_t r = 0; r < rows; r++) {
        const int64_t ih = oh0 * sh - ph + r;
        float *dst = buf + r * RS;
        if (ih < 0 || ih >= H) {
          memset(dst, 0, sizeof(float) * (size_t)RS);
          continue;
        }
        const float *src = in + ih * W;
        if (sw == 1) {
          /* padded column c holds input column c - pw */
          int64_t c0 = pw < Wq ? pw : Wq, c1 = pw + W < Wq ? pw + W : Wq;
          memset(dst, 0, sizeof(float) * (size_t)c0);
          if (c1 > c0) memcpy(dst + c0, src + (c0 - pw), sizeof(float) * (size_t)(c1 - c0));
          if (c1 < Wq) memset(dst + (c1 > c0 ? c1 : c0), 0, sizeof(float) * (size_t)(Wq - (c1 > c0 ? c1 : c0)));
        } else if (sw == 2) {
          /* phase q, index j <- input column 2j + q - pw; one 16-float load feeds 8 of each */
          float *d0 = dst, *d1 = dst + Wq;
          int64_t j = 0;
          for (; j < Wq; j++) {
            const int64_t x = 2 * j - pw;
            if (x >= 0 && x + 15 < W) break;
            d0[j] = x >= 0 && x < W ? src[x] : 0.0f;
            d1[j] = x + 1 >= 0 && x + 1 < W ? src[x + 1] : 0.0f;
          }
          for (; j + 8 <= Wq && 2 * j - pw + 15 < W; j += 8) {
            const __m256 lo = _mm256_loadu_ps(src + 2 * j - pw), hi = _mm256_loadu_ps(src + 2 * j - pw + 8);
            const __m256 ev = _mm256_shuffle_ps(lo, hi, 0x88), od = _mm256_shuffle_ps(lo, hi, 0xDD);
            _mm256_storeu_ps(d0 + j, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), 0xD8)));
            _mm256_storeu_ps(d1 + j, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), 0xD8)));
          }
          for (; j < Wq; j++) {
            const int64_t x = 2 * j - pw;
            d0[j] = x >= 0 && x < W ? src[x] : 0.0f;
            d1[j] = x + 1 >= 0 && x + 1 < W ? src[x + 1] : 0.0f;
          }
        } else {
          for (int64_t q = 0; q < sw; q++) {
            float *d = dst + q * Wq;
            for (int64_t j = 0; j < Wq; j++) {
              const int64_t x = j * sw + q - pw;
              d[j] = x >= 0 && x < W ? src[x] : 0.0f;
            }
          }
        }
      }
      band_rows(buf, RS, off, w, KH, KW, sh, bias, act, out + oh0 * OW, nrows, OW);
    }
    return;
  }
  /* very wide rows: border / interior split directly on the input */
  int64_t lo = cdiv(pw, sw), hi = fdiv(W - 1 + pw - (KW - 1) * dw, sw) + 1;
  if (lo > OW) lo = OW;
  if (hi > OW) hi = OW;
  if (hi < lo) hi = lo;
  const int vec = sw == 1 || sw == 2;
  for (int64_t oh = 0; oh < OH; oh++) {
    float *orow = out + oh * OW;
    const int64_t ih0 = oh * sh - ph;
    int64_t done = lo;
    if (vec) row_vec(in, H, W, w, KH, KW, sh, sw, ph, pw, dh, dw, bias, orow, oh, lo, hi, &done);
    for (int64_t ow = 0; ow < lo; ow++) orow[ow] = point(in, H, W, w, KH, KW, ih0, ow * sw - pw, dh, dw, bias);
    for (int64_t ow = done; ow < OW; ow++)
      orow[ow] = point(in, H, W, w, KH, KW, ih0, ow * sw - pw, dh, dw, bias);
    er_act_row_avx2(orow, OW, act);
  }
}
