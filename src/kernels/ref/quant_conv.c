/* Fast paths of the integer convolutions over the q8 micro-kernels (kernels/q8.h):
 * QLinearConv and ConvInteger (channels-first) and NhwcQLinearConv (channels-last,
 * kernels/qops.h). Bit-identical to the reference loops of ops_quant.c for any thread count:
 * every output element is one exact int32 sum and the same output stage.
 *
 * Spatial rank 1 or 2, uint8/int8 x and w, constant w and w_zero_point (packed in prepare);
 * everything else (x_scale, x_zero_point, bias, ...) is read at run time. Otherwise the
 * reference loops run.
 *
 * Channels-first GEMM: per group, Y[m][p] = W[m][k] * col[k][p] with the weights as the
 * left operand (packed once) and an im2col tile of output pixels as the right operand
 * (packed per tile; a 1x1 stride-1 unpadded conv reads the input planes directly), so the
 * results land in NCHW. Depthwise (one input channel per group): q8_dwconv2d per plane.
 * Channels-last GEMM: Y[p][m] = col[p][k] * W[k][m] with k = (tap, channel): rows of
 * output pixels as the left operand (for 1x1 stride-1 convs the input rows themselves),
 * the weights reordered tap-major and packed once as the right operand. Depthwise with
 * multiplier 1: q8_dwconv_nhwc per output row. */
#include <stdatomic.h>
#include <string.h>

#include "kernels/ref/quant_common.h"

/* kinds: GEMM; depthwise with the table's kernel for the layout (channels-first: per plane);
 * channels-first depthwise through channels-last tiles (DWT: 32 channels x a band of rows
 * transposed in, q8_dwconv_nhwc, transposed back), used when its output is 8-bit */
enum { QC_MAGIC = 0x5143384b, QC_GEMM = 1, QC_DW = 2, QC_DWT = 3, QC_CB = 32 };
/* minimum multiply-adds before a second thread takes part (GEMM; depthwise: an eighth), 4x
 * more while the workers sleep (waking one takes tens of microseconds): the int8 kernels do
 * ~1M multiply-adds in a few microseconds */
#define QC_MIN_PAR ((int64_t)1 << 20)
static int64_t qc_min_par(const er_kctx *c) { return QC_MIN_PAR * (er_threadpool_sleeping(c->threads) ? 4 : 1); }

static size_t qc_align(size_t n) { return (n + 63) & ~(size_t)63; }

typedef struct qc_state {
  uint32_t magic;
  int kind;
  const er_microkernels *mk; /* the table whose packed formats these are */
  size_t gstride;            /* bytes per group of packed weights */
  size_t scale_off;          /* QLinearConv with constant scales: the output multipliers */
  int has_scale;             /* x_scale * w_scale[m] / y_scale for xs, ys, at scale_off */
  float xs, ys;
} qc_state;
#define QC_HDR qc_align(sizeof(qc_state))

/* The convolution as 2-D (a 1-D one has H = 1). */
typedef struct qc_2d {
  int64_t H, W, KH, KW, sh, sw, dh, dw, ph, pw, OH, OW;
} qc_2d;

static qc_2d qc_view(const er_qconv_geom *g) {
  qc_2d v;
  int two = g->r == 2;
  v.H = two ? g->in[0] : 1, v.W = g->in[g->r - 1];
  v.KH = two ? g->k[0] : 1, v.KW = g->k[g->r - 1];
  v.sh = two ? g->stride[0] : 1, v.sw = g->stride[g->r - 1];
  v.dh = two ? g->dil[0] : 1, v.dw = g->dil[g->r - 1];
  v.ph = two ? g->pad[0] : 0, v.pw = g->pad[g->r - 1];
  v.OH = two ? g->out[0] : 1, v.OW = g->out[g->r - 1];
  return v;
}

static int qc_pointwise(const er_qconv_geom *g) {
  for (int d = 0; d < g->r; d++)
    if (g->k[d] != 1 || g->stride[d] != 1 || g->pad[d] != 0 || g->out[d] != g->in[d]) return 0;
  return 1;
}

static int qc_kind(const er_kctx *c, const er_qconv_geom *g, int cl, int w_idx) {
  const er_microkernels *mk = c->mk;
  if (!mk || !mk->q8_gemm || g->r < 1 || g->r > 2) return 0;
  int xt = c->in[0]->dtype, wt = c->in[w_idx]->dtype;
  if ((xt != ER_U8 && xt != ER_I8) || (wt != ER_U8 && wt != ER_I8)) return 0;
  if (g->N * g->C * g->isize == 0 || g->N * g->M * g->osize == 0) return 0;
  int64_t Cg = g->C / g->group, Mg = g->M / g->group;
  if (Cg == 1 && g->group > 1) {
    if (cl) return Mg == 1 ? QC_DW : 0;
    int ot = c->out[0]->dtype;
    return Mg == 1 && (ot == ER_U8 || ot == ER_I8) && mk->u8_transpose && mk->q8_dwconv_nhwc ? QC_DWT : QC_DW;
  }
  return QC_GEMM;
}

/* DWT: output rows per band (the channels-last output tile stays near 32 KB) and the input
 * rows a band reads */
static int64_t qc_band(const qc_2d *v) {
  int64_t b = 32768 / (v->OW * QC_CB);
  return b < 1 ? 1 : b > v->OH ? v->OH : b;
}
static int64_t qc_band_in(const qc_2d *v) {
  int64_t r = (qc_band(v) - 1) * v->sh + (v->KH - 1) * v->dh + 1;
  return r < v->H ? r : v->H;
}

/* Output pixels per work item. Channels-last: rows of the left operand; the GEMM walks the
 * weights' column panels once per item, so an item has up to ~256 KB of packed pixels (they
 * stay in L2 while each weight panel streams through once). Channels-first: the packed pixel
 * tile is the right operand and stays near 64 KB. */
static int64_t qc_tile(const er_qconv_geom *g, int cl) {
  int64_t Kg = g->C / g->group * g->ksize, P = g->osize;
  if (cl) {
    int64_t t = 262144 / Kg / 6 * 6;
    t = t < 6 ? 6 : t > 600 ? 600 : t;
    return t < P ? t : P;
  }
  int64_t t = 65536 / (2 * Kg) / 16 * 16;
  t = t < 16 ? 16 : t > 256 ? 256 : t;
  int64_t p16 = (P + 15) / 16 * 16;
  return t < p16 ? t : p16;
}

/* Channels-last im2col from a padded copy of the input rows a tile reads (padding filled
 * with the zero point once, then every tap run is a plain copy): for ungrouped convs whose
 * runs of KW * C bytes are short (a few input channels: the per-run bounds checks and
 * calls would dominate) and when the copy is no larger than the tile's columns. Bytes of
 * the copy for a tile of T pixels (0: not used): rows x padded width x C. */
enum { QC_SLACK = 64 };
static int64_t qc_padded_bytes(const er_qconv_geom *g, int cl) {
  if (!cl || g->group != 1 || qc_pointwise(g)) return 0;
  qc_2d v = qc_view(g);
  int64_t T = qc_tile(g, cl), Kg = g->C * g->ksize;
  if (v.KW * g->C >= 64) return 0;
  int64_t rows = ((T + v.OW - 1) / v.OW) * v.sh + (v.KH - 1) * v.dh + 1;
  int64_t wp = (v.OW - 1) * v.sw + (v.KW - 1) * v.dw + 1;
  int64_t n = rows * wp * g->C;
  return n <= T * Kg ? n : 0;
}

static size_t qc_slot_bytes(const er_kctx *c, const er_qconv_geom *g, int cl, int kind) {
  if (kind == QC_DWT) {
    qc_2d v = qc_view(g);
    return qc_align((size_t)(qc_band_in(&v) * v.W * QC_CB)) + qc_align((size_t)(qc_band(&v) * v.OW * QC_CB)) +
           qc_align(c->mk->q8_dw_work_size(v.KH, v.KW, v.OW, QC_CB));
  }
  if (kind == QC_DW) {
    qc_2d v = qc_view(g);
    return cl ? qc_align(c->mk->q8_dw_work_size(v.KH, v.KW, v.OW, g->C)) : 0;
  }
  int64_t Kg = g->C / g->group * g->ksize, T = qc_tile(g, cl);
  size_t col = qc_pointwise(g) ? 0 : qc_align((size_t)(Kg * T));
  size_t pk = cl ? c->mk->q8_pack_left_size(T, Kg) : c->mk->q8_pack_right_size(Kg, T);
  int64_t padded = qc_padded_bytes(g, cl);
  return col + qc_align(pk) + (padded ? qc_align((size_t)padded) + QC_SLACK : 0);
}

static size_t qc_gstride(const er_kctx *c, const er_qconv_geom *g, int cl, int kind) {
  int64_t Kg = g->C / g->group * g->ksize, Mg = g->M / g->group;
  if (kind == QC_DWT) { /* one packed block per chunk of QC_CB channels */
    qc_2d v = qc_view(g);
    return qc_align(c->mk->q8_dw_pack_size(v.KH, v.KW, QC_CB));
  }
  if (kind == QC_DW) {
    qc_2d v = qc_view(g);
    return cl ? qc_align(c->mk->q8_dw_pack_size(v.KH, v.KW, g->C)) : qc_align((size_t)(g->M * g->ksize) * 2);
  }
  return qc_align(cl ? c->mk->q8_pack_right_size(Kg, Mg) : c->mk->q8_pack_left_size(Mg, Kg));
}

/* header, packed weights, then prepare-only staging: int32 zero points and (channels-last)
 * the weights reordered tap-major */
static size_t qc_state_bytes(const er_kctx *c, const er_qconv_geom *g, int cl, int kind) {
  size_t blocks = kind == QC_DW ? 1 : kind == QC_DWT ? (size_t)((g->M + QC_CB - 1) / QC_CB) : (size_t)g->group;
  size_t n = QC_HDR + blocks * qc_gstride(c, g, cl, kind);
  n += 2 * qc_align((size_t)g->M * sizeof(int32_t)); /* zero points, multipliers */
  if (cl || kind == QC_DWT) n += qc_align((size_t)(g->M * (g->C / g->group) * g->ksize));
  return n;
}

void er_qconv_fast_infer(er_kctx *c, const er_qconv_geom *g, int cl, int w_idx) {
  int kind = qc_kind(c, g, cl, w_idx);
  if (!kind || !er_in_known(c, w_idx)) return;
  c->state_bytes = qc_state_bytes(c, g, cl, kind);
  size_t need = qc_align((size_t)g->M * sizeof(float)) +
                (size_t)er_threadpool_size(c->threads) * qc_slot_bytes(c, g, cl, kind);
  if (need > c->scratch_bytes) c->scratch_bytes = need;
}

er_status er_qconv_fast_prepare(er_kctx *c, int cl, int w_idx, int wzp_idx) {
  if (!c->state || c->state_bytes < QC_HDR) return 0;
  qc_state *st = (qc_state *)c->state;
  st->magic = 0;
  if (!er_in_known(c, w_idx) || (er_in(c, wzp_idx) && !er_in_known(c, wzp_idx))) return 0;
  const er_tensor *w = c->in[w_idx], *wz = er_in(c, wzp_idx);
  er_qconv_geom g;
  if (er_qconv_geometry(c, c->in[0], w, cl, &g)) return 0; /* run reports the error */
  int kind = qc_kind(c, &g, cl, w_idx);
  if (!kind || qc_state_bytes(c, &g, cl, kind) > c->state_bytes) return 0;
  const er_microkernels *mk = c->mk;
  const int64_t Cg = g.C / g.group, Mg = g.M / g.group, Kg = Cg * g.ksize;
  st->gstride = qc_gstride(c, &g, cl, kind);
  char *packed = (char *)c->state + QC_HDR;
  int64_t blocks = kind == QC_DW ? 1 : kind == QC_DWT ? (g.M + QC_CB - 1) / QC_CB : g.group;
  int32_t *zp = (int32_t *)(packed + blocks * st->gstride);
  float *msc = (float *)((char *)zp + qc_align((size_t)g.M * sizeof(int32_t)));
  unsigned char *stage = (unsigned char *)msc + qc_align((size_t)g.M * sizeof(float));
  /* QLinearConv (w at 3) with constant x_scale, w_scale, y_scale: the multipliers once */
  st->has_scale = 0;
  st->scale_off = (size_t)((char *)msc - (char *)c->state);
  if (w_idx == 3 && er_in_known(c, 1) && er_in_known(c, 4) && er_in_known(c, 6) && c->in[1]->dtype == ER_F32 &&
      c->in[6]->dtype == ER_F32) {
    const er_tensor *ws = c->in[4];
    int64_t nws = er_tensor_numel(ws);
    if (nws == 1 || nws == g.M) {
      st->xs = ((const float *)c->in[1]->data)[0], st->ys = ((const float *)c->in[6]->data)[0];
      for (int64_t m = 0; m < nws; m++) msc[m] = st->xs * (float)er_load_f64(ws->data, ws->dtype, (size_t)m) / st->ys;
      st->has_scale = 1;
    }
  }
  int zps = wz && er_tensor_numel(wz) > 1;
  for (int64_t m = 0; m < g.M; m++) zp[m] = wz ? er_q_ld(wz->data, wz->dtype, zps ? (size_t)m : 0) : 0;
  const int ws = w->dtype == ER_I8;
  const unsigned char *W = (const unsigned char *)w->data;
  if (kind == QC_DWT) {
    /* per chunk of QC_CB channels: stage[t][c] = W[c0 + c][0][t], packed as its own block */
    qc_2d v = qc_view(&g);
    for (int64_t c0 = 0; c0 < g.M; c0 += QC_CB) {
      int64_t cb = g.M - c0 < QC_CB ? g.M - c0 : QC_CB;
      for (int64_t m = 0; m < cb; m++)
        for (int64_t t = 0; t < g.ksize; t++) stage[t * cb + m] = W[(c0 + m) * g.ksize + t];
      mk->q8_dw_pack(v.KH, v.KW, cb, stage, ws, zp + c0, 1, packed + c0 / QC_CB * st->gstride);
    }
  } else if (cl && kind == QC_DW) /* stage[t][c] = W[c][0][t] */
    for (int64_t m = 0; m < g.M; m++)
      for (int64_t t = 0; t < g.ksize; t++) stage[t * g.M + m] = W[m * g.ksize + t];
  else if (cl) /* tap-major: stage[g][(t * Cg + c) * Mg + m] = W[g * Mg + m][c][t], in blocks of
                * 64 filters (runs of 64 bytes written, the block's rows read from cache) */
    for (int64_t grp = 0; grp < g.group; grp++)
      for (int64_t m0 = 0; m0 < Mg; m0 += 64) {
        const int64_t m1 = m0 + 64 < Mg ? m0 + 64 : Mg;
        for (int64_t ci = 0; ci < Cg; ci++)
          for (int64_t t = 0; t < g.ksize; t++) {
            unsigned char *d = stage + grp * Kg * Mg + (t * Cg + ci) * Mg;
            const unsigned char *w = W + ((grp * Mg) * Cg + ci) * g.ksize + t;
            for (int64_t m = m0; m < m1; m++) d[m] = w[m * Cg * g.ksize];
          }
      }
  if (kind == QC_DWT) {
    /* packed above */
  } else if (kind == QC_DW && cl) {
    /* Mg == 1, Cg == 1: stage is [t][C] */
    qc_2d v = qc_view(&g);
    mk->q8_dw_pack(v.KH, v.KW, g.C, stage, ws, zp, 1, packed);
  } else if (kind == QC_DW) {
    int16_t *d = (int16_t *)packed;
    for (int64_t m = 0; m < g.M; m++)
      for (int64_t t = 0; t < g.ksize; t++)
        d[m * g.ksize + t] = (int16_t)((ws ? (int32_t)(int8_t)W[m * g.ksize + t] : (int32_t)W[m * g.ksize + t]) - zp[m]);
  } else {
    for (int64_t grp = 0; grp < g.group; grp++) {
      char *dst = packed + (size_t)grp * st->gstride;
      if (cl)
        mk->q8_pack_right(Kg, Mg, stage + grp * Kg * Mg, ws, Mg, 1, zp + grp * Mg, 1, dst);
      else
        mk->q8_pack_left(Mg, Kg, W + grp * Mg * Kg, ws, Kg, 1, zp + grp * Mg, 1, dst);
    }
  }
  st->kind = kind;
  st->mk = mk;
  st->magic = QC_MAGIC;
  return 0;
}

/* ---------------------------------------------------------------- run */

typedef struct qc_job {
  const er_qconv_geom *g;
  qc_2d v;
  const er_microkernels *mk;
  const unsigned char *X;
  char *Y;
  const char *packed;
  size_t gstride, esz;
  size_t pad_off; /* channels-last GEMM: offset of the padded input rows in a slot (0: none) */
  char *slots;
  size_t slot_bytes;
  int kind, xsig, cl, pointwise;
  int32_t xzp;
  er_q8_out o;
  int64_t T, ntiles, chunk, nchunks, items, nslots;
  atomic_int_fast64_t next; /* next item to claim */
} qc_job;

/* Byte runs of im2col are often a few bytes (a 1-channel input): copy those inline rather
 * than through a libc call. */
static inline void qc_copy(unsigned char *d, const unsigned char *s, int64_t n) {
  if (n > 64) {
    memcpy(d, s, (size_t)n);
  } else if (n >= 16) { /* 16-byte moves, the last one overlapping */
    for (int64_t i = 0; i + 16 < n; i += 16) memcpy(d + i, s + i, 16);
    memcpy(d + n - 16, s + n - 16, 16);
  } else if (n >= 8) { /* two overlapping 8-byte moves */
    memcpy(d, s, 8);
    memcpy(d + n - 8, s + n - 8, 8);
  } else if (n >= 4) {
    memcpy(d, s, 4);
    memcpy(d + n - 4, s + n - 4, 4);
  } else {
    for (int64_t i = 0; i < n; i++) d[i] = s[i];
  }
}
static inline void qc_fill(unsigned char *d, unsigned char v, int64_t n) {
  if (n > 32) {
    memset(d, v, (size_t)n);
    return;
  }
  for (int64_t i = 0; i < n; i++) d[i] = v;
}

/* im2col of output pixels [p0, p0 + pn) of image n, group grp. Channels-first: col[k][j],
 * k = c * ksize + tap (the weights' order); channels-last: col[j][k], k = tap * Cg + c.
 * Taps in the padding hold the input zero point (they then contribute 0). */
static void qc_im2col(const qc_job *j, int64_t n, int64_t grp, int64_t p0, int64_t pn, unsigned char *col) {
  const er_qconv_geom *g = j->g;
  const qc_2d *v = &j->v;
  const int64_t Cg = g->C / g->group, ks = g->ksize, HW = v->H * v->W;
  const unsigned char fill = (unsigned char)j->xzp;
  if (j->cl) {
    const unsigned char *x = j->X + n * HW * g->C + grp * Cg;
    const int64_t K = ks * Cg;
    for (int64_t jj = 0; jj < pn; jj++) {
      int64_t p = p0 + jj, oh = p / v->OW, ow = p % v->OW;
      unsigned char *row = col + jj * K;
      for (int64_t kh = 0; kh < v->KH; kh++) {
        int64_t ih = oh * v->sh - v->ph + kh * v->dh, iw0 = ow * v->sw - v->pw;
        unsigned char *d = row + kh * v->KW * Cg;
        if (ih < 0 || ih >= v->H) {
          qc_fill(d, fill, v->KW * Cg);
          continue;
        }
        if (g->group == 1 && v->dw == 1 && iw0 >= 0 && iw0 + v->KW <= v->W) { /* one contiguous run */
          qc_copy(d, x + (ih * v->W + iw0) * g->C, v->KW * Cg);
          continue;
        }
        for (int64_t kw = 0; kw < v->KW; kw++) {
          int64_t iw = ow * v->sw - v->pw + kw * v->dw;
          unsigned char *d = row + (kh * v->KW + kw) * Cg;
          if (ih < 0 || ih >= v->H || iw < 0 || iw >= v->W)
            qc_fill(d, fill, Cg);
          else
            qc_copy(d, x + (ih * v->W + iw) * g->C, Cg);
        }
      }
    }
    return;
  }
  const unsigned char *x = j->X + (n * g->C + grp * Cg) * HW;
  for (int64_t ci = 0; ci < Cg; ci++)
    for (int64_t kh = 0; kh < v->KH; kh++)
      for (int64_t kw = 0; kw < v->KW; kw++) {
        unsigned char *d = col + ((ci * v->KH + kh) * v->KW + kw) * pn;
        const unsigned char *plane = x + ci * HW;
        int64_t oh = p0 / v->OW, ow = p0 % v->OW;
        for (int64_t jj = 0; jj < pn;) {
          /* one output row segment at a time */
          int64_t seg = v->OW - ow < pn - jj ? v->OW - ow : pn - jj;
          int64_t ih = oh * v->sh - v->ph + kh * v->dh;
          if (ih < 0 || ih >= v->H) {
            memset(d + jj, fill, (size_t)seg);
          } else {
            const unsigned char *r = plane + ih * v->W;
            int64_t iw = ow * v->sw - v->pw + kw * v->dw;
            if (v->sw == 1 && iw >= 0 && iw + seg <= v->W) {
              memcpy(d + jj, r + iw, (size_t)seg);
            } else {
              for (int64_t s = 0; s < seg; s++, iw += v->sw) d[jj + s] = iw >= 0 && iw < v->W ? r[iw] : fill;
            }
          }
          jj += seg, ow = 0, oh++;
        }
      }
}

/* qc_im2col for channels-last through a padded copy (see qc_padded_bytes): the same col. */
static void qc_im2col_padded(const qc_job *j, int64_t n, int64_t p0, int64_t pn, unsigned char *pad,
                             unsigned char *col) {
  const er_qconv_geom *g = j->g;
  const qc_2d *v = &j->v;
  const int64_t C = g->C, K = g->ksize * C;
  const unsigned char fill = (unsigned char)j->xzp;
  const unsigned char *x = j->X + n * v->H * v->W * C;
  const int64_t oh_a = p0 / v->OW, oh_b = (p0 + pn - 1) / v->OW;
  const int64_t rows = (oh_b - oh_a) * v->sh + (v->KH - 1) * v->dh + 1;
  const int64_t wp = (v->OW - 1) * v->sw + (v->KW - 1) * v->dw + 1, rb = wp * C;
  /* padded row r holds input row ih = oh_a * sh - ph + r, columns iw = -pw ... wp - pw - 1 */
  int64_t iw_lo = v->pw < wp ? v->pw : wp, iw_hi = v->W + v->pw < wp ? v->W + v->pw : wp; /* in range: [iw_lo, iw_hi) */
  if (iw_hi < iw_lo) iw_hi = iw_lo;
  for (int64_t r = 0; r < rows; r++) {
    int64_t ih = oh_a * v->sh - v->ph + r;
    unsigned char *d = pad + r * rb;
    if (ih < 0 || ih >= v->H) {
      memset(d, fill, (size_t)rb);
      continue;
    }
    memset(d, fill, (size_t)(iw_lo * C));
    memcpy(d + iw_lo * C, x + (ih * v->W + iw_lo - v->pw) * C, (size_t)((iw_hi - iw_lo) * C));
    memset(d + iw_hi * C, fill, (size_t)((wp - iw_hi) * C));
  }
  const int64_t run = v->dw == 1 ? v->KW * C : C, nrun = v->dw == 1 ? 1 : v->KW;
  const int64_t hstep = v->dh * rb, wstep = v->dw * C;
  int64_t oh = oh_a, ow = p0 % v->OW;
  for (int64_t jj = 0; jj < pn; jj++) {
    unsigned char *d = col + jj * K;
    const unsigned char *s = pad + (oh - oh_a) * v->sh * rb + ow * v->sw * C;
    if (nrun == 1 && run <= 16) /* 16-byte moves, each overwriting the previous one's excess
                                 * (both buffers have QC_SLACK bytes beyond their ends) */
      for (int64_t kh = 0; kh < v->KH; kh++, d += run, s += hstep) memcpy(d, s, 16);
    else
      for (int64_t kh = 0; kh < v->KH; kh++, s += hstep)
        for (int64_t kw = 0; kw < nrun; kw++, d += run) qc_copy(d, s + kw * wstep, run);
    if (++ow == v->OW) ow = 0, oh++;
  }
}

static void qc_item(const qc_job *j, int64_t it, char *slot) {
  const er_qconv_geom *g = j->g;
  const er_microkernels *mk = j->mk;
  const int64_t Cg = g->C / g->group, Mg = g->M / g->group, Kg = Cg * g->ksize, P = g->osize;
  int64_t ch = it % j->nchunks, t = it / j->nchunks;
  int64_t tile = t % j->ntiles, ng = t / j->ntiles, grp = ng % g->group, n = ng / g->group;
  int64_t p0 = tile * j->T, pn = P - p0 < j->T ? P - p0 : j->T;
  int64_t c0 = ch * j->chunk, c1 = c0 + j->chunk; /* rows (NCHW) or columns (NHWC) of the weights */
  if (c1 > Mg) c1 = Mg;
  const char *pw = j->packed + (size_t)grp * j->gstride;
  er_q8_out o = j->o;
  if (o.bias) o.bias += grp * Mg;
  if (o.scale_stride) o.scale += grp * Mg;
  unsigned char *col = (unsigned char *)slot;
  char *pk = slot + (j->pointwise ? 0 : qc_align((size_t)(Kg * j->T)));
  const int32_t zx = j->xzp;
  if (j->cl) {
    const unsigned char *src;
    int64_t sm;
    if (j->pointwise) {
      src = j->X + (n * g->isize + p0) * g->C + grp * Cg, sm = g->C;
    } else if (j->pad_off) {
      qc_im2col_padded(j, n, p0, pn, (unsigned char *)slot + j->pad_off, col);
      src = col, sm = Kg;
    } else {
      qc_im2col(j, n, grp, p0, pn, col);
      src = col, sm = Kg;
    }
    mk->q8_pack_left(pn, Kg, src, j->xsig, sm, 1, &zx, 0, pk);
    mk->q8_gemm(Kg, pk, pn, pw, Mg, 0, pn, c0, c1, &o, j->Y + ((n * P + p0) * g->M + grp * Mg) * j->esz, g->M);
  } else {
    const unsigned char *src;
    int64_t sk;
    if (j->pointwise) {
      src = j->X + (n * g->C + grp * Cg) * g->isize + p0, sk = g->isize;
    } else {
      qc_im2col(j, n, grp, p0, pn, col);
      src = col, sk = pn;
    }
    mk->q8_pack_right(Kg, pn, src, j->xsig, sk, 1, &zx, 0, pk);
    mk->q8_gemm(Kg, pw, Mg, pk, pn, c0, c1, 0, pn, &o, j->Y + ((n * g->M + grp * Mg) * P + p0) * j->esz, P);
  }
}

static void qc_dw_item(const qc_job *j, int64_t it, char *slot) {
  const er_qconv_geom *g = j->g;
  const qc_2d *v = &j->v;
  if (j->cl) { /* item = (image, chunk of T output rows) */
    int64_t nch = (v->OH + j->T - 1) / j->T, n = it / nch, oh0 = it % nch * j->T;
    int64_t oh1 = oh0 + j->T < v->OH ? oh0 + j->T : v->OH;
    j->mk->q8_dwconv_nhwc(j->X + n * g->isize * g->C, j->xsig, j->xzp, v->H, v->W, g->C, j->packed, v->KH, v->KW,
                          v->sh, v->sw, v->ph, v->pw, v->dh, v->dw, &j->o, j->Y + n * g->osize * g->M * j->esz,
                          v->OW, oh0, oh1, slot);
    return;
  }
  int64_t n = it / g->M, m = it % g->M, Mg = g->M / g->group;
  j->mk->q8_dwconv2d(j->X + (n * g->C + m / Mg) * g->isize, j->xsig, j->xzp, v->H, v->W,
                     (const int16_t *)j->packed + m * g->ksize, v->KH, v->KW, v->sh, v->sw, v->ph, v->pw, v->dh,
                     v->dw, &j->o, m, j->Y + (n * g->M + m) * g->osize * j->esz, v->OH, v->OW);
}

/* DWT item: (image, chunk of QC_CB channels, band of output rows) */
static void qc_dwt_item(const qc_job *j, int64_t it, char *slot) {
  const er_qconv_geom *g = j->g;
  const qc_2d *v = &j->v;
  const int64_t nc = (g->M + QC_CB - 1) / QC_CB, BR = qc_band(v), nb = (v->OH + BR - 1) / BR;
  int64_t b = it % nb, ch = it / nb % nc, n = it / (nb * nc);
  int64_t c0 = ch * QC_CB, cb = g->M - c0 < QC_CB ? g->M - c0 : QC_CB;
  int64_t oh0 = b * BR, oh1 = oh0 + BR < v->OH ? oh0 + BR : v->OH;
  int64_t ih0 = oh0 * v->sh - v->ph, ih1 = (oh1 - 1) * v->sh - v->ph + (v->KH - 1) * v->dh + 1;
  ih0 = ih0 < 0 ? 0 : ih0;
  ih1 = ih1 > v->H ? v->H : ih1;
  if (ih1 < ih0) ih1 = ih0;
  unsigned char *xin = (unsigned char *)slot;
  unsigned char *yo = xin + qc_align((size_t)(qc_band_in(v) * v->W * QC_CB));
  char *work = (char *)yo + qc_align((size_t)(BR * v->OW * QC_CB));
  const int64_t HW = v->H * v->W, OHW = v->OH * v->OW;
  j->mk->u8_transpose(cb, (ih1 - ih0) * v->W, j->X + (n * g->C + c0) * HW + ih0 * v->W, HW, xin, cb);
  er_q8_out o = j->o;
  if (o.bias) o.bias += c0;
  if (o.scale_stride) o.scale += c0;
  o.per_row = 0;
  /* rows of the band relative to it: ih' = ih - ih0 for oh' = oh - oh0 */
  j->mk->q8_dwconv_nhwc(xin, j->xsig, j->xzp, ih1 - ih0, v->W, cb, j->packed + ch * j->gstride, v->KH, v->KW, v->sh,
                        v->sw, v->ph + ih0 - oh0 * v->sh, v->pw, v->dh, v->dw, &o, yo, v->OW, 0, oh1 - oh0, work);
  j->mk->u8_transpose((oh1 - oh0) * v->OW, cb, yo, cb, j->Y + (n * g->M + c0) * OHW + oh0 * v->OW, OHW);
}

/* Slot s (its own scratch) claims items from a shared counter until none is left: a thread
 * the system delays takes fewer items. Each item is computed alone: same bits for any split. */
static void qc_task(void *arg, int64_t s0, int64_t s1) {
  qc_job *j = (qc_job *)arg;
  for (int64_t s = s0; s < s1; s++) {
    char *slot = j->slots + (size_t)s * j->slot_bytes;
    for (int64_t it; (it = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->items;) {
      if (j->kind == QC_GEMM)
        qc_item(j, it, slot);
      else if (j->kind == QC_DWT)
        qc_dwt_item(j, it, slot);
      else
        qc_dw_item(j, it, slot);
    }
  }
}

int er_qconv_fast_run(er_kctx *c, const er_qconv_geom *g, int cl, const er_qconv_io *io) {
  const qc_state *st = (const qc_state *)c->state;
  int kind = qc_kind(c, g, cl, io->w_idx);
  if (!kind || !st || c->state_bytes < QC_HDR || st->magic != QC_MAGIC || st->mk != c->mk || st->kind != kind)
    return 0;
  qc_job j;
  memset(&j, 0, sizeof j);
  j.g = g, j.v = qc_view(g), j.mk = c->mk, j.cl = cl, j.kind = kind;
  j.X = (const unsigned char *)c->in[0]->data;
  j.Y = (char *)c->out[0]->data;
  j.xsig = c->in[0]->dtype == ER_I8;
  j.xzp = io->xzp;
  j.packed = (const char *)c->state + QC_HDR;
  j.pointwise = qc_pointwise(g);
  const int ot = c->out[0]->dtype;
  j.esz = ot == ER_I32 ? 4 : 1;
  /* output stage: multipliers x_scale * w_scale[m] / y_scale in scratch */
  er_q8_out *o = &j.o;
  o->type = ot;
  o->per_row = !cl;
  o->bias = io->bias;
  if (ot != ER_I32) {
    int per = er_tensor_numel(io->ws) > 1;
    if (st->has_scale && st->xs == io->xs && st->ys == io->ys) { /* computed in prepare */
      o->scale = (const float *)((const char *)st + st->scale_off);
    } else {
      float *sc = (float *)c->scratch;
      for (int64_t m = 0; m < (per ? g->M : 1); m++)
        sc[m] = io->xs * (float)er_load_f64(io->ws->data, io->ws->dtype, (size_t)m) / io->ys;
      o->scale = sc;
    }
    o->scale_stride = per;
    o->zp = io->yzp, o->lo = io->lo, o->hi = io->hi;
  }
  const size_t head = qc_align((size_t)g->M * sizeof(float));
  int nth = er_threadpool_size(c->threads);
  const int64_t Mg = g->M / g->group, Kg = g->C / g->group * g->ksize;
  if (kind == QC_DW || kind == QC_DWT) {
    j.nslots = g->N * g->osize * g->M * g->ksize < qc_min_par(c) / 8 ? 1 : nth;
    j.slot_bytes = qc_slot_bytes(c, g, cl, kind);
    j.slots = (char *)c->scratch + head;
    if (c->scratch_bytes < head + (size_t)j.nslots * j.slot_bytes) j.nslots = 1;
    if (c->scratch_bytes < head + j.slot_bytes) return 0;
    /* channels-last: per image, bands of output rows (each builds its own input rows): one
     * per slot alone, else ~4 per slot (claimed as threads come free) of at least 4 rows */
    j.T = j.nslots == 1 ? j.v.OH : (j.v.OH + 4 * j.nslots - 1) / (4 * j.nslots);
    if (j.T < 4) j.T = 4;
    j.items = cl ? g->N * ((j.v.OH + j.T - 1) / j.T) : g->N * g->M;
    if (kind == QC_DWT) {
      j.gstride = st->gstride;
      j.items = g->N * ((g->M + QC_CB - 1) / QC_CB) * ((j.v.OH + qc_band(&j.v) - 1) / qc_band(&j.v));
    }
  } else {
    j.gstride = st->gstride;
    j.slot_bytes = qc_slot_bytes(c, g, cl, kind);
    j.slots = (char *)c->scratch + head;
    j.T = qc_tile(g, cl);
    if (qc_padded_bytes(g, cl))
      j.pad_off = qc_align((size_t)(Kg * j.T)) + qc_align(c->mk->q8_pack_left_size(j.T, Kg));
    j.ntiles = (g->osize + j.T - 1) / j.T;
    j.nslots = g->N * g->M * Kg * g->osize < qc_min_par(c) ? 1 : nth;
    if (c->scratch_bytes < head + (size_t)j.nslots * j.slot_bytes) j.nslots = 1;
    if (c->scratch_bytes < head + j.slot_bytes) return 0;
    /* too few tiles for the threads: split the weights' rows / columns too */
    int64_t outer = g->N * g->group * j.ntiles, align = cl ? ER_Q8_NALIGN : 6;
    j.chunk = Mg, j.nchunks = 1;
    if (j.nslots > 1 && outer < 2 * j.nslots) {
      int64_t want = (2 * j.nslots + outer - 1) / outer;
      j.chunk = ((Mg + want - 1) / want + align - 1) / align * align;
      if (j.chunk >= Mg) j.chunk = Mg;
      j.nchunks = (Mg + j.chunk - 1) / j.chunk;
    }
    j.items = outer * j.nchunks;
  }
  if (j.nslots > j.items) j.nslots = j.items;
  if (j.nslots < 1) j.nslots = 1;
  atomic_init(&j.next, 0);
  er_parallel_for(c, j.nslots, 1, qc_task, &j);
  return 1;
}
