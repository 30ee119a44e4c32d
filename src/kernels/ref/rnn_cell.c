/* Portable recurrent-layer inner loops (see rnn_cell.h and kernels/dispatch.h). */
#include "kernels/ref/rnn_cell.h"

#include <math.h>
#include <string.h>

/* Packed format: W copied to N x K row-major. */
size_t er_f32_gemv_packed_size_ref(int64_t N, int64_t K) { return (size_t)(N * K) * sizeof(float); }

void er_f32_gemv_pack_ref(int64_t N, int64_t K, const float *W, int64_t ldw, void *packed) {
  float *p = (float *)packed;
  for (int64_t n = 0; n < N; n++) memcpy(p + n * K, W + n * ldw, sizeof(float) * (size_t)K);
}

void er_f32_gemv_packed_ref(int64_t N, int64_t K, const float *x, const void *packed,
                            const float *add, float *y) {
  const float *W = (const float *)packed;
  for (int64_t n = 0; n < N; n++) {
    const float *w = W + n * K;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t k = 0;
    for (; k + 8 <= K; k += 8)
      for (int u = 0; u < 8; u++) acc[u] += w[k + u] * x[k + u];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; k < K; k++) s += w[k] * x[k];
    y[n] = (add ? add[n] : 0.0f) + s;
  }
}

static inline float sigmoid1(float x) { return 1.0f / (1.0f + expf(-x)); }

static inline float tanh1(float x) {
  float ax = fabsf(x), t;
  if (ax < ER_TANH_POLY_MAX) {
    float u = x * x;
    float p = ER_TANH_P5;
    p = p * u + ER_TANH_P4;
    p = p * u + ER_TANH_P3;
    p = p * u + ER_TANH_P2;
    p = p * u + ER_TANH_P1;
    p = p * u + ER_TANH_P0;
    return x * p;
  }
  if (!(ax < ER_TANH_SAT)) t = ax == ax ? 1.0f : ax; /* NaN stays NaN */
  else t = 1.0f - 2.0f / (expf(2.0f * ax) + 1.0f);
  return x < 0 ? -t : t;
}

void er_f32_sigmoid_ref(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = sigmoid1(x[i]);
}

void er_f32_tanh_ref(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = tanh1(x[i]);
}

size_t er_f32_lstm_packed_size_ref(int64_t H) { return (size_t)(4 * H * H) * sizeof(float); }

void er_f32_lstm_pack_ref(int64_t H, const float *R, void *packed) {
  memcpy(packed, R, (size_t)(4 * H * H) * sizeof(float));
}

void er_f32_lstm_step_ref(int64_t H, const float *h_prev, const void *packed, const float *xw,
                          float *c, float *h, int parity) {
  (void)parity;
  const float *R = (const float *)packed;
  for (int64_t j = 0; j < H; j++) {
    float g[4];
    for (int q = 0; q < 4; q++) er_f32_gemv_packed_ref(1, H, h_prev, R + (q * H + j) * H, xw + q * H + j, g + q);
    float it = sigmoid1(g[0]), ot = sigmoid1(g[1]), ft = sigmoid1(g[2]);
    float cn = ft * c[j] + it * tanh1(g[3]);
    c[j] = cn;
    h[j] = ot * tanh1(cn);
  }
}
