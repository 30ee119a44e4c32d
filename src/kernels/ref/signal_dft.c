/* DFT (opset 17: axis attribute; opset 20+: axis input), STFT (17), HannWindow,
 * HammingWindow, BlackmanWindow (17) and MelWeightMatrix (17).
 *
 * Transforms run in double: an iterative radix-2 FFT for power-of-two lengths, a direct
 * O(n^2) DFT with an exact twiddle table otherwise. Like the ONNX reference, `onesided`
 * keeps the first n/2+1 bins of the full (inverse) transform, also for complex input. */
#include "kernels/ref/signal_common.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const int k_float_types[] = {ER_F32, ER_F64, ER_F16, ER_BF16, 0};

/* Read a scalar (or 1-element) integer input. */
static er_status scalar_int(const er_tensor *t, const char *what, int64_t *out) {
  if (!er_dtype_is_signed_int(t->dtype) && !er_dtype_is_unsigned_int(t->dtype))
    return ER_ERR(ER_INVALID_ARGUMENT, "%s must be an integer tensor", what);
  if (er_tensor_numel(t) != 1) return ER_ERR(ER_INVALID_ARGUMENT, "%s must be a scalar", what);
  *out = er_load_i64(t->data, t->dtype, 0);
  return 0;
}

/* ---- FFT core ---------------------------------------------------------------------
 * buf: n complex values interleaved (re, im). tw: n complex twiddles exp(-2 pi i m / n).
 * tmp: n complex (direct DFT only). inverse: conjugate twiddles (no 1/n scaling here). */
static int is_pow2(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

static void make_twiddles(double *tw, int64_t n) {
  for (int64_t m = 0; m < n; m++) {
    double a = -2.0 * M_PI * (double)m / (double)n;
    tw[2 * m] = cos(a);
    tw[2 * m + 1] = sin(a);
  }
}

static void fft_inplace(double *buf, int64_t n, const double *tw, double *tmp, int inverse) {
  double sg = inverse ? -1.0 : 1.0;
  if (n <= 1) return;
  if (!is_pow2(n)) {
    for (int64_t k = 0; k < n; k++) {
      double re = 0, im = 0;
      int64_t m = 0; /* (j * k) mod n, updated incrementally */
      for (int64_t j = 0; j < n; j++) {
        double wr = tw[2 * m], wi = sg * tw[2 * m + 1];
        double xr = buf[2 * j], xi = buf[2 * j + 1];
        re += xr * wr - xi * wi;
        im += xr * wi + xi * wr;
        m += k;
        if (m >= n) m -= n;
      }
      tmp[2 * k] = re;
      tmp[2 * k + 1] = im;
    }
    memcpy(buf, tmp, (size_t)n * 2 * sizeof(double));
    return;
  }
  /* bit reversal */
  for (int64_t i = 1, j = 0; i < n; i++) {
    int64_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      double t0 = buf[2 * i], t1 = buf[2 * i + 1];
      buf[2 * i] = buf[2 * j], buf[2 * i + 1] = buf[2 * j + 1];
      buf[2 * j] = t0, buf[2 * j + 1] = t1;
    }
  }
  for (int64_t len = 2; len <= n; len <<= 1) {
    int64_t half = len >> 1, step = n / len;
    for (int64_t s = 0; s < n; s += len)
      for (int64_t k = 0; k < half; k++) {
        double wr = tw[2 * k * step], wi = sg * tw[2 * k * step + 1];
        double *a = buf + 2 * (s + k), *b = buf + 2 * (s + k + half);
        double br = b[0] * wr - b[1] * wi, bi = b[0] * wi + b[1] * wr;
        b[0] = a[0] - br, b[1] = a[1] - bi;
        a[0] += br, a[1] += bi;
      }
  }
}

static size_t fft_scratch(int64_t n) { return (size_t)n * 6 * sizeof(double); }

/* ---- DFT ---- */
typedef struct {
  int axis, inverse, onesided, cplx;
  int64_t n, nout;
} dft_params;

static er_status dft_parse(er_kctx *c, dft_params *p) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, c->opset >= 20 ? 3 : 2));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_float_types));
  const er_tensor *x = c->in[0];
  int r = x->rank;
  if (r < 2 || (x->dims[r - 1] != 1 && x->dims[r - 1] != 2))
    return ER_ERR(ER_INVALID_ARGUMENT, "input must have rank >= 2 with last dimension 1 (real) or 2 (complex)");
  p->cplx = x->dims[r - 1] == 2;
  int64_t axis;
  if (c->opset >= 20) {
    axis = -2;
    if (er_in(c, 2)) {
      if (!er_in_known(c, 2)) return er_needs_data(c);
      ER_RETURN_IF_ERROR(scalar_int(c->in[2], "axis", &axis));
    }
  } else {
    axis = er_attr_int(c, "axis", 1);
  }
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r - 2)
    return ER_ERR(ER_INVALID_ARGUMENT, "axis %lld is out of range for rank %d (last dim holds re/im)", (long long)axis, r);
  p->axis = (int)axis;
  p->inverse = (int)er_attr_int(c, "inverse", 0);
  p->onesided = (int)er_attr_int(c, "onesided", 0);
  if ((p->inverse != 0 && p->inverse != 1) || (p->onesided != 0 && p->onesided != 1))
    return ER_ERR(ER_INVALID_ARGUMENT, "inverse and onesided must be 0 or 1");
  p->n = x->dims[p->axis];
  if (er_in(c, 1)) {
    if (!er_in_known(c, 1)) return er_needs_data(c);
    ER_RETURN_IF_ERROR(scalar_int(c->in[1], "dft_length", &p->n));
    if (p->n < 1) return ER_ERR(ER_INVALID_ARGUMENT, "dft_length must be positive, got %lld", (long long)p->n);
    if (p->n > ((int64_t)1 << 40)) return ER_ERR(ER_OUT_OF_RANGE, "dft_length %lld is too large", (long long)p->n);
  }
  p->nout = p->onesided ? p->n / 2 + 1 : p->n;
  return 0;
}

er_status er_dft_infer(er_kctx *c) {
  dft_params p;
  ER_RETURN_IF_ERROR(dft_parse(c, &p));
  const er_tensor *x = c->in[0];
  int64_t d[ER_MAX_RANK];
  for (int i = 0; i < x->rank; i++) d[i] = x->dims[i];
  d[p.axis] = p.nout;
  d[x->rank - 1] = 2;
  er_tensor_set_shape(c->out[0], x->dtype, x->rank, d);
  ER_RETURN_IF_ERROR(er_shape_check(d, x->rank, x->dtype, (uint64_t)1 << 46));
  c->scratch_bytes = fft_scratch(p.n);
  return 0;
}

er_status er_dft_run(er_kctx *c) {
  dft_params p;
  ER_RETURN_IF_ERROR(dft_parse(c, &p));
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  int r = x->rank;
  int64_t outer = er_shape_numel(x->dims, p.axis);
  int64_t inner = er_shape_numel(x->dims + p.axis + 1, r - 2 - p.axis);
  int64_t len = x->dims[p.axis], n = p.n, comp = x->dims[r - 1];
  double *tw = (double *)c->scratch, *buf = tw + 2 * n, *tmp = buf + 2 * n;
  make_twiddles(tw, n);
  double scale = p.inverse ? 1.0 / (double)n : 1.0;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      for (int64_t j = 0; j < n; j++) {
        double re = 0, im = 0;
        if (j < len) {
          int64_t off = ((o * len + j) * inner + i) * comp;
          re = sig_ld(x->data, x->dtype, off);
          if (comp == 2) im = sig_ld(x->data, x->dtype, off + 1);
        }
        buf[2 * j] = re, buf[2 * j + 1] = im;
      }
      fft_inplace(buf, n, tw, tmp, p.inverse);
      for (int64_t k = 0; k < p.nout; k++) {
        int64_t off = ((o * p.nout + k) * inner + i) * 2;
        sig_st(y->data, y->dtype, off, buf[2 * k] * scale, 0);
        sig_st(y->data, y->dtype, off + 1, buf[2 * k + 1] * scale, 0);
      }
    }
  return 0;
}

/* ---- STFT ---- */
typedef struct {
  int64_t step, fl, frames, bins;
  int onesided;
} stft_params;

static er_status stft_parse(er_kctx *c, stft_params *p) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 4));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_float_types));
  const er_tensor *x = c->in[0], *win = er_in(c, 2), *flt = er_in(c, 3);
  if (x->rank != 3 || (x->dims[2] != 1 && x->dims[2] != 2))
    return ER_ERR(ER_INVALID_ARGUMENT, "signal must have shape [batch][length][1 or 2]");
  if (win) {
    ER_RETURN_IF_ERROR(er_check_type(c, 2, k_float_types));
    if (win->rank != 1) return ER_ERR(ER_INVALID_ARGUMENT, "window must be 1-D");
  }
  p->onesided = (int)er_attr_int(c, "onesided", 1);
  if (p->onesided != 0 && p->onesided != 1) return ER_ERR(ER_INVALID_ARGUMENT, "onesided must be 0 or 1");
  if (!er_in_known(c, 1) || (flt && !er_in_known(c, 3))) return er_needs_data(c);
  ER_RETURN_IF_ERROR(scalar_int(c->in[1], "frame_step", &p->step));
  if (p->step < 1) return ER_ERR(ER_INVALID_ARGUMENT, "frame_step must be positive, got %lld", (long long)p->step);
  if (flt) {
    ER_RETURN_IF_ERROR(scalar_int(flt, "frame_length", &p->fl));
    if (win && win->dims[0] != p->fl)
      return ER_ERR(ER_INVALID_ARGUMENT, "window length %lld differs from frame_length %lld",
                    (long long)win->dims[0], (long long)p->fl);
  } else {
    p->fl = win ? win->dims[0] : x->dims[1];
  }
  if (p->fl < 1 || p->fl > x->dims[1])
    return ER_ERR(ER_INVALID_ARGUMENT, "frame_length %lld must be in [1, signal length %lld]", (long long)p->fl,
                  (long long)x->dims[1]);
  p->frames = 1 + (x->dims[1] - p->fl) / p->step;
  p->bins = p->onesided ? p->fl / 2 + 1 : p->fl;
  return 0;
}

er_status er_stft_infer(er_kctx *c) {
  stft_params p;
  ER_RETURN_IF_ERROR(stft_parse(c, &p));
  int64_t d[4] = {c->in[0]->dims[0], p.frames, p.bins, 2};
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, 4, d);
  ER_RETURN_IF_ERROR(er_shape_check(d, 4, c->in[0]->dtype, (uint64_t)1 << 46));
  c->scratch_bytes = fft_scratch(p.fl);
  return 0;
}

er_status er_stft_run(er_kctx *c) {
  stft_params p;
  ER_RETURN_IF_ERROR(stft_parse(c, &p));
  const er_tensor *x = c->in[0], *win = er_in(c, 2);
  er_tensor *y = c->out[0];
  int64_t n = p.fl, L = x->dims[1], comp = x->dims[2];
  double *tw = (double *)c->scratch, *buf = tw + 2 * n, *tmp = buf + 2 * n;
  make_twiddles(tw, n);
  int64_t k = 0;
  for (int64_t b = 0; b < x->dims[0]; b++)
    for (int64_t f = 0; f < p.frames; f++) {
      for (int64_t j = 0; j < n; j++) {
        int64_t off = (b * L + f * p.step + j) * comp;
        double w = win ? sig_ld(win->data, win->dtype, j) : 1.0;
        buf[2 * j] = w * sig_ld(x->data, x->dtype, off);
        buf[2 * j + 1] = comp == 2 ? w * sig_ld(x->data, x->dtype, off + 1) : 0.0;
      }
      fft_inplace(buf, n, tw, tmp, 0);
      for (int64_t q = 0; q < p.bins; q++) {
        sig_st(y->data, y->dtype, k++, buf[2 * q], 0);
        sig_st(y->data, y->dtype, k++, buf[2 * q + 1], 0);
      }
    }
  return 0;
}

/* ---- windows ---- */
static const int k_out_types[] = {ER_U8, ER_U16, ER_U32, ER_U64, ER_I8, ER_I16, ER_I32, ER_I64,
                                  ER_F16, ER_F32, ER_F64, ER_BF16, 0};

static er_status out_dtype(er_kctx *c, int *dt) {
  int64_t v = er_attr_int(c, "output_datatype", ER_F32);
  for (const int *t = k_out_types; *t; t++)
    if (*t == v) {
      *dt = (int)v;
      return 0;
    }
  return ER_ERR(ER_INVALID_ARGUMENT, "unsupported output_datatype %lld", (long long)v);
}

static er_status window_parse(er_kctx *c, int64_t *size, int *dt, int *periodic) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(out_dtype(c, dt));
  int64_t per = er_attr_int(c, "periodic", 1);
  if (per != 0 && per != 1) return ER_ERR(ER_INVALID_ARGUMENT, "periodic must be 0 or 1");
  *periodic = (int)per;
  if (!er_in_known(c, 0)) return er_needs_data(c);
  ER_RETURN_IF_ERROR(scalar_int(c->in[0], "size", size));
  if (*size < 0) return ER_ERR(ER_INVALID_ARGUMENT, "size must not be negative, got %lld", (long long)*size);
  return 0;
}

er_status er_window_infer(er_kctx *c) {
  int64_t size;
  int dt = ER_F32, per = 1;
  ER_RETURN_IF_ERROR(window_parse(c, &size, &dt, &per));
  er_tensor_set_shape(c->out[0], dt, 1, &size);
  return er_shape_check(&size, 1, dt, (uint64_t)1 << 46);
}

er_status er_window_run(er_kctx *c) {
  int64_t size;
  int dt = ER_F32, per = 1;
  ER_RETURN_IF_ERROR(window_parse(c, &size, &dt, &per));
  const char *op = c->node->op_type;
  int kind = sig_streq(op, "HannWindow") ? 0 : sig_streq(op, "HammingWindow") ? 1 : 2;
  double N1 = (double)(per ? size : size - 1);
  for (int64_t i = 0; i < size; i++) {
    double v, a = 2.0 * M_PI * (double)i / N1;
    if (N1 == 0) v = 1.0; /* symmetric window of length 1 */
    else if (kind == 0) {
      double s = sin(M_PI * (double)i / N1);
      v = s * s;
    } else if (kind == 1) {
      v = 25.0 / 46.0 - (21.0 / 46.0) * cos(a);
    } else {
      v = 0.42 - 0.5 * cos(a) + 0.08 * cos(2.0 * a);
    }
    sig_st(c->out[0]->data, dt, i, v, 0);
  }
  return 0;
}

/* ---- MelWeightMatrix ---- */
static er_status mel_parse(er_kctx *c, int64_t *nmel, int64_t *dftlen, int *dt) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 5, 5));
  ER_RETURN_IF_ERROR(out_dtype(c, dt));
  ER_RETURN_IF_ERROR(er_check_type(c, 3, k_float_types));
  ER_RETURN_IF_ERROR(er_check_type(c, 4, k_float_types));
  if (!er_in_known(c, 0) || !er_in_known(c, 1)) return er_needs_data(c);
  ER_RETURN_IF_ERROR(scalar_int(c->in[0], "num_mel_bins", nmel));
  ER_RETURN_IF_ERROR(scalar_int(c->in[1], "dft_length", dftlen));
  if (*nmel < 1 || *dftlen < 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "num_mel_bins and dft_length must be positive");
  return 0;
}

er_status er_mel_infer(er_kctx *c) {
  int64_t nmel, dftlen;
  int dt = ER_F32;
  ER_RETURN_IF_ERROR(mel_parse(c, &nmel, &dftlen, &dt));
  int64_t d[2] = {dftlen / 2 + 1, nmel};
  er_tensor_set_shape(c->out[0], dt, 2, d);
  return er_shape_check(d, 2, dt, (uint64_t)1 << 46);
}

static double hz_to_mel(double f) { return 2595.0 * log10(1.0 + f / 700.0); }
static double mel_to_hz(double m) { return 700.0 * (pow(10.0, m / 2595.0) - 1.0); }

er_status er_mel_run(er_kctx *c) {
  int64_t nmel, dftlen, rate;
  int dt = ER_F32;
  ER_RETURN_IF_ERROR(mel_parse(c, &nmel, &dftlen, &dt));
  ER_RETURN_IF_ERROR(scalar_int(c->in[2], "sample_rate", &rate));
  if (rate < 1) return ER_ERR(ER_INVALID_ARGUMENT, "sample_rate must be positive");
  if (er_tensor_numel(c->in[3]) != 1 || er_tensor_numel(c->in[4]) != 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "lower_edge_hertz and upper_edge_hertz must be scalars");
  double lo = sig_ld(c->in[3]->data, c->in[3]->dtype, 0), hi = sig_ld(c->in[4]->data, c->in[4]->dtype, 0);
  if (!(lo >= 0 && hi >= lo && isfinite(hi)))
    return ER_ERR(ER_INVALID_ARGUMENT, "need 0 <= lower_edge_hertz <= upper_edge_hertz");
  int64_t nspec = dftlen / 2 + 1;
  er_tensor *y = c->out[0];
  for (int64_t i = 0; i < nspec * nmel; i++) sig_st(y->data, dt, i, 0.0, 0);
  double lm = hz_to_mel(lo), step = (hz_to_mel(hi) - lm) / (double)(nmel + 2);
  /* bin of frequency point i: floor((dft_length + 1) * hz / sample_rate), kept in double so
   * out-of-range edges cannot overflow; only bins inside [0, nspec) are written. */
  double top = (double)(nspec - 1);
  for (int64_t m = 0; m < nmel; m++) {
    double bins[3];
    for (int q = 0; q < 3; q++)
      bins[q] = floor((double)(dftlen + 1) * mel_to_hz((double)(m + q) * step + lm) / (double)rate);
    double lb = bins[0], cb = bins[1], hb = bins[2];
    if (cb == lb) {
      if (cb >= 0 && cb <= top) sig_st(y->data, dt, (int64_t)cb * nmel + m, 1.0, 0);
    } else {
      for (double j = fmax(lb, 0.0); j <= fmin(cb, top); j++)
        sig_st(y->data, dt, (int64_t)j * nmel + m, (j - lb) / (cb - lb), 0);
    }
    if (hb > cb)
      for (double j = fmax(cb, 0.0); j < fmin(hb, top + 1.0); j++)
        sig_st(y->data, dt, (int64_t)j * nmel + m, (hb - j) / (hb - cb), 0);
  }
  return 0;
}
