/*
 * Recurrent layers: RNN, GRU, LSTM (default domain, opsets 1..22).
 *
 * One generic kernel handles all three cells. Each (direction, batch item) pair is
 * an independent recurrence, so the kernel walks them one at a time; this keeps the
 * scratch small (a few rows of hidden_size) and makes sequence_lens trivial.
 * Arithmetic is done in double whatever the tensor type (float, double, float16,
 * bfloat16); results are rounded to the output type when stored.
 *
 * Layouts (opset >= 14 `layout` attribute):
 *   layout 0: X [seq, batch, in], Y [seq, dirs, batch, H], Y_h/Y_c/initial_* [dirs, batch, H]
 *   layout 1: X [batch, seq, in], Y [batch, seq, dirs, H], Y_h/Y_c/initial_* [batch, dirs, H]
 * Gate order in W/R/B: RNN (i), GRU (z, r, h), LSTM (i, o, f, c); P is (i, o, f).
 * Positions of Y past a batch item's sequence length are zero; Y_h/Y_c hold the state
 * after the last valid step.
 *
 * Fast path (float32, default activations, no clip/peepholes/input_forget/sequence_lens,
 * batch <= MAX_FAST_BATCH): the input projection of all timesteps (bias included) is one
 * GEMM, the recurrent product one GEMV per batch row and step written over the projection
 * row, and the gates are evaluated by the table's vector sigmoid/tanh/LSTM cell. When W, R
 * and B are constants, prepare packs them once (ctx->state): W for the packed GEMM (split
 * over threads when big) or, with at most PROJ_GEMV_MAX_ROWS (t, b) rows, for the GEMV; R
 * for the GEMV. Otherwise W goes through the plain GEMM and R's rows through the reference
 * GEMV (its packed format is row-major). The recurrence itself is sequential; with 2+
 * threads and a long sequence, one thread projects chunks of timesteps while another runs
 * the recurrence over the chunks already projected (rnn_pipe).
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "kernels/dispatch.h"
#include "kernels/kernel.h"
#include "kernels/ref/gemm.h"

enum { CELL_RNN, CELL_GRU, CELL_LSTM };

enum {
  ACT_RELU, ACT_TANH, ACT_SIGMOID, ACT_AFFINE, ACT_LEAKYRELU, ACT_THRESHOLDEDRELU,
  ACT_SCALEDTANH, ACT_HARDSIGMOID, ACT_ELU, ACT_SOFTSIGN, ACT_SOFTPLUS
};

typedef struct {
  int kind;
  double alpha, beta;
} rnn_act;

typedef struct {
  const char *name;
  int kind, uses_alpha, uses_beta;
  double alpha, beta; /* defaults */
} act_info;

static const act_info k_acts[] = {
    {"relu", ACT_RELU, 0, 0, 0, 0},
    {"tanh", ACT_TANH, 0, 0, 0, 0},
    {"sigmoid", ACT_SIGMOID, 0, 0, 0, 0},
    {"affine", ACT_AFFINE, 1, 1, 1.0, 0.0},
    {"leakyrelu", ACT_LEAKYRELU, 1, 0, 0.01, 0},
    {"thresholdedrelu", ACT_THRESHOLDEDRELU, 1, 0, 1.0, 0},
    {"scaledtanh", ACT_SCALEDTANH, 1, 1, 1.0, 1.0},
    {"hardsigmoid", ACT_HARDSIGMOID, 1, 1, 0.2, 0.5},
    {"elu", ACT_ELU, 1, 0, 1.0, 0},
    {"softsign", ACT_SOFTSIGN, 0, 0, 0, 0},
    {"softplus", ACT_SOFTPLUS, 0, 0, 0, 0},
};

#define MAX_ACTS 6 /* 3 per direction, 2 directions */

/* Everything infer learns, recomputed in run (cheap). */
typedef struct {
  int cell, ngates, dirs, reverse, layout, lbr, input_forget, has_clip;
  double clip;
  int64_t seq, batch, in, hid;
  rnn_act act[MAX_ACTS]; /* [dir * nact + k] */
  int nact;
} rnn_cfg;

static int lower_eq(const char *a, const char *lower) {
  for (; *a && *lower; a++, lower++) {
    char c = *a;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != *lower) return 0;
  }
  return *a == 0 && *lower == 0;
}

static er_status parse_acts(const er_kctx *c, rnn_cfg *g) {
  static const char *const defaults[3][3] = {
      {"tanh"}, {"sigmoid", "tanh"}, {"sigmoid", "tanh", "tanh"}};
  const er_attr *names = er_attr_get(c, "activations");
  const float *alphas = 0, *betas = 0;
  int n_alpha = er_attr_floats(c, "activation_alpha", &alphas);
  int n_beta = er_attr_floats(c, "activation_beta", &betas);
  int ia = 0, ib = 0;
  int n = g->nact * g->dirs;
  if (names && names->type != ER_ATTR_STRINGS)
    return ER_ERR(ER_INVALID_MODEL, "attribute 'activations' must be a list of strings");
  if (names && names->n != g->nact && names->n != n)
    return ER_ERR(ER_INVALID_ARGUMENT, "'activations' has %d entries, expected %d", names->n, n);
  for (int k = 0; k < n; k++) {
    const char *nm = names ? names->strings[k % names->n] : defaults[g->cell][k % g->nact];
    const act_info *ai = 0;
    for (unsigned j = 0; j < sizeof k_acts / sizeof k_acts[0]; j++)
      if (lower_eq(nm, k_acts[j].name)) ai = &k_acts[j];
    if (!ai) return ER_ERR(ER_UNSUPPORTED, "unsupported activation '%s'", nm);
    rnn_act a = {ai->kind, ai->alpha, ai->beta};
    if (g->cell == CELL_RNN) {
      /* RNN: alpha/beta[k] belongs to activation k (as onnxruntime and the ONNX reference) */
      if (ai->uses_alpha && k < n_alpha) a.alpha = alphas[k];
      if (ai->uses_beta && k < n_beta) a.beta = betas[k];
    } else {
      /* GRU/LSTM: consumed in order by the activations that take them (as onnxruntime) */
      if (ai->uses_alpha && ia < n_alpha) a.alpha = alphas[ia++];
      if (ai->uses_beta && ib < n_beta) a.beta = betas[ib++];
    }
    g->act[k] = a;
  }
  return 0;
}

static er_status rnn_config(er_kctx *c, int cell, rnn_cfg *g) {
  memset(g, 0, sizeof *g);
  g->cell = cell;
  g->ngates = cell == CELL_RNN ? 1 : cell == CELL_GRU ? 3 : 4;
  g->nact = cell == CELL_RNN ? 1 : cell == CELL_GRU ? 2 : 3;
  int max_in = cell == CELL_LSTM ? 8 : 6;
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, max_in));
  static const int ftypes[] = {ER_F32, ER_F64, ER_F16, ER_BF16, 0};
  const er_tensor *X = c->in[0], *W = c->in[1], *R = c->in[2];
  ER_RETURN_IF_ERROR(er_check_type(c, 0, ftypes));
  for (int i = 1; i < max_in; i++) {
    if (i == 4 || !er_in(c, i)) continue;
    if (c->in[i]->dtype != X->dtype)
      return ER_ERR(ER_INVALID_ARGUMENT, "input %d has type %s, expected %s like X", i,
                    er_dtype_name((er_dtype)c->in[i]->dtype), er_dtype_name((er_dtype)X->dtype));
  }

  const char *dir = er_attr_str(c, "direction", "forward");
  if (lower_eq(dir, "forward")) g->dirs = 1;
  else if (lower_eq(dir, "reverse")) g->dirs = 1, g->reverse = 1;
  else if (lower_eq(dir, "bidirectional")) g->dirs = 2;
  else return ER_ERR(ER_INVALID_ARGUMENT, "bad direction '%s'", dir);

  g->layout = c->opset >= 14 ? (int)er_attr_int(c, "layout", 0) : 0;
  if (g->layout != 0 && g->layout != 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "layout must be 0 or 1, got %d", g->layout);
  if (cell == CELL_GRU) {
    int64_t lbr = er_attr_int(c, "linear_before_reset", 0);
    if (lbr != 0 && lbr != 1)
      return ER_ERR(ER_INVALID_ARGUMENT, "linear_before_reset must be 0 or 1");
    g->lbr = (int)lbr;
  }
  if (cell == CELL_LSTM) {
    int64_t f = er_attr_int(c, "input_forget", 0);
    if (f != 0 && f != 1) return ER_ERR(ER_INVALID_ARGUMENT, "input_forget must be 0 or 1");
    g->input_forget = (int)f;
  }
  const er_attr *clip = er_attr_get(c, "clip");
  if (clip) {
    if (clip->type != ER_ATTR_FLOAT) return ER_ERR(ER_INVALID_MODEL, "attribute 'clip' must be a float");
    if (!(clip->f > 0)) return ER_ERR(ER_INVALID_ARGUMENT, "clip must be positive, got %g", (double)clip->f);
    g->has_clip = 1;
    g->clip = clip->f;
  }

  if (X->rank != 3) return ER_ERR(ER_INVALID_ARGUMENT, "X must be 3-D, got rank %d", X->rank);
  g->seq = g->layout ? X->dims[1] : X->dims[0];
  g->batch = g->layout ? X->dims[0] : X->dims[1];
  g->in = X->dims[2];
  if (R->rank != 3) return ER_ERR(ER_INVALID_ARGUMENT, "R must be 3-D, got rank %d", R->rank);
  const er_attr *hs = er_attr_get(c, "hidden_size");
  g->hid = hs && hs->type == ER_ATTR_INT ? hs->i : R->dims[2];
  if (g->hid <= 0) return ER_ERR(ER_INVALID_ARGUMENT, "hidden_size must be positive");
  int64_t gh = g->ngates * g->hid;
  if (W->rank != 3 || W->dims[0] != g->dirs || W->dims[1] != gh || W->dims[2] != g->in)
    return ER_ERR(ER_INVALID_ARGUMENT, "W must have shape [%d,%lld,%lld]", g->dirs, (long long)gh,
                  (long long)g->in);
  if (R->dims[0] != g->dirs || R->dims[1] != gh || R->dims[2] != g->hid)
    return ER_ERR(ER_INVALID_ARGUMENT, "R must have shape [%d,%lld,%lld]", g->dirs, (long long)gh,
                  (long long)g->hid);
  const er_tensor *B = er_in(c, 3);
  if (B && (B->rank != 2 || B->dims[0] != g->dirs || B->dims[1] != 2 * gh))
    return ER_ERR(ER_INVALID_ARGUMENT, "B must have shape [%d,%lld]", g->dirs, (long long)(2 * gh));
  const er_tensor *L = er_in(c, 4);
  if (L) {
    if (!er_dtype_is_signed_int(L->dtype) && !er_dtype_is_unsigned_int(L->dtype))
      return ER_ERR(ER_INVALID_ARGUMENT, "sequence_lens must be an integer tensor");
    if (L->rank != 1 || L->dims[0] != g->batch)
      return ER_ERR(ER_INVALID_ARGUMENT, "sequence_lens must have shape [%lld]", (long long)g->batch);
  }
  int nstate = cell == CELL_LSTM ? 2 : 1;
  for (int s = 0; s < nstate; s++) {
    const er_tensor *h0 = er_in(c, 5 + s);
    if (!h0) continue;
    int64_t d0 = g->layout ? g->batch : g->dirs, d1 = g->layout ? g->dirs : g->batch;
    if (h0->rank != 3 || h0->dims[0] != d0 || h0->dims[1] != d1 || h0->dims[2] != g->hid)
      return ER_ERR(ER_INVALID_ARGUMENT, "%s must have shape [%lld,%lld,%lld]",
                    s ? "initial_c" : "initial_h", (long long)d0, (long long)d1, (long long)g->hid);
  }
  const er_tensor *P = cell == CELL_LSTM ? er_in(c, 7) : 0;
  if (P && (P->rank != 2 || P->dims[0] != g->dirs || P->dims[1] != 3 * g->hid))
    return ER_ERR(ER_INVALID_ARGUMENT, "P must have shape [%d,%lld]", g->dirs, (long long)(3 * g->hid));
  return parse_acts(c, g);
}

/* ---- float32 fast path ---- */

#define PROJ_GEMV_MAX_ROWS 4 /* input projection row by row (GEMV) up to this many (t, b) rows */
#define PREP_HDR 64
#define MAX_FAST_BATCH 64    /* batch rows per step (pointer tables on the stack) */
/* The input projection runs right after a long single-threaded recurrence (this node's
 * previous direction or the layer before), when the pool's workers have gone to sleep:
 * waking them costs tens of microseconds, so only products far longer than that are split
 * (~100 us and up; smaller ones would make 2 threads slower than 1). */
#define PROJ_PARALLEL_MACS ((int64_t)1 << 23)
/* With 2+ threads a long sequence overlaps its projection with the recurrence (rnn_pipe):
 * chunks of at least PIPE_STEPS timesteps, when the projection is at least PIPE_MIN_MACS. */
#define PIPE_STEPS 16
#define PIPE_MIN_MACS ((int64_t)1 << 18)

/* Default activations only: RNN tanh; GRU sigmoid, tanh; LSTM sigmoid, tanh, tanh. */
static int fast_ok(const er_kctx *c, const rnn_cfg *g) {
  static const int defs[3][3] = {{ACT_TANH}, {ACT_SIGMOID, ACT_TANH}, {ACT_SIGMOID, ACT_TANH, ACT_TANH}};
  if (c->in[0]->dtype != ER_F32 || g->has_clip || g->input_forget) return 0;
  if (er_in(c, 4)) return 0;                              /* sequence_lens */
  if (g->batch > MAX_FAST_BATCH) return 0;
  if (g->cell == CELL_LSTM && er_in(c, 7)) return 0;      /* peepholes */
  for (int k = 0; k < g->nact * g->dirs; k++)
    if (g->act[k].kind != defs[g->cell][k % g->nact]) return 0;
  return 1;
}

/* XW [T*N, G*H], HR [N, G*H], h, cs, rh [N, H], bias row [G*H] (unprepared weights) */
static size_t fast_scratch_floats(const rnn_cfg *g) {
  size_t gh = (size_t)(g->ngates * g->hid), n = (size_t)g->batch, h = (size_t)g->hid;
  return (size_t)g->seq * n * gh + n * gh + 3 * n * h + gh;
}

/* Prepared weights (ctx->state), made once when W, R and B are constants. Per direction:
 * W packed for the table's GEMM (or its GEMV when there are few (t, b) rows), R packed for
 * its GEMV (GRU without linear_before_reset: R's z/r rows and h rows apart, as r scales h
 * before the h rows), and the bias row added to the input projection. */
typedef struct {
  int ready, proj_gemv;
  int64_t T, N;                            /* shapes the state was made for */
  size_t w_bytes, r_bytes, rh_bytes, dir_bytes;
} rnn_prep;

static size_t up64(size_t n) { return (n + 63) & ~(size_t)63; }
static const er_microkernels *mk_of(const er_kctx *c) { return c->mk ? c->mk : er_microkernels_ref(); }
static int gru_split(const rnn_cfg *g) { return g->cell == CELL_GRU && !g->lbr; }

static void prep_layout(const er_microkernels *mk, const rnn_cfg *g, rnn_prep *p) {
  int64_t H = g->hid, GH = g->ngates * H;
  memset(p, 0, sizeof *p);
  p->T = g->seq;
  p->N = g->batch;
  p->proj_gemv = g->seq * g->batch <= PROJ_GEMV_MAX_ROWS;
  p->w_bytes = up64(p->proj_gemv ? mk->f32_gemv_packed_size(GH, g->in) : mk->f32_gemm_packed_size(g->in, GH));
  p->r_bytes = up64(g->cell == CELL_LSTM ? mk->f32_lstm_packed_size(H)
                                         : mk->f32_gemv_packed_size(gru_split(g) ? 2 * H : GH, H));
  p->rh_bytes = gru_split(g) ? up64(mk->f32_gemv_packed_size(H, H)) : 0;
  p->dir_bytes = p->w_bytes + p->r_bytes + p->rh_bytes + up64((size_t)GH * sizeof(float));
}

/* The weights can be prepared when they are all constants (values known in infer/prepare). */
static int prep_possible(const er_kctx *c, const rnn_cfg *g) {
  const er_tensor *B = er_in(c, 3);
  return fast_ok(c, g) && er_in_known(c, 1) && er_in_known(c, 2) && (!B || B->data);
}

/* Bias row of the input projection for direction d: Wb + Rb, except GRU's h-gate Rb with
 * linear_before_reset (it goes inside r * (...)); zeros without B. */
static void bias_row(const er_kctx *c, const rnn_cfg *g, int d, float *out) {
  const er_tensor *B = er_in(c, 3);
  int64_t GH = g->ngates * g->hid, nb = g->cell == CELL_GRU && g->lbr ? 2 * g->hid : GH;
  const float *Wb = B ? (const float *)B->data + (size_t)d * 2 * GH : 0;
  for (int64_t r = 0; r < GH; r++) out[r] = Wb ? Wb[r] + (r < nb ? Wb[GH + r] : 0.0f) : 0.0f;
}

static er_status rnn_prepare(er_kctx *c, int cell) {
  rnn_cfg g;
  rnn_prep *p = (rnn_prep *)c->state;
  if (!p || rnn_config(c, cell, &g) || !prep_possible(c, &g)) return 0; /* run checks again */
  const er_microkernels *mk = mk_of(c);
  prep_layout(mk, &g, p);
  if (c->state_bytes < PREP_HDR + (size_t)g.dirs * p->dir_bytes) {
    p->ready = 0;
    return 0;
  }
  int64_t H = g.hid, I = g.in, GH = g.ngates * H;
  for (int d = 0; d < g.dirs; d++) {
    unsigned char *base = (unsigned char *)c->state + PREP_HDR + (size_t)d * p->dir_bytes;
    const float *W = (const float *)c->in[1]->data + (size_t)d * GH * I;
    const float *R = (const float *)c->in[2]->data + (size_t)d * GH * H;
    if (p->proj_gemv) mk->f32_gemv_pack(GH, I, W, I, base);
    else mk->f32_gemm_pack_b(1, I, GH, W, I, base);
    base += p->w_bytes;
    if (cell == CELL_LSTM) mk->f32_lstm_pack(H, R, base);
    else mk->f32_gemv_pack(gru_split(&g) ? 2 * H : GH, H, R, H, base);
    base += p->r_bytes;
    if (gru_split(&g)) mk->f32_gemv_pack(H, H, R + 2 * H * H, H, base);
    bias_row(c, &g, d, (float *)(base + p->rh_bytes));
  }
  p->ready = 1;
  c->consumed |= 1u << 1 | 1u << 2; /* W and R live packed in the state now */
  return 0;
}

/* One direction's recurrent weights as the step loop uses them: packed (prepared) or raw.
 * Raw R is the reference table's packed format (row-major), so raw products go through it. */
typedef struct {
  const er_microkernels *gv; /* table whose packed formats Rp/Rhp are in */
  const void *Rp, *Rhp;
} rnn_rec;

/* out_b = (add_b) + h_b R^T over `ncols` rows of R, for each batch row b. */
static void rec_rows(const rnn_rec *r, const void *Rpart, int64_t N, int64_t ncols, int64_t H,
                     const float *h, float *const *add, float *const *out) {
  for (int64_t b = 0; b < N; b++) r->gv->f32_gemv_packed(ncols, H, h + b * H, Rpart, add[b], out[b]);
}

/* One direction of the fast path: what the projection and the recurrence share. */
typedef struct {
  er_kctx *c;
  const rnn_cfg *g;
  const er_microkernels *mk;
  const rnn_prep *p;   /* prepared weights, or NULL */
  int d, rev;
  const unsigned char *base; /* prepared: this direction's packed W */
  const float *bias;         /* bias row (prepared, or made in scratch) */
  const float *Rb;           /* recurrent bias (GRU h gate) or NULL */
  rnn_rec rec;
  const float *x;
  float *XW, *HR, *h, *hn, *cs, *rh, *y;
} rnn_dir;

/* Input projection + bias of the rows that steps [s0, s1) read: those timesteps' rows when
 * they are contiguous in X's order (layout 0, or one batch row), else every row. */
static void dir_project(const rnn_dir *r, int64_t s0, int64_t s1) {
  const rnn_cfg *g = r->g;
  const int64_t T = g->seq, N = g->batch, I = g->in, GH = g->ngates * g->hid;
  int64_t r0 = 0, r1 = T * N;
  if (g->layout == 0 || N == 1) {
    int64_t t0 = r->rev ? T - s1 : s0, t1 = r->rev ? T - s0 : s1;
    r0 = t0 * N, r1 = t1 * N;
  }
  if (r1 <= r0) return;
  const float *x = r->x + r0 * I;
  float *xw = r->XW + r0 * GH;
  const er_act none = {ER_ACT_NONE, 0, 0};
  if (r->p && r->p->proj_gemv) {
    for (int64_t row = 0; row < r1 - r0; row++) r->mk->f32_gemv_packed(GH, I, x + row * I, r->base, r->bias, xw + row * GH);
  } else if (r->p) {
    if ((r1 - r0) * GH * I >= PROJ_PARALLEL_MACS)
      er_f32_gemm_packed_mt(r->c, r1 - r0, GH, I, x, I, r->base, r->bias, none, xw, GH);
    else
      r->mk->f32_gemm_packed(r1 - r0, GH, I, x, I, r->base, r->bias, none, xw, GH);
  } else {
    const float *W = (const float *)r->c->in[1]->data + (size_t)r->d * GH * I;
    r->mk->f32_gemm(0, 1, r1 - r0, GH, I, 1.0f, x, I, W, I, 0.0f, xw, GH);
    for (int64_t row = 0; row < r1 - r0; row++)
      for (int64_t k = 0; k < GH; k++) xw[row * GH + k] += r->bias[k];
  }
}

/* Recurrence steps [s0, s1) (step s is timestep s, or T-1-s in reverse). */
static void dir_recur(rnn_dir *r, int64_t s0, int64_t s1) {
  const rnn_cfg *g = r->g;
  const er_microkernels *mk = r->mk;
  const int cell = g->cell;
  const int64_t H = g->hid, GH = g->ngates * H, T = g->seq, N = g->batch;
  const int D = g->dirs;
  const float *Rb = r->Rb;
  const rnn_rec *rec = &r->rec;
  float *xw[MAX_FAST_BATCH], *hr[MAX_FAST_BATCH], *xh[MAX_FAST_BATCH], *rhb[MAX_FAST_BATCH];
  for (int64_t s = s0; s < s1; s++) {
    const int64_t t = r->rev ? T - 1 - s : s;
    float *h = r->h;
    for (int64_t b = 0; b < N; b++) {
      xw[b] = r->XW + (g->layout ? b * T + t : t * N + b) * GH;
      hr[b] = r->HR + b * GH;
      xh[b] = xw[b] + 2 * H;
      rhb[b] = r->rh + b * H;
    }
    if (cell == CELL_LSTM) { /* reads h, writes hn: then swap */
      for (int64_t b = 0; b < N; b++)
        rec->gv->f32_lstm_step(H, h + b * H, rec->Rp, xw[b], r->cs + b * H, r->hn + b * H, (int)(s & 1));
      r->h = r->hn;
      r->hn = h;
      h = r->h;
    } else if (cell == CELL_RNN) {
      rec_rows(rec, rec->Rp, N, H, H, h, xw, xw);
      for (int64_t b = 0; b < N; b++) mk->f32_tanh(H, xw[b], h + b * H);
    } else if (g->lbr) { /* GRU: h~ = tanh(xw_h + r * (h R_h^T + Rb_h)) */
      float *const none[MAX_FAST_BATCH] = {0};
      rec_rows(rec, rec->Rp, N, GH, H, h, none, hr);
      for (int64_t b = 0; b < N; b++) {
        float *a = hr[b], *hb = h + b * H;
        const float *v = xw[b];
        for (int64_t j = 0; j < 2 * H; j++) a[j] += v[j];
        mk->f32_sigmoid(2 * H, a, a); /* z, r */
        for (int64_t j = 0; j < H; j++) a[2 * H + j] = v[2 * H + j] + a[H + j] * (a[2 * H + j] + (Rb ? Rb[2 * H + j] : 0.0f));
        mk->f32_tanh(H, a + 2 * H, a + 2 * H);
        for (int64_t j = 0; j < H; j++) hb[j] = (1.0f - a[j]) * a[2 * H + j] + a[j] * hb[j];
      }
    } else { /* GRU: z, r first; h~ = tanh(xw_h + (r * h) R_h^T) (Rb_h is in xw_h) */
      rec_rows(rec, rec->Rp, N, 2 * H, H, h, xw, xw);
      for (int64_t b = 0; b < N; b++) {
        mk->f32_sigmoid(2 * H, xw[b], xw[b]);
        for (int64_t j = 0; j < H; j++) rhb[b][j] = xw[b][H + j] * h[b * H + j];
      }
      rec_rows(rec, rec->Rhp, N, H, H, r->rh, xh, xh);
      for (int64_t b = 0; b < N; b++) {
        float *hb = h + b * H;
        const float *z = xw[b];
        mk->f32_tanh(H, xh[b], xh[b]);
        for (int64_t j = 0; j < H; j++) hb[j] = (1.0f - z[j]) * xh[b][j] + z[j] * hb[j];
      }
    }
    if (r->y)
      for (int64_t b = 0; b < N; b++) {
        size_t y_off = (size_t)((g->layout ? (b * T + t) * D + r->d : (t * D + r->d) * N + b) * H);
        memcpy(r->y + y_off, h + b * H, (size_t)H * sizeof(float));
      }
  }
}

/* Two threads: one projects chunks of timesteps in the order the other's recurrence reads
 * them; the recurrence only waits for a chunk that the other thread is projecting, and
 * projects an unclaimed chunk itself (so a worker that is slow to wake, or busy, costs
 * nothing). One thread alone runs index 0 (all projections) then index 1. Each chunk is
 * projected the same way whichever thread does it: same bits for any thread count. */
#define PIPE_MAX_CHUNKS 256
typedef struct {
  rnn_dir *r;
  int64_t chunk, T;
  int n;
  atomic_int next;                     /* next chunk to project */
  atomic_uchar done[PIPE_MAX_CHUNKS];  /* chunk projected */
} rnn_pipe;

static void cpu_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static void pipe_bounds(const rnn_pipe *j, int k, int64_t *s0, int64_t *s1) {
  *s0 = k * j->chunk;
  *s1 = *s0 + j->chunk < j->T ? *s0 + j->chunk : j->T;
}

static void pipe_project(rnn_pipe *j, int k) {
  int64_t s0, s1;
  pipe_bounds(j, k, &s0, &s1);
  dir_project(j->r, s0, s1);
  atomic_store_explicit(&j->done[k], 1, memory_order_release);
}

static void pipe_task(void *arg, int64_t b, int64_t e) {
  rnn_pipe *j = (rnn_pipe *)arg;
  for (int64_t i = b; i < e; i++) {
    if (i == 0) {
      for (int k; (k = atomic_fetch_add(&j->next, 1)) < j->n;) pipe_project(j, k);
      continue;
    }
    for (int k = 0; k < j->n; k++) {
      while (!atomic_load_explicit(&j->done[k], memory_order_acquire)) {
        int nx = k; /* chunks before k are done, so k is the next unless it is claimed */
        if (atomic_compare_exchange_strong(&j->next, &nx, k + 1)) pipe_project(j, k);
        else cpu_pause();
      }
      int64_t s0, s1;
      pipe_bounds(j, k, &s0, &s1);
      dir_recur(j->r, s0, s1);
    }
  }
}

static er_status rnn_run_fast(er_kctx *c, const rnn_cfg *g) {
  const int cell = g->cell;
  const er_tensor *R = c->in[2], *B = er_in(c, 3), *H0 = er_in(c, 5);
  const er_tensor *C0 = cell == CELL_LSTM ? er_in(c, 6) : 0;
  er_tensor *Y = er_out(c, 0), *Yh = er_out(c, 1), *Yc = cell == CELL_LSTM ? er_out(c, 2) : 0;
  const int64_t H = g->hid, I = g->in, GH = g->ngates * g->hid, T = g->seq, N = g->batch;
  const int D = g->dirs;
  const rnn_prep *p = (const rnn_prep *)c->state;
  int prepared = p && c->state_bytes >= PREP_HDR && p->ready && p->T == T && p->N == N;
  rnn_dir r = {.c = c, .g = g, .mk = mk_of(c), .p = prepared ? p : NULL, .x = (const float *)c->in[0]->data,
               .y = Y ? (float *)Y->data : 0};
  r.XW = (float *)c->scratch;
  r.HR = r.XW + T * N * GH;
  r.h = r.HR + N * GH;
  r.cs = r.h + N * H;
  r.rh = r.cs + N * H;
  r.hn = r.HR; /* LSTM: the next h (HR is not used then) */
  const int pipelined = er_threadpool_size(c->threads) > 1 && (g->layout == 0 || N == 1) &&
                        T >= 2 * PIPE_STEPS && T * N * GH * I >= PIPE_MIN_MACS &&
                        !(prepared && p->proj_gemv);

  for (int d = 0; d < D; d++) {
    r.d = d;
    r.rev = D == 2 ? d == 1 : g->reverse;
    const float *Rd = (const float *)R->data + (size_t)d * GH * H;
    r.Rb = B ? (const float *)B->data + (size_t)d * 2 * GH + GH : 0;
    r.rec = (rnn_rec){er_microkernels_ref(), Rd, Rd + 2 * H * H};
    if (prepared) {
      r.base = (const unsigned char *)c->state + PREP_HDR + (size_t)d * p->dir_bytes;
      r.bias = (const float *)(r.base + p->w_bytes + p->r_bytes + p->rh_bytes);
      r.rec = (rnn_rec){r.mk, r.base + p->w_bytes, r.base + p->w_bytes + p->r_bytes};
    } else {
      float *b = r.rh + N * H;
      bias_row(c, g, d, b);
      r.bias = b;
    }
    if (!pipelined) dir_project(&r, 0, T);
    for (int64_t b = 0; b < N; b++) {
      size_t st_off = (size_t)((g->layout ? b * D + d : d * N + b) * H);
      for (int64_t j = 0; j < H; j++) {
        r.h[b * H + j] = H0 ? ((const float *)H0->data)[st_off + j] : 0.0f;
        r.cs[b * H + j] = C0 ? ((const float *)C0->data)[st_off + j] : 0.0f;
      }
    }
    if (pipelined) {
      rnn_pipe j;
      j.r = &r;
      j.T = T;
      j.chunk = (T + PIPE_MAX_CHUNKS - 1) / PIPE_MAX_CHUNKS;
      if (j.chunk < PIPE_STEPS) j.chunk = PIPE_STEPS;
      j.n = (int)((T + j.chunk - 1) / j.chunk);
      atomic_init(&j.next, 0);
      for (int k = 0; k < j.n; k++) atomic_init(&j.done[k], 0);
      er_parallel_for(c, 2, 1, pipe_task, &j);
    } else {
      dir_recur(&r, 0, T);
    }
    for (int64_t b = 0; b < N; b++) { /* an empty sequence yields zero states */
      size_t st_off = (size_t)((g->layout ? b * D + d : d * N + b) * H);
      for (int64_t j = 0; j < H; j++) {
        if (Yh) ((float *)Yh->data)[st_off + j] = T ? r.h[b * H + j] : 0.0f;
        if (Yc) ((float *)Yc->data)[st_off + j] = T ? r.cs[b * H + j] : 0.0f;
      }
    }
  }
  return 0;
}

static er_status rnn_infer(er_kctx *c, int cell) {
  rnn_cfg g;
  ER_RETURN_IF_ERROR(rnn_config(c, cell, &g));
  int max_out = cell == CELL_LSTM ? 3 : 2;
  if (c->n_out > max_out) return ER_ERR(ER_INVALID_MODEL, "at most %d outputs, got %d", max_out, c->n_out);
  int dt = c->in[0]->dtype;
  er_tensor *Y = er_out(c, 0);
  if (Y) {
    int64_t d0[4] = {g.seq, g.dirs, g.batch, g.hid}, d1[4] = {g.batch, g.seq, g.dirs, g.hid};
    er_tensor_set_shape(Y, dt, 4, g.layout ? d1 : d0);
  }
  for (int k = 1; k < max_out; k++) {
    er_tensor *t = er_out(c, k);
    if (!t) continue;
    int64_t d0[3] = {g.dirs, g.batch, g.hid}, d1[3] = {g.batch, g.dirs, g.hid};
    er_tensor_set_shape(t, dt, 3, g.layout ? d1 : d0);
  }
  /* scratch (doubles): x row, h, c, gates, tmp, rh */
  c->scratch_bytes = (size_t)(g.in + 2 * g.hid + (g.ngates + 2) * g.hid) * sizeof(double);
  if (fast_ok(c, &g)) {
    size_t fb = fast_scratch_floats(&g) * sizeof(float);
    if (fb > c->scratch_bytes) c->scratch_bytes = fb;
    if (prep_possible(c, &g)) {
      rnn_prep p;
      prep_layout(mk_of(c), &g, &p);
      c->state_bytes = PREP_HDR + (size_t)g.dirs * p.dir_bytes;
    }
  }
  return 0;
}

/* Apply an activation; `clip` (if set) bounds its input first. */
static double act_apply(const rnn_act *a, double x, const rnn_cfg *g) {
  if (g && g->has_clip) x = x < -g->clip ? -g->clip : x > g->clip ? g->clip : x;
  switch (a->kind) {
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_TANH: return tanh(x);
    case ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case ACT_AFFINE: return a->alpha * x + a->beta;
    case ACT_LEAKYRELU: return x >= 0 ? x : a->alpha * x;
    case ACT_THRESHOLDEDRELU: return x > a->alpha ? x : 0;
    case ACT_SCALEDTANH: return a->alpha * tanh(a->beta * x);
    case ACT_HARDSIGMOID: {
      double v = a->alpha * x + a->beta;
      return v < 0 ? 0 : v > 1 ? 1 : v;
    }
    case ACT_ELU: return x >= 0 ? x : a->alpha * (exp(x) - 1);
    case ACT_SOFTSIGN: return x / (1 + fabs(x));
    case ACT_SOFTPLUS: return x > 30 ? x : log1p(exp(x));
    default: return x;
  }
}

/* sum_k w[off + k] * v[k] for a weight row of any float dtype. */
static double dot_row(const void *w, int dt, size_t off, const double *v, int64_t n) {
  double s = 0;
  switch (dt) {
    case ER_F32: {
      const float *p = (const float *)w + off;
      for (int64_t k = 0; k < n; k++) s += (double)p[k] * v[k];
      break;
    }
    case ER_F64: {
      const double *p = (const double *)w + off;
      for (int64_t k = 0; k < n; k++) s += p[k] * v[k];
      break;
    }
    default:
      for (int64_t k = 0; k < n; k++) s += er_load_f64(w, dt, off + (size_t)k) * v[k];
  }
  return s;
}

static inline double ld(const er_tensor *t, size_t i) { return er_ld(t->data, t->dtype, (int64_t)i); }
static inline void st(er_tensor *t, size_t i, double v) { er_st(t->data, t->dtype, (int64_t)i, v); }

static er_status rnn_run(er_kctx *c, int cell) {
  rnn_cfg g;
  ER_RETURN_IF_ERROR(rnn_config(c, cell, &g));
  if (fast_ok(c, &g) && c->scratch_bytes >= fast_scratch_floats(&g) * sizeof(float))
    return rnn_run_fast(c, &g);
  const er_tensor *X = c->in[0], *W = c->in[1], *R = c->in[2];
  const er_tensor *B = er_in(c, 3), *L = er_in(c, 4), *H0 = er_in(c, 5);
  const er_tensor *C0 = cell == CELL_LSTM ? er_in(c, 6) : 0;
  const er_tensor *P = cell == CELL_LSTM ? er_in(c, 7) : 0;
  er_tensor *Y = er_out(c, 0), *Yh = er_out(c, 1), *Yc = cell == CELL_LSTM ? er_out(c, 2) : 0;
  const int64_t H = g.hid, I = g.in, G = g.ngates, T = g.seq, N = g.batch;
  double *xrow = (double *)c->scratch;
  double *h = xrow + I, *cs = h + H, *gates = cs + H, *tmp = gates + G * H, *rh = tmp + H;

  if (L)
    for (int64_t b = 0; b < N; b++) {
      int64_t len = er_load_i64(L->data, L->dtype, (size_t)b);
      if (len < 0 || len > T)
        return ER_ERR(ER_OUT_OF_RANGE, "sequence_lens[%lld] = %lld is outside [0, %lld]",
                      (long long)b, (long long)len, (long long)T);
    }
  if (Y) memset(Y->data, 0, er_tensor_nbytes(Y));

  for (int d = 0; d < g.dirs; d++) {
    int rev = g.dirs == 2 ? d == 1 : g.reverse;
    const rnn_act *act = &g.act[d * g.nact];
    size_t w_off = (size_t)(d * G * H * I), r_off = (size_t)(d * G * H * H);
    for (int64_t b = 0; b < N; b++) {
      int64_t len = L ? er_load_i64(L->data, L->dtype, (size_t)b) : T;
      size_t st_off = (size_t)((g.layout ? b * g.dirs + d : d * N + b) * H);
      for (int64_t j = 0; j < H; j++) {
        h[j] = H0 ? ld(H0, st_off + (size_t)j) : 0;
        cs[j] = C0 ? ld(C0, st_off + (size_t)j) : 0;
      }
      for (int64_t s = 0; s < len; s++) {
        int64_t t = rev ? len - 1 - s : s;
        size_t x_off = (size_t)((g.layout ? b * T + t : t * N + b) * I);
        for (int64_t k = 0; k < I; k++) xrow[k] = ld(X, x_off + (size_t)k);
        /* gates[r] = W_r x + Wb_r + Rb_r (+ R_r h, except GRU's h gate) */
        for (int64_t r = 0; r < G * H; r++) {
          double v = dot_row(W->data, W->dtype, w_off + (size_t)(r * I), xrow, I);
          if (B) v += ld(B, (size_t)(d * 2 * G * H + r));
          int gru_h = cell == CELL_GRU && r >= 2 * H;
          if (!gru_h) {
            v += dot_row(R->data, R->dtype, r_off + (size_t)(r * H), h, H);
            if (B) v += ld(B, (size_t)(d * 2 * G * H + G * H + r));
          }
          gates[r] = v;
        }
        if (cell == CELL_RNN) {
          for (int64_t j = 0; j < H; j++) h[j] = act_apply(&act[0], gates[j], &g);
        } else if (cell == CELL_GRU) {
          double *z = gates, *rg = gates + H, *hh = gates + 2 * H;
          for (int64_t j = 0; j < H; j++) {
            z[j] = act_apply(&act[0], z[j], &g);
            rg[j] = act_apply(&act[0], rg[j], &g);
            rh[j] = rg[j] * h[j];
          }
          for (int64_t j = 0; j < H; j++) {
            size_t row = r_off + (size_t)((2 * H + j) * H);
            double rb = B ? ld(B, (size_t)(d * 2 * G * H + G * H + 2 * H + j)) : 0;
            double v;
            if (g.lbr) {
              v = rg[j] * (dot_row(R->data, R->dtype, row, h, H) + rb);
            } else {
              v = dot_row(R->data, R->dtype, row, rh, H) + rb;
            }
            tmp[j] = act_apply(&act[1], hh[j] + v, &g);
          }
          for (int64_t j = 0; j < H; j++) h[j] = (1 - z[j]) * tmp[j] + z[j] * h[j];
        } else {
          double *gi = gates, *go = gates + H, *gf = gates + 2 * H, *gc = gates + 3 * H;
          size_t p_off = (size_t)(d * 3 * H);
          for (int64_t j = 0; j < H; j++) {
            double pi = P ? ld(P, p_off + (size_t)j) : 0;
            double pf = P ? ld(P, p_off + (size_t)(2 * H + j)) : 0;
            double po = P ? ld(P, p_off + (size_t)(H + j)) : 0;
            double it = act_apply(&act[0], gi[j] + pi * cs[j], &g);
            double ft = g.input_forget ? 1 - it : act_apply(&act[0], gf[j] + pf * cs[j], &g);
            double ct = act_apply(&act[1], gc[j], &g);
            cs[j] = ft * cs[j] + it * ct;
            double ot = act_apply(&act[0], go[j] + po * cs[j], &g);
            h[j] = ot * act_apply(&act[2], cs[j], 0); /* cell state is not clipped (as ORT) */
          }
        }
        if (Y) {
          size_t y_off = (size_t)((g.layout ? (b * T + t) * g.dirs + d : (t * g.dirs + d) * N + b) * H);
          for (int64_t j = 0; j < H; j++) st(Y, y_off + (size_t)j, h[j]);
        }
      }
      for (int64_t j = 0; j < H; j++) { /* an empty sequence yields zero states (as onnxruntime) */
        if (Yh) st(Yh, st_off + (size_t)j, len ? h[j] : 0);
        if (Yc) st(Yc, st_off + (size_t)j, len ? cs[j] : 0);
      }
    }
  }
  return 0;
}

static er_status rnn_infer_rnn(er_kctx *c) { return rnn_infer(c, CELL_RNN); }
static er_status rnn_infer_gru(er_kctx *c) { return rnn_infer(c, CELL_GRU); }
static er_status rnn_infer_lstm(er_kctx *c) { return rnn_infer(c, CELL_LSTM); }
static er_status rnn_prepare_rnn(er_kctx *c) { return rnn_prepare(c, CELL_RNN); }
static er_status rnn_prepare_gru(er_kctx *c) { return rnn_prepare(c, CELL_GRU); }
static er_status rnn_prepare_lstm(er_kctx *c) { return rnn_prepare(c, CELL_LSTM); }
static er_status rnn_run_rnn(er_kctx *c) { return rnn_run(c, CELL_RNN); }
static er_status rnn_run_gru(er_kctx *c) { return rnn_run(c, CELL_GRU); }
static er_status rnn_run_lstm(er_kctx *c) { return rnn_run(c, CELL_LSTM); }

const er_op_def er_ops_rnn[] = {
    ER_OPDEF(RNN, {"RNN", "", 1, 0, rnn_infer_rnn, rnn_run_rnn, 0, rnn_prepare_rnn})
    ER_OPDEF(GRU, {"GRU", "", 1, 0, rnn_infer_gru, rnn_run_gru, 0, rnn_prepare_gru})
    ER_OPDEF(LSTM, {"LSTM", "", 1, 0, rnn_infer_lstm, rnn_run_lstm, 0, rnn_prepare_lstm})
    {0},
};
