/* GridSample (opset 16: 2-D, modes bilinear/nearest/bicubic; opset 20+: N-D, modes
 * linear/nearest/cubic — both spellings are accepted in every opset) and AffineGrid (20).
 *
 * GridSample follows the ONNX reference (itself PyTorch's grid_sampler): coordinates are
 * denormalized per align_corners; nearest rounds half to even; coordinates outside the
 * borders are clamped (border) or reflected (reflection) before interpolation, and taps
 * that still fall outside are 0 (zeros), clamped (border) or reflected again (reflection).
 * Cubic uses Keys' kernel with a = -0.75. Everything is computed in double; integer outputs
 * are truncated (the spec's "cast") and saturated. */
#include "kernels/ref/signal_common.h"

enum { GS_LINEAR, GS_NEAREST, GS_CUBIC };
enum { PAD_ZEROS, PAD_BORDER, PAD_REFLECTION };

typedef struct {
  int mode, pad, align, r; /* r = number of spatial dims */
} gs_params;

static er_status gs_parse(er_kctx *c, gs_params *p) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  const er_tensor *x = c->in[0], *g = c->in[1];
  const char *mode = er_attr_str(c, "mode", c->opset >= 20 ? "linear" : "bilinear");
  if (sig_streq(mode, "linear") || sig_streq(mode, "bilinear")) p->mode = GS_LINEAR;
  else if (sig_streq(mode, "nearest")) p->mode = GS_NEAREST;
  else if (sig_streq(mode, "cubic") || sig_streq(mode, "bicubic")) p->mode = GS_CUBIC;
  else return ER_ERR(ER_INVALID_ARGUMENT, "unsupported mode '%s'", mode);
  const char *pad = er_attr_str(c, "padding_mode", "zeros");
  if (sig_streq(pad, "zeros")) p->pad = PAD_ZEROS;
  else if (sig_streq(pad, "border")) p->pad = PAD_BORDER;
  else if (sig_streq(pad, "reflection")) p->pad = PAD_REFLECTION;
  else return ER_ERR(ER_INVALID_ARGUMENT, "unsupported padding_mode '%s'", pad);
  int64_t al = er_attr_int(c, "align_corners", 0);
  if (al != 0 && al != 1) return ER_ERR(ER_INVALID_ARGUMENT, "align_corners must be 0 or 1");
  p->align = (int)al;
  if (!er_dtype_is_numeric(x->dtype))
    return ER_ERR(ER_UNSUPPORTED, "input X of type %s is not supported", er_dtype_name((er_dtype)x->dtype));
  if (!er_dtype_is_float(g->dtype) || er_dtype_size(g->dtype) < 2)
    return ER_ERR(ER_INVALID_ARGUMENT, "grid must be a float tensor, got %s", er_dtype_name((er_dtype)g->dtype));
  if (x->rank < 3) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 3, got %d", x->rank);
  if (c->opset < 20 && x->rank != 4)
    return ER_ERR(ER_INVALID_ARGUMENT, "GridSample-%d supports 4-D input only, got rank %d", c->opset, x->rank);
  p->r = x->rank - 2;
  if (p->mode == GS_CUBIC && p->r > 4) return ER_ERR(ER_UNSUPPORTED, "cubic mode with %d spatial dims", p->r);
  if (g->rank != x->rank || g->dims[g->rank - 1] != p->r || g->dims[0] != x->dims[0])
    return ER_ERR(ER_INVALID_ARGUMENT, "grid must have shape (N, D1_out.., %d) with N = %lld", p->r,
                  (long long)x->dims[0]);
  return 0;
}

er_status er_gridsample_infer(er_kctx *c) {
  gs_params p;
  ER_RETURN_IF_ERROR(gs_parse(c, &p));
  const er_tensor *x = c->in[0], *g = c->in[1];
  int64_t d[ER_MAX_RANK];
  d[0] = x->dims[0];
  d[1] = x->dims[1];
  for (int i = 0; i < p.r; i++) d[2 + i] = g->dims[1 + i];
  er_tensor_set_shape(c->out[0], x->dtype, x->rank, d);
  return 0;
}

static double gs_reflect(double x, double lo, double hi) {
  double rng = hi - lo;
  if (!(rng > 0)) return lo;
  if (x < lo) {
    double dx = lo - x, n = floor(dx / rng), r = dx - n * rng;
    return fmod(n, 2.0) == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    double dx = x - hi, n = floor(dx / rng), r = dx - n * rng;
    return fmod(n, 2.0) == 0 ? hi - r : lo + r;
  }
  return x;
}

static void cubic_coeffs(double t, double *w) {
  const double A = -0.75;
  t = fabs(t);
  w[0] = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
  w[2] = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
  w[3] = ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A;
}

/* Map an integer tap index into the input (or -1 = zero) per padding mode. */
static int64_t gs_tap(int64_t i, int64_t len, int pad, double lo, double hi) {
  if (i >= 0 && i < len) return i;
  if (pad == PAD_ZEROS) return -1;
  if (pad == PAD_BORDER) return i < 0 ? 0 : len - 1;
  int64_t j = (int64_t)gs_reflect((double)i, lo, hi);
  if (j < 0) j = 0;
  if (j > len - 1) j = len - 1;
  return j;
}

er_status er_gridsample_run(er_kctx *c) {
  gs_params p;
  ER_RETURN_IF_ERROR(gs_parse(c, &p));
  const er_tensor *x = c->in[0], *g = c->in[1];
  er_tensor *y = c->out[0];
  int r = p.r;
  int64_t N = x->dims[0], C = x->dims[1];
  const int64_t *in_sp = x->dims + 2;
  int64_t in_plane = er_shape_numel(in_sp, r);
  int64_t out_plane = er_shape_numel(g->dims + 1, r);
  int64_t istr[ER_MAX_RANK];
  er_contiguous_strides(in_sp, r, istr);
  for (int i = 0; i < r; i++)
    if (in_sp[i] == 0 && out_plane > 0 && C > 0) return ER_ERR(ER_INVALID_ARGUMENT, "X has an empty spatial dimension");
  int ntap = p.mode == GS_NEAREST ? 1 : p.mode == GS_LINEAR ? 2 : 4;
  int64_t ncomb = 1;
  for (int i = 0; i < r; i++) ncomb *= ntap;

  for (int64_t n = 0; n < N; n++) {
    for (int64_t o = 0; o < out_plane; o++) {
      int64_t tidx[ER_MAX_RANK][4];
      double tw[ER_MAX_RANK][4];
      for (int i = 0; i < r; i++) {
        int64_t len = in_sp[i];
        double gv = sig_ld(g->data, g->dtype, (n * out_plane + o) * r + (r - 1 - i));
        double xv = p.align ? (gv + 1) / 2.0 * (double)(len - 1) : ((gv + 1) * (double)len - 1) / 2.0;
        double lo = p.align ? 0.0 : -0.5, hi = p.align ? (double)len - 1 : (double)len - 0.5;
        if (p.mode == GS_NEAREST) xv = nearbyint(xv);
        if (xv != xv) xv = p.pad == PAD_ZEROS ? -1e9 : 0.0; /* NaN: zero sample / first pixel */
        if (xv < lo || xv > hi) {
          if (p.pad == PAD_BORDER) xv = xv < 0 ? 0 : xv > (double)(len - 1) ? (double)(len - 1) : xv;
          else if (p.pad == PAD_REFLECTION) xv = gs_reflect(xv, lo, hi);
        }
        /* far outside (zeros padding): keep outside without overflowing integer conversion */
        if (xv < -16.0) xv = -16.0;
        if (xv > (double)len + 16.0) xv = (double)len + 16.0;
        if (p.mode == GS_NEAREST) {
          tidx[i][0] = gs_tap((int64_t)xv, len, p.pad, lo, hi);
          tw[i][0] = 1.0;
        } else {
          double f = floor(xv), t = xv - f;
          int64_t x0 = (int64_t)f;
          if (p.mode == GS_LINEAR) {
            tw[i][0] = 1 - t;
            tw[i][1] = t;
            for (int j = 0; j < 2; j++) tidx[i][j] = gs_tap(x0 + j, len, p.pad, lo, hi);
          } else {
            cubic_coeffs(t, tw[i]);
            for (int j = 0; j < 4; j++) tidx[i][j] = gs_tap(x0 - 1 + j, len, p.pad, lo, hi);
          }
        }
      }
      for (int64_t ch = 0; ch < C; ch++) {
        int64_t base = (n * C + ch) * in_plane;
        double acc = 0;
        for (int64_t k = 0; k < ncomb; k++) {
          int64_t kk = k, off = base;
          double w = 1;
          int valid = 1;
          for (int i = r - 1; i >= 0; i--) {
            int j = (int)(kk % ntap);
            kk /= ntap;
            if (tidx[i][j] < 0) {
              valid = 0;
              break;
            }
            off += tidx[i][j] * istr[i];
            w *= tw[i][j];
          }
          if (valid && w != 0) acc += w * sig_ld(x->data, x->dtype, off);
        }
        sig_st(y->data, y->dtype, (n * C + ch) * out_plane + o, acc, 0);
      }
    }
  }
  return 0;
}

/* ---- AffineGrid ---- */
static er_status ag_size(er_kctx *c, int64_t *sz, int *nsz) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  const er_tensor *th = c->in[0];
  if (!er_dtype_is_float(th->dtype) || er_dtype_size(th->dtype) < 2)
    return ER_ERR(ER_INVALID_ARGUMENT, "theta must be a float tensor");
  if (!er_in_known(c, 1)) return er_needs_data(c);
  ER_RETURN_IF_ERROR(er_read_ints(c->in[1], sz, 5, nsz));
  int nd = *nsz - 2;
  if (nd != 2 && nd != 3) return ER_ERR(ER_INVALID_ARGUMENT, "size must have 4 (2-D) or 5 (3-D) values, got %d", *nsz);
  if (th->rank != 3 || th->dims[0] != sz[0] || th->dims[1] != nd || th->dims[2] != nd + 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "theta must have shape (%lld, %d, %d)", (long long)sz[0], nd, nd + 1);
  for (int i = 0; i < *nsz; i++)
    if (sz[i] < 0) return ER_ERR(ER_INVALID_ARGUMENT, "size[%d] is negative", i);
  int64_t al = er_attr_int(c, "align_corners", 0);
  if (al != 0 && al != 1) return ER_ERR(ER_INVALID_ARGUMENT, "align_corners must be 0 or 1");
  return 0;
}

er_status er_affinegrid_infer(er_kctx *c) {
  int64_t sz[5];
  int n;
  ER_RETURN_IF_ERROR(ag_size(c, sz, &n));
  int nd = n - 2;
  int64_t d[5];
  d[0] = sz[0];
  for (int i = 0; i < nd; i++) d[1 + i] = sz[2 + i];
  d[1 + nd] = nd;
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, nd + 2, d);
  return er_shape_check(d, nd + 2, c->in[0]->dtype, (uint64_t)1 << 46);
}

static double ag_base(int64_t i, int64_t len, int align) {
  if (len <= 1) return 0.0;
  if (align) return -1.0 + 2.0 * (double)i / (double)(len - 1);
  return -1.0 + (2.0 * (double)i + 1.0) / (double)len;
}

er_status er_affinegrid_run(er_kctx *c) {
  int64_t sz[5];
  int n;
  ER_RETURN_IF_ERROR(ag_size(c, sz, &n));
  int nd = n - 2, align = (int)er_attr_int(c, "align_corners", 0);
  const er_tensor *th = c->in[0];
  er_tensor *y = c->out[0];
  int64_t D = nd == 3 ? sz[2] : 1, H = sz[n - 2], W = sz[n - 1];
  int64_t k = 0;
  for (int64_t b = 0; b < sz[0]; b++) {
    double t[12];
    for (int i = 0; i < nd * (nd + 1); i++) t[i] = sig_ld(th->data, th->dtype, b * nd * (nd + 1) + i);
    for (int64_t dz = 0; dz < D; dz++)
      for (int64_t h = 0; h < H; h++)
        for (int64_t w = 0; w < W; w++) {
          double v[4] = {ag_base(w, W, align), ag_base(h, H, align), ag_base(dz, D, align), 1.0};
          if (nd == 2) v[2] = 1.0;
          for (int r = 0; r < nd; r++) {
            double s = 0;
            for (int j = 0; j <= nd; j++) s += t[r * (nd + 1) + j] * v[j];
            sig_st(y->data, y->dtype, k++, s, 0);
          }
        }
  }
  return 0;
}
