/* Calibration statistics, range selection and quantization parameters (see calib.h). */
#include "quant/calib.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

er_status er_qstat_init(er_qstat *s, int with_hist) {
  memset(s, 0, sizeof *s);
  s->min = INFINITY;
  s->max = -INFINITY;
  if (with_hist) {
    s->bins = (double *)calloc(ER_QHIST_BINS, sizeof(double));
    if (!s->bins) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory for calibration histograms");
  }
  return NULL;
}

void er_qstat_free(er_qstat *s) {
  free(s->bins);
  s->bins = NULL;
}

/* Bin of x in [-R, R): B/2 + floor(x / w), w = 2R / B, clamped (x == R lands in the last). */
static int bin_of(double x, double R) {
  double f = (x + R) / (2.0 * R) * ER_QHIST_BINS;
  int b = (int)floor(f);
  return b < 0 ? 0 : b >= ER_QHIST_BINS ? ER_QHIST_BINS - 1 : b;
}

/* Double R: old bin k covers [kw - R, (k+1)w - R) = new bin k/2 + B/4 exactly. */
static void widen(er_qstat *s) {
  double tmp[ER_QHIST_BINS];
  memset(tmp, 0, sizeof tmp);
  for (int k = 0; k < ER_QHIST_BINS; k++) tmp[k / 2 + ER_QHIST_BINS / 4] += s->bins[k];
  memcpy(s->bins, tmp, sizeof tmp);
  s->range *= 2.0;
}

void er_qstat_add(er_qstat *s, const float *x, int64_t n) {
  double lo = INFINITY, hi = -INFINITY;
  int64_t finite = 0;
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    if (!isfinite(v)) continue;
    finite++;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  s->nonfinite += n - finite;
  if (!finite) return;
  s->count += finite;
  if (lo < s->min) s->min = lo;
  if (hi > s->max) s->max = hi;
  if (!s->bins) return;
  double absmax = fmax(fabs(lo), fabs(hi));
  if (absmax > 0 && s->range == 0) {
    /* first non-zero data: the smallest power of two >= absmax */
    int e;
    double m = frexp(absmax, &e); /* absmax = m * 2^e, m in [0.5, 1) */
    s->range = ldexp(1.0, m == 0.5 ? e - 1 : e);
    if (s->zeros) s->bins[bin_of(0.0, s->range)] += (double)s->zeros;
    s->zeros = 0;
  }
  while (s->range > 0 && absmax > s->range) widen(s);
  if (s->range == 0) {
    s->zeros += finite; /* all zeros so far */
    return;
  }
  double R = s->range;
  for (int64_t i = 0; i < n; i++)
    if (isfinite(x[i])) s->bins[bin_of(x[i], R)] += 1.0;
}

int er_hist_quantile_bin(const double *hist, int nbins, double frac) {
  double total = 0;
  for (int i = 0; i < nbins; i++) total += hist[i];
  if (total <= 0) return -1;
  double target = frac * total, run = 0;
  for (int i = 0; i < nbins; i++) {
    run += hist[i];
    if (run >= target && hist[i] > 0) return i;
  }
  for (int i = nbins - 1; i >= 0; i--)
    if (hist[i] > 0) return i;
  return -1;
}

/* Replace zeros of a distribution by eps, taking the mass from the non-zero entries
 * (so that KL stays finite); p is normalized to sum 1 on return. 0 if p is all zero. */
static int smooth(double *p, int n) {
  double sum = 0;
  int nz = 0;
  for (int i = 0; i < n; i++) {
    sum += p[i];
    nz += p[i] > 0;
  }
  if (sum <= 0 || nz == 0) return 0;
  const double eps = 1e-4;
  int zeros = n - nz;
  double take = eps * zeros / nz;
  for (int i = 0; i < n; i++) {
    double v = p[i] / sum;
    p[i] = v > 0 ? v - take : eps;
    if (p[i] <= 0) p[i] = eps * 1e-3; /* a tiny entry cannot pay its share */
  }
  return 1;
}

int er_hist_kl_bins(const double *hist, int nbins, int levels) {
  int last = -1;
  for (int i = 0; i < nbins; i++)
    if (hist[i] > 0) last = i;
  int extent = last + 1;
  if (extent <= levels) return extent > 0 ? extent : nbins;
  double *p = (double *)malloc(sizeof(double) * (size_t)extent);
  double *q = (double *)malloc(sizeof(double) * (size_t)extent);
  double *qb = (double *)malloc(sizeof(double) * (size_t)levels);
  double *h = (double *)malloc(sizeof(double) * (size_t)extent);
  int best = extent;
  if (!p || !q || !qb || !h) goto done;
  /* The spike of exact zeros after a ReLU would dominate the divergence (merging it with
   * its neighbours costs more than any clipping gains): bin 0 counts like bin 1, as
   * NVIDIA's entropy calibrators do. */
  memcpy(h, hist, sizeof(double) * (size_t)extent);
  h[0] = h[1];
  /* suffix sums: outliers beyond bin i */
  double best_kl = INFINITY;
  double tail = 0;
  for (int i = levels; i < extent; i++) tail += h[i]; /* mass in [levels, extent) */
  for (int i = levels; i <= extent; i++) {
    if (i > levels) tail -= h[i - 1];
    /* P: first i bins, outliers folded into the last one */
    memcpy(p, h, sizeof(double) * (size_t)i);
    p[i - 1] += tail;
    /* Q: hist[0..i) merged into `levels` groups of floor(i/levels) or one more bins,
     * each group's mass spread back evenly over its non-empty bins */
    for (int j = 0; j < levels; j++) {
      int a = (int)((int64_t)j * i / levels), b = (int)((int64_t)(j + 1) * i / levels);
      double sum = 0;
      int nz = 0;
      for (int k = a; k < b; k++) {
        sum += h[k];
        nz += h[k] > 0;
      }
      qb[j] = nz ? sum / nz : 0;
      for (int k = a; k < b; k++) q[k] = h[k] > 0 ? qb[j] : 0;
    }
    if (!smooth(p, i) || !smooth(q, i)) continue;
    double kl = 0;
    for (int k = 0; k < i; k++) kl += p[k] * log(p[k] / q[k]);
    if (kl < best_kl) {
      best_kl = kl;
      best = i;
    }
  }
done:
  free(p);
  free(q);
  free(qb);
  free(h);
  return best;
}

int er_qstat_range(const er_qstat *s, int method, double percentile, double *lo, double *hi) {
  *lo = *hi = 0;
  if (s->count == 0) return 0;
  double mn = s->min, mx = s->max;
  if (method != ER_CALIB_MINMAX && s->bins && s->range > 0) {
    const int B = ER_QHIST_BINS;
    double w = 2.0 * s->range / B;
    if (method == ER_CALIB_PERCENTILE) {
      double p = percentile > 50 && percentile <= 100 ? percentile / 100.0 : 0.9999;
      int bl = er_hist_quantile_bin(s->bins, B, 1.0 - p);
      int bh = er_hist_quantile_bin(s->bins, B, p);
      if (bl >= 0) mn = fmax(mn, -s->range + bl * w);
      if (bh >= 0) mx = fmin(mx, -s->range + (bh + 1) * w);
    } else {
      double fold[ER_QHIST_BINS / 2];
      for (int k = 0; k < B / 2; k++) fold[k] = s->bins[B / 2 + k] + s->bins[B / 2 - 1 - k];
      int levels = (mn < 0 && mx > 0) ? 128 : 256;
      int i = er_hist_kl_bins(fold, B / 2, levels);
      double T = i * w;
      mn = fmax(mn, -T);
      mx = fmin(mx, T);
    }
  }
  *lo = fmin(mn, 0.0);
  *hi = fmax(mx, 0.0);
  return 1;
}

void er_qparams_affine(double rmin, double rmax, int qmin, int qmax, float *scale, int32_t *zp) {
  rmin = fmin(rmin, 0.0);
  rmax = fmax(rmax, 0.0);
  double s = (rmax - rmin) / (double)(qmax - qmin);
  float sf = (float)s;
  if (!(sf >= FLT_MIN) || !isfinite(sf)) {
    *scale = 1.0f;
    *zp = rmin < 0 && rmax == 0 ? qmax : qmin;
    return;
  }
  double z = nearbyint((double)qmin - rmin / (double)sf);
  if (z < qmin) z = qmin;
  if (z > qmax) z = qmax;
  *scale = sf;
  *zp = (int32_t)z;
}

float er_qparams_symmetric(double absmax, int qmax) {
  float s = (float)(absmax / qmax);
  return s >= FLT_MIN && isfinite(s) ? s : 1.0f;
}

int32_t er_quantize_value(float x, float scale, int32_t zp, int qmin, int qmax) {
  if (isnan(x)) return zp < qmin ? qmin : zp > qmax ? qmax : zp;
  double q = nearbyint((double)x / (double)scale) + zp;
  if (q < qmin) q = qmin;
  if (q > qmax) q = qmax;
  return (int32_t)q;
}

#define BIAS_LIMIT 2147483520.0 /* a float-exact margin under 2^31 - 1 */

float er_qbias_fit(float w_scale, float in_scale, const float *bias, int64_t nbias) {
  double amax = 0;
  for (int64_t i = 0; i < nbias; i++)
    if (isfinite(bias[i])) amax = fmax(amax, fabs(bias[i]));
  double bs = (double)in_scale * (double)w_scale;
  if (amax / bs <= BIAS_LIMIT) return w_scale;
  /* smallest float weight scale with amax / (in_scale * w) <= limit */
  float w = (float)(amax / BIAS_LIMIT / in_scale);
  while (amax / ((double)in_scale * w) > BIAS_LIMIT) w = nextafterf(w, INFINITY);
  return w;
}

int32_t er_quantize_bias(float b, float in_scale, float w_scale) {
  double s = (double)((float)((double)in_scale * w_scale));
  double q = isnan(b) ? 0 : nearbyint((double)b / s);
  if (q > 2147483647.0) q = 2147483647.0;
  if (q < -2147483648.0) q = -2147483648.0;
  return (int32_t)q;
}
