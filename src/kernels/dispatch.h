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

/* Output stage of the 8-bit integer micro-kernels (kernels/q8.h). acc is the exact int32
 * sum of zero-point-corrected products; bias (if any) is added with int32 wrap-around.
 * type ER_I32: store acc + bias. ER_U8 / ER_I8: float requantization, as ONNX Runtime's
 * MLAS does it:  v = (float)(acc + bias) * scale;  v = fminf(fmaxf(v, lo - zp), hi - zp);
 *                y = (int32)rintf(v) + zp      (rint: round half to even)
 * lo/hi are the clamp bounds in the quantized domain: the type's range narrowed by a
 * fused Relu/Clip. bias[i] / scale[i * scale_stride] are indexed by the output row (per_row)
 * or column of the micro-kernel call, as each kernel documents. */
typedef struct er_q8_out {
  int type;            /* ER_I32, ER_U8 or ER_I8 */
  int per_row;         /* GEMM: params indexed by row m (1) or column n (0) */
  const int32_t *bias; /* NULL: none */
  const float *scale;  /* requantization multiplier(s); unused for ER_I32 */
  int scale_stride;    /* 0: one scale for all, 1: one per row/column */
  int32_t zp, lo, hi;
} er_q8_out;

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
  /* f32_gemm_packed restricted to output columns [n0, n1) (n0 a multiple of 32): lets a
   * caller split one packed product over threads by column blocks. Same bits as the full
   * call for those columns. */
  void (*f32_gemm_packed_cols)(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                               const void *packed, const float *bias, er_act act, float *C,
                               int64_t ldc, int64_t n0, int64_t n1);
  /* ---- channels-last (NHWC) convolution and pooling: the ops of kernels/nhwc.h ----
   * Conv weights as a GEMM operand B (K x N: K = taps x input channels, N = output channels),
   * packed once (format private to each table) from a source where
   *   B[k][n] = src[n*sn + (k % kin)*sc + (k / kin)*st]
   * (ONNX weights [N][kin][taps]: sn = kin*taps, sc = taps, st = 1; a K x N row-major matrix:
   * sn = 1, kin = K, sc = N, st = 0). */
  size_t (*f32_nhwc_pack_size)(int64_t K, int64_t N);
  void (*f32_nhwc_pack)(int64_t K, int64_t N, const float *src, int64_t sn, int64_t kin, int64_t sc,
                        int64_t st, void *packed);
  /* Rows of pixels times packed weights, columns [n0, n0+N) of B (n0 a multiple of 16):
   *   C[i][j] = act(base + sum_{k<kc} A[i*lda + k] * B[k0 + k][n0 + j])   i < M, j < N
   * base = accumulate ? C[i][j] : (bias ? bias[j] : 0); bias and C point at column n0; K is
   * the depth B was packed with. Any split of M, or of N at multiples of 16, gives the same
   * bits (depth blocking depends on kc only). */
  void (*f32_nhwc_gemm)(int64_t M, int64_t N, int64_t kc, const float *A, int64_t lda, const void *packed,
                        int64_t K, int64_t k0, int64_t n0, const float *bias, int accumulate, er_act act,
                        float *C, int64_t ldc);
  /* Depthwise (channel multiplier 1) over n output pixels, T taps each:
   *   out[p*ldo + c] = act(bias[c] + sum_{t<T} w[t*C + c] * x(p, t)[c])   c < C
   * step == 0: x(p, t) = in[p*T + t], pointers to C floats (a zero vector for padding);
   * step > 0: a run of pixels whose taps are all inside the input, x(p, t) = in[t] + p*step.
   * bias may be NULL. */
  void (*f32_nhwc_dwconv)(int64_t n, int64_t C, int64_t T, const float *const *in, int64_t step,
                          const float *w, const float *bias, er_act act, float *out, int64_t ldo);
  /* One pooled pixel from T channel vectors: kind 0 out[c] = max_t in[t][c] (0 when T == 0),
   * kind 1 out[c] = (sum_t in[t][c]) / div. */
  void (*f32_nhwc_pool)(int kind, int64_t C, int64_t T, const float *const *in, float div, float *out);
  /* Global pool over n pixels x[p*ldx + c]: kind 0 max, kind 1 mean; out[c], c < C. */
  void (*f32_nhwc_gpool)(int kind, int64_t n, int64_t C, const float *x, int64_t ldx, float *out);
  /* Winograd F(4x4, 3x3) transforms across channels. Input: 36 pointers (6x6 patch,
   * row-major) to C floats -> V[xi*xs + c] = (B^T d B)[xi]. Output: O[xi*xs + m] (6x6) ->
   * out[i][m] = act((A^T O A)[i] + bias[m]) for the 16 pointers of the 4x4 block, NULL ones
   * skipped; bias may be NULL. */
  void (*f32_nhwc_wino_in)(int64_t C, const float *const *in, float *V, int64_t xs);
  void (*f32_nhwc_wino_out)(int64_t M, const float *O, int64_t xs, const float *bias, er_act act,
                            float *const *out);
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
  /* ---- 8-bit integer kernels (contract and packed formats: kernels/q8.h) ---- */
  size_t (*q8_pack_left_size)(int64_t M, int64_t K);
  void (*q8_pack_left)(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk,
                       const int32_t *zp, int zp_stride, void *packed);
  size_t (*q8_pack_right_size)(int64_t K, int64_t N);
  void (*q8_pack_right)(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn,
                        const int32_t *zp, int zp_stride, void *packed);
  void (*q8_gemm)(int64_t K, const void *left, int64_t M, const void *right, int64_t N, int64_t m0,
                  int64_t m1, int64_t n0, int64_t n1, const er_q8_out *o, void *C, int64_t ldc);
  void (*q8_dwconv2d)(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, const int16_t *w,
                      int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,
                      int64_t dw, const er_q8_out *o, int64_t ch, void *out, int64_t OH, int64_t OW);
  size_t (*q8_dw_pack_size)(int64_t KH, int64_t KW, int64_t C);
  void (*q8_dw_pack)(int64_t KH, int64_t KW, int64_t C, const void *w, int is_signed, const int32_t *zp,
                     int zp_stride, void *packed);
  size_t (*q8_dw_work_size)(int64_t KH, int64_t KW, int64_t OW, int64_t C);
  void (*q8_dwconv_nhwc)(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, int64_t C,
                         const void *packed, int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph,
                         int64_t pw, int64_t dh, int64_t dw, const er_q8_out *o, void *out, int64_t OW,
                         int64_t oh0, int64_t oh1, void *work);
  void (*q8_quantize)(int64_t n, const float *x, float scale, int32_t zp, int32_t lo, int32_t hi, int type,
                      void *y);
  void (*q8_dequantize)(int64_t n, const void *x, int is_signed, int32_t zp, float scale, float *y);
  void (*q8_add)(int64_t n, const void *a, const void *b, int64_t b_stride, int is_signed, int32_t za, int32_t zb,
                 float ra, float rb, int32_t zc, int32_t lo, int32_t hi, void *c);
  void (*f32_minmax)(int64_t n, const float *x, float *mn, float *mx);
  void (*u8_transpose)(int64_t rows, int64_t cols, const void *src, int64_t lds, void *dst, int64_t ldd);
  void (*f32_q4_gemm)(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint8_t *B, int is_signed,
                      const float *scale, const void *zp, int64_t block, const float *bias, float *C, int64_t ldc,
                      int64_t n0, int64_t n1);
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
  /* ---- sparse float32 weights (format and driver: kernels/sparse.h) ----
   * n columns, column c's entries at j in [ptr[c], ptr[c+1]) (a multiple of 4 of them):
   * row idx[j], value val[j].
   * 32 rows: At is K x 32 (At[k*32 + r] = row r's input k), for c < n, r < 32:
   *   Ct[c*32 + r] = act((accumulate ? Ct[c*32 + r] : bias ? bias[c] : 0) + sum_j val[j]*At[idx[j]*32 + r])
   * (act: NONE, or a piecewise-linear kind: RELU, CLIP, LEAKYRELU, HARDSIGMOID, HARDSWISH)
   * One row:
   *   y[c] = (accumulate ? y[c] : bias ? bias[c] : 0) + sum_j val[j]*x[idx[j]]
   * The sum runs in an order fixed by the column's nonzeros alone. */
  void (*f32_spmm_32)(const float *At, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                      const float *bias, int accumulate, er_act act, float *Ct);
  void (*f32_spmv)(const float *x, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                   const float *bias, int accumulate, float *y);
  /* Residual epilogue of a channels-last conv (NhwcConv's input Z): over `rows` rows of n
   * floats, y[r*ldy + j] = act(y[r*ldy + j] + z[r*ldz + j]) -- the add first, in float, so
   * a conv stored without activation then this equals Add then the activation op. */
  void (*f32_nhwc_add_act)(int64_t rows, int64_t n, const float *z, int64_t ldz, er_act act, float *y,
                           int64_t ldy);
} er_microkernels;

/* The portable table (always available) and the best one for this CPU. */
const er_microkernels *er_microkernels_ref(void);
const er_microkernels *er_microkernels_select(void);
/* Apply an activation to n floats in place (reference; used by fused epilogues). */
void er_f32_apply_act(float *x, int64_t n, er_act act);

/* Kernel groups a selective-op build (make OPS=FILE: ER_OPS_SELECTED, ER_OPSEL_<op> from the
 * generated header) keeps only when one of the op types reaching them is kept; their table
 * entries stay NULL otherwise, in every table, so nothing links them. Full builds keep all. */
#if !defined(ER_OPS_SELECTED) || defined(ER_OPSEL_QuantizeLinear) || defined(ER_OPSEL_DequantizeLinear) || \
    defined(ER_OPSEL_DynamicQuantizeLinear) || defined(ER_OPSEL_MatMulInteger) || defined(ER_OPSEL_QLinearMatMul) || \
    defined(ER_OPSEL_ConvInteger) || defined(ER_OPSEL_QLinearConv) || defined(ER_OPSEL_NhwcQLinearConv) || \
    defined(ER_OPSEL_QGemm) || defined(ER_OPSEL_QLinearAdd) || defined(ER_OPSEL_QLinearGlobalAveragePool) || \
    defined(ER_OPSEL_QLinearConcat) || defined(ER_OPSEL_MatMulQ4) || \
    defined(ER_OPSEL_MatMulIntegerToFloat)
#define ER_MK_Q8 1 /* q8_*, u8_transpose, f32_minmax, f32_q4_gemm (ops_quant.c, quant_{gemm,conv,ops}.c) */
#endif
#if !defined(ER_OPS_SELECTED) || defined(ER_OPSEL_RNN) || defined(ER_OPSEL_GRU) || defined(ER_OPSEL_LSTM)
#define ER_MK_RNN 1 /* f32_gemv_*, f32_sigmoid, f32_tanh, f32_lstm_* (ops_rnn.c) */
#endif
#if !defined(ER_OPS_SELECTED) || defined(ER_OPSEL_Softmax) || defined(ER_OPSEL_LogSoftmax) || \
    defined(ER_OPSEL_Hardmax) || defined(ER_OPSEL_Attention)
#define ER_MK_SOFTMAX 1 /* f32_softmax (linalg_softmax.c, linalg_attention.c) */
#endif
#if !defined(ER_OPS_SELECTED) || defined(ER_OPSEL_LayerNormalization)
#define ER_MK_LAYERNORM 1 /* f32_layernorm (conv_norm.c) */
#endif
#endif
