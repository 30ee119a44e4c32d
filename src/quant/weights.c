/* Weight quantization: symmetric int8 per tensor / per channel, blocked int4 (host). */
#include <math.h>
#include <string.h>

#include "quant/internal.h"

/* Split dims around axis: outer * n * inner. */
static void split(int rank, const int64_t *dims, int axis, int64_t *outer, int64_t *n, int64_t *inner) {
  *outer = *inner = 1;
  *n = axis >= 0 ? dims[axis] : 1;
  for (int d = 0; d < rank; d++) {
    if (axis < 0) *inner *= dims[d];
    else if (d < axis) *outer *= dims[d];
    else if (d > axis) *inner *= dims[d];
  }
}

void quant_weight_scales(const float *w, int rank, const int64_t *dims, int axis, int qmax, float *sc) {
  int64_t outer, n, inner;
  split(rank, dims, axis, &outer, &n, &inner);
  for (int64_t c = 0; c < n; c++) {
    double amax = 0;
    for (int64_t o = 0; o < outer; o++) {
      const float *p = w + (o * n + c) * inner;
      for (int64_t i = 0; i < inner; i++)
        if (isfinite(p[i])) amax = fmax(amax, fabs(p[i]));
    }
    sc[c] = er_qparams_symmetric(amax, qmax);
  }
}

void quant_weight_apply(const float *w, int rank, const int64_t *dims, int axis, int qmax,
                        const float *sc, int8_t *q) {
  int64_t outer, n, inner;
  split(rank, dims, axis, &outer, &n, &inner);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t c = 0; c < n; c++) {
      const float *p = w + (o * n + c) * inner;
      int8_t *qp = q + (o * n + c) * inner;
      for (int64_t i = 0; i < inner; i++)
        qp[i] = (int8_t)er_quantize_value(p[i], sc[c], 0, -qmax, qmax);
    }
}

void quant_weight_int8(const float *w, int rank, const int64_t *dims, int axis, int8_t *q, float *sc) {
  quant_weight_scales(w, rank, dims, axis, 127, sc);
  quant_weight_apply(w, rank, dims, axis, 127, sc, q);
}

void quant_weight_int4(const float *w, int rank, const int64_t *dims, int axis, int bs, int8_t *q,
                       float *sc) {
  int64_t outer, n, inner;
  split(rank, dims, axis, &outer, &n, &inner);
  int64_t nb = (n + bs - 1) / bs;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t b = 0; b < nb; b++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t a0 = b * bs, a1 = a0 + bs < n ? a0 + bs : n;
        double amax = 0;
        for (int64_t a = a0; a < a1; a++) {
          float v = w[(o * n + a) * inner + i];
          if (isfinite(v)) amax = fmax(amax, fabs(v));
        }
        /* the scale that loses least (squared error) among max|w| / 7 and smaller ones that
         * clip the largest weight a little but round the rest more finely ([-8, 7]) */
        float s = er_qparams_symmetric(amax, 7);
        double best = -1;
        for (int c = 0; c < 16 && amax > 0; c++) {
          float t = er_qparams_symmetric(amax * (1.0 - 0.02 * c), 7);
          double err = 0;
          for (int64_t a = a0; a < a1; a++) {
            float v = w[(o * n + a) * inner + i];
            if (!isfinite(v)) continue;
            double d = v - (double)t * er_quantize_value(v, t, 0, -8, 7);
            err += d * d;
          }
          if (best < 0 || err < best) {
            best = err;
            s = t;
          }
        }
        sc[(o * nb + b) * inner + i] = s;
        for (int64_t a = a0; a < a1; a++)
          q[(o * n + a) * inner + i] = (int8_t)er_quantize_value(w[(o * n + a) * inner + i], s, 0, -8, 7);
      }
}
