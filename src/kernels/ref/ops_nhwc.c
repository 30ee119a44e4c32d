/*
 * Channels-last ops (contract in kernels/nhwc.h): NhwcConv, NhwcMaxPool, NhwcAveragePool,
 * NhwcGlobalAveragePool, NhwcGlobalMaxPool. float32 only; X is [N, W, C] or [N, H, W, C].
 *
 * Geometry, validation and the split of work over threads live here; the inner loops are
 * the micro-kernel table's f32_nhwc_* entries (ctx->mk: the portable reference or AVX2).
 * NhwcConv picks one path per node from the geometry alone (so every table runs the same
 * algorithm):
 *   NH_PW    1x1, stride 1, no pads: the input rows are the GEMM's A directly (pixels x C),
 *            times packed weights (C x M), bias + activation in the epilogue; a group's
 *            rows are a strided slice.
 *   NH_GEMM  any other conv: per-thread tiles of gathered rows (each output pixel's row is
 *            its kernel taps' channel vectors, contiguous in C), cut in depth into chunks of
 *            whole taps; the chunks accumulate into Y, the last applies the activation.
 *   NH_DW    depthwise, channel multiplier 1: per output row segment, one pointer per tap
 *            (padding points at a zero vector) for the table's channel-vectorized kernel.
 *   NH_DWM   depthwise with a channel multiplier (or a huge kernel): a portable loop.
 *   NH_WINO  Winograd F(4x4, 3x3) for 3x3 stride-1 convs with enough channels and pixels:
 *            per block of 4x4 output tiles, input transform across channels (36 vectors per
 *            tile), 36 GEMMs against packed transformed weights, output transform with bias
 *            and activation.
 * Weights are packed in prepare (from constant W) into ctx->state; non-constant weights are
 * packed at each run. Work is cut into items that do not depend on the thread count, and
 * every output element is computed by one item in a fixed order, so any thread count gives
 * the same bits.
 */
#include "kernels/nhwc.h"
#include "kernels/ref/conv_common.h"
#include "kernels/sparse.h"
#include "kernels/vmath.h"

#include <stdatomic.h>

static const int nh_types[] = {ER_F32, 0};

enum { NH_PW = 1, NH_GEMM, NH_DW, NH_DWM, NH_WINO, NH_SPARSE };
enum {
  NH_PTRS = 1024,   /* tap pointers per depthwise / pooling call (stack) */
  NH_TILE = 96,     /* output pixels per gathered tile (multiple of 6 and 12) */
  NH_KD = 512,      /* gathered depth per chunk (whole taps; at least one tap) */
  NH_PAD = 16,      /* floats between Winograd matrices (no 4 KB aliasing of their rows) */
  NH_MAGIC = 0x4e484331
};
/* multiply-adds below which a node runs on one thread (waking another costs more); while
 * the pool's workers sleep (as after a stretch of single-threaded ops) NH_WAKE times more:
 * a sleeping worker takes tens of microseconds to wake (Silero VAD's convs, ~0.3M MACs
 * each after an LSTM, ran slower on 2 threads than on 1) */
#define NH_MIN_PAR ((int64_t)1 << 18)
#define NH_DW_MIN_PAR ((int64_t)1 << 15)
#define NH_WAKE 4

static er_status nh_tensor(const er_kctx *c, int i, int rank, const char *what) {
  const er_tensor *t = er_in(c, i);
  if (!t) return ER_ERR(ER_INVALID_MODEL, "input %s is missing", what);
  if (t->dtype != ER_F32)
    return ER_ERR(ER_INVALID_ARGUMENT, "input %s has type %s, only float32 is supported", what,
                  er_dtype_name((er_dtype)t->dtype));
  if (rank >= 0 && t->rank != rank)
    return ER_ERR(ER_INVALID_ARGUMENT, "input %s has rank %d, expected %d", what, t->rank, rank);
  return 0;
}

/* X of rank 3 ([N, W, C]) or 4 ([N, H, W, C]): its spatial rank */
static er_status nh_input(const er_kctx *c, int *nsp) {
  ER_RETURN_IF_ERROR(er_check_type(c, 0, nh_types));
  const er_tensor *X = c->in[0];
  if (X->rank != 3 && X->rank != 4)
    return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank 3 [N, W, C] or 4 [N, H, W, C], got %d", X->rank);
  *nsp = X->rank - 2;
  return 0;
}

/* Output [N, (OH,) OW, ch] from a window. */
static void nh_set_out(er_kctx *c, const cv_win *w, int64_t ch) {
  const er_tensor *X = c->in[0];
  int64_t d[4] = {X->dims[0]};
  for (int i = 0; i < w->nsp; i++) d[1 + i] = w->out[3 - w->nsp + i];
  d[1 + w->nsp] = ch;
  er_tensor_set_shape(c->out[0], ER_F32, X->rank, d);
}

/* ================================ NhwcConv ================================ */
typedef struct nh_conv {
  cv_win w;                 /* 3-D form: in/out [1] = H (1 for nsp 1), [2] = W */
  int64_t N, C, M, group, Cg, Mg;
  int64_t H, W, OH, OW;
  int64_t T, K;             /* kernel taps, GEMM depth Cg * T */
  int64_t rows;             /* output pixels over the batch */
  int64_t ktaps;            /* NH_GEMM: taps per depth chunk (nchw: channels per chunk) */
  int64_t kd;               /* NH_GEMM: depth of a full chunk */
  int kind;
  int nchw;                 /* _nchw_in: X is [N, C, (H,) W] */
  int resid;                /* input Z: y = act(conv + bias + Z) */
  int64_t ubh, ubw;         /* _up: each input pixel gives a ubh x ubw block of output pixels */
  er_act act;
} nh_conv;

/* Winograd pays where there are enough channels to amortize the transforms and enough
 * tiles to amortize the transformed weights (4x larger than the direct ones). */
static int nh_wino_geom(const nh_conv *g) {
  const cv_win *w = &g->w;
  if (w->nsp != 2 || w->k[1] != 3 || w->k[2] != 3 || g->group != 1) return 0;
  for (int i = 1; i < 3; i++)
    if (w->s[i] != 1 || w->d[i] != 1) return 0;
  return 1;
}
static int nh_wino_ok(const nh_conv *g) {
  if (!nh_wino_geom(g)) return 0;
  const int64_t tiles = ((g->OH + 3) / 4) * ((g->OW + 3) / 4);
/* Largest C*M run with Winograd: its weights take 4x the direct ones. 256x256 on a 14x14
 * plane (16 tiles) pays on AVX-512 too: ResNet-18's layer3 3x3 convs 1.55 -> 1.04 ms each
 * (whole model 19.97 -> 18.34 ms at 1 thread; chrt, alternating, 3 rounds of 40 runs),
 * peak RSS 68 -> 89 MB. 512x512 on a 7x7 plane (4 tiles, 38 MB of transformed weights
 * streamed per conv) stays on the GEMM by the tile count. Older AVX2 numbers (1 / 2
 * threads, load, peak RSS): 256*256 26.2 / 16.4 ms, 89 ms, 153 MB; 128*128 27.8 / 17.1 ms,
 * 67 ms, 132 MB; none 36.6 / 20.8 ms, 65 ms, 126 MB. Build-time knob. */
#ifndef NH_WINO_MAXCM
#define NH_WINO_MAXCM (256 * 256)
#endif
  return g->C >= 16 && g->M >= 16 && g->C * g->M <= NH_WINO_MAXCM && tiles >= 16;
}

static int nh_conv_kind(const nh_conv *g) {
  if (g->Cg == 1 && g->group > 1) return g->Mg == 1 && g->T <= NH_PTRS ? NH_DW : NH_DWM;
  int unit = g->T == 1;
  for (int i = 1; i < 3; i++)
    if (g->w.s[i] != 1 || g->w.pb[i] || g->w.pe[i]) unit = 0;
  if (unit) return NH_PW;
  return nh_wino_ok(g) ? NH_WINO : NH_GEMM;
}

static er_status nhconv_geom(const er_kctx *c, nh_conv *g) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 4));
  int nsp;
  ER_RETURN_IF_ERROR(nh_input(c, &nsp));
  if (er_in(c, 3)) ER_RETURN_IF_ERROR(nh_tensor(c, 3, c->in[0]->rank, "Z"));
  const er_tensor *X = c->in[0], *W = c->in[1], *B = er_in(c, 2);
  ER_RETURN_IF_ERROR(nh_tensor(c, 1, X->rank, "W"));
  memset(g, 0, sizeof *g);
  g->group = er_attr_int(c, "group", 1);
  const int64_t nchw = er_attr_int(c, "_nchw_in", 0);
  if (nchw != 0 && nchw != 1) return ER_ERR(ER_INVALID_ARGUMENT, "_nchw_in=%lld must be 0 or 1", (long long)nchw);
  g->nchw = (int)nchw;
  g->N = X->dims[0], g->C = X->dims[nchw ? 1 : X->rank - 1], g->M = W->dims[0];
  if (g->C < 1) return ER_ERR(ER_UNSUPPORTED, "X has no channels (last dim 0)");
  if (g->group < 1 || g->C % g->group || g->M % g->group || W->dims[1] * g->group != g->C)
    return ER_ERR(ER_INVALID_ARGUMENT, "channels do not match: X has %lld (%s), W %lldx%lld, group %lld",
                  (long long)g->C, nchw ? "dim 1, _nchw_in" : "last dim", (long long)W->dims[0],
                  (long long)W->dims[1], (long long)g->group);
  if (B) {
    ER_RETURN_IF_ERROR(nh_tensor(c, 2, 1, "B"));
    if (B->dims[0] != g->M)
      return ER_ERR(ER_INVALID_ARGUMENT, "B has %lld values, expected %lld", (long long)B->dims[0], (long long)g->M);
  }
  int64_t k[2];
  ER_RETURN_IF_ERROR(cv_w_kernel(c, W, nsp, k));
  ER_RETURN_IF_ERROR(cv_window(c, nsp, X->dims + 1 + g->nchw, k, 0, 1, &g->w));
  ER_RETURN_IF_ERROR(cv_act_attr(c, &g->act));
  g->Cg = g->C / g->group, g->Mg = g->M / g->group;
  g->H = g->w.in[1], g->W = g->w.in[2], g->OH = g->w.out[1], g->OW = g->w.out[2];
  g->T = g->w.k[1] * g->w.k[2], g->K = g->Cg * g->T;
  g->rows = g->N * g->OH * g->OW;
  g->ktaps = NH_KD / g->Cg < 1 ? 1 : NH_KD / g->Cg < g->T ? NH_KD / g->Cg : g->T;
  g->kd = g->ktaps * g->Cg;
  if (g->nchw) { /* depth ordered [c][tap] (ONNX's own order), chunks of whole channels */
    g->ktaps = NH_KD / g->T < 1 ? 1 : NH_KD / g->T < g->Cg ? NH_KD / g->T : g->Cg;
    g->kd = g->ktaps * g->T;
  }
  g->kind = nh_conv_kind(g);
  const int64_t algo = er_attr_int(c, "_algo", 0);
  if (algo == 1 && g->kind != NH_DW && g->kind != NH_DWM) g->kind = NH_GEMM;
  if (algo == 2) {
    if (!nh_wino_geom(g))
      return ER_ERR(ER_INVALID_ARGUMENT, "_algo=2 (Winograd) needs a 2-D 3x3 stride-1 dilation-1 conv with group 1");
    g->kind = NH_WINO;
  }
  if (algo < 0 || algo > 2) return ER_ERR(ER_INVALID_ARGUMENT, "_algo=%lld is unknown (0, 1 or 2)", (long long)algo);
  g->ubh = g->ubw = 1;
  g->resid = er_in(c, 3) != 0;
  const int64_t *up;
  const int nup = er_attr_ints(c, "_up", &up);
  if (nup >= 0) {
    if (nup != 2 || up[0] < 1 || up[1] < 1 || (nsp == 1 && up[0] != 1))
      return ER_ERR(ER_INVALID_ARGUMENT, "_up must be 2 positive values (the first 1 for a 1-D conv)");
    if (g->kind != NH_PW || g->group != 1 || g->nchw || algo)
      return ER_ERR(ER_INVALID_ARGUMENT, "_up needs a 1x1 stride-1 unpadded conv with group 1");
    if (er_in(c, 3)) return ER_ERR(ER_UNSUPPORTED, "_up with a residual input Z is not supported");
    if (g->M % (up[0] * up[1]))
      return ER_ERR(ER_INVALID_ARGUMENT, "_up %lldx%lld does not divide the %lld output channels", (long long)up[0],
                    (long long)up[1], (long long)g->M);
    g->ubh = up[0], g->ubw = up[1];
  }
  return 0;
}

const char *er_nhwc_conv_path(const er_kctx *c) {
  static const char *const names[] = {0, "pointwise", "gemm", "depthwise", "depthwise-multiplier", "winograd"};
  nh_conv g;
  er_status s = nhconv_geom(c, &g);
  if (s) {
    er_status_free(s);
    return 0;
  }
  return names[g.kind];
}

typedef struct nh_state {
  uint32_t magic;
  int kind;
  const er_microkernels *mk; /* the table whose packed format this is */
  int constant;              /* packed in prepare from constant weights */
  size_t gstride;            /* bytes per group (GEMM) or per Winograd position */
} nh_state;
#define NH_HDR cv_align(sizeof(nh_state))

static const er_microkernels *nh_mk(const er_kctx *c) { return c->mk ? c->mk : er_microkernels_ref(); }

static size_t nh_gstride(const er_microkernels *mk, const nh_conv *g) {
  if (g->kind == NH_WINO) return cv_align(mk->f32_nhwc_pack_size(g->C, g->M));
  if (g->kind == NH_DW || g->kind == NH_DWM) return cv_align((size_t)(g->T * g->M) * sizeof(float));
  return cv_align(mk->f32_nhwc_pack_size(g->K, g->Mg / g->ubh));
}

static size_t nh_state_bytes(const er_microkernels *mk, const nh_conv *g) {
  size_t gs = nh_gstride(mk, g);
  if (g->kind == NH_WINO) return NH_HDR + 36 * gs;
  if (g->kind == NH_DW || g->kind == NH_DWM) return NH_HDR + gs;
  return NH_HDR + (size_t)(g->group * g->ubh) * gs;
}

/* Winograd tiles per item: a multiple of 6 (row tiles), V and O within 2 MB (L2), the
 * image's tiles cut into an even number of items of about equal size (2 threads: 196 tiles
 * of a 56x56 plane in 3 items left one thread 132 of them; 4 items: 108). par (the conv
 * runs on 2+ threads): an image of 48+ tiles in at least 2 items (a 28x28 plane: 49 tiles
 * in items of 30 and 19 rather than one item split by columns, whose input transforms
 * both threads would compute; on one thread that costs a second pass over the weights).
 * Which item a tile falls in never changes its result. */
static int64_t nh_wt(const nh_conv *g, int par) {
  int64_t t = ((int64_t)1 << 21) / (36 * 4 * (g->C + g->M)) / 6 * 6;
  t = t < 6 ? 6 : t > 96 ? 96 : t;
  const int64_t tiles = ((g->OH + 3) / 4) * ((g->OW + 3) / 4);
  int64_t items = (tiles + t - 1) / t;
  if (par && items < 2 && tiles >= 48) items = 2;
  if (items > 1) items += items & 1;
  return ((tiles + items - 1) / items + 5) / 6 * 6;
}
/* Winograd slot of items of wt tiles: V (36 x wt x C) and O (36 x wt x mcs) */
static int64_t nh_wxs_in(const nh_conv *g, int64_t wt) { return wt * g->C + NH_PAD; }
static int64_t nh_wxs_out(int64_t wt, int64_t mcs) { return wt * mcs + NH_PAD; }

static size_t nh_slot_bytes(const nh_conv *g) {
  if (g->kind == NH_GEMM) return cv_align((size_t)(NH_TILE * g->kd) * sizeof(float));
  if (g->kind == NH_WINO) { /* the larger of the two item sizes */
    const int64_t a = nh_wt(g, 0), b = nh_wt(g, 1), wt = a > b ? a : b;
    return cv_align((size_t)(36 * (nh_wxs_in(g, wt) + nh_wxs_out(wt, g->M))) * sizeof(float));
  }
  return 0;
}
static size_t nh_zero_bytes(const nh_conv *g) {
  return g->kind == NH_DW || g->kind == NH_WINO ? cv_align((size_t)g->C * sizeof(float)) : 0;
}
/* _nchw_in on a path other than the gathered GEMM: a channels-last copy of X */
static size_t nh_xt_bytes(const nh_conv *g) {
  return g->nchw && g->kind != NH_GEMM ? cv_align((size_t)(g->N * g->H * g->W * g->C) * sizeof(float)) : 0;
}
/* scratch: [zero vector][channels-last X][per-thread slots] */
static size_t nh_head_bytes(const nh_conv *g) { return nh_zero_bytes(g) + nh_xt_bytes(g); }

/* NH_SPARSE: a pointwise group-1 conv whose constant weights the rule of kernels/sparse.h
 * runs sparse (K = C, N = M, W[n][k] at n*C + k). *out_bytes: its state. */
static er_status nh_sparse(const er_kctx *c, const nh_conv *g, size_t *out_bytes) {
  int64_t mode;
  *out_bytes = 0;
  ER_RETURN_IF_ERROR(er_spw_mode(c, &mode));
  if (g->kind != NH_PW || g->group != 1 || g->ubh * g->ubw != 1 || mode == 0 || !er_in_known(c, 1)) return 0;
  const int64_t nnz = er_spw_count(g->C, g->M, (const float *)c->in[1]->data, g->C, 1);
  if (er_spw_choose(g->rows, g->C, g->M, nnz, mode)) *out_bytes = NH_HDR + er_spw_bytes(g->C, g->M, nnz);
  return 0;
}

/* Z (residual) must have Y's shape exactly (no broadcasting) */
static er_status nh_check_z(const er_kctx *c) {
  const er_tensor *Z = er_in(c, 3), *Y = c->out[0];
  if (!Z) return 0;
  int same = Z->rank == Y->rank;
  for (int i = 0; same && i < Y->rank; i++) same = Z->dims[i] == Y->dims[i];
  if (!same) return ER_ERR(ER_INVALID_ARGUMENT, "residual input Z must have the output's shape (no broadcasting)");
  return 0;
}

static er_status nhconv_infer(er_kctx *c) {
  nh_conv g;
  ER_RETURN_IF_ERROR(nhconv_geom(c, &g));
  nh_set_out(c, &g.w, g.M);
  if (g.ubh * g.ubw > 1) { /* [N, (OH*ubh,) OW*ubw, M/(ubh*ubw)] */
    er_tensor *Y = c->out[0];
    int64_t d[4];
    for (int i = 0; i < Y->rank; i++) d[i] = Y->dims[i];
    if (Y->rank == 4) d[1] *= g.ubh;
    d[Y->rank - 2] *= g.ubw;
    d[Y->rank - 1] /= g.ubh * g.ubw;
    er_tensor_set_shape(Y, ER_F32, Y->rank, d);
  }
  ER_RETURN_IF_ERROR(nh_check_z(c));
  c->state_bytes = nh_state_bytes(nh_mk(c), &g);
  c->out_ld_ok = g.ubh * g.ubw == 1; /* every path but _up writes pixels ldy apart */
  c->scratch_bytes = nh_head_bytes(&g) + (size_t)er_threadpool_size(c->threads) * nh_slot_bytes(&g);
  size_t sb;
  ER_RETURN_IF_ERROR(nh_sparse(c, &g, &sb));
  if (sb) {
    c->state_bytes = sb;
    c->scratch_bytes = nh_head_bytes(&g) + er_spw_scratch_bytes(g.rows, g.C, g.M, er_threadpool_size(c->threads));
  }
  return 0;
}

/* G of F(4x4, 3x3): U = G g G^T */
static const float nh_G[6][3] = {{1.0f / 4, 0, 0},
                                 {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                 {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                 {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                 {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                 {0, 0, 1}};

/* Pack W (ONNX layout [M][Cg][taps]) for the node's path into st. */
static void nh_pack(const er_microkernels *mk, const nh_conv *g, const float *W, nh_state *st) {
  char *base = (char *)st + NH_HDR;
  st->gstride = nh_gstride(mk, g);
  if (g->kind == NH_DW || g->kind == NH_DWM) { /* [taps][M] */
    float *w = (float *)base;
    for (int64_t t = 0; t < g->T; t++)
      for (int64_t m = 0; m < g->M; m++) w[t * g->M + m] = W[m * g->T + t];
  } else if (g->kind == NH_WINO) {
    /* U_xi = (G g G^T)[xi] for every (m, c), written once, straight into xi's panels (the
     * format of kernels/ref/nhwc_mk.h, which every table shares): per depth c, the 16
     * columns of a panel at once (padding columns get zero weights, so U is zero there) */
    const int64_t C = g->C, M = g->M;
    for (int64_t m0 = 0; m0 < M; m0 += 16) {
      const int64_t mn = M - m0 < 16 ? M - m0 : 16;
      for (int64_t c = 0; c < C; c++) {
        float k[9][16], h[6][3][16];
        for (int64_t m = 0; m < 16; m++)
          for (int t = 0; t < 9; t++) k[t][m] = m < mn ? W[((m0 + m) * C + c) * 9 + t] : 0.0f;
        for (int i = 0; i < 6; i++)
          for (int b = 0; b < 3; b++)
            for (int m = 0; m < 16; m++)
              h[i][b][m] = nh_G[i][0] * k[b][m] + nh_G[i][1] * k[3 + b][m] + nh_G[i][2] * k[6 + b][m];
        char *dst = base + (size_t)((m0 / 16) * C + c) * 16 * sizeof(float);
        for (int i = 0; i < 6; i++)
          for (int jj = 0; jj < 6; jj++) {
            float *restrict d = (float *)(dst + (size_t)(6 * i + jj) * st->gstride);
            for (int m = 0; m < 16; m++)
              d[m] = h[i][0][m] * nh_G[jj][0] + h[i][1][m] * nh_G[jj][1] + h[i][2][m] * nh_G[jj][2];
          }
      }
    }
  } else if (g->ubh > 1) { /* _up: one block of M/ubh columns per kernel row (1x1, group 1) */
    const int64_t nb = g->M / g->ubh;
    for (int64_t b = 0; b < g->ubh; b++)
      mk->f32_nhwc_pack(g->K, nb, W + b * nb * g->K, g->K, g->K, 1, 0, base + (size_t)b * st->gstride);
  } else { /* B[t*Cg + c][m] = W[m][c][t]; nchw: B[c*T + t][m] = W[m][c][t] */
    for (int64_t grp = 0; grp < g->group; grp++)
      mk->f32_nhwc_pack(g->K, g->Mg, W + grp * g->Mg * g->K, g->K, g->nchw ? g->K : g->Cg, g->nchw ? 1 : g->T,
                        g->nchw ? 0 : 1, base + (size_t)grp * st->gstride);
  }
  st->kind = g->kind;
  st->mk = mk;
  st->magic = NH_MAGIC;
}

static er_status nhconv_prepare(er_kctx *c) {
  if (!c->state || c->state_bytes < NH_HDR) return 0;
  nh_state *st = (nh_state *)c->state;
  st->magic = 0;
  nh_conv g;
  ER_RETURN_IF_ERROR(nhconv_geom(c, &g));
  size_t sb;
  ER_RETURN_IF_ERROR(nh_sparse(c, &g, &sb));
  if (sb && sb <= c->state_bytes) {
    er_spw_pack(g.C, g.M, (const float *)c->in[1]->data, g.C, 1, (char *)st + NH_HDR);
    st->kind = NH_SPARSE, st->mk = nh_mk(c), st->constant = 1, st->magic = NH_MAGIC;
    c->consumed |= 1u << 1;
    return 0;
  }
  if (!er_in_known(c, 1) || nh_state_bytes(nh_mk(c), &g) > c->state_bytes) return 0;
  nh_pack(nh_mk(c), &g, (const float *)c->in[1]->data, st);
  st->constant = 1;
  c->consumed |= 1u << 1; /* W lives packed in the state now */
  return 0;
}

typedef struct nh_job {
  const nh_conv *g;
  const er_microkernels *mk;
  const float *X, *Bv, *zero;
  float *Y;
  const char *packed;
  size_t gstride;
  char *slots;
  size_t slot_bytes;
  int64_t items, nslots;
  int64_t rchunk, rchunks; /* rows (pixels, or Winograd tiles) per item */
  int64_t cchunk, cchunks; /* output columns per item (multiple of 16) */
  int64_t owb;             /* NH_DW: output pixels per call */
  int64_t ldy;             /* floats between output pixels (M, or the planner's out_ld) */
  const float *Z;          /* residual (Y's shape, M floats per pixel) or NULL */
} nh_job;

static const er_act nh_none = {ER_ACT_NONE, 0, 0};

/* The activation a conv call applies: none when the residual epilogue applies it after
 * adding Z (nh_resid) */
static er_act nh_act(const nh_job *j) { return j->Z ? nh_none : j->g->act; }
/* Residual epilogue over output pixels [p0, p0+np) (consecutive, ldy apart), channels
 * [m0, m0+mn): y = act(y + z), on rows the conv has just stored. */
static void nh_resid(const nh_job *j, int64_t p0, int64_t np, int64_t m0, int64_t mn) {
  if (j->Z && np > 0)
    j->mk->f32_nhwc_add_act(np, mn, j->Z + p0 * j->g->M + m0, j->g->M, j->g->act, j->Y + p0 * j->ldy + m0, j->ldy);
}

/* Items of rchunk rows x cchunk columns: enough of them for the threads, row chunks of about
 * equal size (no small remainder item: every item streams its columns' packed weights once,
 * so an item of a few rows costs nearly as much memory traffic as a full one), columns
 * split only when rows are few (a 7x7 plane: each item then reads a slice of the weights).
 * fixed != 0: rchunk = rmul (the scratch slot holds that many rows). Does not change any
 * result (each element is computed the same way). */
/* rows x cols covered by the first i items of row chunks of rc rows x column chunks of cc
 * (items in row order, columns fastest) */
static int64_t nh_items_work(int64_t rows, int64_t cols, int64_t rc, int64_t cc, int64_t i) {
  const int64_t cch = (cols + cc - 1) / cc, r = i / cch, c = i % cch, r0 = r * rc;
  if (r0 >= rows) return rows * cols;
  const int64_t rn = rows - r0 < rc ? rows - r0 : rc, cn = c * cc < cols ? c * cc : cols;
  return r0 * cols + rn * cn;
}
/* Largest thread's share of rows x cols over the mean when nth threads each take their
 * contiguous range of the items (nh_parallel), one image; 1000 = perfect balance. */
static int64_t nh_imbalance(int64_t rows, int64_t cols, int64_t rc, int64_t cc, int nth) {
  const int64_t items = ((rows + rc - 1) / rc) * ((cols + cc - 1) / cc);
  int64_t worst = 0;
  for (int s = 0; s < nth; s++) {
    const int64_t w = nh_items_work(rows, cols, rc, cc, (s + 1) * items / nth) -
                      nh_items_work(rows, cols, rc, cc, s * items / nth);
    if (w > worst) worst = w;
  }
  return worst * 1000 * nth / (rows * cols);
}

/* A pointwise conv on few rows (13x13, 14x14 planes) can leave one thread a row chunk
 * more than the other (196 rows in chunks of 60: 120 and 76; 169 rows: 96 and 73). When
 * the split is more than 5% off, take the best balanced whole-column row chunks of any
 * multiple of rmul rows (196: 96, 96 and 4; 169: 84, 84 and 1), largest first. Rows stay
 * in order, so a thread still reads mostly the rows its own core wrote. */
static void nh_balance(nh_job *j, int64_t rows, int64_t cols, int64_t rmul, int nth) {
  int64_t best = nh_imbalance(rows, cols, j->rchunk, j->cchunk, nth);
  if (best <= 1050) return;
  int64_t br = j->rchunk, bc = j->cchunk;
  const int64_t top = (rows + rmul - 1) / rmul * rmul < 32 * rmul ? (rows + rmul - 1) / rmul * rmul : 32 * rmul;
  for (int64_t rc = top; rc >= 2 * rmul; rc -= rmul) { /* at most 31 tries of O(nth) */
    const int64_t v = nh_imbalance(rows, cols, rc, cols, nth);
    if (v + 10 < best) best = v, br = rc, bc = cols;
  }
  j->rchunk = br, j->rchunks = (rows + br - 1) / br;
  j->cchunk = bc, j->cchunks = (cols + bc - 1) / bc;
  j->items = j->rchunks * j->cchunks;
}

static void nh_split(nh_job *j, int64_t outer, int64_t rows, int64_t cols, int64_t rmul, int fixed, int64_t macs,
                     int nth, int64_t min_par) {
  const int64_t want = macs < min_par ? 1 : 4 * (int64_t)nth;
  if (fixed) {
    j->rchunk = rmul;
  } else {
    int64_t rc = (rows + want - 1) / want;
    if (rc < 4 * rmul) rc = 4 * rmul;
    if (rc > 32 * rmul) rc = 32 * rmul;
    int64_t n = rows / rc; /* rounded down: the remainder joins the others */
    if (n < 1) n = 1;
    /* a multiple of the threads, so that they finish together (7 items on 2 threads: one
     * waits for the other's 4th) */
    if (n > 1 && nth > 1 && macs >= min_par && outer == 1) n = (n + nth - 1) / nth * nth;
    rc = (rows + n - 1) / n;
    j->rchunk = (rc + rmul - 1) / rmul * rmul;
  }
  j->rchunks = (rows + j->rchunk - 1) / j->rchunk;
  j->cchunk = cols, j->cchunks = 1;
  /* gathered rows and Winograd input transforms are redone by every column item of a row
   * chunk (a 7x7 plane's 512-channel 3x3 conv gathers 0.9 MB per item): one per thread */
  const int64_t wantc = fixed && macs >= min_par ? nth : want;
  if (nth > 1 && outer * j->rchunks < wantc && cols > 32) {
    const int64_t cc = (wantc + outer * j->rchunks - 1) / (outer * j->rchunks);
    int64_t w = ((cols + cc - 1) / cc + 15) / 16 * 16;
    if (w < 32) w = 32;
    if (w < cols) j->cchunk = w, j->cchunks = (cols + w - 1) / w;
  }
  j->items = outer * j->rchunks * j->cchunks;
  if (!fixed && outer == 1 && nth > 1 && macs >= min_par) nh_balance(j, rows, cols, rmul, nth);
}

/* Split over threads with locality and balance: slot s (one per thread; its index also
 * names a scratch slot) owns the s-th contiguous range of items -- items are ordered by
 * rows, so a thread keeps working on the same image rows from one layer to the next and
 * reads what its own core wrote (a 14x14 depthwise conv after a pointwise one: 38 -> 22 us
 * at 2 threads) -- and claims batches of it from a counter; when its range is done it
 * claims from the others', so a thread that wakes late or is preempted does less. Which
 * thread runs an item never changes how it is computed. */
typedef void (*nh_items_fn)(const void *job, int64_t i0, int64_t i1, int64_t slot);
enum { NH_SLOTS = 64 };
typedef struct nh_dyn {
  struct {
    atomic_int_fast64_t next; /* items of this range claimed so far */
    char pad[64 - sizeof(atomic_int_fast64_t)];
  } r[NH_SLOTS];
  int64_t items, batch, ns;
  nh_items_fn fn;
  const void *job;
} nh_dyn;
static void nh_dyn_task(void *arg, int64_t s0, int64_t s1) {
  nh_dyn *d = (nh_dyn *)arg;
  for (int64_t s = s0; s < s1; s++)
    for (int64_t v = 0; v < d->ns; v++) { /* its own range, then the others' */
      const int64_t o = (s + v) % d->ns, b = o * d->items / d->ns, e = (o + 1) * d->items / d->ns;
      for (;;) {
        const int64_t i0 = b + (int64_t)atomic_fetch_add_explicit(&d->r[o].next, d->batch, memory_order_relaxed);
        if (i0 >= e) break;
        d->fn(d->job, i0, e - i0 < d->batch ? e : i0 + d->batch, s);
      }
    }
}
/* items over up to nslots threads (1: inline), claimed in batches of about items/(8*slots) */
static void nh_parallel(const er_kctx *c, int64_t items, int64_t nslots, nh_items_fn fn, const void *job) {
  const int64_t nth = er_threadpool_size(c->threads);
  if (nslots > nth) nslots = nth;
  if (nslots > NH_SLOTS) nslots = NH_SLOTS;
  if (nslots > items) nslots = items;
  if (nslots <= 1) {
    fn(job, 0, items, 0);
    return;
  }
  nh_dyn d;
  for (int64_t i = 0; i < nslots; i++) atomic_init(&d.r[i].next, 0);
  d.items = items, d.batch = (items + 8 * nslots - 1) / (8 * nslots), d.ns = nslots, d.fn = fn, d.job = job;
  er_parallel_for(c, nslots, 1, nh_dyn_task, &d);
}

/* item -> (outer, row range, column range) */
static void nh_item(const nh_job *j, int64_t it, int64_t rows, int64_t cols, int64_t *o, int64_t *r0, int64_t *rn,
                    int64_t *c0, int64_t *cn) {
  const int64_t cc = it % j->cchunks, t = it / j->cchunks;
  *o = t / j->rchunks;
  *r0 = t % j->rchunks * j->rchunk, *rn = rows - *r0 < j->rchunk ? rows - *r0 : j->rchunk;
  *c0 = cc * j->cchunk, *cn = cols - *c0 < j->cchunk ? cols - *c0 : j->cchunk;
}

static void nh_pw_task(const void *arg, int64_t i0, int64_t i1, int64_t slot) {
  const nh_job *j = (const nh_job *)arg;
  const nh_conv *g = j->g;
  for (int64_t it = i0; it < i1; it++) {
    int64_t grp, r0, rn, n0, nn;
    nh_item(j, it, g->rows, g->Mg, &grp, &r0, &rn, &n0, &nn);
    const int64_t m0 = grp * g->Mg + n0;
    j->mk->f32_nhwc_gemm(rn, nn, g->Cg, j->X + r0 * g->C + grp * g->Cg, g->C, j->packed + (size_t)grp * j->gstride,
                         g->Cg, 0, n0, j->Bv ? j->Bv + m0 : 0, 0, nh_act(j), j->Y + r0 * j->ldy + m0, j->ldy);
    nh_resid(j, r0, rn, m0, nn);
  }
}

/* _up: input pixels [r0, r0+rn), columns [n0, n0+nn) of each kernel row's block; pixel
 * (n, h, w) writes output pixels (h*ubh + i, w*ubw + j), the block's columns (j, m) being
 * one contiguous run of the output row. Calls never cross an image row. */
static void nh_up_task(const void *arg, int64_t i0, int64_t i1, int64_t slot) {
  const nh_job *j = (const nh_job *)arg;
  const nh_conv *g = j->g;
  const int64_t nb = g->M / g->ubh, Mo = nb / g->ubw, OWo = g->OW * g->ubw, OHo = g->OH * g->ubh;
  /* exp-based activations go over the written rows with the table's vector functions (a
   * GEMM applies them row by row of its tile: costly for the few columns of a block) */
  const int vf = g->act.kind == ER_ACT_SIGMOID ? ER_VF_SIGMOID : g->act.kind == ER_ACT_SILU ? ER_VF_SILU
               : g->act.kind == ER_ACT_TANH ? ER_VF_TANH : g->act.kind == ER_ACT_GELU ? ER_VF_GELU : 0;
  for (int64_t it = i0; it < i1; it++) {
    int64_t grp, r0, rn, n0, nn;
    nh_item(j, it, g->rows, nb, &grp, &r0, &rn, &n0, &nn);
    for (int64_t r = r0, e = r0 + rn; r < e;) {
      const int64_t w = r % g->OW, h = r / g->OW % g->OH, n = r / (g->OW * g->OH);
      const int64_t seg = g->OW - w < e - r ? g->OW - w : e - r;
      for (int64_t b = 0; b < g->ubh; b++) {
        float *y = j->Y + ((n * OHo + h * g->ubh + b) * OWo + w * g->ubw) * Mo + n0;
        j->mk->f32_nhwc_gemm(seg, nn, g->C, j->X + r * g->C, g->C, j->packed + (size_t)b * j->gstride, g->C, 0, n0,
                             j->Bv ? j->Bv + b * nb + n0 : 0, 0, vf ? nh_none : g->act, y, nb);
        if (vf && nn == nb) j->mk->f32_vunary(vf, y, y, seg * nb);
        for (int64_t p = 0; vf && nn < nb && p < seg; p++) j->mk->f32_vunary(vf, y + p * nb, y + p * nb, nn);
      }
      r += seg;
    }
  }
}

/* Copy / clear n floats: short runs (a few channels, as in a stem conv) as fixed-size moves
 * (the last one overlapping) rather than a libc call */
static inline void nh_copy(float *restrict d, const float *restrict s, int64_t n) {
  if (n > 64) {
    memcpy(d, s, sizeof(float) * (size_t)n);
  } else if (n >= 8) {
    for (int64_t i = 0; i + 8 < n; i += 8) memcpy(d + i, s + i, 8 * sizeof(float));
    memcpy(d + n - 8, s + n - 8, 8 * sizeof(float));
  } else if (n >= 4) {
    memcpy(d, s, 4 * sizeof(float));
    memcpy(d + n - 4, s + n - 4, 4 * sizeof(float));
  } else {
    for (int64_t i = 0; i < n; i++) d[i] = s[i];
  }
}
static inline void nh_clear(float *d, int64_t n) {
  if (n > 64) {
    memset(d, 0, sizeof(float) * (size_t)n);
    return;
  }
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) memset(d + i, 0, 8 * sizeof(float));
  for (; i < n; i++) d[i] = 0.0f;
}

/* X [N, C, S] (S pixels) -> xt [N, S, C], in blocks of 16 pixels (rows of xt in L1) */
static void nh_to_last(const nh_conv *g, const float *X, float *xt) {
  const int64_t S = g->H * g->W, C = g->C;
  for (int64_t n = 0; n < g->N; n++) {
    const float *x = X + n * C * S;
    float *y = xt + n * C * S;
    for (int64_t s0 = 0; s0 < S; s0 += 16) {
      const int64_t sn = S - s0 < 16 ? S - s0 : 16;
      for (int64_t ch = 0; ch < C; ch++)
        for (int64_t s = 0; s < sn; s++) y[(s0 + s) * C + ch] = x[ch * S + s0 + s];
    }
  }
}

/* X [N, C, H, W] (_nchw_in): rows [r0, r0+rn) of output pixels, channels [c0, c0+cn) of
 * group grp -> buf (rn x cn*T), each row ordered [channel][kh][kw] (ONNX's weight order):
 * a kernel row inside the input is one run of KW values of a channel plane (dilation 1). */
static void nh_gather_nchw(const nh_conv *g, const float *X, int64_t grp, int64_t r0, int64_t rn, int64_t c0,
                           int64_t cn, float *buf) {
  const cv_win *w = &g->w;
  const int64_t KH = w->k[1], KW = w->k[2], HW = g->H * g->W, ld = cn * g->T, dh = w->d[1], dw = w->d[2];
  int64_t ow = r0 % g->OW, oh = r0 / g->OW % g->OH, n = r0 / (g->OW * g->OH);
  for (int64_t i = 0; i < rn; i++) {
    const float *img = X + (n * g->C + grp * g->Cg + c0) * HW;
    const int64_t ih0 = oh * w->s[1] - w->pb[1], iw0 = ow * w->s[2] - w->pb[2];
    const int inside_w = dw == 1 && iw0 >= 0 && iw0 + KW <= g->W;
    float *dst = buf + i * ld;
    if (inside_w && ih0 >= 0 && ih0 + (KH - 1) * dh < g->H) { /* the whole window inside */
      const float *src = img + ih0 * g->W + iw0;
      const int64_t rs = dh * g->W;
      if (KW == 3 && KH == 3 && cn == 3) { /* an RGB 3x3 stem: 27 moves, fixed offsets */
        const float *p0 = src, *p1 = src + HW, *p2 = src + 2 * HW;
#define NH_ROW3(d, p) ((d)[0] = (p)[0], (d)[1] = (p)[1], (d)[2] = (p)[2])
        NH_ROW3(dst, p0), NH_ROW3(dst + 3, p0 + rs), NH_ROW3(dst + 6, p0 + 2 * rs);
        NH_ROW3(dst + 9, p1), NH_ROW3(dst + 12, p1 + rs), NH_ROW3(dst + 15, p1 + 2 * rs);
        NH_ROW3(dst + 18, p2), NH_ROW3(dst + 21, p2 + rs), NH_ROW3(dst + 24, p2 + 2 * rs);
#undef NH_ROW3
      } else if (KW == 3) { /* a 3x3 stem: runs of 3, as plain moves */
        for (int64_t ch = 0; ch < cn; ch++, src += HW)
          for (int64_t kh = 0; kh < KH; kh++, dst += 3) {
            const float *r = src + kh * rs;
            const float a = r[0], b = r[1], c = r[2];
            dst[0] = a, dst[1] = b, dst[2] = c;
          }
      } else if (KW == 7 && KH == 7) { /* a 7x7 stem: two overlapping 4-float moves per kernel row */
        for (int64_t ch = 0; ch < cn; ch++, src += HW)
          for (int kh = 0; kh < 7; kh++, dst += 7) {
            const float *r = src + kh * rs;
            memcpy(dst, r, 4 * sizeof(float));
            memcpy(dst + 3, r + 3, 4 * sizeof(float));
          }
      } else {
        for (int64_t ch = 0; ch < cn; ch++, src += HW)
          for (int64_t kh = 0; kh < KH; kh++, dst += KW) nh_copy(dst, src + kh * rs, KW);
      }
    } else {
      for (int64_t ch = 0; ch < cn; ch++, img += HW)
      for (int64_t kh = 0; kh < KH; kh++, dst += KW) {
        const int64_t ih = ih0 + kh * dh;
        if (ih < 0 || ih >= g->H) {
          nh_clear(dst, KW);
        } else if (inside_w) {
          nh_copy(dst, img + ih * g->W + iw0, KW);
        } else {
          for (int64_t kw = 0; kw < KW; kw++) {
            const int64_t iw = iw0 + kw * dw;
            dst[kw] = iw >= 0 && iw < g->W ? img[ih * g->W + iw] : 0.0f;
          }
        }
      }
    }
    if (++ow == g->OW) {
      ow = 0;
      if (++oh == g->OH) oh = 0, n++;
    }
  }
}

/* Rows [r0, r0+rn) of output pixels, taps [t0, t0+tn) of group grp -> buf (rn x tn*Cg).
 * Taps are (kh, kw) row-major; with all channels (group 1) and dilation 1 in width, the taps
 * of one kernel row inside the input are one contiguous run of the image row. */
static void nh_gather(const nh_conv *g, const float *X, int64_t grp, int64_t r0, int64_t rn, int64_t t0, int64_t tn,
                      float *buf) {
  const cv_win *w = &g->w;
  const int64_t KW = w->k[2], Cg = g->Cg, C = g->C, ld = tn * Cg, dh = w->d[1], dw = w->d[2];
  const int runs = dw == 1 && Cg == C;
  const int64_t kh0 = t0 / KW, kw0 = t0 % KW, t1 = t0 + tn;
  int64_t ow = r0 % g->OW, oh = r0 / g->OW % g->OH, n = r0 / (g->OW * g->OH);
  for (int64_t i = 0; i < rn; i++) {
    const float *img = X + n * g->H * g->W * C + grp * Cg;
    const int64_t ih0 = oh * w->s[1] - w->pb[1], iw0 = ow * w->s[2] - w->pb[2];
    const int inside_w = iw0 >= 0 && iw0 + (KW - 1) * dw < g->W; /* every kw of this pixel */
    float *dst = buf + i * ld;
    for (int64_t t = t0, kh = kh0, kw = kw0; t < t1;) {
      const int64_t ih = ih0 + kh * dh;
      int64_t run = KW - kw < t1 - t ? KW - kw : t1 - t; /* taps left in this kernel row */
      if (ih < 0 || ih >= g->H) {
        nh_clear(dst, run * Cg);
      } else if (runs && inside_w) {
        nh_copy(dst, img + (ih * g->W + iw0 + kw) * C, run * Cg);
      } else {
        for (int64_t e = 0; e < run; e++) {
          const int64_t iw = iw0 + (kw + e) * dw;
          if (iw < 0 || iw >= g->W)
            nh_clear(dst + e * Cg, Cg);
          else
            nh_copy(dst + e * Cg, img + (ih * g->W + iw) * C, Cg);
        }
      }
      dst += run * Cg, t += run, kw = 0, kh++;
    }
    if (++ow == g->OW) {
      ow = 0;
      if (++oh == g->OH) oh = 0, n++;
    }
  }
}

static void nh_gemm_item(const nh_job *j, int64_t it, float *buf) {
  const nh_conv *g = j->g;
  int64_t grp, r0, rn, n0, nn;
  nh_item(j, it, g->rows, g->Mg, &grp, &r0, &rn, &n0, &nn);
  const int64_t m0 = grp * g->Mg + n0;
  const void *pk = j->packed + (size_t)grp * j->gstride;
  const int64_t units = g->nchw ? g->Cg : g->T, per = g->nchw ? g->T : g->Cg; /* chunks of channels or taps */
  for (int64_t u0 = 0; u0 < units; u0 += g->ktaps) {
    const int64_t un = units - u0 < g->ktaps ? units - u0 : g->ktaps, last = u0 + un == units;
    if (g->nchw)
      nh_gather_nchw(g, j->X, grp, r0, rn, u0, un, buf);
    else
      nh_gather(g, j->X, grp, r0, rn, u0, un, buf);
    j->mk->f32_nhwc_gemm(rn, nn, un * per, buf, un * per, pk, g->K, u0 * per, n0, j->Bv && !u0 ? j->Bv + m0 : 0,
                         u0 > 0, last ? nh_act(j) : nh_none, j->Y + r0 * j->ldy + m0, j->ldy);
  }
  nh_resid(j, r0, rn, m0, nn);
}

/* Winograd item: tiles [r0, r0+rn) of image o, output channels [m0, m0+mn) */
static void nh_wino_item(const nh_job *j, int64_t it, float *slot) {
  const nh_conv *g = j->g;
  const cv_win *w = &g->w;
  const int64_t tw = (g->OW + 3) / 4;
  int64_t n, r0, rn, m0, mn;
  nh_item(j, it, ((g->OH + 3) / 4) * tw, g->M, &n, &r0, &rn, &m0, &mn);
  const int64_t xsi = nh_wxs_in(g, j->rchunk), xso = nh_wxs_out(j->rchunk, j->cchunk);
  float *V = slot, *O = slot + 36 * xsi;
  const float *img = j->X + n * g->H * g->W * g->C;
  float *out = j->Y + n * g->OH * g->OW * j->ldy;
  for (int64_t i = 0; i < rn; i++) {
    const float *in[36];
    const int64_t ih0 = (r0 + i) / tw * 4 - w->pb[1], iw0 = (r0 + i) % tw * 4 - w->pb[2];
    for (int a = 0; a < 6; a++)
      for (int b = 0; b < 6; b++) {
        const int64_t ih = ih0 + a, iw = iw0 + b;
        in[6 * a + b] = ih >= 0 && ih < g->H && iw >= 0 && iw < g->W ? img + (ih * g->W + iw) * g->C : j->zero;
      }
    j->mk->f32_nhwc_wino_in(g->C, in, V + i * g->C, xsi);
  }
  for (int xi = 0; xi < 36; xi++)
    j->mk->f32_nhwc_gemm(rn, mn, g->C, V + xi * xsi, g->C, j->packed + (size_t)xi * j->gstride, g->C, 0, m0, 0, 0,
                         nh_none, O + xi * xso, j->cchunk);
  for (int64_t i = 0; i < rn; i++) {
    float *o[16];
    const int64_t oh0 = (r0 + i) / tw * 4, ow0 = (r0 + i) % tw * 4;
    for (int a = 0; a < 4; a++)
      for (int b = 0; b < 4; b++)
        o[4 * a + b] = oh0 + a < g->OH && ow0 + b < g->OW ? out + ((oh0 + a) * g->OW + ow0 + b) * j->ldy + m0 : 0;
    j->mk->f32_nhwc_wino_out(mn, O + i * j->cchunk, xso, j->Bv ? j->Bv + m0 : 0, nh_act(j), o);
    for (int a = 0; j->Z && a < 4 && oh0 + a < g->OH; a++) /* the tile's rows of up to 4 pixels */
      nh_resid(j, (n * g->OH + oh0 + a) * g->OW + ow0, g->OW - ow0 < 4 ? g->OW - ow0 : 4, m0, mn);
  }
}

/* items [i0, i1) with the scratch slot of thread s */
static void nh_slot_task(const void *arg, int64_t i0, int64_t i1, int64_t s) {
  const nh_job *j = (const nh_job *)arg;
  float *slot = (float *)(j->slots + (size_t)s * j->slot_bytes);
  for (int64_t it = i0; it < i1; it++) {
    if (j->g->kind == NH_WINO)
      nh_wino_item(j, it, slot);
    else
      nh_gemm_item(j, it, slot);
  }
}

/* Tap pointers of output pixels [ow0, ow0+nb) of row oh (zero vector for padding). */
static void nh_dw_ptrs(const nh_job *j, const float *img, int64_t oh, int64_t ow0, int64_t nb, const float **ptrs) {
  const nh_conv *g = j->g;
  const cv_win *w = &g->w;
  const int64_t KW = w->k[2], ih0 = oh * w->s[1] - w->pb[1];
  for (int64_t p = 0; p < nb; p++) {
    const int64_t iw0 = (ow0 + p) * w->s[2] - w->pb[2];
    for (int64_t t = 0; t < g->T; t++) {
      const int64_t ih = ih0 + t / KW * w->d[1], iw = iw0 + t % KW * w->d[2];
      ptrs[p * g->T + t] = ih >= 0 && ih < g->H && iw >= 0 && iw < g->W ? img + (ih * g->W + iw) * g->C : j->zero;
    }
  }
}

/* Depthwise, multiplier 1: items are (image row, segment of owb output pixels). Pixels whose
 * taps are inside the input horizontally go as one run (no pointer per pixel) over the
 * kernel rows inside the input vertically (a contiguous range of taps: the others would
 * only add zeros), the others with pointer lists. */
static void nh_dw_task(const void *arg, int64_t i0, int64_t i1, int64_t slot) {
  const nh_job *j = (const nh_job *)arg;
  const nh_conv *g = j->g;
  const cv_win *w = &g->w;
  const int64_t segs = (g->OW + j->owb - 1) / j->owb, KW = w->k[2], sw = w->s[2];
  /* output columns whose taps are inside [0, W) */
  int64_t lo = (w->pb[2] + sw - 1) / sw, hi = g->W - 1 + w->pb[2] - (KW - 1) * w->d[2];
  hi = hi < 0 ? 0 : hi / sw + 1;
  const float *ptrs[NH_PTRS];
  for (int64_t it = i0; it < i1; it++) {
    const int64_t row = it / segs, ow0 = it % segs * j->owb, n = row / g->OH, oh = row % g->OH;
    const int64_t end = g->OW - ow0 < j->owb ? g->OW : ow0 + j->owb;
    const float *img = j->X + n * g->H * g->W * g->C;
    float *y = j->Y + row * g->OW * j->ldy;
    const int64_t ih0 = oh * w->s[1] - w->pb[1];
    int64_t kh0 = 0, kh1 = w->k[1]; /* kernel rows inside the input */
    while (kh0 < kh1 && ih0 + kh0 * w->d[1] < 0) kh0++;
    while (kh1 > kh0 && ih0 + (kh1 - 1) * w->d[1] >= g->H) kh1--;
    int64_t a = end, b = end; /* the run [a, b) */
    if (kh1 > kh0) {
      a = lo > ow0 ? lo : ow0, b = hi < end ? hi : end;
      if (a > end) a = end;
      if (b < a) b = a;
    }
    if (a > ow0) {
      nh_dw_ptrs(j, img, oh, ow0, a - ow0, ptrs);
      j->mk->f32_nhwc_dwconv(a - ow0, g->C, g->T, ptrs, 0, (const float *)j->packed, j->Bv, nh_act(j), y + ow0 * j->ldy,
                             j->ldy);
    }
    if (b > a) {
      const int64_t iw0 = a * sw - w->pb[2], t0 = kh0 * KW, tn = (kh1 - kh0) * KW;
      for (int64_t t = 0; t < tn; t++)
        ptrs[t] = img + ((ih0 + (kh0 + t / KW) * w->d[1]) * g->W + iw0 + t % KW * w->d[2]) * g->C;
      j->mk->f32_nhwc_dwconv(b - a, g->C, tn, ptrs, sw * g->C, (const float *)j->packed + t0 * g->C, j->Bv, nh_act(j),
                             y + a * j->ldy, j->ldy);
    }
    if (end > b) {
      nh_dw_ptrs(j, img, oh, b, end - b, ptrs);
      j->mk->f32_nhwc_dwconv(end - b, g->C, g->T, ptrs, 0, (const float *)j->packed, j->Bv, nh_act(j), y + b * j->ldy,
                             j->ldy);
    }
    nh_resid(j, row * g->OW + ow0, end - ow0, 0, g->C);
  }
}

/* Depthwise with any channel multiplier: portable loop over image rows. */
static void nh_dwm_task(const void *arg, int64_t r0, int64_t r1, int64_t slot) {
  const nh_job *j = (const nh_job *)arg;
  const nh_conv *g = j->g;
  const cv_win *w = &g->w;
  const int64_t M = g->M, mult = g->Mg, KW = w->k[2];
  const float *wt = (const float *)j->packed;
  for (int64_t row = r0; row < r1; row++) {
    const int64_t n = row / g->OH, oh = row % g->OH;
    const float *img = j->X + n * g->H * g->W * g->C;
    for (int64_t ow = 0; ow < g->OW; ow++) {
      float *restrict y = j->Y + (row * g->OW + ow) * j->ldy;
      for (int64_t m = 0; m < M; m++) y[m] = j->Bv ? j->Bv[m] : 0.0f;
      for (int64_t t = 0; t < g->T; t++) {
        const int64_t ih = oh * w->s[1] - w->pb[1] + t / KW * w->d[1], iw = ow * w->s[2] - w->pb[2] + t % KW * w->d[2];
        if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W) continue;
        const float *restrict x = img + (ih * g->W + iw) * g->C, *restrict wr = wt + t * M;
        if (mult == 1) {
          for (int64_t m = 0; m < M; m++) y[m] += wr[m] * x[m];
        } else {
          for (int64_t m = 0; m < M; m++) y[m] += wr[m] * x[m / mult];
        }
      }
      if (j->Z) {
        const float *restrict z = j->Z + (row * g->OW + ow) * M;
        for (int64_t m = 0; m < M; m++) y[m] += z[m];
      }
      er_f32_apply_act(y, M, g->act);
    }
  }
}

static er_status nhconv_run(er_kctx *c) {
  nh_conv g;
  ER_RETURN_IF_ERROR(nhconv_geom(c, &g));
  const er_microkernels *mk = nh_mk(c);
  if (er_tensor_numel(c->out[0]) == 0) return 0;
  ER_RETURN_IF_ERROR(nh_check_z(c));
  const float *Z = er_in(c, 3) ? (const float *)c->in[3]->data : 0;
  nh_state *st = (nh_state *)c->state;
  if (st && c->state_bytes >= NH_HDR && st->magic == NH_MAGIC && st->kind == NH_SPARSE && st->mk == mk) {
    const float *X = (const float *)c->in[0]->data;
    if (nh_xt_bytes(&g)) { /* _nchw_in: channels-last copy first */
      nh_to_last(&g, X, (float *)c->scratch);
      X = (const float *)c->scratch;
    }
    const size_t head = nh_head_bytes(&g);
    const int64_t ldy = c->out_ld > 0 ? c->out_ld : g.M;
    ER_RETURN_IF_ERROR(er_spw_gemm(c, g.rows, X, g.C, (const er_spw *)((const char *)st + NH_HDR),
                                   er_in(c, 2) ? (const float *)c->in[2]->data : 0, Z ? nh_none : g.act,
                                   (float *)c->out[0]->data, ldy, (char *)c->scratch + head, c->scratch_bytes - head));
    if (Z) mk->f32_nhwc_add_act(g.rows, g.M, Z, g.M, g.act, (float *)c->out[0]->data, ldy); /* whole output */
    return 0;
  }
  if (!st || c->state_bytes < nh_state_bytes(mk, &g))
    return ER_ERR(ER_INTERNAL, "NhwcConv state memory was not provided");
  if (c->scratch_bytes < nh_head_bytes(&g) + nh_slot_bytes(&g))
    return ER_ERR(ER_INTERNAL, "NhwcConv scratch too small");
  if (st->magic != NH_MAGIC || st->mk != mk || st->kind != g.kind || !st->constant) {
    nh_pack(mk, &g, (const float *)c->in[1]->data, st); /* weights not constant: pack now */
    st->constant = 0;
  }
  nh_job j = {&g, mk, (const float *)c->in[0]->data, er_in(c, 2) ? (const float *)c->in[2]->data : 0, 0,
              (float *)c->out[0]->data, (const char *)st + NH_HDR, st->gstride};
  j.ldy = c->out_ld > 0 && g.ubh * g.ubw == 1 ? c->out_ld : g.M;
  j.Z = Z;
  const int nth = er_threadpool_size(c->threads);
  size_t zb = nh_zero_bytes(&g);
  if (zb) {
    memset(c->scratch, 0, zb);
    j.zero = (const float *)c->scratch;
  }
  if (nh_xt_bytes(&g)) {
    float *xt = (float *)((char *)c->scratch + zb);
    nh_to_last(&g, j.X, xt);
    j.X = xt;
    zb += nh_xt_bytes(&g);
  }
  const int64_t macs = g.rows * g.M * g.K, wake = er_threadpool_sleeping(c->threads) ? NH_WAKE : 1;
  const int64_t min_par = NH_MIN_PAR * wake, dw_min_par = NH_DW_MIN_PAR * wake;
  switch (g.kind) {
    case NH_PW:
      nh_split(&j, g.group, g.rows, g.Mg / g.ubh, 12, 0, macs, nth, min_par);
      nh_parallel(c, j.items, macs < min_par ? 1 : nth, g.ubh * g.ubw > 1 ? nh_up_task : nh_pw_task, &j);
      return 0;
    case NH_DW: {
      j.owb = NH_PTRS / g.T < g.OW ? NH_PTRS / g.T : g.OW;
      const int64_t items = g.N * g.OH * ((g.OW + j.owb - 1) / j.owb);
      nh_parallel(c, items, macs < dw_min_par ? 1 : nth, nh_dw_task, &j);
      return 0;
    }
    case NH_DWM:
      nh_parallel(c, g.N * g.OH, macs < dw_min_par ? 1 : nth, nh_dwm_task, &j);
      return 0;
    default: break;
  }
  j.slots = (char *)c->scratch + zb;
  j.slot_bytes = nh_slot_bytes(&g);
  if (g.kind == NH_WINO)
    nh_split(&j, g.N, ((g.OH + 3) / 4) * ((g.OW + 3) / 4), g.M, nh_wt(&g, nth > 1 && macs >= min_par), 1, macs,
             nth, min_par);
  else
    nh_split(&j, g.group, g.rows, g.Mg, NH_TILE, 1, macs, nth, min_par);
  j.nslots = macs < min_par ? 1 : nth;
  /* scratch holds the slots of the thread count at infer (the pool may have grown since) */
  const int64_t fit = (int64_t)((c->scratch_bytes - zb) / j.slot_bytes);
  if (fit < j.nslots) j.nslots = fit;
  if (j.nslots > j.items) j.nslots = j.items;
  nh_parallel(c, j.items, j.nslots, nh_slot_task, &j);
  return 0;
}

/* ================================ pooling ================================ */
typedef struct nh_pool {
  cv_win w;
  int64_t N, C;
  int kind; /* 0 max, 1 average */
  int cip;  /* count_include_pad */
} nh_pool;

static er_status nhpool_geom(const er_kctx *c, int kind, nh_pool *p) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  int nsp;
  ER_RETURN_IF_ERROR(nh_input(c, &nsp));
  if (er_out(c, 1)) return ER_ERR(ER_UNSUPPORTED, "the Indices output is not supported");
  const er_tensor *X = c->in[0];
  const int64_t *k;
  const int nk = er_attr_ints(c, "kernel_shape", &k);
  if (nk < 0) return ER_ERR(ER_INVALID_MODEL, "attribute kernel_shape is required");
  if (nk != nsp) return ER_ERR(ER_INVALID_ARGUMENT, "kernel_shape has %d values, expected %d", nk, nsp);
  ER_RETURN_IF_ERROR(cv_window(c, nsp, X->dims + 1, k, 1, 1, &p->w));
  p->N = X->dims[0], p->C = X->dims[X->rank - 1];
  p->kind = kind;
  p->cip = kind == 1 ? (int)er_attr_int(c, "count_include_pad", 0) : 0;
  return 0;
}

static er_status nhpool_infer(er_kctx *c, int kind) {
  nh_pool p;
  ER_RETURN_IF_ERROR(nhpool_geom(c, kind, &p));
  nh_set_out(c, &p.w, p.C);
  return 0;
}

typedef struct nh_pjob {
  const nh_pool *p;
  const er_microkernels *mk;
  const float *X;
  float *Y;
} nh_pjob;

/* Output rows [r0, r1) over the batch; per pixel the taps inside the input. */
static void nh_pool_task(const void *arg, int64_t r0, int64_t r1, int64_t slot) {
  const nh_pjob *j = (const nh_pjob *)arg;
  const nh_pool *p = j->p;
  const cv_win *w = &p->w;
  const int64_t H = w->in[1], W = w->in[2], OH = w->out[1], OW = w->out[2], C = p->C;
  const float *ptrs[NH_PTRS];
  for (int64_t row = r0; row < r1; row++) {
    const int64_t n = row / OH, oh = row % OH;
    const float *img = j->X + n * H * W * C;
    for (int64_t ow = 0; ow < OW; ow++) {
      float *y = j->Y + (row * OW + ow) * C;
      int64_t cnt = 0, total = 0;
      for (int64_t a = 0; a < w->k[1]; a++) {
        const int64_t ih = oh * w->s[1] - w->pb[1] + a * w->d[1];
        if (ih < 0 || ih >= H) continue;
        for (int64_t b = 0; b < w->k[2]; b++) {
          const int64_t iw = ow * w->s[2] - w->pb[2] + b * w->d[2];
          if (iw < 0 || iw >= W) continue;
          if (cnt == NH_PTRS) { /* fold what we have into y, which joins the next batch */
            j->mk->f32_nhwc_pool(p->kind, C, cnt, ptrs, 1.0f, y);
            ptrs[0] = y, cnt = 1;
          }
          ptrs[cnt++] = img + (ih * W + iw) * C;
          total++;
        }
      }
      const float div = (float)(p->cip ? w->k[1] * w->k[2] : total);
      j->mk->f32_nhwc_pool(p->kind, C, cnt, ptrs, div, y);
    }
  }
}

static er_status nhpool_run(er_kctx *c, int kind) {
  nh_pool p;
  ER_RETURN_IF_ERROR(nhpool_geom(c, kind, &p));
  if (er_tensor_numel(c->out[0]) == 0) return 0;
  nh_pjob j = {&p, nh_mk(c), (const float *)c->in[0]->data, (float *)c->out[0]->data};
  const int64_t rows = p.N * p.w.out[1], work = er_tensor_numel(c->out[0]) * p.w.k[1] * p.w.k[2];
  nh_parallel(c, rows, work < NH_DW_MIN_PAR ? 1 : er_threadpool_size(c->threads), nh_pool_task, &j);
  return 0;
}

static er_status nh_maxpool_infer(er_kctx *c) { return nhpool_infer(c, 0); }
static er_status nh_maxpool_run(er_kctx *c) { return nhpool_run(c, 0); }
static er_status nh_avgpool_infer(er_kctx *c) { return nhpool_infer(c, 1); }
static er_status nh_avgpool_run(er_kctx *c) { return nhpool_run(c, 1); }

/* ---- global pools: items are (image, block of 64 channels) ---- */
enum { NH_GCB = 64 };

static er_status nh_gpool_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  int nsp;
  ER_RETURN_IF_ERROR(nh_input(c, &nsp));
  const er_tensor *X = c->in[0];
  int64_t d[4] = {X->dims[0], 1, 1, 1};
  d[X->rank - 1] = X->dims[X->rank - 1];
  er_tensor_set_shape(c->out[0], ER_F32, X->rank, d);
  return 0;
}

typedef struct nh_gjob {
  const er_microkernels *mk;
  int kind;
  int64_t n, C, cblocks;
  const float *X;
  float *Y;
} nh_gjob;

static void nh_gpool_task(void *arg, int64_t i0, int64_t i1) {
  const nh_gjob *j = (const nh_gjob *)arg;
  for (int64_t it = i0; it < i1; it++) {
    const int64_t b = it / j->cblocks, c0 = it % j->cblocks * NH_GCB;
    const int64_t cn = j->C - c0 < NH_GCB ? j->C - c0 : NH_GCB;
    j->mk->f32_nhwc_gpool(j->kind, j->n, cn, j->X + b * j->n * j->C + c0, j->C, j->Y + b * j->C + c0);
  }
}

static er_status nh_gpool_run(er_kctx *c, int kind) {
  const er_tensor *X = c->in[0];
  const int64_t N = X->dims[0], C = X->dims[X->rank - 1];
  nh_gjob j = {nh_mk(c), kind, er_tensor_numel(X) / (N * C > 0 ? N * C : 1), C, (C + NH_GCB - 1) / NH_GCB,
               (const float *)X->data, (float *)c->out[0]->data};
  if (N * C == 0) return 0;
  const int64_t items = N * j.cblocks;
  er_parallel_for(c, items, er_tensor_numel(X) < NH_MIN_PAR ? items : 1, nh_gpool_task, &j);
  return 0;
}
static er_status nh_gmaxpool_run(er_kctx *c) { return nh_gpool_run(c, 0); }
static er_status nh_gavgpool_run(er_kctx *c) { return nh_gpool_run(c, 1); }

const er_op_def er_ops_nhwc[] = {
    ER_OPDEF(NhwcConv, {ER_OP_NHWC_CONV, ER_DOMAIN_EDGERUN, 1, 1, nhconv_infer, nhconv_run, ER_OP_PREPARE_ANY_THREAD, nhconv_prepare})
    ER_OPDEF(NhwcMaxPool, {ER_OP_NHWC_MAXPOOL, ER_DOMAIN_EDGERUN, 1, 1, nh_maxpool_infer, nh_maxpool_run, 0})
    ER_OPDEF(NhwcAveragePool, {ER_OP_NHWC_AVGPOOL, ER_DOMAIN_EDGERUN, 1, 1, nh_avgpool_infer, nh_avgpool_run, 0})
    ER_OPDEF(NhwcGlobalAveragePool, {ER_OP_NHWC_GAVGPOOL, ER_DOMAIN_EDGERUN, 1, 1, nh_gpool_infer, nh_gavgpool_run, 0})
    ER_OPDEF(NhwcGlobalMaxPool, {ER_OP_NHWC_GMAXPOOL, ER_DOMAIN_EDGERUN, 1, 1, nh_gpool_infer, nh_gmaxpool_run, 0})
    {0},
};
