/* Quantized elementwise and pooling ops on uint8/int8 tensors, with ONNX Runtime's
 * com.microsoft contracts (registered in that domain too, so ORT's QOperator files run, and
 * in "edgerun", where the QDQ pass creates them):
 *
 *   QLinearAdd(A, A_scale, A_zero_point?, B, B_scale, B_zero_point?, C_scale, C_zero_point?)
 *       C = clamp(rint(a_s/c_s * (A - A_zp) + b_s/c_s * (B - B_zp)) + C_zp) with numpy
 *       broadcasting; A, B and C of one type; the ratios are float32, the two products and
 *       their sum rounded once each (q8_add). Attributes _act/_act_a/_act_b: a fused Relu or
 *       Clip as a clamp (kernels/qops.h).
 *   QLinearGlobalAveragePool(X, x_scale, x_zero_point, y_scale, y_zero_point), attribute
 *       channels_last (0: X is [N, C, spatial...], 1: [N, spatial..., C]); Y has X's rank with
 *       spatial dims 1:  acc = sum(X) - x_zp * S (int32, S = spatial size),
 *       Y = clamp(rint((float)acc * (x_s / (y_s * (float)S))) + y_zp).
 *
 *   NhwcMaxPool (com.microsoft, 8-bit): quant_pool.c.
 *   QuantizeLinear (edgerun, channels_last = 1): QuantizeLinear of a float32 [N, C, spatial...]
 *       X per tensor, written as [N, spatial..., C] (kernels/qops.h).
 *
 * The fast paths (same bits) go through the q8 micro-kernels. */
#include <string.h>

#include "kernels/ref/quant_common.h"

static const int k_q8[] = {ER_U8, ER_I8, 0};

static er_status check_scalar(const er_kctx *c, int i, int need_type, const char *what) {
  const er_tensor *t = er_in(c, i);
  if (!t) return 0;
  if (er_tensor_numel(t) != 1) return ER_ERR(ER_INVALID_ARGUMENT, "%s must be a scalar", what);
  if (need_type && t->dtype != need_type)
    return ER_ERR(ER_INVALID_ARGUMENT, "%s must be %s", what, er_dtype_name((er_dtype)need_type));
  return 0;
}

static float scalar_f(const er_kctx *c, int i) { return (float)er_load_f64(c->in[i]->data, c->in[i]->dtype, 0); }
static int32_t scalar_zp(const er_kctx *c, int i) { return er_in(c, i) ? er_q_ld(c->in[i]->data, c->in[i]->dtype, 0) : 0; }

/* ---------------------------------------------------------------- QLinearAdd */

static er_status qadd_check(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 7, 8));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_q8));
  int t = c->in[0]->dtype;
  static const int tf[] = {ER_F32, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 1, tf));
  ER_RETURN_IF_ERROR(er_check_type(c, 3, k_q8));
  ER_RETURN_IF_ERROR(er_check_type(c, 4, tf));
  ER_RETURN_IF_ERROR(er_check_type(c, 6, tf));
  if (c->in[3]->dtype != t) return ER_ERR(ER_INVALID_ARGUMENT, "A and B must have the same type");
  ER_RETURN_IF_ERROR(check_scalar(c, 1, 0, "A_scale"));
  ER_RETURN_IF_ERROR(check_scalar(c, 2, t, "A_zero_point"));
  ER_RETURN_IF_ERROR(check_scalar(c, 4, 0, "B_scale"));
  ER_RETURN_IF_ERROR(check_scalar(c, 5, t, "B_zero_point"));
  ER_RETURN_IF_ERROR(check_scalar(c, 6, 0, "C_scale"));
  return check_scalar(c, 7, t, "C_zero_point");
}

er_status er_qadd_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(qadd_check(c));
  const er_tensor *ab[2] = {c->in[0], c->in[3]};
  int r;
  int64_t d[ER_MAX_RANK];
  ER_RETURN_IF_ERROR(er_broadcast_shape(ab, 2, &r, d));
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, r, d);
  return 0;
}

typedef struct qadd_job {
  void (*add)(int64_t, const void *, const void *, int64_t, int, int32_t, int32_t, float, float, int32_t, int32_t,
              int32_t, void *);
  const void *a, *b;
  int64_t b_stride;
  int sg;
  int32_t za, zb;
  float ra, rb;
  int32_t zc, lo, hi;
  void *y;
} qadd_job;

static void qadd_range(void *arg, int64_t i0, int64_t i1) {
  const qadd_job *j = (const qadd_job *)arg;
  j->add(i1 - i0, (const char *)j->a + i0, (const char *)j->b + i0 * j->b_stride, j->b_stride, j->sg, j->za, j->zb,
         j->ra, j->rb, j->zc, j->lo, j->hi, (char *)j->y + i0);
}

er_status er_qadd_run(er_kctx *c) {
  ER_RETURN_IF_ERROR(qadd_check(c));
  const er_tensor *A = c->in[0], *B = c->in[3];
  er_tensor *Y = c->out[0];
  const int t = A->dtype, sg = t == ER_I8;
  const float cs = scalar_f(c, 6), ra = scalar_f(c, 1) / cs, rb = scalar_f(c, 4) / cs;
  const int32_t za = scalar_zp(c, 2), zb = scalar_zp(c, 5), zc = scalar_zp(c, 7);
  int32_t lo, hi;
  ER_RETURN_IF_ERROR(er_q8_act_bounds(c, t, cs, zc, &lo, &hi));
  const int64_t n = er_tensor_numel(Y), na = er_tensor_numel(A), nb = er_tensor_numel(B);
  void (*add)(int64_t, const void *, const void *, int64_t, int, int32_t, int32_t, float, float, int32_t, int32_t,
              int32_t, void *) = c->mk && c->mk->q8_add ? c->mk->q8_add : er_q8_add_ref;
  if ((na == n && (nb == n || nb == 1)) || (nb == n && na == 1)) {
    /* elementwise over ranges of the output (threads: each element computed alone) */
    qadd_job j = {add, A->data, B->data, nb == n, sg, za, zb, ra, rb, zc, lo, hi, Y->data};
    if (na != n) /* the same formula with the operands swapped */
      j.a = B->data, j.b = A->data, j.b_stride = 0, j.za = zb, j.zb = za, j.ra = rb, j.rb = ra;
    er_parallel_for(c, n, 32768, qadd_range, &j);
    return 0;
  }
  /* general broadcasting: rows of the innermost output dimension */
  const er_tensor *ins[2] = {A, B};
  er_bcast_iter it;
  er_bcast_iter_init(&it, 2, ins, Y->rank, Y->dims);
  for (int64_t i = 0; i < n; i++, er_bcast_iter_next(&it))
    er_q8_add_ref(1, (const char *)A->data + it.off[0], (const char *)B->data + it.off[1], 0, sg, za, zb, ra, rb, zc,
                  lo, hi, (char *)Y->data + i);
  return 0;
}

/* ------------------------------------------------- QLinearGlobalAveragePool */

static er_status qgap_check(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 5, 5));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_q8));
  static const int tf[] = {ER_F32, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 1, tf));
  ER_RETURN_IF_ERROR(er_check_type(c, 3, tf));
  int t = c->in[0]->dtype;
  ER_RETURN_IF_ERROR(check_scalar(c, 1, 0, "x_scale"));
  ER_RETURN_IF_ERROR(check_scalar(c, 2, t, "x_zero_point"));
  ER_RETURN_IF_ERROR(check_scalar(c, 3, 0, "y_scale"));
  ER_RETURN_IF_ERROR(check_scalar(c, 4, t, "y_zero_point"));
  if (c->in[0]->rank < 3) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 3, got %d", c->in[0]->rank);
  int64_t cl = er_attr_int(c, "channels_last", 0);
  if (cl != 0 && cl != 1) return ER_ERR(ER_INVALID_ARGUMENT, "channels_last must be 0 or 1");
  return 0;
}

/* channels-last: uint32 sums [C], then two uint64 per 8 channels (qgap_sum_cl) */
static size_t qgap_scratch(int64_t C) { return (size_t)C * sizeof(uint32_t) + (size_t)(C / 8) * 2 * sizeof(uint64_t) + 8; }

/* sums[ch] += x[s * C + ch] over S pixels (int8 as its value, wrapping in uint32): 8 channels
 * per step in two uint64 of four 16-bit lanes (even / odd bytes), emptied every 256 pixels
 * (255 * 256 fits 16 bits); int8 bytes are biased to unsigned (x ^ 0x80) and the bias taken
 * off at the end. The rest of the channels one by one. */
static void qgap_sum_cl(const unsigned char *x, int is_signed, int64_t S, int64_t C, uint32_t *sums, uint64_t *lanes) {
  const uint64_t M8 = 0x00FF00FF00FF00FFull, flip = is_signed ? 0x8080808080808080ull : 0;
  int64_t C8 = C / 8 * 8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  C8 = 0; /* the lanes assume little-endian bytes */
#endif
  for (int64_t s0 = 0; s0 < S; s0 += 256) {
    int64_t s1 = s0 + 256 < S ? s0 + 256 : S;
    memset(lanes, 0, (size_t)(C8 / 8) * 2 * sizeof(uint64_t));
    for (int64_t s = s0; s < s1; s++) {
      const unsigned char *px = x + s * C;
      for (int64_t k = 0; k < C8 / 8; k++) {
        uint64_t v;
        memcpy(&v, px + 8 * k, 8);
        v ^= flip;
        lanes[2 * k] += v & M8;
        lanes[2 * k + 1] += (v >> 8) & M8;
      }
    }
    const uint32_t unbias = is_signed ? (uint32_t)(128 * (s1 - s0)) : 0;
    for (int64_t k = 0; k < C8 / 8; k++)
      for (int i = 0; i < 4; i++) {
        sums[8 * k + 2 * i] += (uint32_t)(lanes[2 * k] >> (16 * i) & 0xFFFF) - unbias;
        sums[8 * k + 2 * i + 1] += (uint32_t)(lanes[2 * k + 1] >> (16 * i) & 0xFFFF) - unbias;
      }
  }
  for (int64_t s = 0; s < S; s++) {
    const unsigned char *px = x + s * C;
    if (is_signed)
      for (int64_t ch = C8; ch < C; ch++) sums[ch] += (uint32_t)(int32_t)(int8_t)px[ch];
    else
      for (int64_t ch = C8; ch < C; ch++) sums[ch] += px[ch];
  }
}

er_status er_qgap_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(qgap_check(c));
  const er_tensor *X = c->in[0];
  int cl = (int)er_attr_int(c, "channels_last", 0);
  int64_t d[ER_MAX_RANK];
  for (int i = 0; i < X->rank; i++) d[i] = 1;
  d[0] = X->dims[0];
  d[cl ? X->rank - 1 : 1] = X->dims[cl ? X->rank - 1 : 1];
  er_tensor_set_shape(c->out[0], X->dtype, X->rank, d);
  if (cl) c->scratch_bytes = qgap_scratch(d[X->rank - 1]);
  return 0;
}

er_status er_qgap_run(er_kctx *c) {
  ER_RETURN_IF_ERROR(qgap_check(c));
  const er_tensor *X = c->in[0];
  const int cl = (int)er_attr_int(c, "channels_last", 0), t = X->dtype;
  const int64_t N = X->dims[0], C = X->dims[cl ? X->rank - 1 : 1], S = N * C > 0 ? er_tensor_numel(X) / (N * C) : 0;
  const int32_t zx = scalar_zp(c, 2), zy = scalar_zp(c, 4);
  const float scale = scalar_f(c, 1) / (scalar_f(c, 3) * (float)S);
  int32_t lo, hi;
  er_q8_range(t, &lo, &hi);
  const uint32_t bias = (uint32_t)zx * (uint32_t)S;
  const unsigned char *x = (const unsigned char *)X->data;
  for (int64_t n = 0; n < N; n++) {
    const unsigned char *xn = x + n * C * S;
    uint32_t *sums = (uint32_t *)c->scratch;
    if (cl) { /* per-channel sums, pixel by pixel */
      if (c->scratch_bytes < qgap_scratch(C)) return ER_ERR(ER_INTERNAL, "scratch too small");
      memset(sums, 0, (size_t)C * sizeof(uint32_t));
      /* the uint64 lanes after the sums, 8-byte aligned */
      uintptr_t la = ((uintptr_t)(sums + C) + 7) & ~(uintptr_t)7;
      qgap_sum_cl(xn, t == ER_I8, S, C, sums, (uint64_t *)la);
    }
    for (int64_t ch = 0; ch < C; ch++) {
      uint32_t acc = 0;
      if (cl) {
        acc = sums[ch];
      } else if (t == ER_U8) {
        for (int64_t s = 0; s < S; s++) acc += xn[ch * S + s];
      } else {
        for (int64_t s = 0; s < S; s++) acc += (uint32_t)(int32_t)(int8_t)xn[ch * S + s];
      }
      int32_t q = er_q8_requant((int32_t)(acc - bias), scale, zy, lo, hi);
      if (t == ER_U8) ((uint8_t *)c->out[0]->data)[n * C + ch] = (uint8_t)q;
      else ((int8_t *)c->out[0]->data)[n * C + ch] = (int8_t)q;
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- QLinearConcat */
/* QLinearConcat(Y_scale, Y_zero_point, X_1, X_1_scale, X_1_zero_point, ...), attr axis (also
 * com.microsoft, as ONNX Runtime): every X_i is dequantized and quantized to Y's grid,
 *   y = clamp(rint(((float)(x - zx_i) * sx_i) / sy) + zy)   (a 256-entry table per input),
 * then concatenated along axis; X_i and Y of one 8-bit type, scalar parameters. */
static er_status qcat_check(er_kctx *c, int *axis) {
  if (c->n_in < 5 || (c->n_in - 2) % 3) return ER_ERR(ER_INVALID_MODEL, "expects Y_scale, Y_zero_point and (X, scale, zero point) triples");
  static const int tf[] = {ER_F32, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 0, tf));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, k_q8));
  ER_RETURN_IF_ERROR(check_scalar(c, 0, 0, "Y_scale"));
  ER_RETURN_IF_ERROR(check_scalar(c, 1, 0, "Y_zero_point"));
  const int t = c->in[1]->dtype;
  const er_tensor *x0 = c->in[2];
  if (!x0) return ER_ERR(ER_INVALID_MODEL, "input 2 is missing");
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 0), x0->rank, axis));
  for (int k = 2; k < c->n_in; k += 3) {
    ER_RETURN_IF_ERROR(er_check_type(c, k, k_q8));
    ER_RETURN_IF_ERROR(er_check_type(c, k + 1, tf));
    ER_RETURN_IF_ERROR(check_scalar(c, k + 1, 0, "X scale"));
    ER_RETURN_IF_ERROR(check_scalar(c, k + 2, t, "X zero point"));
    const er_tensor *x = c->in[k];
    if (x->dtype != t) return ER_ERR(ER_INVALID_ARGUMENT, "inputs and Y_zero_point must have one type");
    if (x->rank != x0->rank) return ER_ERR(ER_INVALID_ARGUMENT, "inputs have different ranks");
    for (int d = 0; d < x->rank; d++)
      if (d != *axis && x->dims[d] != x0->dims[d])
        return ER_ERR(ER_INVALID_ARGUMENT, "input %d does not match input 2 outside axis %d", k, *axis);
  }
  return 0;
}

er_status er_qcat_infer(er_kctx *c) {
  int axis;
  ER_RETURN_IF_ERROR(qcat_check(c, &axis));
  const er_tensor *x0 = c->in[2];
  int64_t d[ER_MAX_RANK];
  memcpy(d, x0->dims, sizeof(int64_t) * (size_t)x0->rank);
  d[axis] = 0;
  for (int k = 2; k < c->n_in; k += 3) d[axis] += c->in[k]->dims[axis];
  er_tensor_set_shape(c->out[0], c->in[1]->dtype, x0->rank, d);
  return 0;
}

er_status er_qcat_run(er_kctx *c) {
  int axis;
  ER_RETURN_IF_ERROR(qcat_check(c, &axis));
  const er_tensor *x0 = c->in[2];
  er_tensor *y = c->out[0];
  const int t = y->dtype;
  const float sy = scalar_f(c, 0);
  const int32_t zy = scalar_zp(c, 1);
  int32_t lo, hi;
  er_q8_range(t, &lo, &hi);
  const int64_t outer = er_shape_numel(x0->dims, axis), inner = er_shape_numel(x0->dims + axis + 1, x0->rank - axis - 1);
  const int64_t yrow = y->dims[axis] * inner;
  int64_t off = 0;
  for (int k = 2; k < c->n_in; k += 3) {
    const er_tensor *x = c->in[k];
    const float sx = scalar_f(c, k + 1);
    const int32_t zx = scalar_zp(c, k + 2);
    const int64_t row = x->dims[axis] * inner;
    const unsigned char *src = (const unsigned char *)x->data;
    unsigned char *dst = (unsigned char *)y->data + off;
    if (sx == sy && zx == zy) {
      for (int64_t o = 0; o < outer; o++) memcpy(dst + o * yrow, src + o * row, (size_t)row);
    } else {
      unsigned char table[256];
      for (int v = 0; v < 256; v++) {
        int32_t q = t == ER_I8 ? (int32_t)(int8_t)v : v;
        table[v] = (unsigned char)er_q8_round_clamp(((float)(q - zx) * sx) / sy, zy, lo, hi);
      }
      for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < row; i++) dst[o * yrow + i] = table[src[o * row + i]];
    }
    off += row;
  }
  return 0;
}

/* ------------------------------------------ QuantizeLinear to channels-last */

enum { QLC_PIX = 256 }; /* pixels per work item: C planes quantized, then interleaved */

static er_status qlc_check(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 3));
  static const int tf[] = {ER_F32, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 0, tf));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, tf));
  ER_RETURN_IF_ERROR(check_scalar(c, 1, 0, "y_scale"));
  if (er_in(c, 2)) {
    ER_RETURN_IF_ERROR(er_check_type(c, 2, k_q8));
    ER_RETURN_IF_ERROR(check_scalar(c, 2, 0, "y_zero_point"));
  }
  if (c->in[0]->rank < 3) return ER_ERR(ER_INVALID_ARGUMENT, "x must have rank >= 3, got %d", c->in[0]->rank);
  if (er_attr_int(c, "channels_last", 0) != 1) return ER_ERR(ER_INVALID_ARGUMENT, "channels_last must be 1");
  return 0;
}

er_status er_qlc_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(qlc_check(c));
  const er_tensor *x = c->in[0];
  int64_t d[ER_MAX_RANK];
  d[0] = x->dims[0];
  for (int i = 2; i < x->rank; i++) d[i - 1] = x->dims[i];
  d[x->rank - 1] = x->dims[1];
  er_tensor_set_shape(c->out[0], er_in(c, 2) ? c->in[2]->dtype : ER_U8, x->rank, d);
  c->scratch_bytes = (size_t)er_threadpool_size(c->threads) * (size_t)(x->dims[1] * QLC_PIX);
  return 0;
}

typedef struct qlc_job {
  const er_microkernels *mk;
  const float *x;
  unsigned char *y, *tmp;
  int64_t C, S, tiles, items, nslots;
  float scale;
  int32_t zp, lo, hi;
  int type;
} qlc_job;

/* slot s (its own C x QLC_PIX bytes of scratch) does items [s * items / nslots, ...): item =
 * (image, tile of QLC_PIX pixels); each byte is one quantized value, whatever the split */
static void qlc_slots(void *arg, int64_t s0, int64_t s1) {
  const qlc_job *j = (const qlc_job *)arg;
  for (int64_t s = s0; s < s1; s++) {
    unsigned char *t = j->tmp + (size_t)(s * j->C * QLC_PIX);
    for (int64_t it = s * j->items / j->nslots; it < (s + 1) * j->items / j->nslots; it++) {
      int64_t n = it / j->tiles, p0 = it % j->tiles * QLC_PIX, pn = j->S - p0 < QLC_PIX ? j->S - p0 : QLC_PIX;
      const float *xn = j->x + n * j->C * j->S + p0;
      for (int64_t ch = 0; ch < j->C; ch++)
        j->mk->q8_quantize(pn, xn + ch * j->S, j->scale, j->zp, j->lo, j->hi, j->type, t + ch * pn);
      j->mk->u8_transpose(j->C, pn, t, pn, j->y + (n * j->S + p0) * j->C, j->C);
    }
  }
}

er_status er_qlc_run(er_kctx *c) {
  ER_RETURN_IF_ERROR(qlc_check(c));
  const er_tensor *x = c->in[0];
  qlc_job j;
  memset(&j, 0, sizeof j);
  j.mk = c->mk ? c->mk : er_microkernels_ref();
  j.x = (const float *)x->data;
  j.y = (unsigned char *)c->out[0]->data;
  j.tmp = (unsigned char *)c->scratch;
  j.C = x->dims[1];
  j.S = j.C > 0 && x->dims[0] > 0 ? er_tensor_numel(x) / (x->dims[0] * j.C) : 0;
  j.tiles = (j.S + QLC_PIX - 1) / QLC_PIX;
  j.items = x->dims[0] * j.tiles;
  j.scale = scalar_f(c, 1);
  j.zp = scalar_zp(c, 2);
  j.type = c->out[0]->dtype;
  er_q8_range(j.type, &j.lo, &j.hi);
  if (j.items == 0 || j.C == 0) return 0;
  j.nslots = er_threadpool_size(c->threads);
  if (j.nslots > j.items) j.nslots = j.items;
  if (er_tensor_numel(x) < 32768) j.nslots = 1;
  if (c->scratch_bytes < (size_t)(j.nslots * j.C * QLC_PIX)) return ER_ERR(ER_INTERNAL, "QuantizeLinear scratch too small");
  er_parallel_for(c, j.nslots, 1, qlc_slots, &j);
  return 0;
}
