/* Portable micro-kernels of the channels-last ops (see nhwc_mk.h and kernels/dispatch.h). */
#include "kernels/ref/nhwc_mk.h"

#include <string.h>

enum { NR = 16, LN = 8 }; /* packed panel width; channel block of the vector loops */

size_t er_f32_nhwc_pack_size__ref(int64_t K, int64_t N) {
  if (K <= 0 || N <= 0) return 0;
  return (size_t)((N + NR - 1) / NR) * NR * (size_t)K * sizeof(float);
}

/* Per panel: for each input channel c (k = t*kin + c), the taps' rows of 16 columns are
 * written whole (one cache line each) from 16 source runs that stay in L1 over the next
 * channels; every float is written once (padding columns set to zero, nothing cleared
 * first). Row-major sources (kin = K, st = 0) read 16 consecutive floats per row. */
void er_f32_nhwc_pack__ref(int64_t K, int64_t N, const float *src, int64_t sn, int64_t kin, int64_t sc,
                           int64_t st, void *packed) {
  const int64_t T = (K + kin - 1) / kin;
  float *p = (float *)packed;
  for (int64_t j0 = 0; j0 < N; j0 += NR, p += K * NR) {
    const int64_t nr = N - j0 < NR ? N - j0 : NR;
    const float *s0 = src + j0 * sn;
    for (int64_t c = 0; c < kin; c++)
      for (int64_t t = 0; t < T && t * kin + c < K; t++) {
        const float *s = s0 + c * sc + t * st;
        float *restrict d = p + (t * kin + c) * NR;
        for (int64_t j = 0; j < nr; j++) d[j] = s[j * sn];
        for (int64_t j = nr; j < NR; j++) d[j] = 0.0f;
      }
  }
}

/* 4 rows x one 16-column panel at a time; rows past M repeat row i0 (computed, not stored). */
void er_f32_nhwc_gemm__ref(int64_t M, int64_t N, int64_t kc, const float *A, int64_t lda, const void *packed,
                           int64_t K, int64_t k0, int64_t n0, const float *bias, int accumulate, er_act act,
                           float *C, int64_t ldc) {
  const float *P = (const float *)packed;
  for (int64_t j0 = 0; j0 < N; j0 += NR) {
    const int64_t nr = N - j0 < NR ? N - j0 : NR;
    const float *bp = P + (((n0 + j0) / NR) * K + k0) * NR;
    for (int64_t i0 = 0; i0 < M; i0 += 4) {
      const int64_t mr = M - i0 < 4 ? M - i0 : 4;
      const float *ar[4];
      float acc[4][NR];
      for (int r = 0; r < 4; r++) {
        const int64_t i = i0 + (r < mr ? r : 0);
        const float *cr = C + i * ldc + j0;
        ar[r] = A + i * lda;
        for (int64_t j = 0; j < NR; j++)
          acc[r][j] = j >= nr ? 0.0f : accumulate ? cr[j] : bias ? bias[j0 + j] : 0.0f;
      }
      for (int64_t k = 0; k < kc; k++) {
        const float *restrict b = bp + k * NR;
        for (int r = 0; r < 4; r++) {
          const float a = ar[r][k];
          for (int j = 0; j < NR; j++) acc[r][j] += a * b[j];
        }
      }
      for (int r = 0; r < mr; r++) {
        float *cr = C + (i0 + r) * ldc + j0;
        memcpy(cr, acc[r], sizeof(float) * (size_t)nr);
        er_f32_apply_act(cr, nr, act);
      }
    }
  }
}

void er_f32_nhwc_dwconv__ref(int64_t n, int64_t C, int64_t T, const float *const *in, int64_t step,
                             const float *w, const float *bias, er_act act, float *out, int64_t ldo) {
  for (int64_t p = 0; p < n; p++) {
    const float *const *ip = step ? in : in + p * T;
    const int64_t off = step * p;
    float *restrict o = out + p * ldo;
    int64_t c0 = 0;
    for (; c0 + LN <= C; c0 += LN) {
      float acc[LN];
      for (int j = 0; j < LN; j++) acc[j] = bias ? bias[c0 + j] : 0.0f;
      for (int64_t t = 0; t < T; t++) {
        const float *restrict x = ip[t] + off + c0, *restrict wt = w + t * C + c0;
        for (int j = 0; j < LN; j++) acc[j] += wt[j] * x[j];
      }
      for (int j = 0; j < LN; j++) o[c0 + j] = acc[j];
    }
    for (; c0 < C; c0++) {
      float acc = bias ? bias[c0] : 0.0f;
      for (int64_t t = 0; t < T; t++) acc += w[t * C + c0] * ip[t][off + c0];
      o[c0] = acc;
    }
    er_f32_apply_act(o, C, act);
  }
}

/* out may be one of the inputs: each block is read whole before it is written */
void er_f32_nhwc_pool__ref(int kind, int64_t C, int64_t T, const float *const *in, float div, float *out) {
  for (int64_t c0 = 0; c0 < C; c0 += LN) {
    const int64_t cn = C - c0 < LN ? C - c0 : LN;
    float acc[LN] = {0};
    if (cn == LN) {
      if (kind == 0) {
        if (T > 0) memcpy(acc, in[0] + c0, sizeof acc);
        for (int64_t t = 1; t < T; t++) {
          const float *restrict x = in[t] + c0;
          for (int j = 0; j < LN; j++) acc[j] = x[j] > acc[j] ? x[j] : acc[j];
        }
      } else {
        for (int64_t t = 0; t < T; t++) {
          const float *restrict x = in[t] + c0;
          for (int j = 0; j < LN; j++) acc[j] += x[j];
        }
      }
    } else {
      for (int64_t j = 0; j < cn; j++) {
        float a = kind == 0 && T > 0 ? in[0][c0 + j] : 0.0f;
        for (int64_t t = kind == 0 ? 1 : 0; t < T; t++) {
          const float x = in[t][c0 + j];
          a = kind == 0 ? (x > a ? x : a) : a + x;
        }
        acc[j] = a;
      }
    }
    for (int64_t j = 0; j < cn; j++) out[c0 + j] = kind == 0 ? acc[j] : acc[j] / div;
  }
}

void er_f32_nhwc_gpool__ref(int kind, int64_t n, int64_t C, const float *x, int64_t ldx, float *out) {
  enum { CB = 64 };
  for (int64_t c0 = 0; c0 < C; c0 += CB) {
    const int64_t cn = C - c0 < CB ? C - c0 : CB;
    float acc[CB] = {0};
    if (kind == 0 && n > 0) memcpy(acc, x + c0, sizeof(float) * (size_t)cn);
    for (int64_t p = kind == 0 ? 1 : 0; p < n; p++) {
      const float *restrict r = x + p * ldx + c0;
      if (cn == CB) {
        if (kind == 0)
          for (int j = 0; j < CB; j++) acc[j] = r[j] > acc[j] ? r[j] : acc[j];
        else
          for (int j = 0; j < CB; j++) acc[j] += r[j];
      } else {
        for (int64_t j = 0; j < cn; j++) acc[j] = kind == 0 ? (r[j] > acc[j] ? r[j] : acc[j]) : acc[j] + r[j];
      }
    }
    for (int64_t j = 0; j < cn; j++) out[c0 + j] = kind == 0 ? acc[j] : acc[j] / (float)n;
  }
}

/* ---- Winograd F(4x4, 3x3) ----
 * B^T over 6 rows of 8 lanes (rows x[i*sx], outputs o[i*so]) and A^T (6 rows -> 4). */
static inline void wino_bt8(const float *restrict x, int sx, float *restrict o, int so) {
  for (int l = 0; l < LN; l++) {
    const float d0 = x[l], d1 = x[sx + l], d2 = x[2 * sx + l], d3 = x[3 * sx + l], d4 = x[4 * sx + l],
                d5 = x[5 * sx + l];
    o[l] = 4 * d0 - 5 * d2 + d4;
    o[so + l] = -4 * d1 - 4 * d2 + d3 + d4;
    o[2 * so + l] = 4 * d1 - 4 * d2 - d3 + d4;
    o[3 * so + l] = -2 * d1 - d2 + 2 * d3 + d4;
    o[4 * so + l] = 2 * d1 - d2 - 2 * d3 + d4;
    o[5 * so + l] = 4 * d1 - 5 * d3 + d5;
  }
}
static inline void wino_at8(const float *restrict x, int sx, float *restrict o, int so) {
  for (int l = 0; l < LN; l++) {
    const float m0 = x[l], m1 = x[sx + l], m2 = x[2 * sx + l], m3 = x[3 * sx + l], m4 = x[4 * sx + l],
                m5 = x[5 * sx + l];
    const float p12 = m1 + m2, n12 = m1 - m2, p34 = m3 + m4, n34 = m3 - m4;
    o[l] = m0 + p12 + p34;
    o[so + l] = n12 + 2 * n34;
    o[2 * so + l] = p12 + 4 * p34;
    o[3 * so + l] = n12 + 8 * n34 + m5;
  }
}

void er_f32_nhwc_wino_in__ref(int64_t C, const float *const *in, float *V, int64_t xs) {
  float d[36 * LN], u[36 * LN], v[36 * LN];
  for (int64_t c0 = 0; c0 < C; c0 += LN) {
    const int64_t cn = C - c0 < LN ? C - c0 : LN;
    for (int e = 0; e < 36; e++) { /* d[(6i + j)*8 + l] */
      if (cn == LN) {
        memcpy(d + e * LN, in[e] + c0, sizeof(float) * LN);
      } else {
        memset(d + e * LN, 0, sizeof(float) * LN);
        memcpy(d + e * LN, in[e] + c0, sizeof(float) * (size_t)cn);
      }
    }
    for (int j = 0; j < 6; j++) wino_bt8(d + j * LN, 6 * LN, u + j * LN, 6 * LN); /* columns */
    for (int i = 0; i < 6; i++) wino_bt8(u + 6 * i * LN, LN, v + 6 * i * LN, LN); /* rows */
    for (int e = 0; e < 36; e++) memcpy(V + e * xs + c0, v + e * LN, sizeof(float) * (size_t)cn);
  }
}

void er_f32_nhwc_wino_out__ref(int64_t M, const float *O, int64_t xs, const float *bias, er_act act,
                               float *const *out) {
  float o[36 * LN], r[24 * LN], y[16 * LN];
  for (int64_t m0 = 0; m0 < M; m0 += LN) {
    const int64_t mn = M - m0 < LN ? M - m0 : LN;
    for (int e = 0; e < 36; e++) {
      if (mn < LN) memset(o + e * LN, 0, sizeof(float) * LN);
      memcpy(o + e * LN, O + e * xs + m0, sizeof(float) * (size_t)mn);
    }
    for (int j = 0; j < 6; j++) wino_at8(o + j * LN, 6 * LN, r + j * LN, 6 * LN); /* columns: 4 x 6 */
    for (int i = 0; i < 4; i++) wino_at8(r + 6 * i * LN, LN, y + 4 * i * LN, LN); /* rows: 4 x 4 */
    for (int e = 0; e < 16; e++) {
      if (!out[e]) continue;
      float *ye = y + e * LN;
      if (bias)
        for (int64_t l = 0; l < mn; l++) ye[l] += bias[m0 + l];
      er_f32_apply_act(ye, mn, act);
      memcpy(out[e] + m0, ye, sizeof(float) * (size_t)mn);
    }
  }
}

void er_f32_nhwc_add_act__ref(int64_t rows, int64_t n, const float *z, int64_t ldz, er_act act, float *y,
                              int64_t ldy) {
  for (int64_t r = 0; r < rows; r++) {
    float *restrict yr = y + r * ldy;
    const float *restrict zr = z + r * ldz;
    for (int64_t j = 0; j < n; j++) yr[j] += zr[j];
    er_f32_apply_act(yr, n, act);
  }
}
