/*
 * Micro-kernel dispatch: the inner loops that optimized ISAs replace. A session picks one
 * table at creation from cpuid (er_microkernels_select) and kernels reach it through
 * ctx->mk. Every entry of every table is tested against the reference table
 * (tests/unit/test_microkernels.c) on many shapes.
 *
 * Graph-level semantics (padding, groups, broadcasting, attribute handling) stay in the
 * reference op kernels; only these inner loops vary by ISA.
 */
#ifndef ER_KERNELS_DISPATCH_H
#define ER_KERNELS_DISPATCH_H
#include <stddef.h>
#include <stdint.h>

/* Fused activations for GEMM/conv epilogues. */
enum { ER_ACT_NONE = 0, ER_ACT_RELU, ER_ACT_CLIP, ER_ACT_HARDSWISH, ER_ACT_HARDSIGMOID,
       ER_ACT_SILU, ER_ACT_GELU, ER_ACT_SIGMOID, ER_ACT_TANH, ER_ACT_LEAKYRELU };

typedef struct er_act {
  int kind;      /* ER_ACT_* */
  float a, b;    /* CLIP: min, max; HARDSIGMOID: alpha, beta; LEAKYRELU: alpha */
} er_act;

typedef struct er_microkernels {
  const char *isa; /* "ref", "avx2" ... */
  /* C = alpha * op(A) * op(B) + beta * C  (row-major, leading dimensions in elements) */
  void (*f32_gemm)(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc);
  /* Pre-packed B (weights): bytes needed, pack once, then C = act(A * B + bias[n]) where
   * bias may be NULL. */
  size_t (*f32_gemm_packed_size)(int64_t K, int64_t N);
  void (*f32_gemm_pack_b)(int transB, int64_t K, int64_t N, const float *B, int64_t ldb,
                          void *packed);
  void (*f32_gemm_packed)(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                          const void *packed, const float *bias, er_act act, float *C,
                          int64_t ldc);
  /* Depthwise 2-D convolution of one channel plane (NCHW):
   * out[oh][ow] = act(bias + sum_kh,kw w[kh*KW+kw] * in[oh*sh - ph + kh*dh][ow*sw - pw + kw*dw]),
   * taps outside [0,H) x [0,W) count as zero. */
  void (*f32_dwconv2d)(const float *in, int64_t H, int64_t W, const float *w, int64_t KH,
                       int64_t KW, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,
                       int64_t dw, float bias, er_act act, float *out, int64_t OH, int64_t OW);
  /* f32_gemm_packed restricted to output columns [n0, n1) (n0 a multiple of 64): lets a
   * caller split one packed product over threads by column blocks. Same bits as the full
   * call for those columns. */
  void (*f32_gemm_packed_cols)(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                               const void *packed, const float *bias, er_act act, float *C,
                               int64_t ldc, int64_t n0, int64_t n1);
  /* Conv GEMM with pre-packed A (weights M x K, row-major before packing; the packed
   * format is private to each table):
   *   C[i][n] = act(base + sum_{k<kc} A[m0+i][k0+k] * B[k*ldb + n])   i < M, n < N
   * base = accumulate ? C[i][n] : (bias ? bias[i] : 0). Depth blocking depends only on kc,
   * so any split of M or N gives the same bits. b_padded != 0 promises that every B row
   * may be read up to N rounded up to 16 columns (values there are ignored). */
  size_t (*f32_gemm_pack_a_size)(int64_t M, int64_t K);
  void (*f32_gemm_pack_a)(int64_t M, int64_t K, const float *A, int64_t lda, void *packed);
  void (*f32_gemm_packed_a)(int64_t M, int64_t N, int64_t kc, const void *packed, int64_t K,
                            int64_t m0, int64_t k0, const float *B, int64_t ldb, int b_padded,
                            const float *bias, int accumulate, er_act act, float *C, int64_t ldc);
  /* Matrix-vector product with a pre-packed matrix (recurrent layers, one-row products).
   * W is N x K row-major before packing (the packed format is private to each table):
   *   y[n] = (add ? add[n] : 0) + sum_k W[n][k] * x[k]      n < N
   * add may equal y. */
  size_t (*f32_gemv_packed_size)(int64_t N, int64_t K);
  void (*f32_gemv_pack)(int64_t N, int64_t K, const float *W, int64_t ldw, void *packed);
  void (*f32_gemv_packed)(int64_t N, int64_t K, const float *x, const void *packed,
                          const float *add, float *y);
  /* y = 1 / (1 + exp(-x)) and y = tanh(x) on n floats (y may equal x). Relative error
   * below 1e-6 (sigmoid: plus 1e-37 absolute where it underflows), tested against libm. */
  void (*f32_sigmoid)(int64_t n, const float *x, float *y);
  void (*f32_tanh)(int64_t n, const float *x, float *y);
  /* One LSTM step for one batch row. R is the 4H x H recurrent matrix (gate rows i, o, f,
   * c~), packed once (format private to each table; the reference's is R itself):
   *   g = xw + R h_prev;  c = sigmoid(g_f) c + sigmoid(g_i) tanh(g_c~);  h = sigmoid(g_o) tanh(c)
   * xw holds the 4H input-projection values (bias included); h must not overlap h_prev.
   * Absolute error of c and h below ~1e-6 for gate values of moderate size (tested).
   * parity (the step's index & 1) lets a table walk the packed matrix in another order on
   * odd steps, to reuse what the previous step left in cache; results do not depend on it. */
  size_t (*f32_lstm_packed_size)(int64_t H);
  void (*f32_lstm_pack)(int64_t H, const float *R, void *packed);
  void (*f32_lstm_step)(int64_t H, const float *h_prev, const void *packed, const float *xw,
                        float *c, float *h, int parity);
} er_microkernels;

/* The portable table (always available) and the best one for this CPU. */
const er_microkernels *er_microkernels_ref(void);
const er_microkernels *er_microkernels_select(void);
/* Apply an activation to n floats in place (reference; used by fused epilogues). */
void er_f32_apply_act(float *x, int64_t n, er_act act);
#endif
