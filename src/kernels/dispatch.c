#include "kernels/dispatch.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "base/cpu.h"
#include "kernels/ref/gemm.h"
#include "kernels/ref/nhwc_mk.h"
#include "kernels/ref/rnn_cell.h"
#include "kernels/q8.h"
#include "kernels/sparse.h"
#include "kernels/vmath.h"

void er_x32_transpose_ref(const void *src, int64_t lds, void *dst, int64_t ldd, int64_t rows,
                          int64_t cols); /* ref/shape_transpose.c */

void er_f32_apply_act(float *x, int64_t n, er_act act) {
  switch (act.kind) {
    case ER_ACT_NONE: return;
    case ER_ACT_RELU: for (int64_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0; return;
    case ER_ACT_CLIP:
      for (int64_t i = 0; i < n; i++) x[i] = x[i] < act.a ? act.a : x[i] > act.b ? act.b : x[i];
      return;
    case ER_ACT_HARDSWISH:
      for (int64_t i = 0; i < n; i++) {
        float t = x[i] / 6.0f + 0.5f;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        x[i] *= t;
      }
      return;
    case ER_ACT_HARDSIGMOID:
      for (int64_t i = 0; i < n; i++) {
        float t = act.a * x[i] + act.b;
        x[i] = t < 0 ? 0 : t > 1 ? 1 : t;
      }
      return;
    case ER_ACT_SILU: for (int64_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i])); return;
    case ER_ACT_GELU:
      for (int64_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
      return;
    case ER_ACT_SIGMOID: for (int64_t i = 0; i < n; i++) x[i] = 1.0f / (1.0f + expf(-x[i])); return;
    case ER_ACT_TANH: for (int64_t i = 0; i < n; i++) x[i] = tanhf(x[i]); return;
    case ER_ACT_LEAKYRELU: for (int64_t i = 0; i < n; i++) x[i] = x[i] >= 0 ? x[i] : act.a * x[i]; return;
    default: return;
  }
}

/* Reference "packed" format: B transposed to K x N row-major (plain copy). */
static size_t ref_packed_size(int64_t K, int64_t N) { return (size_t)(K * N) * sizeof(float); }
static void ref_pack_b(int transB, int64_t K, int64_t N, const float *B, int64_t ldb, void *packed) {
  float *p = (float *)packed;
  for (int64_t k = 0; k < K; k++)
    for (int64_t n = 0; n < N; n++) p[k * N + n] = transB ? B[n * ldb + k] : B[k * ldb + n];
}
static void ref_gemm_packed(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                            const void *packed, const float *bias, er_act act, float *C, int64_t ldc) {
  const float *B = (const float *)packed;
  if (bias) {
    for (int64_t m = 0; m < M; m++) memcpy(C + m * ldc, bias, sizeof(float) * (size_t)N);
  }
  er_f32_gemm_ref(0, 0, M, N, K, 1.0f, A, lda, B, N, bias ? 1.0f : 0.0f, C, ldc);
  if (act.kind != ER_ACT_NONE)
    for (int64_t m = 0; m < M; m++) er_f32_apply_act(C + m * ldc, N, act);
}

static void ref_gemm_packed_cols(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                                 const void *packed, const float *bias, er_act act, float *C,
                                 int64_t ldc, int64_t n0, int64_t n1) {
  if (n1 > N) n1 = N;
  if (n0 >= n1) return;
  const float *B = (const float *)packed;
  int64_t nc = n1 - n0;
  if (bias) {
    for (int64_t m = 0; m < M; m++) memcpy(C + m * ldc + n0, bias + n0, sizeof(float) * (size_t)nc);
  }
  er_f32_gemm_ref(0, 0, M, nc, K, 1.0f, A, lda, B ? B + n0 : B, N, bias ? 1.0f : 0.0f, C + n0, ldc);
  if (act.kind != ER_ACT_NONE)
    for (int64_t m = 0; m < M; m++) er_f32_apply_act(C + m * ldc + n0, nc, act);
}

static const er_microkernels ref_table = {
    "ref", er_f32_gemm_ref, ref_packed_size, ref_pack_b, ref_gemm_packed,
    .f32_gemm_packed_cols = ref_gemm_packed_cols,
    .f32_nhwc_pack_size = er_f32_nhwc_pack_size__ref,
    .f32_nhwc_pack = er_f32_nhwc_pack__ref,
    .f32_nhwc_gemm = er_f32_nhwc_gemm__ref,
    .f32_nhwc_dwconv = er_f32_nhwc_dwconv__ref,
    .f32_nhwc_pool = er_f32_nhwc_pool__ref,
    .f32_nhwc_gpool = er_f32_nhwc_gpool__ref,
    .f32_nhwc_wino_in = er_f32_nhwc_wino_in__ref,
    .f32_nhwc_wino_out = er_f32_nhwc_wino_out__ref,
#if ER_MK_RNN
    .f32_gemv_packed_size = er_f32_gemv_packed_size_ref,
    .f32_gemv_pack = er_f32_gemv_pack_ref,
    .f32_gemv_packed = er_f32_gemv_packed_ref,
    .f32_sigmoid = er_f32_sigmoid_ref,
    .f32_tanh = er_f32_tanh_ref,
    .f32_lstm_packed_size = er_f32_lstm_packed_size_ref,
    .f32_lstm_pack = er_f32_lstm_pack_ref,
    .f32_lstm_step = er_f32_lstm_step_ref,
#endif
#if ER_MK_Q8
    .q8_pack_left_size = er_q8_pack_left_size_ref,
    .q8_pack_left = er_q8_pack_left_ref,
    .q8_pack_right_size = er_q8_pack_right_size_ref,
    .q8_pack_right = er_q8_pack_right_ref,
    .q8_gemm = er_q8_gemm_ref,
    .q8_dwconv2d = er_q8_dwconv2d_ref,
    .q8_dw_pack_size = er_q8_dw_pack_size_ref,
    .q8_dw_pack = er_q8_dw_pack_ref,
    .q8_dw_work_size = er_q8_dw_work_size_ref,
    .q8_dwconv_nhwc = er_q8_dwconv_nhwc_ref,
    .q8_quantize = er_q8_quantize_ref,
    .q8_dequantize = er_q8_dequantize_ref,
    .q8_add = er_q8_add_ref,
    .f32_minmax = er_f32_minmax_ref,
    .u8_transpose = er_u8_transpose_ref,
    .f32_q4_gemm = er_f32_q4_gemm_ref,
#endif
    .f32_vunary = er_f32_vunary_ref,
#if ER_MK_SOFTMAX
    .f32_softmax = er_f32_softmax_ref,
#endif
#if ER_MK_LAYERNORM
    .f32_layernorm = er_f32_layernorm_ref,
#endif
    .x32_transpose = er_x32_transpose_ref,
    .f32_spmm_32 = er_f32_spmm_32_ref,
    .f32_spmv = er_f32_spmv_ref,
    .f32_nhwc_add_act = er_f32_nhwc_add_act__ref,
};

const er_microkernels *er_microkernels_ref(void) { return &ref_table; }

#if defined(__x86_64__)
/* Defined in src/kernels/x86/ (compiled with -mavx2 -mfma per file). */
const er_microkernels *er_microkernels_avx2(void);
const er_microkernels *er_microkernels_avx512(void); /* -avx512.c files add -mavx512f */
#endif

static const er_microkernels *select_table(void) {
#if defined(__x86_64__)
  er_cpu_features f = er_cpu_detect();
#if !defined(ER_NO_AVX512) /* make AVX512=0 */
  if (f.avx2 && f.fma && f.avx512f) return er_microkernels_avx512();
#endif
  if (f.avx2 && f.fma) {
    const er_microkernels *t = er_microkernels_avx2();
    if (t) return t;
  }
#endif
  return &ref_table;
}

/* Chosen once per process: cpuid traps to the hypervisor in a VM (tens of microseconds per
 * query), and every executor (sessions, the passes' shape inference) asks. */
const er_microkernels *er_microkernels_select(void) {
  static _Atomic(const er_microkernels *) chosen;
  const er_microkernels *t = atomic_load_explicit(&chosen, memory_order_acquire);
  if (!t) {
    t = select_table();
    atomic_store_explicit(&chosen, t, memory_order_release);
  }
  return t;
}
