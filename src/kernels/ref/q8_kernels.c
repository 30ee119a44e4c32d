/* Reference 8-bit integer micro-kernels (kernels/q8.h): the specification the optimized
 * tables are tested against. Packed formats of this table: left = int16 [M][K] row-major,
 * right = int16 [K][N] row-major, depthwise weights = int16 [taps][C]; all hold the value
 * minus its zero point. */
#include <math.h>
#include <string.h>

#include "kernels/q8.h"

static inline int32_t q8_ld(const void *p, int is_signed, int64_t i) {
  return is_signed ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

size_t er_q8_pack_left_size_ref(int64_t M, int64_t K) { return (size_t)(M * K) * sizeof(int16_t); }

void er_q8_pack_left_ref(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk,
                         const int32_t *zp, int zp_stride, void *packed) {
  int16_t *p = (int16_t *)packed;
  for (int64_t m = 0; m < M; m++) {
    int32_t z = zp ? zp[m * zp_stride] : 0;
    for (int64_t k = 0; k < K; k++) p[m * K + k] = (int16_t)(q8_ld(src, is_signed, m * sm + k * sk) - z);
  }
}

size_t er_q8_pack_right_size_ref(int64_t K, int64_t N) { return (size_t)(K * N) * sizeof(int16_t); }

void er_q8_pack_right_ref(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn,
                          const int32_t *zp, int zp_stride, void *packed) {
  int16_t *p = (int16_t *)packed;
  for (int64_t k = 0; k < K; k++)
    for (int64_t n = 0; n < N; n++)
      p[k * N + n] = (int16_t)(q8_ld(src, is_signed, k * sk + n * sn) - (zp ? zp[n * zp_stride] : 0));
}

void er_q8_gemm_ref(int64_t K, const void *left, int64_t M, const void *right, int64_t N, int64_t m0,
                    int64_t m1, int64_t n0, int64_t n1, const er_q8_out *o, void *C, int64_t ldc) {
  const int16_t *L = (const int16_t *)left, *R = (const int16_t *)right;
  if (m1 > M) m1 = M;
  if (n1 > N) n1 = N;
  for (int64_t m = m0; m < m1; m++)
    for (int64_t n = n0; n < n1; n++) {
      uint32_t acc = 0; /* wraps like the vector kernels */
      for (int64_t k = 0; k < K; k++) acc += (uint32_t)((int32_t)L[m * K + k] * (int32_t)R[k * N + n]);
      er_q8_store(o, o->per_row ? m : n, (int32_t)acc, C, m * ldc + n);
    }
}

void er_q8_dwconv2d_ref(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, const int16_t *w,
                        int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,
                        int64_t dw, const er_q8_out *o, int64_t ch, void *out, int64_t OH, int64_t OW) {
  for (int64_t oh = 0; oh < OH; oh++)
    for (int64_t ow = 0; ow < OW; ow++) {
      uint32_t acc = 0;
      for (int64_t kh = 0; kh < KH; kh++) {
        int64_t ih = oh * sh - ph + kh * dh;
        if (ih < 0 || ih >= H) continue;
        for (int64_t kw = 0; kw < KW; kw++) {
          int64_t iw = ow * sw - pw + kw * dw;
          if (iw < 0 || iw >= W) continue;
          acc += (uint32_t)((q8_ld(in, is_signed, ih * W + iw) - xzp) * (int32_t)w[kh * KW + kw]);
        }
      }
      er_q8_store(o, ch, (int32_t)acc, out, oh * OW + ow);
    }
}

size_t er_q8_dw_pack_size_ref(int64_t KH, int64_t KW, int64_t C) { return (size_t)(KH * KW * C) * sizeof(int16_t); }

size_t er_q8_dw_work_size_ref(int64_t KH, int64_t KW, int64_t OW, int64_t C) { return 0; }

void er_q8_dw_pack_ref(int64_t KH, int64_t KW, int64_t C, const void *w, int is_signed, const int32_t *zp,
                       int zp_stride, void *packed) {
  const int64_t taps = KH * KW;
  int16_t *p = (int16_t *)packed;
  for (int64_t t = 0; t < taps; t++)
    for (int64_t c = 0; c < C; c++)
      p[t * C + c] = (int16_t)(q8_ld(w, is_signed, t * C + c) - (zp ? zp[c * zp_stride] : 0));
}

void er_q8_dwconv_nhwc_ref(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, int64_t C,
                           const void *packed, int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph,
                           int64_t pw, int64_t dh, int64_t dw, const er_q8_out *o, void *out, int64_t OW,
                           int64_t oh0, int64_t oh1, void *work) {
  const int16_t *wp = (const int16_t *)packed;
  for (int64_t oh = oh0; oh < oh1; oh++)
    for (int64_t ow = 0; ow < OW; ow++)
      for (int64_t c = 0; c < C; c++) {
        uint32_t acc = 0;
        for (int64_t kh = 0; kh < KH; kh++) {
          int64_t ih = oh * sh - ph + kh * dh;
          if (ih < 0 || ih >= H) continue;
          for (int64_t kw = 0; kw < KW; kw++) {
            int64_t iw = ow * sw - pw + kw * dw;
            if (iw < 0 || iw >= W) continue;
            int32_t x = q8_ld(in, is_signed, (ih * W + iw) * C + c) - xzp;
            acc += (uint32_t)(x * (int32_t)wp[(kh * KW + kw) * C + c]);
          }
        }
        er_q8_store(o, c, (int32_t)acc, out, (oh * OW + ow) * C + c);
      }
}

void er_q8_quantize_ref(int64_t n, const float *x, float scale, int32_t zp, int32_t lo, int32_t hi, int type,
                        void *y) {
  for (int64_t i = 0; i < n; i++) {
    int32_t q = er_q8_round_clamp(x[i] / scale, zp, lo, hi);
    if (type == ER_U8) ((uint8_t *)y)[i] = (uint8_t)q;
    else ((int8_t *)y)[i] = (int8_t)q;
  }
}

void er_q8_dequantize_ref(int64_t n, const void *x, int is_signed, int32_t zp, float scale, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = (float)(q8_ld(x, is_signed, i) - zp) * scale;
}

void er_q8_add_ref(int64_t n, const void *a, const void *b, int64_t b_stride, int is_signed, int32_t za, int32_t zb,
                   float ra, float rb, int32_t zc, int32_t lo, int32_t hi, void *c) {
  for (int64_t i = 0; i < n; i++) {
    float ta = ra * (float)(q8_ld(a, is_signed, i) - za), tb = rb * (float)(q8_ld(b, is_signed, i * b_stride) - zb);
    int32_t q = er_q8_round_clamp(ta + tb, zc, lo, hi);
    if (is_signed) ((int8_t *)c)[i] = (int8_t)q;
    else ((uint8_t *)c)[i] = (uint8_t)q;
  }
}

void er_f32_minmax_ref(int64_t n, const float *x, float *mn, float *mx) {
  float a = *mn, b = *mx;
  for (int64_t i = 0; i < n; i++) {
    a = x[i] < a ? x[i] : a;
    b = x[i] > b ? x[i] : b;
  }
  *mn = a, *mx = b;
}

void er_u8_transpose_ref(int64_t rows, int64_t cols, const void *src, int64_t lds, void *dst, int64_t ldd) {
  const unsigned char *s = (const unsigned char *)src;
  unsigned char *d = (unsigned char *)dst;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) d[c * ldd + r] = s[r * lds + c];
}

static inline int32_t q4_at(const uint8_t *row, int64_t n, int is_signed) {
  int32_t v = (row[n / 2] >> (4 * (n & 1))) & 0xf;
  return is_signed ? (v ^ 8) - 8 : v;
}

void er_f32_q4_gemm_ref(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint8_t *B, int is_signed,
                        const float *scale, const void *zp, int64_t block, const float *bias, float *C, int64_t ldc,
                        int64_t n0, int64_t n1) {
  const int64_t rb = (N + 1) / 2;
  if (n1 > N) n1 = N;
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = n0; n < n1; n++) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; k++) {
        int64_t b = k / block;
        int32_t z = zp ? q8_ld(zp, is_signed, b * N + n) : 0;
        float w = (float)(q4_at(B + k * rb, n, is_signed) - z) * scale[b * N + n];
        float p = A[m * lda + k] * w;
        acc = acc + p;
      }
      C[m * ldc + n] = bias ? acc + bias[n] : acc;
    }
}
