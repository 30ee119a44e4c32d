/* Integer matrix products over the q8 micro-kernels (kernels/q8.h): the fast path of
 * QLinearMatMul and MatMulInteger, and the internal QGemm op (kernels/qops.h).
 *
 * Fast path: B constant 2-D [K, N] with a scalar or per-column zero point, packed once as the
 * right operand; A of any rank (its leading dims are rows), per-tensor scale and zero point,
 * packed per tile of rows. Threads split rows (and, for few rows, column panels); each output
 * element is one exact int32 sum and the same output stage, so any split gives the same
 * bits as the reference loops. A float output (MatMulIntegerToFloat) gets the int32 sums, then
 * (float)acc * (a_scale * b_scale[n]) + bias[n] per tile. */
#include <stdatomic.h>
#include <string.h>

#include "kernels/ref/quant_common.h"

enum { QM_MAGIC = 0x514d384b, QM_ROWS = 96 };
#define QM_MIN_PAR ((int64_t)1 << 20) /* as quant_conv.c's QC_MIN_PAR */

static size_t qm_align(size_t n) { return (n + 63) & ~(size_t)63; }

typedef struct qm_state {
  uint32_t magic;
  const er_microkernels *mk;
} qm_state;
#define QM_HDR qm_align(sizeof(qm_state))

static int qm_is8(const er_tensor *t) { return t && (t->dtype == ER_U8 || t->dtype == ER_I8); }

/* Applies when B is a 2-D 8-bit matrix, A 8-bit with K columns, a_zero_point per tensor and
 * b_zero_point per tensor or per column (the same for scales, checked by the caller). */
static int qm_applies(const er_kctx *c, const er_qmm_io *io) {
  if (!c->mk || !c->mk->q8_gemm) return 0;
  const er_tensor *a = c->in[io->a], *b = c->in[io->b];
  if (!qm_is8(a) || !qm_is8(b) || b->rank != 2 || a->rank < 1 || a->dims[a->rank - 1] != b->dims[0]) return 0;
  const er_tensor *az = er_in(c, io->azp), *bz = er_in(c, io->bzp);
  if (az && er_tensor_numel(az) != 1) return 0;
  if (io->as >= 0 && er_tensor_numel(c->in[io->as]) != 1) return 0;
  int64_t N = b->dims[1];
  if (bz && er_tensor_numel(bz) != 1 && !(bz->rank == 1 && bz->dims[0] == N)) return 0;
  if (io->bs >= 0 && er_tensor_numel(c->in[io->bs]) != 1 &&
      !(c->in[io->bs]->rank == 1 && c->in[io->bs]->dims[0] == N))
    return 0;
  return er_tensor_numel(a) > 0 && N > 0;
}

static size_t qm_slot_bytes(const er_kctx *c, int64_t K) {
  return qm_align(c->mk->q8_pack_left_size(QM_ROWS, K));
}

void er_qmm_fast_infer(er_kctx *c, const er_qmm_io *io) {
  if (!qm_applies(c, io) || !er_in_known(c, io->b) || (er_in(c, io->bzp) && !er_in_known(c, io->bzp))) return;
  const er_tensor *b = c->in[io->b];
  int64_t K = b->dims[0], N = b->dims[1];
  c->state_bytes = QM_HDR + qm_align(c->mk->q8_pack_right_size(K, N)) + qm_align((size_t)N * sizeof(int32_t));
  size_t need = qm_align((size_t)N * sizeof(float)) + (size_t)er_threadpool_size(c->threads) * qm_slot_bytes(c, K);
  if (need > c->scratch_bytes) c->scratch_bytes = need;
}

er_status er_qmm_fast_prepare(er_kctx *c, const er_qmm_io *io) {
  if (!c->state || c->state_bytes < QM_HDR) return 0;
  qm_state *st = (qm_state *)c->state;
  st->magic = 0;
  if (!qm_applies(c, io) || !er_in_known(c, io->b) || (er_in(c, io->bzp) && !er_in_known(c, io->bzp))) return 0;
  const er_tensor *b = c->in[io->b], *bz = er_in(c, io->bzp);
  int64_t K = b->dims[0], N = b->dims[1];
  size_t pk = qm_align(c->mk->q8_pack_right_size(K, N));
  if (QM_HDR + pk + qm_align((size_t)N * sizeof(int32_t)) > c->state_bytes) return 0;
  char *packed = (char *)c->state + QM_HDR;
  int32_t *zp = (int32_t *)(packed + pk);
  int per = bz && er_tensor_numel(bz) > 1;
  for (int64_t n = 0; n < (per ? N : 1); n++) zp[n] = bz ? er_q_ld(bz->data, bz->dtype, (size_t)n) : 0;
  c->mk->q8_pack_right(K, N, b->data, b->dtype == ER_I8, N, 1, zp, per, packed);
  st->mk = c->mk;
  st->magic = QM_MAGIC;
  return 0;
}

typedef struct qm_job {
  const er_microkernels *mk;
  const char *A;
  char *Y;
  const void *packed;
  char *slots;
  size_t slot_bytes, esz;
  int64_t rows, K, N, tiles, chunk, nchunks, items, nslots;
  int asig;
  int32_t azp;
  er_q8_out o;
  const float *fscale, *fbias; /* float output: y = (float)acc * fscale[n or 0] + fbias[n] */
  int fper;
  atomic_int_fast64_t next; /* next item to claim */
} qm_job;

/* Float output (MatMulIntegerToFloat): the int32 sums of rows [0, rn) x columns [n0, n1) of Y
 * become floats in place, (float)acc * scale (+ bias), two roundings as the unfused graph's
 * Cast -> Mul -> Add. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#endif
static void qm_to_float(const qm_job *j, float *Y, int64_t rn, int64_t n0, int64_t n1) {
  const float *s = j->fscale, *b = j->fbias, s0 = j->fscale[0];
  for (int64_t r = 0; r < rn; r++) { /* one simple loop per case, for the vectorizer */
    float *y = Y + r * j->N;
    const int32_t *acc = (const int32_t *)y;
    if (j->fper && b)
      for (int64_t n = n0; n < n1; n++) y[n] = (float)acc[n] * s[n] + b[n];
    else if (j->fper)
      for (int64_t n = n0; n < n1; n++) y[n] = (float)acc[n] * s[n];
    else if (b)
      for (int64_t n = n0; n < n1; n++) y[n] = (float)acc[n] * s0 + b[n];
    else
      for (int64_t n = n0; n < n1; n++) y[n] = (float)acc[n] * s0;
  }
}

/* slot s claims items (row tiles x column chunks) from a shared counter, as quant_conv.c */
static void qm_task(void *arg, int64_t s0, int64_t s1) {
  qm_job *j = (qm_job *)arg;
  for (int64_t s = s0; s < s1; s++) {
    char *slot = j->slots + (size_t)s * j->slot_bytes;
    for (int64_t it; (it = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->items;) {
      int64_t ch = it % j->nchunks, t = it / j->nchunks;
      int64_t r0 = t * QM_ROWS, rn = j->rows - r0 < QM_ROWS ? j->rows - r0 : QM_ROWS;
      int64_t n0 = ch * j->chunk, n1 = n0 + j->chunk < j->N ? n0 + j->chunk : j->N;
      j->mk->q8_pack_left(rn, j->K, j->A + r0 * j->K, j->asig, j->K, 1, &j->azp, 0, slot);
      j->mk->q8_gemm(j->K, slot, rn, j->packed, j->N, 0, rn, n0, n1, &j->o, j->Y + r0 * j->N * (int64_t)j->esz,
                     j->N);
      if (j->fscale) qm_to_float(j, (float *)j->Y + r0 * j->N, rn, n0, n1);
    }
  }
}

int er_qmm_fast_run(er_kctx *c, const er_qmm_io *io, int32_t lo, int32_t hi) {
  const qm_state *st = (const qm_state *)c->state;
  if (!qm_applies(c, io) || !st || c->state_bytes < QM_HDR || st->magic != QM_MAGIC || st->mk != c->mk) return 0;
  const er_tensor *a = c->in[io->a], *b = c->in[io->b], *az = er_in(c, io->azp);
  qm_job j;
  memset(&j, 0, sizeof j);
  j.mk = c->mk;
  j.K = b->dims[0], j.N = b->dims[1];
  j.rows = er_tensor_numel(a) / j.K;
  j.A = (const char *)a->data;
  j.Y = (char *)c->out[0]->data;
  j.packed = (const char *)c->state + QM_HDR;
  j.asig = a->dtype == ER_I8;
  j.azp = az ? er_q_ld(az->data, az->dtype, 0) : 0;
  const int ot = c->out[0]->dtype;
  j.esz = ot == ER_I32 || ot == ER_F32 ? 4 : 1;
  er_q8_out *o = &j.o;
  o->type = ot == ER_F32 ? ER_I32 : ot;
  o->bias = io->bias >= 0 && er_in(c, io->bias) ? (const int32_t *)c->in[io->bias]->data : NULL;
  const size_t head = qm_align((size_t)j.N * sizeof(float));
  if (ot == ER_F32) { /* int32 sums into Y, then floats: scales a_scale * b_scale[n] in scratch */
    const er_tensor *as = c->in[io->as], *bs = c->in[io->bs];
    float *sc = (float *)c->scratch, sa = (float)er_load_f64(as->data, as->dtype, 0);
    j.fper = er_tensor_numel(bs) > 1;
    for (int64_t n = 0; n < (j.fper ? j.N : 1); n++) sc[n] = sa * (float)er_load_f64(bs->data, bs->dtype, (size_t)n);
    j.fscale = sc;
    j.fbias = (const float *)o->bias;
    o->bias = NULL;
  } else if (ot != ER_I32) {
    const er_tensor *as = c->in[io->as], *bs = c->in[io->bs];
    float *sc = (float *)c->scratch, sa = (float)er_load_f64(as->data, as->dtype, 0);
    float sy = (float)er_load_f64(c->in[io->ys]->data, c->in[io->ys]->dtype, 0);
    int per = er_tensor_numel(bs) > 1;
    for (int64_t n = 0; n < (per ? j.N : 1); n++) sc[n] = sa * (float)er_load_f64(bs->data, bs->dtype, (size_t)n) / sy;
    o->scale = sc;
    o->scale_stride = per;
    o->zp = er_q_ld(c->in[io->yzp]->data, c->in[io->yzp]->dtype, 0);
    o->lo = lo, o->hi = hi;
  }
  j.slot_bytes = qm_slot_bytes(c, j.K);
  j.slots = (char *)c->scratch + head;
  if (c->scratch_bytes < head + j.slot_bytes) return 0;
  int nth = er_threadpool_size(c->threads);
  j.nslots = j.rows * j.N * j.K < QM_MIN_PAR * (er_threadpool_sleeping(c->threads) ? 4 : 1) ? 1 : nth;
  if (c->scratch_bytes < head + (size_t)j.nslots * j.slot_bytes) j.nslots = 1;
  j.tiles = (j.rows + QM_ROWS - 1) / QM_ROWS;
  j.chunk = j.N, j.nchunks = 1;
  if (j.nslots > 1 && j.tiles < 2 * j.nslots) { /* few rows: split column panels too */
    int64_t want = (2 * j.nslots + j.tiles - 1) / j.tiles;
    j.chunk = ((j.N + want - 1) / want + ER_Q8_NALIGN - 1) / ER_Q8_NALIGN * ER_Q8_NALIGN;
    if (j.chunk >= j.N) j.chunk = j.N;
    j.nchunks = (j.N + j.chunk - 1) / j.chunk;
  }
  j.items = j.tiles * j.nchunks;
  if (j.nslots > j.items) j.nslots = j.items;
  atomic_init(&j.next, 0);
  er_parallel_for(c, j.nslots, 1, qm_task, &j);
  return 1;
}

/* ---------------------------------------------------------------- QGemm (internal) */

/* inputs: A, A_scale, A_zero_point, B [K, N], B_scale, B_zero_point, bias, Y_scale, Y_zero_point */
static const er_qmm_io qgemm_io = {0, 1, 2, 3, 4, 5, 6, 7, 8};

static er_status qgemm_check(er_kctx *c) {
  if (c->n_in != 9) return ER_ERR(ER_INVALID_MODEL, "expects 9 inputs (bias may be empty), got %d", c->n_in);
  for (int i = 0; i < 9; i++)
    if (i != 6 && !c->in[i]) return ER_ERR(ER_INVALID_MODEL, "required input %d is missing", i);
  static const int t8[] = {ER_U8, ER_I8, 0}, tf[] = {ER_F32, 0}, t32[] = {ER_I32, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 0, t8));
  ER_RETURN_IF_ERROR(er_check_type(c, 3, t8));
  ER_RETURN_IF_ERROR(er_check_type(c, 8, t8));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, tf));
  ER_RETURN_IF_ERROR(er_check_type(c, 4, tf));
  ER_RETURN_IF_ERROR(er_check_type(c, 7, tf));
  const er_tensor *a = c->in[0], *b = c->in[3];
  if (!c->in[2] || c->in[2]->dtype != a->dtype || !c->in[5] || c->in[5]->dtype != b->dtype)
    return ER_ERR(ER_INVALID_ARGUMENT, "zero points must be present and match A and B");
  if (b->rank != 2 || a->rank < 1 || a->dims[a->rank - 1] != b->dims[0])
    return ER_ERR(ER_INVALID_ARGUMENT, "B must be [K, N] with K the last dim of A");
  int64_t N = b->dims[1];
  if (er_tensor_numel(c->in[1]) != 1 || er_tensor_numel(c->in[2]) != 1 || er_tensor_numel(c->in[7]) != 1 ||
      er_tensor_numel(c->in[8]) != 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "A and Y scales and zero points must be scalars");
  for (int i = 4; i <= 5; i++)
    if (er_tensor_numel(c->in[i]) != 1 && !(c->in[i]->rank == 1 && c->in[i]->dims[0] == N))
      return ER_ERR(ER_INVALID_ARGUMENT, "B scale and zero point must be scalars or %lld-vectors", (long long)N);
  if (er_in(c, 6)) {
    ER_RETURN_IF_ERROR(er_check_type(c, 6, t32));
    if (c->in[6]->rank != 1 || c->in[6]->dims[0] != N)
      return ER_ERR(ER_INVALID_ARGUMENT, "bias must be int32 [%lld]", (long long)N);
  }
  return 0;
}

er_status er_qgemm_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(qgemm_check(c));
  const er_tensor *a = c->in[0];
  int64_t d[ER_MAX_RANK];
  memcpy(d, a->dims, sizeof(int64_t) * (size_t)a->rank);
  d[a->rank - 1] = c->in[3]->dims[1];
  er_tensor_set_shape(c->out[0], c->in[8]->dtype, a->rank, d);
  if (er_in_known(c, 7) && er_in_known(c, 8)) {
    int32_t lo, hi;
    ER_RETURN_IF_ERROR(er_q8_act_bounds(c, c->in[8]->dtype, ((const float *)c->in[7]->data)[0],
                                        er_q_ld(c->in[8]->data, c->in[8]->dtype, 0), &lo, &hi));
  }
  er_qmm_fast_infer(c, &qgemm_io);
  return 0;
}

er_status er_qgemm_prepare(er_kctx *c) { return er_qmm_fast_prepare(c, &qgemm_io); }

er_status er_qgemm_run(er_kctx *c) {
  ER_RETURN_IF_ERROR(qgemm_check(c));
  const er_tensor *a = c->in[0], *b = c->in[3], *bs = c->in[4], *bz = c->in[5], *bias = er_in(c, 6);
  float ys = ((const float *)c->in[7]->data)[0];
  int32_t yzp = er_q_ld(c->in[8]->data, c->in[8]->dtype, 0), lo, hi;
  ER_RETURN_IF_ERROR(er_q8_act_bounds(c, c->out[0]->dtype, ys, yzp, &lo, &hi));
  if (er_qmm_fast_run(c, &qgemm_io, lo, hi)) return 0;
  /* reference loops */
  const int64_t K = b->dims[0], N = b->dims[1], rows = er_tensor_numel(a) / (K ? K : 1);
  const float sa = ((const float *)c->in[1]->data)[0];
  const int32_t za = er_q_ld(c->in[2]->data, a->dtype, 0);
  const int bsp = er_tensor_numel(bs) > 1, bzp = er_tensor_numel(bz) > 1;
  er_q8_out o = {c->out[0]->dtype, 0, bias ? (const int32_t *)bias->data : NULL, NULL, 0, yzp, lo, hi};
  for (int64_t m = 0; m < rows; m++)
    for (int64_t n = 0; n < N; n++) {
      int32_t zb = er_q_ld(bz->data, b->dtype, bzp ? (size_t)n : 0);
      uint32_t acc = 0;
      for (int64_t k = 0; k < K; k++)
        acc += (uint32_t)((er_q_ld(a->data, a->dtype, (size_t)(m * K + k)) - za) *
                          (er_q_ld(b->data, b->dtype, (size_t)(k * N + n)) - zb));
      float sc = sa * ((const float *)bs->data)[bsp ? n : 0] / ys;
      o.scale = &sc;
      er_q8_store(&o, n, (int32_t)acc, c->out[0]->data, m * N + n);
    }
  return 0;
}

/* ---------------------------------------------------------------- MatMulQ4 (internal) */

/* inputs: A (float [..., K]), B (uint8 [K, ceil(N/2)], 4-bit packed rows), scales (float
 * [ceil(K/block), N]), zero_points (optional, int8/uint8 [ceil(K/block), N]), bias (optional
 * float [N]); attributes K, N, block_size, signed. */
typedef struct q4_geom {
  int64_t K, N, block, nb, rows;
  int sg;
} q4_geom;

static er_status q4_check(const er_kctx *c, q4_geom *g) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, 5));
  static const int tf[] = {ER_F32, 0}, tu8[] = {ER_U8, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 0, tf));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, tu8));
  ER_RETURN_IF_ERROR(er_check_type(c, 2, tf));
  g->K = er_attr_int(c, "K", 0), g->N = er_attr_int(c, "N", 0), g->block = er_attr_int(c, "block_size", 0);
  g->sg = (int)er_attr_int(c, "signed", 1);
  if (g->K < 1 || g->N < 1 || g->block < 1 || (g->sg != 0 && g->sg != 1))
    return ER_ERR(ER_INVALID_ARGUMENT, "K, N, block_size must be >= 1 and signed 0 or 1");
  g->nb = (g->K + g->block - 1) / g->block;
  const er_tensor *a = c->in[0], *b = c->in[1], *s = c->in[2], *z = er_in(c, 3), *bias = er_in(c, 4);
  if (a->rank < 1 || a->dims[a->rank - 1] != g->K)
    return ER_ERR(ER_INVALID_ARGUMENT, "A's last dimension must be K = %lld", (long long)g->K);
  if (b->rank != 2 || b->dims[0] != g->K || b->dims[1] != (g->N + 1) / 2)
    return ER_ERR(ER_INVALID_ARGUMENT, "B must be uint8 [K, ceil(N/2)] = [%lld, %lld]", (long long)g->K,
                  (long long)((g->N + 1) / 2));
  if (s->rank != 2 || s->dims[0] != g->nb || s->dims[1] != g->N)
    return ER_ERR(ER_INVALID_ARGUMENT, "scales must be [%lld, %lld]", (long long)g->nb, (long long)g->N);
  if (z && (z->rank != 2 || z->dims[0] != g->nb || z->dims[1] != g->N || z->dtype != (g->sg ? ER_I8 : ER_U8)))
    return ER_ERR(ER_INVALID_ARGUMENT, "zero_points must be %s [%lld, %lld]", g->sg ? "int8" : "uint8",
                  (long long)g->nb, (long long)g->N);
  if (bias && (bias->dtype != ER_F32 || er_tensor_numel(bias) != g->N))
    return ER_ERR(ER_INVALID_ARGUMENT, "bias must be float [%lld]", (long long)g->N);
  g->rows = er_tensor_numel(a) / g->K;
  return 0;
}

er_status er_matmulq4_infer(er_kctx *c) {
  q4_geom g;
  ER_RETURN_IF_ERROR(q4_check(c, &g));
  const er_tensor *a = c->in[0];
  int64_t d[ER_MAX_RANK];
  memcpy(d, a->dims, sizeof(int64_t) * (size_t)a->rank);
  d[a->rank - 1] = g.N;
  er_tensor_set_shape(c->out[0], ER_F32, a->rank, d);
  return 0;
}

typedef struct q4_job {
  const er_microkernels *mk;
  q4_geom g;
  const float *A, *s, *bias;
  const uint8_t *B;
  const void *z;
  float *Y;
  int64_t rchunk, cchunk, ncc;
} q4_job;

static void q4_task(void *arg, int64_t i0, int64_t i1) {
  const q4_job *j = (const q4_job *)arg;
  for (int64_t i = i0; i < i1; i++) {
    int64_t r0 = i / j->ncc * j->rchunk, c0 = i % j->ncc * j->cchunk;
    int64_t rn = j->g.rows - r0 < j->rchunk ? j->g.rows - r0 : j->rchunk;
    j->mk->f32_q4_gemm(rn, j->g.N, j->g.K, j->A + r0 * j->g.K, j->g.K, j->B, j->g.sg, j->s, j->z, j->g.block, j->bias,
                       j->Y + r0 * j->g.N, j->g.N, c0, c0 + j->cchunk);
  }
}

er_status er_matmulq4_run(er_kctx *c) {
  q4_job j;
  ER_RETURN_IF_ERROR(q4_check(c, &j.g));
  j.mk = c->mk ? c->mk : er_microkernels_ref();
  j.A = (const float *)c->in[0]->data, j.B = (const uint8_t *)c->in[1]->data, j.s = (const float *)c->in[2]->data;
  j.z = er_in(c, 3) ? c->in[3]->data : NULL;
  j.bias = er_in(c, 4) ? (const float *)c->in[4]->data : NULL;
  j.Y = (float *)c->out[0]->data;
  /* work items: blocks of rows x panels of columns (multiples of 16), enough for the threads */
  int nth = er_threadpool_size(c->threads);
  j.rchunk = 64;
  int64_t nr = (j.g.rows + j.rchunk - 1) / j.rchunk;
  j.cchunk = j.g.N;
  if (nth > 1 && nr < 4 * nth) {
    int64_t want = (4 * nth + nr - 1) / nr;
    j.cchunk = ((j.g.N + want - 1) / want + 15) / 16 * 16;
  }
  j.ncc = (j.g.N + j.cchunk - 1) / j.cchunk;
  int64_t items = nr * j.ncc, grain = j.g.rows * j.g.N * j.g.K < ((int64_t)1 << 18) ? items : 1;
  er_parallel_for(c, items, grain, q4_task, &j);
  return 0;
}
