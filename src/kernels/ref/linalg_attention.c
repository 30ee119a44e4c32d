/* Fused attention (internal op "Attention", domain "edgerun"; contract in
 * kernels/attention.h).
 *
 * Per head (b, h): K_h and V_h are packed once with the table's f32_gemm_pack_b (a strided
 * view of the head, transposed for K unless it is already [Dk, Sk]); then for blocks of RB
 * query rows: scores = Q_rows K_h^T (f32_gemm_packed, Q read in place through its row
 * stride), scale (+ mask), row softmax (f32_softmax), out_rows = P V_h (f32_gemm_packed
 * written in place through the output's row stride). Only one block of scores exists at a
 * time, in scratch.
 *
 * Threads: the (head, row block) units are cut into one contiguous range per scratch slot
 * (one slot per thread, sized at infer); every unit is computed the same way whoever runs
 * it, so results are bit-identical for any thread count. */
#include <string.h>

#include "kernels/attention.h"
#include "kernels/kernel.h"

typedef struct {
  int64_t B, H, Sq, Sk, Dk, Dv;
  int lay[4];
  int64_t qs[3], ks[3], vs[3], os[3]; /* element strides of batch, head, sequence */
  int64_t ms[4];                      /* mask strides over [B, H, Sq, Sk] (0: broadcast) */
  float scale;
  int has_mask;
  int rank; /* of Q, K, V and the output: 4, or 3 (a batch of 1 left out) */
} att_geom;

#define ALIGN64(n) (((n) + 63) & ~(size_t)63)

/* Strides (batch, head, seq) of a contiguous [B,H,S,D] or [B,S,H,D] tensor. */
static void lay_strides(int lay, int64_t H, int64_t S, int64_t D, int64_t *st) {
  if (lay == ER_ATT_BSHD) st[0] = S * H * D, st[1] = D, st[2] = H * D;
  else st[0] = H * S * D, st[1] = S * D, st[2] = D; /* BHSD; for BHDS see att_geom_of */
}

static er_status att_geom_of(const er_kctx *ctx, att_geom *g) {
  ER_RETURN_IF_ERROR(er_check_inputs(ctx, 3, 4));
  static const int f32[] = {ER_F32, 0};
  for (int i = 0; i < 3; i++) ER_RETURN_IF_ERROR(er_check_type(ctx, i, f32));
  const er_tensor *q = ctx->in[0], *k = ctx->in[1], *v = ctx->in[2], *m = er_in(ctx, 3);
  const int64_t *lay;
  if (er_attr_ints(ctx, "layouts", &lay) != 4)
    return ER_ERR(ER_INVALID_ARGUMENT, "attribute layouts must have 4 values");
  for (int i = 0; i < 4; i++) {
    int ok = lay[i] == ER_ATT_BHSD || lay[i] == ER_ATT_BSHD || (i == 1 && lay[i] == ER_ATT_BHDS);
    if (!ok) return ER_ERR(ER_INVALID_ARGUMENT, "layouts[%d] = %lld is not a valid layout", i, (long long)lay[i]);
    g->lay[i] = (int)lay[i];
  }
  g->rank = q->rank;
  if ((q->rank != 4 && q->rank != 3) || k->rank != q->rank || v->rank != q->rank)
    return ER_ERR(ER_INVALID_ARGUMENT, "Q, K and V must all have rank 4 or all rank 3 (got %d, %d, %d)",
                  q->rank, k->rank, v->rank);
  /* rank 3 is the 4-D view with a leading batch of 1 */
  int64_t qd[4] = {1, 1, 1, 1}, kd4[4] = {1, 1, 1, 1}, vd[4] = {1, 1, 1, 1};
  for (int i = 0; i < q->rank; i++)
    qd[4 - q->rank + i] = q->dims[i], kd4[4 - q->rank + i] = k->dims[i], vd[4 - q->rank + i] = v->dims[i];
  const int bshd_q = g->lay[0] == ER_ATT_BSHD;
  g->B = qd[0], g->H = qd[bshd_q ? 2 : 1], g->Sq = qd[bshd_q ? 1 : 2], g->Dk = qd[3];
  int64_t kb = kd4[0], kh, ksq, kd;
  if (g->lay[1] == ER_ATT_BSHD) kh = kd4[2], ksq = kd4[1], kd = kd4[3];
  else if (g->lay[1] == ER_ATT_BHSD) kh = kd4[1], ksq = kd4[2], kd = kd4[3];
  else kh = kd4[1], kd = kd4[2], ksq = kd4[3];
  const int bshd_v = g->lay[2] == ER_ATT_BSHD;
  int64_t vb = vd[0], vh = vd[bshd_v ? 2 : 1], vsq = vd[bshd_v ? 1 : 2];
  g->Sk = ksq, g->Dv = vd[3];
  if (kb != g->B || kh != g->H || kd != g->Dk || vb != g->B || vh != g->H || vsq != g->Sk) {
    char b1[64], b2[64], b3[64];
    return ER_ERR(ER_INVALID_ARGUMENT, "Q %s, K %s and V %s do not agree for layouts %d,%d,%d",
                  er_shape_str(q->dims, q->rank, b1, sizeof b1), er_shape_str(k->dims, k->rank, b2, sizeof b2),
                  er_shape_str(v->dims, v->rank, b3, sizeof b3), g->lay[0], g->lay[1], g->lay[2]);
  }
  lay_strides(g->lay[0], g->H, g->Sq, g->Dk, g->qs);
  if (g->lay[1] == ER_ATT_BHDS) g->ks[0] = g->H * g->Dk * g->Sk, g->ks[1] = g->Dk * g->Sk, g->ks[2] = 1;
  else lay_strides(g->lay[1], g->H, g->Sk, g->Dk, g->ks);
  lay_strides(g->lay[2], g->H, g->Sk, g->Dv, g->vs);
  lay_strides(g->lay[3], g->H, g->Sq, g->Dv, g->os);
  g->scale = er_attr_float(ctx, "scale", 1.0f);
  g->has_mask = m != NULL;
  if (m) {
    if (m->dtype != ER_F32) return ER_ERR(ER_INVALID_ARGUMENT, "mask must be float32");
    const int64_t sd[4] = {g->B, g->H, g->Sq, g->Sk};
    int ok = m->rank <= 4;
    for (int d = 0; ok && d < m->rank; d++) {
      int64_t md = m->dims[m->rank - 1 - d];
      ok = md == 1 || md == sd[3 - d];
    }
    if (!ok) {
      char b1[64], b2[64];
      return ER_ERR(ER_INVALID_ARGUMENT, "mask %s does not broadcast to the scores %s",
                    er_shape_str(m->dims, m->rank, b1, sizeof b1), er_shape_str(sd, 4, b2, sizeof b2));
    }
    er_broadcast_strides(m, 4, sd, g->ms);
  }
  return 0;
}

/* Query rows per block: scores of one block stay within ~64 KB, a multiple of 12 rows. */
static int64_t att_rows(const att_geom *g) {
  int64_t rb = g->Sk > 0 ? 16384 / g->Sk / 12 * 12 : 96;
  return rb < 12 ? 12 : rb > 128 ? 128 : rb;
}

static size_t att_slot_bytes(const er_microkernels *mk, const att_geom *g) {
  return ALIGN64(mk->f32_gemm_packed_size(g->Dk, g->Sk)) + ALIGN64(mk->f32_gemm_packed_size(g->Sk, g->Dv)) +
         ALIGN64((size_t)(att_rows(g) * g->Sk) * sizeof(float));
}

static const er_microkernels *att_mk(const er_kctx *ctx) {
  return ctx->mk ? ctx->mk : er_microkernels_ref();
}

static er_status att_infer(er_kctx *ctx) {
  att_geom g;
  ER_RETURN_IF_ERROR(att_geom_of(ctx, &g));
  int64_t d[4] = {g.B, g.H, g.Sq, g.Dv};
  if (g.lay[3] == ER_ATT_BSHD) d[1] = g.Sq, d[2] = g.H;
  er_tensor_set_shape(ctx->out[0], ER_F32, g.rank, d + 4 - g.rank);
  int slots = er_threadpool_size(ctx->threads);
  ctx->scratch_bytes = (size_t)slots * att_slot_bytes(att_mk(ctx), &g) + 64;
  return 0;
}

typedef struct {
  const er_microkernels *mk;
  const att_geom *g;
  const float *q, *k, *v, *m;
  float *o;
  char *scratch;
  size_t slot_bytes;
  int64_t units, slots, rb, nrb;
} att_job;

/* Head (b, h) packed into the slot: K_h^T as a Dk x Sk operand, V_h as Sk x Dv. */
static void att_pack(const att_job *j, int64_t b, int64_t h, void *pk, void *pv) {
  const att_geom *g = j->g;
  const float *kh = j->k + b * g->ks[0] + h * g->ks[1];
  const float *vh = j->v + b * g->vs[0] + h * g->vs[1];
  if (g->Dk > 0 && g->Sk > 0) {
    if (g->lay[1] == ER_ATT_BHDS) j->mk->f32_gemm_pack_b(0, g->Dk, g->Sk, kh, g->Sk, pk);
    else j->mk->f32_gemm_pack_b(1, g->Dk, g->Sk, kh, g->ks[2], pk);
  }
  if (g->Sk > 0 && g->Dv > 0) j->mk->f32_gemm_pack_b(0, g->Sk, g->Dv, vh, g->vs[2], pv);
}

static void att_block(const att_job *j, int64_t b, int64_t h, int64_t i0, const void *pk,
                      const void *pv, float *s) {
  const att_geom *g = j->g;
  const int64_t rb = g->Sq - i0 < j->rb ? g->Sq - i0 : j->rb, Sk = g->Sk;
  const er_act none = {ER_ACT_NONE, 0, 0};
  float *out = j->o + b * g->os[0] + h * g->os[1] + i0 * g->os[2];
  if (Sk == 0) { /* empty softmax: an empty weighted sum */
    for (int64_t r = 0; r < rb; r++) memset(out + r * g->os[2], 0, sizeof(float) * (size_t)g->Dv);
    return;
  }
  const float *q = j->q + b * g->qs[0] + h * g->qs[1] + i0 * g->qs[2];
  if (g->Dk > 0) j->mk->f32_gemm_packed(rb, Sk, g->Dk, q, g->qs[2], pk, NULL, none, s, Sk);
  else memset(s, 0, sizeof(float) * (size_t)(rb * Sk));
  float scale = g->scale;
  if (g->has_mask) {
    for (int64_t r = 0; r < rb; r++) {
      const float *mr = j->m + b * g->ms[0] + h * g->ms[1] + (i0 + r) * g->ms[2];
      float *sr = s + r * Sk;
      if (g->ms[3])
        for (int64_t c = 0; c < Sk; c++) sr[c] = scale * sr[c] + mr[c * g->ms[3]];
      else
        for (int64_t c = 0; c < Sk; c++) sr[c] = scale * sr[c] + mr[0];
    }
    scale = 1.0f;
  }
  j->mk->f32_softmax(s, Sk, s, Sk, rb, Sk, scale, 0);
  if (g->Dv > 0) j->mk->f32_gemm_packed(rb, g->Dv, Sk, s, Sk, pv, NULL, none, out, g->os[2]);
}

static void att_range(void *arg, int64_t sb, int64_t se) {
  const att_job *j = (const att_job *)arg;
  const att_geom *g = j->g;
  for (int64_t slot = sb; slot < se; slot++) {
    char *base = j->scratch + (size_t)slot * j->slot_bytes;
    void *pk = base;
    void *pv = base + ALIGN64(j->mk->f32_gemm_packed_size(g->Dk, g->Sk));
    float *s = (float *)((char *)pv + ALIGN64(j->mk->f32_gemm_packed_size(g->Sk, g->Dv)));
    int64_t u0 = slot * j->units / j->slots, u1 = (slot + 1) * j->units / j->slots, cur = -1;
    for (int64_t u = u0; u < u1; u++) {
      int64_t bh = u / j->nrb, blk = u % j->nrb, b = bh / g->H, h = bh % g->H;
      if (bh != cur) att_pack(j, b, h, pk, pv), cur = bh;
      att_block(j, b, h, blk * j->rb, pk, pv, s);
    }
  }
}

static er_status att_run(er_kctx *ctx) {
  att_geom g;
  ER_RETURN_IF_ERROR(att_geom_of(ctx, &g));
  const er_microkernels *mk = att_mk(ctx);
  att_job j = {mk, &g, (const float *)ctx->in[0]->data, (const float *)ctx->in[1]->data,
               (const float *)ctx->in[2]->data, g.has_mask ? (const float *)ctx->in[3]->data : NULL,
               (float *)ctx->out[0]->data, NULL, att_slot_bytes(mk, &g), 0, 0, att_rows(&g), 0};
  if (g.B * g.H * g.Sq == 0 || g.Dv == 0) return 0;
  j.nrb = (g.Sq + j.rb - 1) / j.rb;
  j.units = g.B * g.H * j.nrb;
  uintptr_t p = ((uintptr_t)ctx->scratch + 63) & ~(uintptr_t)63;
  j.scratch = (char *)p;
  size_t avail = ctx->scratch_bytes - (size_t)(p - (uintptr_t)ctx->scratch);
  int64_t slots = (int64_t)(avail / j.slot_bytes);
  if (slots < 1) return ER_ERR(ER_INTERNAL, "attention scratch too small");
  int64_t threads = er_threadpool_size(ctx->threads);
  if (slots > threads) slots = threads;
  if (slots > j.units) slots = j.units;
  /* small problems stay on one thread (waking another costs more) */
  if (g.B * g.H * g.Sq * g.Sk * (g.Dk + g.Dv) < (1 << 18)) slots = 1;
  j.slots = slots;
  er_parallel_for(ctx, slots, 1, att_range, &j);
  return 0;
}

er_status er_linalg_attention_infer(er_kctx *ctx) { return att_infer(ctx); }
er_status er_linalg_attention_run(er_kctx *ctx) { return att_run(ctx); }
