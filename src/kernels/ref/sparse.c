/* Sparse float32 weights (contract in kernels/sparse.h): format, rule, thread split and the
 * portable micro-kernels. */
#include "kernels/sparse.h"

#include <string.h>

#include "kernels/vmath.h"

#define SPW_MAGIC 0x53505731u
#define SPW_ALIGN 64
#define SPW_PAD 32                /* idx/val entries past the end: vector loads may run over */
#define SPW_NB 64                 /* output columns per result tile (Ct: 64 x 32 floats) */
#define SPW_MIN_PAR ((int64_t)1 << 17) /* nonzero MACs below which one thread runs it */
#define SPW_SPMV_ROWS 3          /* fewer rows: one gathering pass per row; more: 32-row tiles */

static size_t spw_align(size_t n) { return (n + SPW_ALIGN - 1) & ~(size_t)(SPW_ALIGN - 1); }

static int64_t spw_nkb(int64_t K) { return (K + ER_SPW_KB - 1) / ER_SPW_KB; }
static size_t spw_hdr_bytes(int64_t K, int64_t N) {
  return spw_align(sizeof(er_spw) + sizeof(int32_t) * (size_t)(spw_nkb(K) * N + 1));
}

int64_t er_spw_count(int64_t K, int64_t N, const float *src, int64_t sn, int64_t sk) {
  int64_t nnz = 0;
  for (int64_t n = 0; n < N; n++)
    for (int64_t k = 0; k < K; k++) nnz += src[n * sn + k * sk] != 0.0f;
  return nnz;
}

/* Entries stored: each (block, column) run padded to a multiple of ER_SPW_RUN (so the
 * kernels need no tail), at most nnz + (ER_SPW_RUN - 1) per run. */
static int64_t spw_max_entries(int64_t K, int64_t N, int64_t nnz) {
  return nnz + (ER_SPW_RUN - 1) * spw_nkb(K) * N + SPW_PAD;
}

size_t er_spw_bytes(int64_t K, int64_t N, int64_t nnz) {
  if (K < 1 || K > ER_SPW_MAX_K || N < 1 || N >= ((int64_t)1 << 24) || nnz < 0 ||
      spw_max_entries(K, N, nnz) >= ((int64_t)1 << 31))
    return 0;
  const int64_t e = spw_max_entries(K, N, nnz);
  return spw_hdr_bytes(K, N) + spw_align(sizeof(uint16_t) * (size_t)e) + spw_align(sizeof(float) * (size_t)e);
}

void er_spw_pack(int64_t K, int64_t N, const float *src, int64_t sn, int64_t sk, void *dst) {
  const int64_t nnz = er_spw_count(K, N, src, sn, sk), nkb = spw_nkb(K);
  er_spw *s = (er_spw *)dst;
  s->magic = SPW_MAGIC;
  s->K = (int32_t)K, s->N = (int32_t)N, s->nnz = (int32_t)nnz, s->nkb = (int32_t)nkb;
  s->off_idx = (int64_t)spw_hdr_bytes(K, N);
  s->off_val = s->off_idx + (int64_t)spw_align(sizeof(uint16_t) * (size_t)spw_max_entries(K, N, nnz));
  uint16_t *idx = (uint16_t *)((char *)dst + s->off_idx);
  float *val = (float *)((char *)dst + s->off_val);
  int64_t j = 0;
  for (int64_t b = 0; b < nkb; b++) {
    const int64_t k1 = (b + 1) * ER_SPW_KB < K ? (b + 1) * ER_SPW_KB : K;
    for (int64_t n = 0; n < N; n++) {
      const int64_t j0 = j;
      s->ptr[b * N + n] = (int32_t)j;
      for (int64_t k = b * ER_SPW_KB; k < k1; k++) {
        const float v = src[n * sn + k * sk];
        if (v != 0.0f) idx[j] = (uint16_t)k, val[j] = v, j++;
      }
      /* padding: the run's last row (or the block's first) times 0 */
      const uint16_t last = j > j0 ? idx[j - 1] : (uint16_t)(b * ER_SPW_KB);
      while ((j - j0) % ER_SPW_RUN) idx[j] = last, val[j] = 0.0f, j++;
    }
  }
  s->ptr[nkb * N] = (int32_t)j;
  for (int64_t p = 0; p < SPW_PAD; p++) idx[j + p] = 0, val[j + p] = 0.0f;
}

/* The rule: estimated time of the product, dense against sparse, with costs fitted to 387
 * per-node timings of pruned models (MobileNetV2, MnasNet, EfficientNet-B0, MobileNetV3,
 * SqueezeNet, ResNet-18, tinybert, the digits MLP; 70 and 90 %) run both ways on the
 * project's machine (Xeon, AVX-512 table, 1 thread; docs/design.md). In ns:
 *   dense packed GEMM   M*K*N32 / 70 (N32: N rounded up to the 32-wide tiles); for fewer
 *                       than 12 rows at least 0.15 per weight (K x N32) when the weights
 *                       are 1 MB or more (in a model they come from L3: evicted by the other
 *                       layers since the last run), else 0.04 (they stay in L2 between runs:
 *                       the digits MLP's 64x256 / 256x128 layers, 1 row, ran 2x / 0.9x slower
 *                       sparse at 90 % zeros than dense); weights over 2 MB at least
 *                       4*K*N / 26 (streamed)
 *   sparse, < 3 rows    per row 0.32 per entry (gathers) + 5 per column and block
 *   sparse, 3+ rows     per 32-row tile 0.8 per entry + 4.5 per column and block, plus
 *                       0.12 per element transposed (M x (K + N)); sparse weights over 2 MB
 *                       at least their bytes / 26
 * entries = nonzeros + the runs' padding (1.5 per column and block on average). With 70 %
 * zeros dense usually stays; at 90 % most 1x1 convs and few-row products go sparse. */
#define DENSE_MACS 70.0
#define DENSE_ROW_NS 0.15
#define DENSE_HOT_NS 0.04
#define COLD_BYTES (1024.0 * 1024)
#define STREAM_BYTES 26.0
#define BIG_BYTES (2.0 * 1024 * 1024)
#define SPMV_NS 0.32
#define SPMV_RUN_NS 5.0
#define SPMM_NS 0.8
#define SPMM_RUN_NS 4.5
#define TRANSPOSE_NS 0.12

static double dmax(double a, double b) { return a > b ? a : b; }

int er_spw_choose(int64_t M, int64_t K, int64_t N, int64_t nnz, int64_t mode) {
  if (mode == 0 || M < 1 || !er_spw_bytes(K, N, nnz)) return 0;
  if (mode == 1) return 1;
  const int64_t kn = K * N;
  if (kn - nnz < (int64_t)(ER_SPW_MIN_SPARSITY * (double)kn)) return 0; /* pruned "70 %" rounds down */
  const double runs = (double)spw_nkb(K) * (double)N, entries = (double)nnz + 0.5 * (ER_SPW_RUN - 1) * runs;
  double dense = (double)M * (double)K * (double)((N + 31) / 32 * 32) / DENSE_MACS;
  if (M < 12) /* few rows: bound by reading the weights, from L3 when they are big */
    dense = dmax(dense, (4.0 * (double)kn >= COLD_BYTES ? DENSE_ROW_NS : DENSE_HOT_NS) * (double)K * ((N + 31) / 32 * 32));
  if (4.0 * (double)kn > BIG_BYTES) dense = dmax(dense, 4.0 * (double)kn / STREAM_BYTES);
  double sparse;
  if (M < SPW_SPMV_ROWS) {
    sparse = (double)M * (entries * SPMV_NS + runs * SPMV_RUN_NS);
  } else {
    const double tiles = (double)((M + ER_SPW_TILE - 1) / ER_SPW_TILE);
    sparse = tiles * (entries * SPMM_NS + runs * SPMM_RUN_NS) + (double)M * (double)(K + N) * TRANSPOSE_NS;
  }
  if (6.0 * entries > BIG_BYTES) sparse = dmax(sparse, 6.0 * entries / STREAM_BYTES);
  return sparse < dense;
}

er_status er_spw_mode(const er_kctx *c, int64_t *out_mode) {
  const er_attr *a = er_attr_get(c, "_sparse");
  *out_mode = -1;
  if (!a) return 0;
  if (a->type != ER_ATTR_INT || (a->i != 0 && a->i != 1))
    return ER_ERR(ER_INVALID_ARGUMENT, "_sparse must be the integer 0 or 1");
  *out_mode = a->i;
  return 0;
}

static size_t spw_slot_bytes(int64_t M, int64_t K) {
  if (M < SPW_SPMV_ROWS) return 0;
  return spw_align(sizeof(float) * (size_t)(K * ER_SPW_TILE)) + spw_align(sizeof(float) * SPW_NB * ER_SPW_TILE);
}

size_t er_spw_scratch_bytes(int64_t M, int64_t K, int64_t N, int threads) {
  (void)N;
  return (size_t)(threads < 1 ? 1 : threads) * spw_slot_bytes(M, K);
}

/* ---------------------------------------------------------------- reference kernels */

void er_f32_spmm_32_ref(const float *At, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                        const float *bias, int accumulate, er_act act, float *Ct) {
  for (int64_t c = 0; c < n; c++) {
    float acc[ER_SPW_TILE];
    for (int r = 0; r < ER_SPW_TILE; r++) acc[r] = accumulate ? Ct[c * ER_SPW_TILE + r] : bias ? bias[c] : 0.0f;
    for (int32_t j = ptr[c]; j < ptr[c + 1]; j++) {
      const float v = val[j], *a = At + (int64_t)idx[j] * ER_SPW_TILE;
      for (int r = 0; r < ER_SPW_TILE; r++) acc[r] += v * a[r];
    }
    er_f32_apply_act(acc, ER_SPW_TILE, act);
    memcpy(Ct + c * ER_SPW_TILE, acc, sizeof acc);
  }
}

void er_f32_spmv_ref(const float *x, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                     const float *bias, int accumulate, float *y) {
  for (int64_t c = 0; c < n; c++) {
    float s = 0.0f;
    for (int32_t j = ptr[c]; j < ptr[c + 1]; j++) s += val[j] * x[idx[j]];
    y[c] = (accumulate ? y[c] : bias ? bias[c] : 0.0f) + s;
  }
}

/* ---------------------------------------------------------------- driver */

typedef struct spw_job {
  const er_microkernels *mk;
  const er_spw *w;
  const float *A, *bias;
  float *C;
  er_act act;
  int64_t M, K, N, lda, ldc;
  char *scratch;
  size_t slot_bytes;
  int64_t rchunks, cchunk, cchunks, items, nslots;
  int spmv;
} spw_job;

static void spw_act(const spw_job *j, float *x, int64_t n) {
  const int fn = j->act.kind == ER_ACT_GELU ? ER_VF_GELU : j->act.kind == ER_ACT_SIGMOID ? ER_VF_SIGMOID
               : j->act.kind == ER_ACT_TANH ? ER_VF_TANH : j->act.kind == ER_ACT_SILU ? ER_VF_SILU : 0;
  if (fn) j->mk->f32_vunary(fn, x, x, n);
  else er_f32_apply_act(x, n, j->act);
}

/* One item: a row (spmv) or a 32-row tile (spmm), output columns [n0, n1). */
static void spw_item(const spw_job *j, int64_t it, float *At, float *Ct) {
  const er_spw *w = j->w;
  const uint16_t *idx = er_spw_idx(w);
  const float *val = er_spw_val(w);
  const int64_t rc = it / j->cchunks, n0 = it % j->cchunks * j->cchunk;
  const int64_t n1 = n0 + j->cchunk < j->N ? n0 + j->cchunk : j->N;
  if (j->spmv) {
    float *y = j->C + rc * j->ldc + n0;
    for (int64_t b = 0; b < w->nkb; b++)
      j->mk->f32_spmv(j->A + rc * j->lda, w->ptr + b * j->N + n0, idx, val, n1 - n0, j->bias ? j->bias + n0 : 0,
                      b > 0, y);
    if (j->act.kind != ER_ACT_NONE) spw_act(j, y, n1 - n0);
    return;
  }
  const int64_t r0 = rc * ER_SPW_TILE, rt = j->M - r0 < ER_SPW_TILE ? j->M - r0 : ER_SPW_TILE;
  j->mk->x32_transpose(j->A + r0 * j->lda, j->lda, At, ER_SPW_TILE, rt, j->K);
  if (rt < ER_SPW_TILE)
    for (int64_t k = 0; k < j->K; k++) memset(At + k * ER_SPW_TILE + rt, 0, sizeof(float) * (size_t)(ER_SPW_TILE - rt));
  /* piecewise-linear activations in the kernel's store, the others on the result rows */
  const er_act none = {ER_ACT_NONE, 0, 0};
  const int in_kernel = j->act.kind == ER_ACT_RELU || j->act.kind == ER_ACT_CLIP || j->act.kind == ER_ACT_LEAKYRELU ||
                        j->act.kind == ER_ACT_HARDSIGMOID || j->act.kind == ER_ACT_HARDSWISH;
  for (int64_t c0 = n0; c0 < n1; c0 += SPW_NB) {
    const int64_t nb = n1 - c0 < SPW_NB ? n1 - c0 : SPW_NB;
    for (int64_t b = 0; b < w->nkb; b++)
      j->mk->f32_spmm_32(At, w->ptr + b * j->N + c0, idx, val, nb, j->bias ? j->bias + c0 : 0, b > 0,
                         in_kernel && b == w->nkb - 1 ? j->act : none, Ct);
    float *C = j->C + r0 * j->ldc + c0;
    j->mk->x32_transpose(Ct, ER_SPW_TILE, C, j->ldc, nb, rt);
    if (j->act.kind != ER_ACT_NONE && !in_kernel)
      for (int64_t r = 0; r < rt; r++) spw_act(j, C + r * j->ldc, nb);
  }
}

static void spw_task(void *arg, int64_t s0, int64_t s1) {
  const spw_job *j = (const spw_job *)arg;
  for (int64_t s = s0; s < s1; s++) {
    char *slot = j->scratch + (size_t)s * j->slot_bytes;
    float *At = (float *)slot, *Ct = (float *)(slot + spw_align(sizeof(float) * (size_t)(j->K * ER_SPW_TILE)));
    const int64_t i0 = s * j->items / j->nslots, i1 = (s + 1) * j->items / j->nslots;
    for (int64_t it = i0; it < i1; it++) spw_item(j, it, At, Ct);
  }
}

er_status er_spw_gemm(const er_kctx *c, int64_t M, const float *A, int64_t lda, const er_spw *w, const float *bias,
                      er_act act, float *C, int64_t ldc, void *scratch, size_t scratch_bytes) {
  if (M <= 0) return 0;
  spw_job j;
  memset(&j, 0, sizeof j);
  j.mk = c->mk ? c->mk : er_microkernels_ref();
  j.w = w, j.A = A, j.bias = bias, j.C = C, j.act = act;
  j.M = M, j.K = w->K, j.N = w->N, j.lda = lda, j.ldc = ldc;
  j.scratch = (char *)scratch;
  j.spmv = M < SPW_SPMV_ROWS;
  j.slot_bytes = spw_slot_bytes(M, j.K);
  j.rchunks = j.spmv ? M : (M + ER_SPW_TILE - 1) / ER_SPW_TILE;
  const int64_t nth = er_threadpool_size(c->threads);
  const int par = nth > 1 && (int64_t)w->nnz * M >= SPW_MIN_PAR;
  /* columns split when the rows alone do not give every thread work */
  j.cchunk = j.N, j.cchunks = 1;
  if (par && j.rchunks < 2 * nth) {
    const int64_t want = (2 * nth + j.rchunks - 1) / j.rchunks;
    int64_t cc = (j.N + want - 1) / want;
    cc = (cc + 15) / 16 * 16;
    if (cc < j.N) j.cchunk = cc, j.cchunks = (j.N + cc - 1) / cc;
  }
  j.items = j.rchunks * j.cchunks;
  j.nslots = par ? nth : 1;
  if (j.slot_bytes) { /* the slots of the thread count at infer (the pool may have grown) */
    const int64_t fit = (int64_t)(scratch_bytes / j.slot_bytes);
    if (fit < j.nslots) j.nslots = fit;
  }
  if (j.nslots > j.items) j.nslots = j.items;
  if (j.nslots < 1 || (j.slot_bytes && !scratch))
    return ER_ERR(ER_INTERNAL, "sparse product: %zu bytes of scratch, %zu needed", scratch_bytes, j.slot_bytes);
  if (j.nslots == 1) spw_task(&j, 0, 1);
  else er_parallel_for(c, j.nslots, 1, spw_task, &j);
  return 0;
}
