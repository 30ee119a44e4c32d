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
  /* f32_gemm_packed restricted to output columns [n0, n1) (n0 a multiple of 32): lets a
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
  /* y[i] = f(x[i]) for i < n, f one of ER_VF_* (kernels/vmath.h, which documents the
   * approximations and their errors); y may equal x. */
  void (*f32_vunary)(int fn, const float *x, float *y, int64_t n);
  /* Softmax (log_ = 0) or LogSoftmax (log_ = 1) of scale * x over `rows` rows of n
   * contiguous floats (row strides ldx, ldy; y may equal x). */
  void (*f32_softmax)(const float *x, int64_t ldx, float *y, int64_t ldy, int64_t rows,
                      int64_t n, float scale, int log_);
  /* Layer normalization of `rows` rows of n contiguous floats (stride n):
   * y = (x - mean) * istd * scale[i] + bias[i] (bias may be NULL; y may equal x) with
   * istd = 1 / sqrt(var + eps), var the biased variance; mean / istd (may be NULL) receive
   * each row's statistics. */
  void (*f32_layernorm)(const float *x, float *y, int64_t rows, int64_t n, const float *scale,
                        const float *bias, float eps, float *mean, float *istd);
  /* 2-D transpose of 32-bit elements (any 4-byte type, copied bit-exactly):
   * dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols. */
  void (*x32_transpose)(const void *src, int64_t lds, void *dst, int64_t ldd, int64_t rows,
                        int64_t cols);
} er_microkernels;

/* The portable table (always available) and the best one for this CPU. */
const er_microkernels *er_microkernels_ref(void);
const er_microkernels *er_microkernels_select(void);
/* Apply an activation to n floats in place (reference; used by fused epilogues). */
void er_f32_apply_act(float *x, int64_t n, er_act act);
#endif
