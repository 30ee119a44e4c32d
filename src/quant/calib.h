/*
 * Calibration math for post-training quantization (host code): statistics of a float
 * tensor over many calibration samples, the ranges chosen from them, and the
 * scale/zero-point rules.
 *
 * Statistics (er_qstat): exact min/max, and optionally a histogram of the values on a
 * symmetric range [-R, R] with ER_QHIST_BINS bins. R is a power of two that doubles when a
 * larger value arrives (old bins merge in pairs exactly), so the histogram is built in one
 * pass over the samples and its bins always cover at least half of the data's extent with
 * ER_QHIST_BINS/4 bins per side.
 *
 * Ranges:
 *   min-max      [min, max]
 *   percentile   [the (100-P)th, the Pth] percentile of the values (P = 99.99 by default),
 *                each clipped to [min, max]
 *   entropy      TensorRT's KL-divergence threshold T on the histogram of |x|: the clip
 *                that loses least information when the clipped distribution is quantized
 *                to `levels` levels (128 per side when the data has both signs, 256 when it
 *                is one-signed); range [max(min, -T), min(max, T)]
 * Every range is then widened to contain 0, so that 0 is exactly representable.
 *
 * Quantization parameters:
 *   affine (activations)  scale = (rmax - rmin) / (qmax - qmin),
 *                         zero_point = round(qmin - rmin / scale) clamped to [qmin, qmax];
 *                         a zero-width range gives scale 1
 *   symmetric (weights)   scale = max|w| / qmax, zero_point 0 (int8 weights use [-127, 127])
 *   bias (int32)          scale = input_scale * weight_scale, zero_point 0; a weight scale
 *                         too small for the bias to fit int32 is raised (er_qbias_fit).
 * Rounding is to nearest, ties to even, like ONNX QuantizeLinear.
 */
#ifndef ER_QUANT_CALIB_H
#define ER_QUANT_CALIB_H
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

#define ER_QHIST_BINS 4096

typedef struct er_qstat {
  double min, max;  /* over the finite values seen (min > max while none) */
  int64_t count;    /* finite values seen */
  int64_t nonfinite;/* NaN / inf values seen (ignored by the statistics) */
  double range;     /* R: the histogram covers [-R, R); 0 before the first non-zero value */
  int64_t zeros;    /* zeros seen while range == 0 (moved into the histogram later) */
  double *bins;     /* ER_QHIST_BINS counts, or NULL when no histogram is kept */
} er_qstat;

enum { ER_CALIB_MINMAX = 0, ER_CALIB_PERCENTILE = 1, ER_CALIB_ENTROPY = 2 };

/* with_hist: keep a histogram (needed by percentile and entropy). */
er_status er_qstat_init(er_qstat *s, int with_hist);
void er_qstat_free(er_qstat *s);
void er_qstat_add(er_qstat *s, const float *x, int64_t n);

/* The float range [*lo, *hi] chosen by `method` (ER_CALIB_*); percentile in (50, 100].
 * Always lo <= 0 <= hi. Returns 0 if nothing was observed (then lo = hi = 0). */
int er_qstat_range(const er_qstat *s, int method, double percentile, double *lo, double *hi);

/* ---- histogram math (exposed for tests) ---- */
/* Percentile: index of the first bin at which the running sum of hist[0..] reaches
 * frac * total (frac in [0, 1]); -1 for an empty histogram. */
int er_hist_quantile_bin(const double *hist, int nbins, double frac);
/* TensorRT-style KL search over a histogram of |x| (bin 0 starts at 0): returns the number
 * of leading bins i (levels <= i <= last non-empty bin + 1) whose clip minimizes
 * KL(P_i || Q_i), Q_i being P_i quantized to `levels` levels. The threshold is the upper
 * edge of bin i-1. Returns the non-empty extent when it has <= levels bins. Bin 0 is
 * counted like bin 1 (the spike of exact zeros after a ReLU would otherwise decide). */
int er_hist_kl_bins(const double *hist, int nbins, int levels);

/* ---- quantization parameters ---- */
/* Affine parameters for [rmin, rmax] (widened to contain 0) on [qmin, qmax]. */
void er_qparams_affine(double rmin, double rmax, int qmin, int qmax, float *scale, int32_t *zp);
/* Symmetric scale for max|x| = absmax on [-qmax, qmax] (1 when absmax is 0). */
float er_qparams_symmetric(double absmax, int qmax);
/* round(x / scale) + zp, ties to even, saturated to [qmin, qmax]. */
int32_t er_quantize_value(float x, float scale, int32_t zp, int qmin, int qmax);
/* Weight scale for a channel whose bias must be quantized with scale in_scale * w_scale:
 * returns w_scale, raised if needed so that every |bias| / (in_scale * w_scale) fits int32
 * (with a margin). */
float er_qbias_fit(float w_scale, float in_scale, const float *bias, int64_t nbias);
/* Quantize a bias value to int32 with scale in_scale * w_scale (saturating). */
int32_t er_quantize_bias(float b, float in_scale, float w_scale);
#endif
