/* 8-bit channels-last max pooling: com.microsoft NhwcMaxPool, as ONNX Runtime's contrib op
 * (the QDQ pass's channels-last step makes it from an 8-bit MaxPool):
 *   NhwcMaxPool(X): X uint8/int8 [N, (H,) W, C]; MaxPool's attributes (auto_pad, ceil_mode,
 *   dilations, kernel_shape, pads, strides; no Indices output); Y [N, (OH,) OW, C].
 *   Padding never wins the max. Portable C; the channel loop is vectorized by gcc. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif
#include <string.h>

#include "kernels/ref/conv_common.h"
#include "kernels/ref/quant_common.h"

static const int k_q8[] = {ER_U8, ER_I8, 0};

static er_status nmp_geom(const er_kctx *c, cv_win *w) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_q8));
  const er_tensor *X = c->in[0];
  if (X->rank != 3 && X->rank != 4) return ER_ERR(ER_INVALID_ARGUMENT, "X must be [N, (H,) W, C], got rank %d", X->rank);
  if (c->n_out > 1 && c->out[1]) return ER_ERR(ER_UNSUPPORTED, "NhwcMaxPool has no Indices output");
  int nsp = X->rank - 2;
  const int64_t *ks;
  if (er_attr_ints(c, "kernel_shape", &ks) != nsp)
    return ER_ERR(ER_INVALID_ARGUMENT, "kernel_shape must have %d values", nsp);
  return cv_window(c, nsp, X->dims + 1, ks, 1, 1, w);
}

er_status er_nhwc_maxpool_infer(er_kctx *c) {
  cv_win w;
  ER_RETURN_IF_ERROR(nmp_geom(c, &w));
  const er_tensor *X = c->in[0];
  int64_t d[4] = {X->dims[0]};
  for (int i = 0; i < w.nsp; i++) d[1 + i] = w.out[3 - w.nsp + i];
  d[1 + w.nsp] = X->dims[X->rank - 1];
  er_tensor_set_shape(c->out[0], X->dtype, X->rank, d);
  return 0;
}

typedef struct nmp_job {
  cv_win w;
  int64_t C;
  const unsigned char *x;
  unsigned char *y;
  unsigned char flip; /* int8: compare as uint8 after flipping the sign bit */
} nmp_job;

/* y = max(y, x ^ f) bytewise (vectorized by gcc: see the pragma) */
static void max_row(unsigned char *restrict y, const unsigned char *restrict x, unsigned char f, int64_t C) {
  for (int64_t ch = 0; ch < C; ch++) {
    unsigned char v = (unsigned char)(x[ch] ^ f);
    y[ch] = v > y[ch] ? v : y[ch];
  }
}

static void nmp_rows(void *arg, int64_t r0, int64_t r1) {
  const nmp_job *j = (const nmp_job *)arg;
  const cv_win *w = &j->w;
  const int64_t H = w->in[1], W = w->in[2], OH = w->out[1], OW = w->out[2], C = j->C;
  for (int64_t r = r0; r < r1; r++) { /* r = image * OH + output row */
    int64_t n = r / OH, oh = r % OH;
    const unsigned char *xn = j->x + n * H * W * C;
    for (int64_t ow = 0; ow < OW; ow++) {
      unsigned char *y = j->y + ((n * OH + oh) * OW + ow) * C;
      memset(y, 0, (size_t)C);
      for (int64_t kh = 0; kh < w->k[1]; kh++) {
        int64_t ih = oh * w->s[1] - w->pb[1] + kh * w->d[1];
        if (ih < 0 || ih >= H) continue;
        for (int64_t kw = 0; kw < w->k[2]; kw++) {
          int64_t iw = ow * w->s[2] - w->pb[2] + kw * w->d[2];
          if (iw < 0 || iw >= W) continue;
          max_row(y, xn + (ih * W + iw) * C, j->flip, C);
        }
      }
      if (j->flip)
        for (int64_t ch = 0; ch < C; ch++) y[ch] ^= 0x80;
    }
  }
}

er_status er_nhwc_maxpool_run(er_kctx *c) {
  nmp_job j;
  ER_RETURN_IF_ERROR(nmp_geom(c, &j.w));
  const er_tensor *X = c->in[0];
  j.C = X->dims[X->rank - 1];
  j.x = (const unsigned char *)X->data;
  j.y = (unsigned char *)c->out[0]->data;
  j.flip = X->dtype == ER_I8 ? 0x80 : 0;
  int64_t rows = X->dims[0] * j.w.out[1];
  int64_t per_row = j.w.out[2] * j.C * j.w.k[1] * j.w.k[2];
  er_parallel_for(c, rows, per_row > 0 ? 65536 / per_row + 1 : rows, nmp_rows, &j);
  return 0;
}
