/* NonMaxSuppression (opset 10, 11+; same semantics).
 *
 * Per batch and class: candidates are the boxes whose score exceeds score_threshold (all
 * boxes if that input is absent; NaN scores never qualify), visited by descending score
 * (ties: lower box index first); a candidate is kept unless its IoU with an already kept
 * box of the class exceeds iou_threshold, until max_output_boxes_per_class are kept. IoU is
 * computed in float like onnxruntime and the ONNX reference.
 *
 * The output row count depends on every input's values, so infer needs them all and runs
 * the selection itself to get the exact count. Infer has no scratch memory: it sorts in a
 * fixed stack buffer when the boxes fit (N <= 4096), and otherwise uses an O(N) scan per
 * visited candidate with a stack bitset (N <= 262144). run uses the sorting path with
 * scratch sized in infer. */
#include "kernels/ref/signal_common.h"

#define NMS_STACK_WORDS 4096 /* 32 KiB of uint64 */

typedef struct {
  const er_tensor *boxes, *scores;
  int64_t B, N, C, max_out;
  float iou_thr, score_thr;
  int has_score_thr, center;
} nms_params;

static const int k_nms_types[] = {ER_F32, ER_F64, ER_F16, ER_BF16, 0};

/* Validate shapes and types (values not needed). */
static er_status nms_check(er_kctx *c, nms_params *p) {
  memset(p, 0, sizeof *p);
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 5));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_nms_types));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, k_nms_types));
  const er_tensor *bx = c->in[0], *sc = c->in[1];
  if (bx->rank != 3 || bx->dims[2] != 4)
    return ER_ERR(ER_INVALID_ARGUMENT, "boxes must have shape [num_batches, spatial_dimension, 4]");
  if (sc->rank != 3 || sc->dims[0] != bx->dims[0] || sc->dims[2] != bx->dims[1])
    return ER_ERR(ER_INVALID_ARGUMENT, "scores must have shape [%lld, num_classes, %lld]",
                  (long long)bx->dims[0], (long long)bx->dims[1]);
  if (bx->dims[1] > 0x7fffffff) return ER_ERR(ER_UNSUPPORTED, "too many boxes");
  int64_t cpb = er_attr_int(c, "center_point_box", 0);
  if (cpb != 0 && cpb != 1) return ER_ERR(ER_INVALID_ARGUMENT, "center_point_box must be 0 or 1, got %lld", (long long)cpb);
  p->center = (int)cpb;
  p->boxes = bx;
  p->scores = sc;
  p->B = bx->dims[0];
  p->N = bx->dims[1];
  p->C = sc->dims[1];
  const er_tensor *mo = er_in(c, 2), *it = er_in(c, 3), *st = er_in(c, 4);
  if (mo && (mo->dtype != ER_I64 || er_tensor_numel(mo) > 1))
    return ER_ERR(ER_INVALID_ARGUMENT, "max_output_boxes_per_class must be an int64 scalar");
  if (it && (!er_dtype_is_float(it->dtype) || er_tensor_numel(it) > 1))
    return ER_ERR(ER_INVALID_ARGUMENT, "iou_threshold must be a float scalar");
  if (st && (!er_dtype_is_float(st->dtype) || er_tensor_numel(st) > 1))
    return ER_ERR(ER_INVALID_ARGUMENT, "score_threshold must be a float scalar");
  return 0;
}

/* Read the optional scalar inputs (values must be known). */
static er_status nms_values(er_kctx *c, nms_params *p) {
  const er_tensor *mo = er_in(c, 2), *it = er_in(c, 3), *st = er_in(c, 4);
  p->max_out = 0;
  if (mo && er_tensor_numel(mo) == 1) {
    p->max_out = ((const int64_t *)mo->data)[0];
    if (p->max_out < 0) p->max_out = 0;
  }
  p->iou_thr = 0;
  if (it && er_tensor_numel(it) == 1) {
    p->iou_thr = (float)sig_ld(it->data, it->dtype, 0);
    if (!(p->iou_thr >= 0 && p->iou_thr <= 1))
      return ER_ERR(ER_INVALID_ARGUMENT, "iou_threshold must be in [0, 1], got %g", (double)p->iou_thr);
  }
  p->has_score_thr = st && er_tensor_numel(st) == 1;
  p->score_thr = p->has_score_thr ? (float)sig_ld(st->data, st->dtype, 0) : 0;
  return 0;
}

static float nms_score(const nms_params *p, int64_t b, int64_t cl, int64_t i) {
  return (float)sig_ld(p->scores->data, p->scores->dtype, (b * p->C + cl) * p->N + i);
}

static int nms_candidate(const nms_params *p, float s) {
  if (s != s) return 0;
  return !p->has_score_thr || s > p->score_thr;
}

/* Box as (xmin, xmax, ymin, ymax) in float. */
static void nms_box(const nms_params *p, int64_t b, int64_t i, float *o) {
  float v[4];
  for (int k = 0; k < 4; k++) v[k] = (float)sig_ld(p->boxes->data, p->boxes->dtype, (b * p->N + i) * 4 + k);
  if (p->center) {
    float hw = v[2] / 2, hh = v[3] / 2;
    o[0] = v[0] - hw, o[1] = v[0] + hw, o[2] = v[1] - hh, o[3] = v[1] + hh;
  } else {
    o[0] = fminf(v[1], v[3]), o[1] = fmaxf(v[1], v[3]);
    o[2] = fminf(v[0], v[2]), o[3] = fmaxf(v[0], v[2]);
  }
}

static int nms_suppress(const nms_params *p, int64_t b, int64_t i, int64_t j) {
  float a[4], c[4];
  nms_box(p, b, i, a);
  nms_box(p, b, j, c);
  float ix0 = fmaxf(a[0], c[0]), ix1 = fminf(a[1], c[1]);
  if (ix1 <= ix0) return 0;
  float iy0 = fmaxf(a[2], c[2]), iy1 = fminf(a[3], c[3]);
  if (iy1 <= iy0) return 0;
  float inter = (ix1 - ix0) * (iy1 - iy0);
  float area1 = (a[1] - a[0]) * (a[3] - a[2]), area2 = (c[1] - c[0]) * (c[3] - c[2]);
  float uni = area1 + area2 - inter;
  if (!(inter > 0) || !(area1 > 0) || !(area2 > 0) || !(uni > 0)) return 0;
  return inter / uni > p->iou_thr;
}

/* Visiting order: a before b. */
static int nms_before(float sa, uint32_t a, float sb, uint32_t b) { return sa > sb || (sa == sb && a < b); }

static void sift_down(uint32_t *h, float *key, int64_t start, int64_t n) {
  /* max-heap on "comes later" so the sorted array ends in visiting order */
  int64_t r = start;
  for (;;) {
    int64_t ch = 2 * r + 1;
    if (ch >= n) return;
    if (ch + 1 < n && nms_before(key[ch], h[ch], key[ch + 1], h[ch + 1])) ch++;
    if (!nms_before(key[r], h[r], key[ch], h[ch])) return;
    uint32_t t = h[r];
    h[r] = h[ch], h[ch] = t;
    float tk = key[r];
    key[r] = key[ch], key[ch] = tk;
    r = ch;
  }
}

/* Sorting path. ws holds 3 * N 32-bit words. Writes rows to out (if not NULL). */
static int64_t nms_sorted(const nms_params *p, uint32_t *ws, int64_t *out) {
  uint32_t *cand = ws, *sel = ws + p->N;
  float *key = (float *)(ws + 2 * p->N);
  int64_t count = 0;
  for (int64_t b = 0; b < p->B; b++)
    for (int64_t cl = 0; cl < p->C; cl++) {
      if (p->max_out == 0) continue;
      int64_t n = 0;
      for (int64_t i = 0; i < p->N; i++) {
        float s = nms_score(p, b, cl, i);
        if (nms_candidate(p, s)) cand[n] = (uint32_t)i, key[n] = s, n++;
      }
      for (int64_t i = n / 2 - 1; i >= 0; i--) sift_down(cand, key, i, n);
      for (int64_t e = n - 1; e > 0; e--) {
        uint32_t t = cand[0];
        cand[0] = cand[e], cand[e] = t;
        float tk = key[0];
        key[0] = key[e], key[e] = tk;
        sift_down(cand, key, 0, e);
      }
      int64_t ns = 0;
      for (int64_t k = 0; k < n && ns < p->max_out; k++) {
        int keep = 1;
        for (int64_t q = 0; q < ns && keep; q++)
          if (nms_suppress(p, b, cand[k], sel[q])) keep = 0;
        if (!keep) continue;
        sel[ns++] = cand[k];
        if (out) {
          out[3 * count] = b, out[3 * count + 1] = cl, out[3 * count + 2] = cand[k];
        }
        count++;
      }
    }
  return count;
}

/* Scanning path (count only): bits holds ceil(N / 64) words. */
static int64_t nms_scan(const nms_params *p, uint64_t *bits) {
  int64_t count = 0, words = (p->N + 63) / 64;
  for (int64_t b = 0; b < p->B; b++)
    for (int64_t cl = 0; cl < p->C; cl++) {
      if (p->max_out == 0) continue;
      memset(bits, 0, (size_t)words * sizeof(uint64_t));
      int64_t ns = 0, prev = -1;
      float prev_s = 0;
      while (ns < p->max_out) {
        int64_t best = -1;
        float bs = 0;
        for (int64_t i = 0; i < p->N; i++) {
          float s = nms_score(p, b, cl, i);
          if (!nms_candidate(p, s)) continue;
          if (prev >= 0 && !nms_before(prev_s, (uint32_t)prev, s, (uint32_t)i)) continue;
          if (best < 0 || nms_before(s, (uint32_t)i, bs, (uint32_t)best)) best = i, bs = s;
        }
        if (best < 0) break;
        int keep = 1;
        for (int64_t w = 0; w < words && keep; w++)
          for (uint64_t m = bits[w]; m && keep; m &= m - 1) {
            int64_t j = w * 64 + __builtin_ctzll(m);
            if (nms_suppress(p, b, best, j)) keep = 0;
          }
        if (keep) {
          bits[best / 64] |= (uint64_t)1 << (best % 64);
          ns++;
        }
        prev = best, prev_s = bs;
      }
      count += ns;
    }
  return count;
}

er_status er_nms_infer(er_kctx *c) {
  nms_params p;
  ER_RETURN_IF_ERROR(nms_check(c, &p));
  for (int i = 0; i < 5; i++)
    if (er_in(c, i) && !er_in_known(c, i)) return er_needs_data(c);
  ER_RETURN_IF_ERROR(nms_values(c, &p));
  uint64_t ws[NMS_STACK_WORDS];
  int64_t count;
  if (3 * p.N <= 2 * NMS_STACK_WORDS) count = nms_sorted(&p, (uint32_t *)ws, NULL);
  else if ((p.N + 63) / 64 <= NMS_STACK_WORDS) count = nms_scan(&p, ws);
  else return ER_ERR(ER_UNSUPPORTED, "more than %d boxes", NMS_STACK_WORDS * 64);
  int64_t d[2] = {count, 3};
  er_tensor_set_shape(c->out[0], ER_I64, 2, d);
  c->scratch_bytes = (size_t)(3 * p.N) * sizeof(uint32_t);
  return 0;
}

er_status er_nms_run(er_kctx *c) {
  nms_params p;
  ER_RETURN_IF_ERROR(nms_check(c, &p));
  ER_RETURN_IF_ERROR(nms_values(c, &p));
  er_tensor *y = c->out[0];
  if (c->scratch_bytes < (size_t)(3 * p.N) * sizeof(uint32_t))
    return ER_ERR(ER_INTERNAL, "scratch too small");
  /* count first so a mismatch with the inferred shape never writes out of bounds */
  int64_t count = nms_sorted(&p, (uint32_t *)c->scratch, NULL);
  if (y->rank != 2 || y->dims[0] != count || y->dims[1] != 3)
    return ER_ERR(ER_INTERNAL, "selected %lld boxes but the output was inferred with %lld rows", (long long)count,
                  (long long)(y->rank == 2 ? y->dims[0] : -1));
  nms_sorted(&p, (uint32_t *)c->scratch, (int64_t *)y->data);
  return 0;
}
