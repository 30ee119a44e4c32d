/* float32 GEMM core (er_f32_gemm_ref, see gemm.h) and the Gemm / MatMul kernels. */
#include <string.h>

#include "kernels/kernel.h"
#include "kernels/ref/gemm.h"

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

/* ---- Gemm ----------------------------------------------------------------------------- */
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

static er_status gemm_run(er_kctx *ctx) {
  const er_tensor *a = ctx->in[0], *b = ctx->in[1], *c = er_in(ctx, 2);
  er_tensor *y = ctx->out[0];
  int ta = er_attr_int(ctx, "transA", 0) != 0, tb = er_attr_int(ctx, "transB", 0) != 0;
  float alpha = er_attr_float(ctx, "alpha", 1.0f), beta = er_attr_float(ctx, "beta", 1.0f);
  int64_t M = y->dims[0], N = y->dims[1], K = ta ? a->dims[0] : a->dims[1];
  int dt = a->dtype;
  int use_c = c && beta != 0.0f && er_tensor_numel(c) > 0;
  if (dt == ER_F32 || is_half(dt)) {
    const float *A, *B, *Cv = 0;
    float *Y;
    float *s = (float *)ctx->scratch;
    if (dt == ER_F32) {
      A = (const float *)a->data, B = (const float *)b->data, Y = (float *)y->data;
      if (use_c) Cv = (const float *)c->data;
    } else {
      float *a32 = s, *b32 = s + M * K;
      Y = s + M * K + K * N;
      to_f32(a->data, dt, a32, M * K);
      to_f32(b->data, dt, b32, K * N);
      A = a32, B = b32;
    }
    if (use_c) {
      for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
          int64_t ci = c_index(c, m, n);
          float cv = dt == ER_F32 ? Cv[ci]
                                  : (float)er_load_f64(c->data, dt, (size_t)ci);
          Y[m * N + n] = beta * cv;
        }
    }
    er_f32_gemm_ref(ta, tb, M, N, K, alpha, A, a->dims[1], B, b->dims[1], use_c ? 1.0f : 0.0f, Y, N);
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

static er_status matmul_infer(er_kctx *ctx) {
  ER_RETURN_IF_ERROR(er_check_inputs(ctx, 2, 2));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 0, k_gemm_types));
  const er_tensor *a = ctx->in[0], *b = ctx->in[1];
  if (a->dtype != b->dtype)
    return ER_ERR(ER_INVALID_ARGUMENT, "A and B must have the same type (got %s and %s)",
                  er_dtype_name(a->dtype), er_dtype_name(b->dtype));
  mm_shape s;
  int rank;
  int64_t dims[ER_MAX_RANK + 2];
  ER_RETURN_IF_ERROR(matmul_shape(a, b, &s, &rank, dims));
  if (rank > ER_MAX_RANK) return ER_ERR(ER_UNSUPPORTED, "MatMul output rank %d too large", rank);
  er_tensor_set_shape(ctx->out[0], a->dtype, rank, dims);
  ctx->scratch_bytes = is_half(a->dtype) ? (size_t)(er_tensor_numel(a) + er_tensor_numel(b) +
                                                    s.batch * s.M * s.N) * sizeof(float)
                                         : 0;
  return 0;
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
  const float *A32 = 0, *B32 = 0;
  float *Y32 = 0;
  if (dt == ER_F32) {
    A32 = (const float *)a->data, B32 = (const float *)b->data, Y32 = (float *)y->data;
  } else if (is_half(dt)) {
    float *sc = (float *)ctx->scratch;
    int64_t na = er_tensor_numel(a), nb = er_tensor_numel(b);
    to_f32(a->data, dt, sc, na);
    to_f32(b->data, dt, sc + na, nb);
    A32 = sc, B32 = sc + na, Y32 = sc + na + nb;
  }
  mm_naive_fn mm = A32 ? 0 : mm_naive_for(dt);
  if (!A32 && !mm) return ER_ERR(ER_UNSUPPORTED, "MatMul: type %s not supported", er_dtype_name(dt));
  /* B shared by every batch and A not broadcast: one tall product (batch*M) x K times K x N */
  int b_shared = 1, a_full = 1;
  for (int i = 0; i < s.brank; i++) {
    if (s.sb[i] != 0 && s.bdims[i] != 1) b_shared = 0;
    if (s.sa[i] == 0 && s.bdims[i] != 1) a_full = 0;
  }
  if (b_shared && a_full) {
    if (A32) er_f32_gemm_ref(0, 0, s.batch * M, N, K, 1.0f, A32, K, B32, N, 0.0f, Y32, N);
    else mm(a->data, b->data, y->data, s.batch * M, N, K, K, 1, N, 1);
  } else {
    int64_t idx[ER_MAX_RANK] = {0};
    int64_t offa = 0, offb = 0;
    size_t es = er_dtype_size(dt);
    for (int64_t t = 0; t < s.batch; t++) {
      if (A32) {
        er_f32_gemm_ref(0, 0, M, N, K, 1.0f, A32 + offa, K, B32 + offb, N, 0.0f, Y32 + t * MN, N);
      } else {
        mm((const char *)a->data + offa * es, (const char *)b->data + offb * es,
           (char *)y->data + t * MN * es, M, N, K, K, 1, N, 1);
      }
      for (int d = s.brank - 1; d >= 0; d--) {
        offa += s.sa[d], offb += s.sb[d];
        if (++idx[d] < s.bdims[d]) break;
        offa -= s.sa[d] * s.bdims[d], offb -= s.sb[d] * s.bdims[d];
        idx[d] = 0;
      }
    }
  }
  if (is_half(dt)) from_f32(Y32, dt, y->data, s.batch * MN);
  return 0;
}

/* exported to ops_linalg.c */
er_status er_linalg_gemm_infer(er_kctx *ctx) { return gemm_infer(ctx); }
er_status er_linalg_gemm_run(er_kctx *ctx) { return gemm_run(ctx); }
er_status er_linalg_matmul_infer(er_kctx *ctx) { return matmul_infer(ctx); }
er_status er_linalg_matmul_run(er_kctx *ctx) { return matmul_run(ctx); }
