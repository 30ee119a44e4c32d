/* Resize (opset 10..) and Upsample (opset 7..; deprecated).
 *
 * Every resized axis gets a table of taps per output coordinate: input indices (clamped to
 * the edge) and weights, built from the coordinate transformation, the interpolation mode
 * (nearest / linear / cubic, optionally antialiased) and exclude_outside. An output element
 * is then the tensor product sum over the taps of all axes, accumulated in double. This
 * equals the nested 1-D formulation of the ONNX reference (tf_crop_and_resize: a coordinate
 * outside the crop on any axis yields extrapolation_value). Nearest mode copies elements
 * bit-exactly, so it works for every element type. Linear/cubic on integer types round to
 * nearest and saturate.
 *
 * Opset differences: Resize-10 and Upsample use the legacy behaviour (asymmetric
 * coordinates; nearest takes floor when upsampling and ceil when downsampling, like
 * onnxruntime); Resize-11+ has roi/scales/sizes inputs and the coordinate modes; Resize-18+
 * adds axes, keep_aspect_ratio_policy and antialias. Upsample-7/8 reads scales from the
 * attribute, Upsample-9+ from input 1.
 *
 * The output size from scales is floor(in * scale) (roi does not shrink it, like the ONNX
 * reference and onnxruntime). */
#include "kernels/ref/signal_common.h"

enum { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum { CT_HALF_PIXEL, CT_HALF_PIXEL_SYM, CT_PYTORCH, CT_ALIGN, CT_ASYM, CT_TF_CROP, CT_TF_NN };
enum { NM_ROUND_FLOOR, NM_ROUND_CEIL, NM_FLOOR, NM_CEIL, NM_LEGACY };

typedef struct {
  int upsample;             /* Upsample op (vs Resize) */
  int mode, ctm, nm, antialias, exclude_outside;
  double cubic_a, extrap;
  int rank;
  int64_t in_dims[ER_MAX_RANK], out_dims[ER_MAX_RANK];
  double scale[ER_MAX_RANK]; /* per axis, 1 for untouched axes */
  int resized[ER_MAX_RANK];  /* axis listed in axes (roi applies) */
  int roi_pos[ER_MAX_RANK];  /* index of the axis in roi's first half, -1 if none */
  int n_roi_axes;            /* roi length / 2 */
  int ntaps[ER_MAX_RANK];
} rs_params;

static int str_mode(const char *s, int *out) {
  if (sig_streq(s, "nearest")) *out = RS_NEAREST;
  else if (sig_streq(s, "linear") || sig_streq(s, "bilinear") || sig_streq(s, "trilinear"))
    *out = RS_LINEAR;
  else if (sig_streq(s, "cubic") || sig_streq(s, "bicubic")) *out = RS_CUBIC;
  else return 0;
  return 1;
}

static er_status read_scales(const er_tensor *t, double *out, int cap, int *n) {
  if (!er_dtype_is_float(t->dtype))
    return ER_ERR(ER_INVALID_ARGUMENT, "scales must be a float tensor, got %s",
                  er_dtype_name((er_dtype)t->dtype));
  if (t->rank > 1) return ER_ERR(ER_INVALID_ARGUMENT, "scales must be 1-D, got rank %d", t->rank);
  int64_t k = er_tensor_numel(t);
  if (k > cap) return ER_ERR(ER_INVALID_ARGUMENT, "scales has %lld values, more than rank %d", (long long)k, cap);
  for (int64_t i = 0; i < k; i++) out[i] = sig_ld(t->data, t->dtype, i);
  *n = (int)k;
  return 0;
}

/* Number of taps per output coordinate. */
static int tap_count(const rs_params *p, int d, int64_t *out_n) {
  int64_t n = 1;
  if (p->mode != RS_NEAREST) {
    n = p->mode == RS_LINEAR ? 2 : 4;
    if (p->antialias && p->scale[d] < 1.0) {
      double s = p->scale[d];
      double start = floor((p->mode == RS_LINEAR ? -1.0 : -2.0) / s) + 1.0;
      double nn = 2.0 - 2.0 * start;
      if (!(nn <= (double)(1 << 20))) return 0;
      n = (int64_t)nn;
    }
  }
  *out_n = n;
  return 1;
}

/* Parse attributes and inputs; fills p. Returns ER_NEEDS_DATA when the output size needs
 * input values that are unknown. */
static er_status rs_parse(er_kctx *c, rs_params *p) {
  memset(p, 0, sizeof *p);
  p->upsample = sig_streq(c->node->op_type, "Upsample");
  int legacy = p->upsample || c->opset < 11;
  const er_tensor *x = er_in(c, 0);
  if (!x) return ER_ERR(ER_INVALID_MODEL, "input X is missing");
  if (!er_dtype_is_numeric(x->dtype))
    return ER_ERR(ER_UNSUPPORTED, "input type %s is not supported", er_dtype_name((er_dtype)x->dtype));
  int r = p->rank = x->rank;
  if (r < 1) return ER_ERR(ER_INVALID_ARGUMENT, "input X must have rank >= 1");
  for (int d = 0; d < r; d++) {
    p->in_dims[d] = p->out_dims[d] = x->dims[d];
    p->scale[d] = 1.0;
    p->roi_pos[d] = -1;
  }

  const char *mode = er_attr_str(c, "mode", "nearest");
  if (!str_mode(mode, &p->mode) || (legacy && p->mode == RS_CUBIC))
    return ER_ERR(ER_INVALID_ARGUMENT, "unsupported mode '%s'", mode);
  if (legacy) {
    p->ctm = CT_ASYM;
    p->nm = NM_LEGACY;
  } else {
    const char *ct = er_attr_str(c, "coordinate_transformation_mode", "half_pixel");
    static const char *const cts[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                      "align_corners", "asymmetric", "tf_crop_and_resize",
                                      "tf_half_pixel_for_nn"};
    p->ctm = -1;
    for (int i = 0; i < 7; i++)
      if (sig_streq(ct, cts[i])) p->ctm = i;
    if (p->ctm < 0) return ER_ERR(ER_INVALID_ARGUMENT, "unsupported coordinate_transformation_mode '%s'", ct);
    const char *nm = er_attr_str(c, "nearest_mode", "round_prefer_floor");
    static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    p->nm = -1;
    for (int i = 0; i < 4; i++)
      if (sig_streq(nm, nms[i])) p->nm = i;
    if (p->nm < 0) return ER_ERR(ER_INVALID_ARGUMENT, "unsupported nearest_mode '%s'", nm);
    p->cubic_a = er_attr_float(c, "cubic_coeff_a", -0.75f);
    int64_t ex = er_attr_int(c, "exclude_outside", 0);
    if (ex != 0 && ex != 1) return ER_ERR(ER_INVALID_ARGUMENT, "exclude_outside must be 0 or 1");
    p->exclude_outside = (int)ex;
    p->extrap = er_attr_float(c, "extrapolation_value", 0.0f);
    if (c->opset >= 18) {
      int64_t aa = er_attr_int(c, "antialias", 0);
      if (aa != 0 && aa != 1) return ER_ERR(ER_INVALID_ARGUMENT, "antialias must be 0 or 1");
      p->antialias = (int)aa;
    }
  }

  /* axes (opset 18+) */
  int axes[ER_MAX_RANK], naxes = r;
  for (int d = 0; d < r; d++) axes[d] = d;
  if (!legacy && c->opset >= 18) {
    const int64_t *av;
    int n = er_attr_ints(c, "axes", &av);
    if (n >= 0) {
      if (n > r) return ER_ERR(ER_INVALID_ARGUMENT, "axes has %d entries for rank %d", n, r);
      int seen[ER_MAX_RANK] = {0};
      for (int i = 0; i < n; i++) {
        ER_RETURN_IF_ERROR(er_normalize_axis(av[i], r, &axes[i]));
        if (seen[axes[i]]++) return ER_ERR(ER_INVALID_ARGUMENT, "axis %lld is repeated in axes", (long long)av[i]);
      }
      naxes = n;
    }
  }
  for (int i = 0; i < naxes; i++) {
    p->resized[axes[i]] = 1;
    p->roi_pos[axes[i]] = i;
  }
  p->n_roi_axes = naxes;

  /* scales or sizes */
  double sc[ER_MAX_RANK];
  int nsc = -1;
  const er_tensor *sizes_t = NULL;
  if (p->upsample && c->opset < 9) {
    const float *f;
    nsc = er_attr_floats(c, "scales", &f);
    if (nsc < 0) return ER_ERR(ER_INVALID_MODEL, "attribute 'scales' is required");
    if (nsc > ER_MAX_RANK) return ER_ERR(ER_INVALID_ARGUMENT, "too many scales");
    for (int i = 0; i < nsc; i++) sc[i] = f[i];
  } else {
    const er_tensor *st = legacy ? er_in(c, 1) : er_in(c, 2);
    const er_tensor *zt = legacy ? NULL : er_in(c, 3);
    if (st && er_tensor_numel(st) == 0 && st->rank == 1) st = NULL;
    if (zt && er_tensor_numel(zt) == 0 && zt->rank == 1) zt = NULL;
    if (st && zt) return ER_ERR(ER_INVALID_ARGUMENT, "only one of 'scales' and 'sizes' may be given");
    if (!st && !zt) return ER_ERR(ER_INVALID_MODEL, "one of 'scales' and 'sizes' is required");
    if (st) {
      if (!st->data) return er_needs_data(c);
      ER_RETURN_IF_ERROR(read_scales(st, sc, ER_MAX_RANK, &nsc));
    } else {
      if (!zt->data) return er_needs_data(c);
      sizes_t = zt;
    }
  }
  const char *policy = (!legacy && c->opset >= 18) ? er_attr_str(c, "keep_aspect_ratio_policy", "stretch") : "stretch";
  int pol = sig_streq(policy, "stretch") ? 0 : sig_streq(policy, "not_larger") ? 1 : sig_streq(policy, "not_smaller") ? 2 : -1;
  if (pol < 0) return ER_ERR(ER_INVALID_ARGUMENT, "unsupported keep_aspect_ratio_policy '%s'", policy);

  if (sizes_t) {
    int64_t sz[ER_MAX_RANK];
    int n;
    ER_RETURN_IF_ERROR(er_read_ints(sizes_t, sz, ER_MAX_RANK, &n));
    if (n != naxes) return ER_ERR(ER_INVALID_ARGUMENT, "sizes has %d values, expected %d", n, naxes);
    for (int i = 0; i < n; i++)
      if (sz[i] < 0) return ER_ERR(ER_INVALID_ARGUMENT, "sizes[%d] = %lld is negative", i, (long long)sz[i]);
    if (pol == 0) {
      for (int i = 0; i < n; i++) {
        int d = axes[i];
        p->out_dims[d] = sz[i];
        p->scale[d] = p->in_dims[d] ? (double)sz[i] / (double)p->in_dims[d] : 1.0;
      }
    } else {
      double s = pol == 1 ? INFINITY : 0.0;
      for (int i = 0; i < n; i++) {
        int d = axes[i];
        if (p->in_dims[d] == 0) continue;
        double si = (double)sz[i] / (double)p->in_dims[d];
        s = pol == 1 ? fmin(s, si) : fmax(s, si);
      }
      if (isinf(s)) s = 1.0;
      for (int i = 0; i < n; i++) {
        int d = axes[i];
        double v = s * (double)p->in_dims[d] + 0.5;
        if (!(v < 9e15)) return ER_ERR(ER_OUT_OF_RANGE, "output size too large");
        p->out_dims[d] = (int64_t)v;
        p->scale[d] = s;
      }
    }
  } else {
    if (pol != 0) return ER_ERR(ER_INVALID_ARGUMENT, "keep_aspect_ratio_policy needs 'sizes', not 'scales'");
    if (nsc != naxes) return ER_ERR(ER_INVALID_ARGUMENT, "scales has %d values, expected %d", nsc, naxes);
    for (int i = 0; i < nsc; i++) {
      int d = axes[i];
      if (!(sc[i] > 0) || isinf(sc[i]))
        return ER_ERR(ER_INVALID_ARGUMENT, "scales[%d] = %g must be positive and finite", i, sc[i]);
      double v = floor(sc[i] * (double)p->in_dims[d]);
      if (!(v < 9e15)) return ER_ERR(ER_OUT_OF_RANGE, "output size too large");
      p->out_dims[d] = (int64_t)v;
      p->scale[d] = sc[i];
    }
  }
  for (int d = 0; d < r; d++) {
    if (p->in_dims[d] == 0 && p->out_dims[d] > 0)
      return ER_ERR(ER_INVALID_ARGUMENT, "cannot resize empty axis %d to %lld", d, (long long)p->out_dims[d]);
    int64_t n;
    if (!tap_count(p, d, &n)) return ER_ERR(ER_UNSUPPORTED, "antialias scale %g is too small", p->scale[d]);
    p->ntaps[d] = (int)n;
  }

  if (p->ctm == CT_TF_CROP) {
    const er_tensor *roi = er_in(c, 1);
    if (!roi || er_tensor_numel(roi) == 0)
      return ER_ERR(ER_INVALID_MODEL, "tf_crop_and_resize needs the 'roi' input");
    if (!er_dtype_is_float(roi->dtype)) return ER_ERR(ER_INVALID_ARGUMENT, "roi must be a float tensor");
    if (er_tensor_numel(roi) != 2 * naxes)
      return ER_ERR(ER_INVALID_ARGUMENT, "roi has %lld values, expected %d", (long long)er_tensor_numel(roi), 2 * naxes);
  }
  return 0;
}

/* Source coordinate of output coordinate x on axis d. *outside set for tf_crop_and_resize
 * coordinates outside the input. */
static double src_coord(const rs_params *p, int d, int64_t xi, double roi_s, double roi_e, int *outside) {
  double x = (double)xi, in = (double)p->in_dims[d], s = p->scale[d];
  double ow = s * in; /* fractional output width, as the reference uses it */
  double xo;
  *outside = 0;
  switch (p->ctm) {
    case CT_HALF_PIXEL: xo = (x + 0.5) / s - 0.5; break;
    case CT_HALF_PIXEL_SYM: {
      double adj = (double)p->out_dims[d] / ow;
      double off = in / 2.0 * (1.0 - adj);
      xo = off + (x + 0.5) / s - 0.5;
      break;
    }
    case CT_PYTORCH: xo = p->out_dims[d] > 1 ? (x + 0.5) / s - 0.5 : 0.0; break;
    case CT_ALIGN: xo = ow == 1.0 ? 0.0 : x * (in - 1.0) / (ow - 1.0); break;
    case CT_TF_CROP:
      if (ow == 1.0) xo = (roi_e - roi_s) * (in - 1.0) / 2.0;
      else xo = x * (roi_e - roi_s) * (in - 1.0) / (ow - 1.0);
      xo += roi_s * (in - 1.0);
      if (xo < 0 || xo > in - 1.0) *outside = 1;
      break;
    case CT_TF_NN: xo = (x + 0.5) / s; break;
    default: xo = x / s; break; /* asymmetric */
  }
  return xo;
}

static double cubic_k(double x, double A) {
  x = fabs(x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0.0;
}

/* Per-axis tap tables in scratch. */
typedef struct {
  int64_t *idx;  /* [out * n] input index times input stride */
  double *w;     /* [out * n] */
  int32_t *cnt;  /* [out] taps used, -1 = outside (extrapolation) */
} rs_taps;

static size_t taps_bytes(int64_t out, int n) {
  size_t b = (size_t)out * (size_t)n * (sizeof(int64_t) + sizeof(double)) + (size_t)out * sizeof(int32_t);
  return (b + 15) & ~(size_t)15;
}

static void build_taps(const rs_params *p, int d, int64_t stride, double roi_s, double roi_e, rs_taps *t) {
  int n = p->ntaps[d];
  int64_t in = p->in_dims[d];
  double s = p->scale[d];
  for (int64_t xo_i = 0; xo_i < p->out_dims[d]; xo_i++) {
    int outside;
    double x = src_coord(p, d, xo_i, roi_s, roi_e, &outside);
    int64_t *ix = t->idx + xo_i * n;
    double *w = t->w + xo_i * n;
    if (outside) {
      t->cnt[xo_i] = -1;
      continue;
    }
    if (p->mode == RS_NEAREST) {
      double f = floor(x);
      int64_t i;
      if (x == f) i = (int64_t)f;
      else {
        double ratio = x - f;
        switch (p->nm) {
          case NM_ROUND_FLOOR: i = (int64_t)f + (ratio > 0.5); break;
          case NM_ROUND_CEIL: i = (int64_t)f + (ratio >= 0.5); break;
          case NM_FLOOR: i = (int64_t)f; break;
          case NM_CEIL: i = (int64_t)f + 1; break;
          default: i = (int64_t)f + (s < 1.0); break; /* legacy: ceil when downsampling */
        }
      }
      if (i < 0) i = 0;
      if (i > in - 1) i = in - 1;
      ix[0] = i * stride;
      w[0] = 1.0;
      t->cnt[xo_i] = 1;
      continue;
    }
    double cx = ceil(x);
    double ratio = x - (cx - 1.0); /* in (0, 1] */
    int64_t first = (int64_t)cx - n / 2;
    double sum = 0;
    for (int j = 0; j < n; j++) {
      double wj;
      if (p->antialias && s < 1.0) {
        double arg = ((double)(1 - n / 2 + j) - ratio) * s;
        wj = p->mode == RS_LINEAR ? fmax(0.0, 1.0 - fabs(arg)) : cubic_k(arg, p->cubic_a);
      } else if (p->mode == RS_LINEAR) {
        wj = j == 0 ? 1.0 - ratio : ratio;
      } else {
        double A = p->cubic_a, r = ratio;
        switch (j) {
          case 0: wj = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A; break;
          case 1: wj = ((A + 2) * r - (A + 3)) * r * r + 1; break;
          case 2: wj = ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1; break;
          default: wj = ((A * ((1 - r) + 1) - 5 * A) * ((1 - r) + 1) + 8 * A) * ((1 - r) + 1) - 4 * A; break;
        }
      }
      int64_t pj = first + j;
      if (p->exclude_outside && (pj < 0 || pj >= in)) wj = 0;
      w[j] = wj;
      sum += wj;
    }
    int normalize = (p->antialias && s < 1.0) || p->exclude_outside;
    int k = 0;
    for (int j = 0; j < n; j++) {
      double wj = w[j];
      if (normalize && sum != 0) wj /= sum;
      if (wj == 0) continue;
      int64_t pj = first + j;
      if (pj < 0) pj = 0;
      if (pj > in - 1) pj = in - 1;
      /* merge with the previous tap on the same (edge-clamped) index */
      if (k > 0 && ix[k - 1] == pj * stride) {
        w[k - 1] += wj;
        continue;
      }
      ix[k] = pj * stride;
      w[k] = wj;
      k++;
    }
    t->cnt[xo_i] = k;
  }
}

er_status er_resize_infer(er_kctx *c) {
  rs_params p;
  ER_RETURN_IF_ERROR(rs_parse(c, &p));
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, p.rank, p.out_dims);
  ER_RETURN_IF_ERROR(er_shape_check(p.out_dims, p.rank, c->in[0]->dtype, (uint64_t)1 << 46));
  size_t b = 0;
  for (int d = 0; d < p.rank; d++) b += taps_bytes(p.out_dims[d], p.ntaps[d]);
  c->scratch_bytes = b;
  return 0;
}

typedef struct {
  const rs_params *p;
  const rs_taps *t;
  const void *x;
  int dt;
  const int64_t *o; /* output coordinate */
} rs_acc;

static double accum(const rs_acc *a, int d, int64_t off, double w) {
  if (d == a->p->rank) return w * sig_ld(a->x, a->dt, off);
  const rs_taps *t = &a->t[d];
  int n = a->p->ntaps[d];
  int64_t o = a->o[d];
  int k = t->cnt[o];
  double s = 0;
  for (int j = 0; j < k; j++) s += accum(a, d + 1, off + t->idx[o * n + j], w * t->w[o * n + j]);
  return s;
}

/* Nearest mode without extrapolation: the trailing axes that map every output index to the
 * same input index form blocks of B contiguous elements; the output is runs along the last
 * other axis L (out_dims[L] blocks, each copied from its input offset), one run per
 * coordinate of the axes before L. A run whose source equals the previous run's (an
 * upsampled row) is a copy of that output run. Runs are split over threads (each run is a
 * plain copy, so the split does not change the result). */
typedef struct {
  const rs_params *p;
  const rs_taps *t;
  const char *x;
  char *y;
  size_t es;
  int L;      /* last non-identity axis */
  int64_t B;  /* elements per block (product of the identity axes after L) */
} rs_near_job;

static void rs_near_runs(void *arg, int64_t r0, int64_t r1) {
  const rs_near_job *j = (const rs_near_job *)arg;
  const rs_params *p = j->p;
  const int L = j->L;
  const int64_t n = p->out_dims[L], *ix = j->t[L].idx;
  const size_t bb = (size_t)j->B * j->es, run = (size_t)n * bb;
  int64_t o[ER_MAX_RANK], t = r0, prev = -1;
  for (int d = L - 1; d >= 0; d--) o[d] = t % p->out_dims[d], t /= p->out_dims[d];
  for (int64_t r = r0; r < r1; r++) {
    int64_t base = 0;
    for (int d = 0; d < L; d++) base += j->t[d].idx[o[d]];
    char *dst = j->y + (size_t)r * run;
    if (r > r0 && base == prev) {
      memcpy(dst, dst - run, run);
    } else if (j->es == 4 && j->B == 1) {
      const uint32_t *src = (const uint32_t *)j->x + base;
      uint32_t *d32 = (uint32_t *)dst;
      for (int64_t i = 0; i < n; i++) d32[i] = src[ix[i]];
    } else {
      const char *src = j->x + (size_t)base * j->es;
      for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * bb, src + (size_t)ix[i] * j->es, bb);
    }
    prev = base;
    for (int d = L - 1; d >= 0; d--) {
      if (++o[d] < p->out_dims[d]) break;
      o[d] = 0;
    }
  }
}

/* Test hook: non-zero disables the nearest fast path (unit tests compare both paths). */
int er_resize_fast_disabled;

static int rs_nearest_fast(er_kctx *c, const rs_params *p, const rs_taps *t, const int64_t *istr) {
  const int r = p->rank;
  if (er_resize_fast_disabled) return 0;
  for (int d = 0; d < r; d++)
    for (int64_t i = 0; i < p->out_dims[d]; i++)
      if (t[d].cnt[i] != 1) return 0; /* extrapolated coordinates */
  int L = r - 1;
  int64_t B = 1;
  for (; L >= 0; L--) {
    int ident = p->out_dims[L] == p->in_dims[L];
    for (int64_t i = 0; ident && i < p->out_dims[L]; i++) ident = t[L].idx[i] == i * istr[L];
    if (!ident) break;
    B *= p->out_dims[L];
  }
  rs_near_job j = {p, t, (const char *)c->in[0]->data, (char *)c->out[0]->data, er_dtype_size(c->in[0]->dtype), L, B};
  if (L < 0) {
    memcpy(j.y, j.x, (size_t)B * j.es);
    return 1;
  }
  int64_t runs = 1;
  for (int d = 0; d < L; d++) runs *= p->out_dims[d];
  const int64_t run_bytes = p->out_dims[L] * B * (int64_t)j.es;
  const int64_t grain = run_bytes >= 65536 ? 1 : 65536 / (run_bytes > 0 ? run_bytes : 1);
  er_parallel_for(c, runs, grain, rs_near_runs, &j);
  return 1;
}

er_status er_resize_run(er_kctx *c) {
  rs_params p;
  ER_RETURN_IF_ERROR(rs_parse(c, &p));
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  int r = p.rank;
  int64_t total = er_tensor_numel(y);
  if (total == 0) return 0;
  int64_t istr[ER_MAX_RANK];
  er_contiguous_strides(p.in_dims, r, istr);

  double roi[2 * ER_MAX_RANK];
  const er_tensor *roit = p.ctm == CT_TF_CROP ? er_in(c, 1) : NULL;
  if (roit)
    for (int i = 0; i < 2 * p.n_roi_axes; i++) roi[i] = sig_ld(roit->data, roit->dtype, i);

  rs_taps taps[ER_MAX_RANK];
  char *sp = (char *)c->scratch;
  for (int d = 0; d < r; d++) {
    size_t n = (size_t)p.out_dims[d] * (size_t)p.ntaps[d];
    taps[d].idx = (int64_t *)sp;
    taps[d].w = (double *)(sp + n * sizeof(int64_t));
    taps[d].cnt = (int32_t *)(sp + n * (sizeof(int64_t) + sizeof(double)));
    sp += taps_bytes(p.out_dims[d], p.ntaps[d]);
    double rs = 0, re = 1;
    if (roit && p.roi_pos[d] >= 0) {
      rs = roi[p.roi_pos[d]];
      re = roi[p.n_roi_axes + p.roi_pos[d]];
    }
    if (p.ctm == CT_TF_CROP && !p.resized[d]) {
      rs = 0, re = 1;
    }
    build_taps(&p, d, istr[d], rs, re, &taps[d]);
  }

  if (p.mode == RS_NEAREST && rs_nearest_fast(c, &p, taps, istr)) return 0;

  int64_t o[ER_MAX_RANK] = {0};
  size_t es = er_dtype_size(x->dtype);
  rs_acc acc = {&p, taps, x->data, x->dtype, o};
  for (int64_t k = 0; k < total; k++) {
    int outside = 0;
    for (int d = 0; d < r; d++)
      if (taps[d].cnt[o[d]] < 0) outside = 1;
    if (outside) {
      sig_st(y->data, y->dtype, k, p.extrap, 1);
    } else if (p.mode == RS_NEAREST) {
      int64_t off = 0;
      for (int d = 0; d < r; d++) off += taps[d].idx[o[d]];
      memcpy((char *)y->data + (size_t)k * es, (const char *)x->data + (size_t)off * es, es);
    } else {
      sig_st(y->data, y->dtype, k, accum(&acc, 0, 0, 1.0), 1);
    }
    for (int d = r - 1; d >= 0; d--) {
      if (++o[d] < p.out_dims[d]) break;
      o[d] = 0;
    }
  }
  return 0;
}
