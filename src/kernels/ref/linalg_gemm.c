/* float32 GEMM core (er_f32_gemm_ref, see gemm.h) and the Gemm / MatMul kernels. */
#include <string.h>

#include "kernels/kernel.h"
#include "kernels/ref/gemm.h"
#include "kernels/sparse.h"
#include "kernels/vmath.h"

/* ---- er_f32_gemm_ref ----------------------------------------------------------------
 * Blocking: the N dimension is cut into panels of GEMM_NR columns and K into blocks of
 * GEMM_KC; each (panel, block) of op(B) is packed contiguously (zero-padded to NR columns)
 * in a stack buffer, then swept by all row tiles of GEMM_MR rows. The micro-kernel keeps an
 * MR x NR accumulator tile in registers; its inner loop over NR is a fixed-length loop the
 * compiler vectorizes. */
#define GEMM_MR 4
#define GEMM_NR 16
#define GEMM_KC 256

static void pack_b(int transB, const float *B, int64_t ldb, int64_t k0, int64_t kc, int64_t j0,
                   int64_t nr, float *bp) {
  if (!transB) {
    for (int64_t k = 0; k < kc; k++) {
      const float *src = B + (k0 + k) * ldb + j0;
      float *dst = bp + k * GEMM_NR;
      int64_t c = 0;
      for (; c < nr; c++) dst[c] = src[c];
      for (; c < GEMM_NR; c++) dst[c] = 0.0f;
    }
  } else {
    for (int64_t c = 0; c < GEMM_NR; c++) {
      if (c < nr) {
        const float *src = B + (j0 + c) * ldb + k0;
        for (int64_t k = 0; k < kc; k++) bp[k * GEMM_NR + c] = src[k];
      } else {
        for (int64_t k = 0; k < kc; k++) bp[k * GEMM_NR + c] = 0.0f;
      }
    }
  }
}

/* acc[MR][NR] = sum_k a(r, k) * bp[k][c], with a(r, k) = A[aoff[r] + k * sak]. */
static void micro_kernel(int64_t kc, const float *A, const int64_t *aoff, int64_t sak,
                         const float *bp, float acc[GEMM_MR][GEMM_NR]) {
  float t[GEMM_MR][GEMM_NR];
  for (int r = 0; r < GEMM_MR; r++)
    for (int c = 0; c < GEMM_NR; c++) t[r][c] = 0.0f;
  const float *a0 = A + aoff[0], *a1 = A + aoff[1], *a2 = A + aoff[2], *a3 = A + aoff[3];
  for (int64_t k = 0; k < kc; k++) {
    const float *b = bp + k * GEMM_NR;
    float v0 = a0[k * sak], v1 = a1[k * sak], v2 = a2[k * sak], v3 = a3[k * sak];
    for (int c = 0; c < GEMM_NR; c++) {
      float bc = b[c];
      t[0][c] += v0 * bc;
      t[1][c] += v1 * bc;
      t[2][c] += v2 * bc;
      t[3][c] += v3 * bc;
    }
  }
  for (int r = 0; r < GEMM_MR; r++)
    for (int c = 0; c < GEMM_NR; c++) acc[r][c] = t[r][c];
}

void er_f32_gemm_ref(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                     int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    if (K <= 0 || alpha == 0.0f) return;
  }
  /* element (m, k) of op(A) is A[m * sam + k * sak] */
  if (M == 1) { /* vector x matrix: stream op(B) once */
    const int64_t sak1 = transA ? lda : 1;
    if (transB) {
      for (int64_t j = 0; j < N; j++) {
        const float *b = B + j * ldb;
        float s = 0.0f;
        for (int64_t k = 0; k < K; k++) s += A[k * sak1] * b[k];
        C[j] = alpha * s + (beta == 0.0f ? 0.0f : beta * C[j]);
      }
    } else {
      for (int64_t j = 0; j < N; j++) C[j] = beta == 0.0f ? 0.0f : beta * C[j];
      for (int64_t k = 0; k < K; k++) {
        const float *b = B + k * ldb;
        float av = alpha * A[k * sak1];
        for (int64_t j = 0; j < N; j++) C[j] += av * b[j];
      }
    }
    return;
  }
  const int64_t sam = transA ? 1 : lda, sak = transA ? lda : 1;
  float bp[GEMM_KC * GEMM_NR];
  float acc[GEMM_MR][GEMM_NR];
  int64_t aoff[GEMM_MR];
  for (int64_t j0 = 0; j0 < N; j0 += GEMM_NR) {
    int64_t nr = N - j0 < GEMM_NR ? N - j0 : GEMM_NR;
    for (int64_t k0 = 0; k0 < K; k0 += GEMM_KC) {
      int64_t kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
      pack_b(transB, B, ldb, k0, kc, j0, nr, bp);
      for (int64_t i0 = 0; i0 < M; i0 += GEMM_MR) {
        int64_t mr = M - i0 < GEMM_MR ? M - i0 : GEMM_MR;
        /* rows past the edge repeat the last valid row; their results are discarded */
        for (int r = 0; r < GEMM_MR; r++)
          aoff[r] = (i0 + (r < mr ? r : mr - 1)) * sam + k0 * sak;
        micro_kernel(kc, A, aoff, sak, bp, acc);
        for (int64_t r = 0; r < mr; r++) {
          float *crow = C + (i0 + r) * ldc + j0;
          if (k0 > 0) {
            for (int64_t c = 0; c < nr; c++) crow[c] += alpha * acc[r][c];
          } else if (beta == 0.0f) {
            for (int64_t c = 0; c < nr; c++) crow[c] = alpha * acc[r][c];
          } else {
            for (int64_t c = 0; c < nr; c++) crow[c] = alpha * acc[r][c] + beta * crow[c];
          }
        }
      }
    }
  }
}

/* ---- shared helpers ---------------------------------------------------------------- */
static const int k_gemm_types[] = {ER_F32, ER_F64, ER_F16, ER_BF16, ER_I32,
                                   ER_I64, ER_U32, ER_U64, 0};

/* float16 / bfloat16 <-> float32 buffers */
static void to_f32(const void *src, int dtype, float *dst, int64_t n) {
  const uint16_t *h = (const uint16_t *)src;
  if (dtype == ER_F16)
    for (int64_t i = 0; i < n; i++) dst[i] = er_f16_to_f32(h[i]);
  else
    for (int64_t i = 0; i < n; i++) dst[i] = er_bf16_to_f32(h[i]);
}
static void from_f32(const float *src, int dtype, void *dst, int64_t n) {
  uint16_t *h = (uint16_t *)dst;
  if (dtype == ER_F16)
    for (int64_t i = 0; i < n; i++) h[i] = er_f32_to_f16(src[i]);
  else
    for (int64_t i = 0; i < n; i++) h[i] = er_f32_to_bf16(src[i]);
}
static int is_half(int dtype) { return dtype == ER_F16 || dtype == ER_BF16; }

/* Plain (unblocked) product for double and integer types: Y[m*N + n] = sum_k a(m,k) b(k,n)
 * with a(m,k) = A[m*sam + k*sak], b(k,n) = B[k*sbk + n*sbn]. Integers wrap like C unsigned
 * arithmetic (numpy behaviour); doubles accumulate in double. */
#define DEFINE_MM_NAIVE(ctype, acct, sfx)                                                   \
  static void mm_naive_##sfx(const void *A_, const void *B_, void *Y_, int64_t M, int64_t N, \
                             int64_t K, int64_t sam, int64_t sak, int64_t sbk, int64_t sbn) { \
    const ctype *A = (const ctype *)A_, *B = (const ctype *)B_;                             \
    ctype *Y = (ctype *)Y_;                                                                 \
    for (int64_t m = 0; m < M; m++)                                                         \
      for (int64_t n = 0; n < N; n++) {                                                     \
        acct s = 0;                                                                         \
        for (int64_t k = 0; k < K; k++) s += (acct)A[m * sam + k * sak] * (acct)B[k * sbk + n * sbn]; \
        Y[m * N + n] = (ctype)s;                                                            \
      }                                                                                     \
  }
DEFINE_MM_NAIVE(double, double, f64)
DEFINE_MM_NAIVE(int32_t, uint64_t, i32)
DEFINE_MM_NAIVE(int64_t, uint64_t, i64)
DEFINE_MM_NAIVE(uint32_t, uint64_t, u32)
DEFINE_MM_NAIVE(uint64_t, uint64_t, u64)

typedef void (*mm_naive_fn)(const void *, const void *, void *, int64_t, int64_t, int64_t, int64_t,
                            int64_t, int64_t, int64_t);
static mm_naive_fn mm_naive_for(int dtype) {
  switch (dtype) {
    case ER_F64: return mm_naive_f64;
    case ER_I32: return mm_naive_i32;
    case ER_I64: return mm_naive_i64;
    case ER_U32: return mm_naive_u32;
    case ER_U64: return mm_naive_u64;
    default: return 0;
  }
}

/* ---- float32 fast path: micro-kernel table, packed constant B, threads --------------------
 * Gemm and MatMul on float32 (and float16/bfloat16 computed in float32) go through ctx->mk.
 * When B is a constant (known at infer), infer requests state and prepare packs it once in
 * the table's format; run then calls f32_gemm_packed with the bias (Gemm C per column) and
 * the fused activation (`_act`, `_act_a`, `_act_b` attributes set by graph passes).
 * Work is split over threads by blocks of 12 rows (the last block takes the remainder, so no
 * block has a single row) or of 32 columns (preferred for few rows times packed weights);
 * each output element is computed by one call with the same K order, so results are
 * bit-identical for any thread count. */
#define SPLIT_ROWS 12
#define SPLIT_COLS 32
#define MIN_PARALLEL_MACS (1 << 18) /* below ~5 us of work, waking threads costs more */

static const er_microkernels *mk_of(const er_kctx *ctx) {
  return ctx->mk ? ctx->mk : er_microkernels_ref();
}

/* Apply a fused activation to n floats: the transcendental kinds through the table's
 * vector functions (the approximations the GEMM epilogues use), the others exactly. */
static void apply_act(const er_microkernels *mk, float *x, int64_t n, er_act act) {
  int fn = act.kind == ER_ACT_GELU ? ER_VF_GELU : act.kind == ER_ACT_SIGMOID ? ER_VF_SIGMOID
         : act.kind == ER_ACT_TANH ? ER_VF_TANH : act.kind == ER_ACT_SILU ? ER_VF_SILU : 0;
  if (fn) mk->f32_vunary(fn, x, x, n);
  else er_f32_apply_act(x, n, act);
}

static er_act act_of(const er_kctx *ctx) {
  er_act a = {(int)er_attr_int(ctx, "_act", ER_ACT_NONE), er_attr_float(ctx, "_act_a", 0.0f),
              er_attr_float(ctx, "_act_b", 0.0f)};
  return a;
}

static er_status check_act(const er_kctx *ctx, int dtype) {
  int64_t k = er_attr_int(ctx, "_act", ER_ACT_NONE);
  if (k < ER_ACT_NONE || k > ER_ACT_LEAKYRELU)
    return ER_ERR(ER_INVALID_ARGUMENT, "_act %lld is not a known activation", (long long)k);
  if (k != ER_ACT_NONE && dtype != ER_F32 && !is_half(dtype))
    return ER_ERR(ER_UNSUPPORTED, "fused activation on %s is not supported", er_dtype_name(dtype));
  return 0;
}

/* Persistent state of a node whose B was packed in prepare. */
typedef struct {
  int64_t K, N;
  int ready;
} pack_hdr;
#define PACK_ALIGN 64
#define PACK_HDR_BYTES (((sizeof(pack_hdr) + PACK_ALIGN - 1) / PACK_ALIGN + 1) * PACK_ALIGN)

static size_t pack_state_bytes(const er_kctx *ctx, int64_t K, int64_t N) {
  size_t n = mk_of(ctx)->f32_gemm_packed_size(K, N);
  return n ? PACK_HDR_BYTES + n : 0;
}
static void *pack_data(void *state) {
  uintptr_t p = ((uintptr_t)state + sizeof(pack_hdr) + PACK_ALIGN - 1) & ~(uintptr_t)(PACK_ALIGN - 1);
  return (void *)p;
}
/* Pack op(B) (K x N) into the node's state. */
static void pack_into_state(er_kctx *ctx, int transB, int64_t K, int64_t N, const float *B,
                            int64_t ldb) {
  pack_hdr *h = (pack_hdr *)ctx->state;
  if (!h) return;
  mk_of(ctx)->f32_gemm_pack_b(transB, K, N, B, ldb, pack_data(h));
  h->K = K, h->N = N, h->ready = 1;
  /* the packed path is what runs for these shapes (packable == packed at run): B is not
   * read again */
  ctx->consumed |= 1u << 1;
}
/* The packed B for a K x N product, or NULL (not packed: ot_run, or shapes changed). */
static const void *packed_b(const er_kctx *ctx, int64_t K, int64_t N) {
  const pack_hdr *h = (const pack_hdr *)ctx->state;
  if (!h || ctx->state_bytes < PACK_HDR_BYTES || !h->ready || h->K != K || h->N != N) return 0;
  return pack_data(ctx->state);
}

/* Sparse weights (kernels/sparse.h), chosen by its rule in infer for a constant float32 B
 * (op(B)[k][n] = B[n*sn + k*sk]) and built in prepare: the state is then a pack_hdr with
 * ready = 2 followed by the format; the product runs through er_spw_gemm. */
static er_status sparse_choice(const er_kctx *ctx, int64_t M, int64_t K, int64_t N, int64_t sn, int64_t sk,
                               int64_t *out_nnz, int *out) {
  int64_t mode;
  *out = 0;
  ER_RETURN_IF_ERROR(er_spw_mode(ctx, &mode));
  if (mode == 0 || !er_in_known(ctx, 1)) return 0;
  *out_nnz = er_spw_count(K, N, (const float *)ctx->in[1]->data, sn, sk);
  *out = er_spw_choose(M, K, N, *out_nnz, mode);
  return 0;
}
static er_status sparse_plan(er_kctx *ctx, int64_t M, int64_t K, int64_t N, int64_t sn, int64_t sk) {
  int64_t nnz = 0;
  int sp;
  ER_RETURN_IF_ERROR(sparse_choice(ctx, M, K, N, sn, sk, &nnz, &sp));
  if (sp) {
    ctx->state_bytes = PACK_HDR_BYTES + er_spw_bytes(K, N, nnz);
    ctx->scratch_bytes += er_spw_scratch_bytes(M, K, N, er_threadpool_size(ctx->threads));
  }
  return 0;
}
/* *out = 1 when infer chose the sparse form and it is now in the state. */
static er_status sparse_pack(er_kctx *ctx, int64_t M, int64_t K, int64_t N, int64_t sn, int64_t sk, int *out) {
  int64_t nnz = 0;
  ER_RETURN_IF_ERROR(sparse_choice(ctx, M, K, N, sn, sk, &nnz, out));
  if (!*out) return 0;
  if (ctx->state_bytes < PACK_HDR_BYTES + er_spw_bytes(K, N, nnz)) {
    *out = 0;
    return 0;
  }
  pack_hdr *h = (pack_hdr *)ctx->state;
  er_spw_pack(K, N, (const float *)ctx->in[1]->data, sn, sk, pack_data(h));
  h->K = K, h->N = N, h->ready = 2;
  ctx->consumed |= 1u << 1;
  return 0;
}
static const er_spw *sparse_b(const er_kctx *ctx, int64_t K, int64_t N) {
  const pack_hdr *h = (const pack_hdr *)ctx->state;
  if (!h || ctx->state_bytes < PACK_HDR_BYTES || h->ready != 2 || h->K != K || h->N != N) return 0;
  return (const er_spw *)pack_data(ctx->state);
}

/* One product C = op(A) op(B) (+ C when accumulate) with activation, split over threads. */
typedef struct {
  const er_microkernels *mk;
  const void *packed;   /* non-NULL: packed path (A not transposed, bias, act fused) */
  const float *bias;
  er_act act;
  int ta, tb, accumulate;
  float alpha;
  int64_t M, N, K, lda, ldb, ldc;
  const float *A, *B;
  float *C;
  int64_t row_units;    /* > 0: split by rows (units of SPLIT_ROWS, last takes the rest) */
} gemm_job;

static void gemm_job_block(const gemm_job *j, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  int64_t m = m1 - m0, n = n1 - n0;
  float *C = j->C + m0 * j->ldc;
  if (j->packed) {
    const float *A = j->A + m0 * j->lda;
    if (n0 == 0 && n1 == j->N)
      j->mk->f32_gemm_packed(m, j->N, j->K, A, j->lda, j->packed, j->bias, j->act, C, j->ldc);
    else
      j->mk->f32_gemm_packed_cols(m, j->N, j->K, A, j->lda, j->packed, j->bias, j->act, C,
                                  j->ldc, n0, n1);
    return;
  }
  const float *A = j->A + (j->ta ? m0 : m0 * j->lda);
  const float *B = j->B + (j->tb ? n0 * j->ldb : n0);
  if (j->bias) /* per-column bias: C starts as the bias row */
    for (int64_t r = 0; r < m; r++) memcpy(C + r * j->ldc + n0, j->bias + n0, sizeof(float) * (size_t)n);
  j->mk->f32_gemm(j->ta, j->tb, m, n, j->K, j->alpha, A, j->lda, B, j->ldb,
                  j->accumulate || j->bias ? 1.0f : 0.0f, C + n0, j->ldc);
  if (j->act.kind != ER_ACT_NONE)
    for (int64_t r = 0; r < m; r++) apply_act(j->mk, C + r * j->ldc + n0, n, j->act);
}

static void gemm_job_range(void *arg, int64_t b, int64_t e) {
  const gemm_job *j = (const gemm_job *)arg;
  if (j->row_units > 0) {
    int64_t m1 = e >= j->row_units ? j->M : e * SPLIT_ROWS;
    gemm_job_block(j, b * SPLIT_ROWS, m1, 0, j->N);
  } else {
    int64_t n0 = b * SPLIT_COLS, n1 = e * SPLIT_COLS < j->N ? e * SPLIT_COLS : j->N;
    gemm_job_block(j, 0, j->M, n0, n1);
  }
}

static void gemm_job_run(const er_kctx *ctx, gemm_job *j) {
  if (j->M <= 0 || j->N <= 0) return;
  int threads = er_threadpool_size(ctx->threads);
  j->row_units = 0;
  if (threads <= 1 || j->M * j->N * (j->K > 0 ? j->K : 1) < MIN_PARALLEL_MACS) {
    gemm_job_block(j, 0, j->M, 0, j->N);
    return;
  }
  int64_t row_units = j->M / SPLIT_ROWS, col_units = (j->N + SPLIT_COLS - 1) / SPLIT_COLS;
  if (j->packed && j->M <= 16 * SPLIT_ROWS && col_units >= 2 * threads) {
    /* few rows times packed weights: splitting the columns lets each thread stream only its
     * share of the weights (from L3 or memory) instead of all of them */
    er_parallel_for(ctx, col_units, 1, gemm_job_range, j);
  } else if (row_units >= 2 * threads || (row_units >= threads && row_units >= col_units)) {
    j->row_units = row_units;
    er_parallel_for(ctx, row_units, 1, gemm_job_range, j);
  } else if (col_units >= 2) {
    er_parallel_for(ctx, col_units, 1, gemm_job_range, j);
  } else if (row_units >= 2) {
    j->row_units = row_units;
    er_parallel_for(ctx, row_units, 1, gemm_job_range, j);
  } else {
    gemm_job_block(j, 0, j->M, 0, j->N);
  }
}

/* ---- Gemm ----------------------------------------------------------------------------- */
/* B can be packed once: float32 constant, A not transposed, alpha == 1 (alpha would
 * otherwise have to scale B inside the packed format). */
static int gemm_packable(const er_kctx *ctx) {
  const er_tensor *a = ctx->in[0], *b = ctx->in[1];
  return a->dtype == ER_F32 && er_in_known(ctx, 1) && b->rank == 2 &&
         er_attr_int(ctx, "transA", 0) == 0 && er_attr_float(ctx, "alpha", 1.0f) == 1.0f;
}

/* C absent, or one float32 row of N with beta 1 (a bias the sparse path adds). */
static int gemm_bias_row(const er_kctx *ctx, int64_t N) {
  const er_tensor *c = er_in(ctx, 2);
  return !c || (er_attr_float(ctx, "beta", 1.0f) == 1.0f && c->dtype == ER_F32 && c->rank >= 1 &&
                er_tensor_numel(c) == N && c->dims[c->rank - 1] == N);
}

static er_status gemm_infer(er_kctx *ctx) {
  ER_RETURN_IF_ERROR(er_check_inputs(ctx, 2, 3));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 0, k_gemm_types));
  const er_tensor *a = ctx->in[0], *b = ctx->in[1], *c = er_in(ctx, 2);
  if (b->dtype != a->dtype || (c && c->dtype != a->dtype))
    return ER_ERR(ER_INVALID_ARGUMENT, "A, B and C must have the same type (got %s, %s%s%s)",
                  er_dtype_name(a->dtype), er_dtype_name(b->dtype), c ? ", " : "",
                  c ? er_dtype_name(c->dtype) : "");
  if (a->rank != 2 || b->rank != 2)
    return ER_ERR(ER_INVALID_ARGUMENT, "A and B must be 2-D (got ranks %d and %d)", a->rank,
                  b->rank);
  ER_RETURN_IF_ERROR(check_act(ctx, a->dtype));
  int ta = er_attr_int(ctx, "transA", 0) != 0, tb = er_attr_int(ctx, "transB", 0) != 0;
  int64_t M = ta ? a->dims[1] : a->dims[0], K = ta ? a->dims[0] : a->dims[1];
  int64_t K2 = tb ? b->dims[1] : b->dims[0], N = tb ? b->dims[0] : b->dims[1];
  if (K != K2)
    return ER_ERR(ER_INVALID_ARGUMENT, "inner dimensions differ: op(A) is %lldx%lld, op(B) is %lldx%lld",
                  (long long)M, (long long)K, (long long)K2, (long long)N);
  if (c) {
    /* C must be unidirectionally broadcastable to (M, N) */
    int ok = c->rank <= 2;
    if (ok && c->rank >= 1) ok = c->dims[c->rank - 1] == 1 || c->dims[c->rank - 1] == N;
    if (ok && c->rank == 2) ok = c->dims[0] == 1 || c->dims[0] == M;
    if (!ok) {
      char buf[64];
      return ER_ERR(ER_INVALID_ARGUMENT, "C of shape %s cannot be broadcast to [%lld,%lld]",
                    er_shape_str(c->dims, c->rank, buf, sizeof buf), (long long)M, (long long)N);
    }
  }
  int64_t dims[2] = {M, N};
  er_tensor_set_shape(ctx->out[0], a->dtype, 2, dims);
  ctx->scratch_bytes = is_half(a->dtype) ? (size_t)(M * K + K * N + M * N) * sizeof(float) : 0;
  if (gemm_packable(ctx)) {
    ctx->state_bytes = pack_state_bytes(ctx, K, N);
    if (gemm_bias_row(ctx, N)) ER_RETURN_IF_ERROR(sparse_plan(ctx, M, K, N, tb ? K : 1, tb ? 1 : N));
  }
  return 0;
}

static er_status gemm_prepare(er_kctx *ctx) {
  if (!ctx->state) return 0;
  ((pack_hdr *)ctx->state)->ready = 0;
  if (!gemm_packable(ctx)) return 0;
  const er_tensor *b = ctx->in[1];
  int tb = er_attr_int(ctx, "transB", 0) != 0;
  int64_t K = tb ? b->dims[1] : b->dims[0], N = tb ? b->dims[0] : b->dims[1];
  int sp = 0;
  if (gemm_bias_row(ctx, N)) ER_RETURN_IF_ERROR(sparse_pack(ctx, ctx->in[0]->dims[0], K, N, tb ? K : 1, tb ? 1 : N, &sp));
  if (!sp && ctx->state_bytes >= pack_state_bytes(ctx, K, N)) pack_into_state(ctx, tb, K, N, (const float *)b->data, b->dims[1]);
  return 0;
}

/* Offset of element (m, n) of C broadcast to (M, N). */
static int64_t c_index(const er_tensor *c, int64_t m, int64_t n) {
  if (c->rank == 0) return 0;
  int64_t cn = c->dims[c->rank - 1];
  int64_t col = cn == 1 ? 0 : n;
  if (c->rank == 1) return col;
  return (c->dims[0] == 1 ? 0 : m) * cn + col;
}

static float c_value(const er_tensor *c, int64_t m, int64_t n) {
  int64_t ci = c_index(c, m, n);
  return c->dtype == ER_F32 ? ((const float *)c->data)[ci] : (float)er_load_f64(c->data, c->dtype, (size_t)ci);
}

static er_status gemm_run(er_kctx *ctx) {
  const er_tensor *a = ctx->in[0], *b = ctx->in[1], *c = er_in(ctx, 2);
  er_tensor *y = ctx->out[0];
  int ta = er_attr_int(ctx, "transA", 0) != 0, tb = er_attr_int(ctx, "transB", 0) != 0;
  float alpha = er_attr_float(ctx, "alpha", 1.0f), beta = er_attr_float(ctx, "beta", 1.0f);
  int64_t M = y->dims[0], N = y->dims[1], K = ta ? a->dims[0] : a->dims[1];
  int dt = a->dtype;
  int use_c = c && beta != 0.0f && er_tensor_numel(c) > 0;
  if (dt == ER_F32 || is_half(dt)) {
    const float *A, *B;
    float *Y;
    float *s = (float *)ctx->scratch;
    if (dt == ER_F32) {
      A = (const float *)a->data, B = (const float *)b->data, Y = (float *)y->data;
    } else {
      float *a32 = s, *b32 = s + M * K;
      Y = s + M * K + K * N;
      to_f32(a->data, dt, a32, M * K);
      to_f32(b->data, dt, b32, K * N);
      A = a32, B = b32;
    }
    er_act act = act_of(ctx);
    gemm_job j = {mk_of(ctx), 0, 0, act, ta, tb, 0, alpha, M, N, K, a->dims[1], b->dims[1], N,
                  A, B, Y, 0};
    const void *packed = dt == ER_F32 && !ta && alpha == 1.0f ? packed_b(ctx, K, N) : 0;
    const er_spw *sp = dt == ER_F32 && !ta && alpha == 1.0f ? sparse_b(ctx, K, N) : 0;
    if (sp && gemm_bias_row(ctx, N))
      return er_spw_gemm(ctx, M, A, a->dims[1], sp, use_c ? (const float *)c->data : 0, act, Y, N, ctx->scratch,
                         ctx->scratch_bytes);
    if (packed) {
      /* bias fused when C is one row of N (per-column) and beta == 1 */
      int bias_ok = use_c && beta == 1.0f && c->dims[c->rank - 1] == N &&
                    (c->rank == 1 || (c->rank == 2 && c->dims[0] == 1));
      j.packed = packed;
      j.bias = bias_ok ? (const float *)c->data : 0;
      if (use_c && !bias_ok) j.act.kind = ER_ACT_NONE; /* after adding beta * C */
      gemm_job_run(ctx, &j);
      if (use_c && !bias_ok) {
        for (int64_t m = 0; m < M; m++) {
          for (int64_t n = 0; n < N; n++) Y[m * N + n] += beta * c_value(c, m, n);
          er_f32_apply_act(Y + m * N, N, act);
        }
      }
    } else {
      if (use_c)
        for (int64_t m = 0; m < M; m++)
          for (int64_t n = 0; n < N; n++) Y[m * N + n] = beta * c_value(c, m, n);
      j.accumulate = use_c;
      gemm_job_run(ctx, &j);
    }
    if (dt != ER_F32) from_f32(Y, dt, y->data, M * N);
    return 0;
  }
  mm_naive_fn mm = mm_naive_for(dt);
  if (!mm) return ER_ERR(ER_UNSUPPORTED, "Gemm: type %s not supported", er_dtype_name(dt));
  int64_t lda = a->dims[1], ldb = b->dims[1];
  mm(a->data, b->data, y->data, M, N, K, ta ? 1 : lda, ta ? lda : 1, tb ? 1 : ldb, tb ? ldb : 1);
  int is_int = dt != ER_F64;
  if (alpha == 1.0f && (!use_c || (beta == 1.0f && is_int))) {
    if (use_c) /* exact integer path */
      for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
          size_t i = (size_t)(m * N + n);
          uint64_t v = (uint64_t)er_load_i64(y->data, dt, i) +
                       (uint64_t)er_load_i64(c->data, dt, (size_t)c_index(c, m, n));
          er_store_i64(y->data, dt, i, (int64_t)v);
        }
    return 0;
  }
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = 0; n < N; n++) {
      size_t i = (size_t)(m * N + n);
      double v = (double)alpha * er_load_f64(y->data, dt, i);
      if (use_c) v += (double)beta * er_load_f64(c->data, dt, (size_t)c_index(c, m, n));
      er_store_f64(y->data, dt, i, v);
    }
  return 0;
}

/* ---- MatMul ---------------------------------------------------------------------------- */
typedef struct {
  int64_t M, N, K;
  int brank;                     /* rank of the broadcast batch shape */
  int64_t bdims[ER_MAX_RANK];
  int64_t sa[ER_MAX_RANK], sb[ER_MAX_RANK]; /* batch strides in elements (0 = broadcast) */
  int64_t batch;
} mm_shape;

static er_status matmul_shape(const er_tensor *a, const er_tensor *b, mm_shape *s, int *out_rank,
                              int64_t *out_dims) {
  if (a->rank < 1 || b->rank < 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "MatMul inputs must have rank >= 1 (got %d and %d)",
                  a->rank, b->rank);
  s->M = a->rank == 1 ? 1 : a->dims[a->rank - 2];
  s->K = a->dims[a->rank - 1];
  int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
  s->N = b->rank == 1 ? 1 : b->dims[b->rank - 1];
  if (kb != s->K) {
    char b1[64], b2[64];
    return ER_ERR(ER_INVALID_ARGUMENT, "MatMul shapes %s and %s: inner dimensions %lld and %lld differ",
                  er_shape_str(a->dims, a->rank, b1, sizeof b1),
                  er_shape_str(b->dims, b->rank, b2, sizeof b2), (long long)s->K, (long long)kb);
  }
  int ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
  int r = ra > rb ? ra : rb;
  s->brank = r;
  int64_t stra = s->M * s->K, strb = s->K * s->N;
  for (int i = r - 1; i >= 0; i--) {
    int ia = i - (r - ra), ib = i - (r - rb);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char b1[64], b2[64];
      return ER_ERR(ER_INVALID_ARGUMENT, "MatMul batch dimensions of %s and %s do not broadcast",
                    er_shape_str(a->dims, a->rank, b1, sizeof b1),
                    er_shape_str(b->dims, b->rank, b2, sizeof b2));
    }
    s->bdims[i] = da == 1 ? db : da;
    s->sa[i] = da == 1 ? 0 : stra;
    s->sb[i] = db == 1 ? 0 : strb;
    stra *= da;
    strb *= db;
  }
  s->batch = er_shape_numel(s->bdims, r);
  int n = 0;
  for (int i = 0; i < r; i++) out_dims[n++] = s->bdims[i];
  if (a->rank >= 2) out_dims[n++] = s->M;
  if (b->rank >= 2) out_dims[n++] = s->N;
  *out_rank = n;
  return 0;
}

/* B can be packed once: float32 constant without batch dimensions (or all of size 1). */
static int matmul_packable(const er_kctx *ctx, const mm_shape *s) {
  const er_tensor *b = ctx->in[1];
  return b->dtype == ER_F32 && er_in_known(ctx, 1) && er_tensor_numel(b) == s->K * s->N;
}

/* A's rows all multiply the one B (no batch dimension of A broadcast): one tall product. */
static int matmul_rows_shared(const mm_shape *s) {
  for (int i = 0; i < s->brank; i++)
    if ((s->sb[i] != 0 || s->sa[i] == 0) && s->bdims[i] != 1) return 0;
  return 1;
}

/* Internal extension (graph passes only, src/opt/matmul_add.c): with attribute _bias = 1,
 * MatMul takes a third input, a float32 [N] bias added to every output row before the
 * fused activation. */
static const float *matmul_bias(const er_kctx *ctx) {
  const er_tensor *c = er_in(ctx, 2);
  return c ? (const float *)c->data : NULL;
}

static er_status matmul_infer(er_kctx *ctx) {
  int has_bias = er_attr_int(ctx, "_bias", 0) != 0;
  ER_RETURN_IF_ERROR(er_check_inputs(ctx, 2, has_bias ? 3 : 2));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 0, k_gemm_types));
  const er_tensor *a = ctx->in[0], *b = ctx->in[1], *c = er_in(ctx, 2);
  if (a->dtype != b->dtype)
    return ER_ERR(ER_INVALID_ARGUMENT, "A and B must have the same type (got %s and %s)",
                  er_dtype_name(a->dtype), er_dtype_name(b->dtype));
  ER_RETURN_IF_ERROR(check_act(ctx, a->dtype));
  mm_shape s;
  int rank;
  int64_t dims[ER_MAX_RANK + 2];
  ER_RETURN_IF_ERROR(matmul_shape(a, b, &s, &rank, dims));
  if (c && (a->dtype != ER_F32 || c->dtype != ER_F32 || er_tensor_numel(c) != s.N ||
            (c->rank != 1 && !(c->rank == 2 && c->dims[0] == 1))))
    return ER_ERR(ER_INVALID_ARGUMENT, "_bias needs float32 A and a float32 bias of %lld values",
                  (long long)s.N);
  if (rank > ER_MAX_RANK) return ER_ERR(ER_UNSUPPORTED, "MatMul output rank %d too large", rank);
  er_tensor_set_shape(ctx->out[0], a->dtype, rank, dims);
  ctx->scratch_bytes = is_half(a->dtype) ? (size_t)(er_tensor_numel(a) + er_tensor_numel(b) +
                                                    s.batch * s.M * s.N) * sizeof(float)
                                         : 0;
  if (matmul_packable(ctx, &s)) {
    ctx->state_bytes = pack_state_bytes(ctx, s.K, s.N);
    if (matmul_rows_shared(&s)) ER_RETURN_IF_ERROR(sparse_plan(ctx, s.batch * s.M, s.K, s.N, 1, s.N));
  }
  return 0;
}

static er_status matmul_prepare(er_kctx *ctx) {
  if (!ctx->state) return 0;
  ((pack_hdr *)ctx->state)->ready = 0;
  mm_shape s;
  int rank;
  int64_t dims[ER_MAX_RANK + 2];
  er_status st = matmul_shape(ctx->in[0], ctx->in[1], &s, &rank, dims);
  if (st) return st;
  int sp = 0;
  if (matmul_packable(ctx, &s) && matmul_rows_shared(&s))
    ER_RETURN_IF_ERROR(sparse_pack(ctx, s.batch * s.M, s.K, s.N, 1, s.N, &sp));
  if (matmul_packable(ctx, &s) && !sp && ctx->state_bytes >= pack_state_bytes(ctx, s.K, s.N))
    pack_into_state(ctx, 0, s.K, s.N, (const float *)ctx->in[1]->data, s.N);
  return 0;
}

/* Batched products: units of (batch index, block of rb rows), each one f32_gemm call on its
 * rows (the same operations for an element whatever the split, so any thread count gives
 * the same bits); threads split the units. */
typedef struct {
  const er_microkernels *mk;
  const mm_shape *s;
  const float *A, *B, *bias;
  float *Y;
  er_act act;
  int64_t rb, rblocks;
} mm_batch_job;

static void batch_offsets(const mm_shape *s, int64_t t, int64_t *offa, int64_t *offb) {
  *offa = *offb = 0;
  for (int d = s->brank - 1; d >= 0; d--) {
    int64_t i = t % s->bdims[d];
    t /= s->bdims[d];
    *offa += i * s->sa[d], *offb += i * s->sb[d];
  }
}

static void mm_batch_range(void *arg, int64_t b, int64_t e) {
  const mm_batch_job *j = (const mm_batch_job *)arg;
  const mm_shape *s = j->s;
  for (int64_t u = b; u < e; u++) {
    const int64_t t = u / j->rblocks, blk = u % j->rblocks, r0 = blk * j->rb;
    const int64_t rows = blk == j->rblocks - 1 ? s->M - r0 : j->rb; /* the last takes the rest */
    int64_t offa, offb;
    batch_offsets(s, t, &offa, &offb);
    float *Y = j->Y + t * s->M * s->N + r0 * s->N;
    if (j->bias)
      for (int64_t r = 0; r < rows; r++) memcpy(Y + r * s->N, j->bias, sizeof(float) * (size_t)s->N);
    j->mk->f32_gemm(0, 0, rows, s->N, s->K, 1.0f, j->A + offa + r0 * s->K, s->K, j->B + offb,
                    s->N, j->bias ? 1.0f : 0.0f, Y, s->N);
    if (j->act.kind != ER_ACT_NONE) apply_act(j->mk, Y, rows * s->N, j->act);
  }
}

static er_status matmul_run(er_kctx *ctx) {
  const er_tensor *a = ctx->in[0], *b = ctx->in[1];
  er_tensor *y = ctx->out[0];
  mm_shape s;
  int rank;
  int64_t dims[ER_MAX_RANK + 2];
  ER_RETURN_IF_ERROR(matmul_shape(a, b, &s, &rank, dims));
  int dt = a->dtype;
  int64_t M = s.M, N = s.N, K = s.K, MN = M * N;
  if (s.batch == 0 || MN == 0) return 0;
  /* B shared by every batch and A not broadcast: one tall product (batch*M) x K times K x N */
  int b_shared = 1, a_full = 1;
  for (int i = 0; i < s.brank; i++) {
    if (s.sb[i] != 0 && s.bdims[i] != 1) b_shared = 0;
    if (s.sa[i] == 0 && s.bdims[i] != 1) a_full = 0;
  }
  if (dt == ER_F32 || is_half(dt)) {
    const float *A32, *B32;
    float *Y32;
    if (dt == ER_F32) {
      A32 = (const float *)a->data, B32 = (const float *)b->data, Y32 = (float *)y->data;
    } else {
      float *sc = (float *)ctx->scratch;
      int64_t na = er_tensor_numel(a), nb = er_tensor_numel(b);
      to_f32(a->data, dt, sc, na);
      to_f32(b->data, dt, sc + na, nb);
      A32 = sc, B32 = sc + na, Y32 = sc + na + nb;
    }
    er_act act = act_of(ctx);
    const er_microkernels *mk = mk_of(ctx);
    const void *packed = dt == ER_F32 && b_shared && a_full ? packed_b(ctx, K, N) : 0;
    const float *bias = matmul_bias(ctx);
    const er_spw *sp = dt == ER_F32 && b_shared && a_full ? sparse_b(ctx, K, N) : 0;
    if (sp) return er_spw_gemm(ctx, s.batch * M, A32, K, sp, bias, act, Y32, N, ctx->scratch, ctx->scratch_bytes);
    if (b_shared && a_full) {
      gemm_job j = {mk, packed, bias, act, 0, 0, 0, 1.0f, s.batch * M, N, K, K, N, N,
                    A32, B32, Y32, 0};
      gemm_job_run(ctx, &j);
    } else if (s.batch >= 2) {
      /* whole products per unit when the batch alone gives every thread work; else blocks
       * of rows (a multiple of 12, at least 24 -- B is packed again for each unit -- the
       * last block taking the rest, so no block has a single row) */
      int64_t threads = er_threadpool_size(ctx->threads), rb = M;
      if (s.batch < 4 * threads && M * N * K * s.batch >= MIN_PARALLEL_MACS) {
        rb = (M * s.batch + 4 * threads - 1) / (4 * threads);
        rb = (rb + SPLIT_ROWS - 1) / SPLIT_ROWS * SPLIT_ROWS;
        if (rb < 2 * SPLIT_ROWS) rb = 2 * SPLIT_ROWS;
        if (rb > M) rb = M;
      }
      mm_batch_job j = {mk, &s, A32, B32, bias, Y32, act, rb, M / rb};
      er_parallel_for(ctx, s.batch * j.rblocks, 1, mm_batch_range, &j);
    } else {
      for (int64_t t = 0; t < s.batch; t++) {
        int64_t offa, offb;
        batch_offsets(&s, t, &offa, &offb);
        gemm_job j = {mk, 0, bias, act, 0, 0, 0, 1.0f, M, N, K, K, N, N,
                      A32 + offa, B32 + offb, Y32 + t * MN, 0};
        gemm_job_run(ctx, &j);
      }
    }
    if (is_half(dt)) from_f32(Y32, dt, y->data, s.batch * MN);
    return 0;
  }
  mm_naive_fn mm = mm_naive_for(dt);
  if (!mm) return ER_ERR(ER_UNSUPPORTED, "MatMul: type %s not supported", er_dtype_name(dt));
  if (b_shared && a_full) {
    mm(a->data, b->data, y->data, s.batch * M, N, K, K, 1, N, 1);
    return 0;
  }
  size_t es = er_dtype_size(dt);
  for (int64_t t = 0; t < s.batch; t++) {
    int64_t offa, offb;
    batch_offsets(&s, t, &offa, &offb);
    mm((const char *)a->data + offa * es, (const char *)b->data + offb * es,
       (char *)y->data + t * MN * es, M, N, K, K, 1, N, 1);
  }
  return 0;
}

void er_f32_gemm_packed_mt(const er_kctx *ctx, int64_t M, int64_t N, int64_t K, const float *A,
                           int64_t lda, const void *packed, const float *bias, er_act act, float *C,
                           int64_t ldc) {
  gemm_job j = {mk_of(ctx), packed, bias, act, 0, 0, 0, 1.0f, M, N, K, lda, 0, ldc, A, 0, C, 0};
  gemm_job_run(ctx, &j);
}

/* exported to ops_linalg.c */
er_status er_linalg_gemm_infer(er_kctx *ctx) { return gemm_infer(ctx); }
er_status er_linalg_gemm_run(er_kctx *ctx) { return gemm_run(ctx); }
er_status er_linalg_matmul_infer(er_kctx *ctx) { return matmul_infer(ctx); }
er_status er_linalg_matmul_run(er_kctx *ctx) { return matmul_run(ctx); }
er_status er_linalg_gemm_prepare(er_kctx *ctx) { return gemm_prepare(ctx); }
er_status er_linalg_matmul_prepare(er_kctx *ctx) { return matmul_prepare(ctx); }
