/* The AVX2/FMA micro-kernel table. Entries not yet optimized fall back to the reference:
 * set them from er_microkernels_ref() (one line each, below). */
#include "kernels/dispatch.h"
#include "kernels/x86/f32-gemm.h"
#include "kernels/x86/f32-conv.h"
#include "kernels/ref/nhwc_mk.h"
#include "kernels/x86/f32-nhwc.h"
#include "kernels/x86/f32-rnn.h"
#include "kernels/x86/q8.h"
#include "base/cpu.h"
#include "kernels/x86/f32-vmath.h"
#include "kernels/x86/x32-transpose.h"
#include "kernels/x86/f32-spmm.h"

static er_microkernels avx2_table = {
    .isa = "avx2",
    .f32_gemm = er_f32_gemm_6x16__avx2,
    .f32_gemm_packed_size = er_f32_gemm_packed_size_16__avx2,
    .f32_gemm_pack_b = er_f32_gemm_pack_b_16__avx2,
    .f32_gemm_packed = er_f32_gemm_packed_6x16__avx2,
    .f32_gemm_packed_cols = er_f32_gemm_packed_cols_6x16__avx2,
    /* channels-last weights: the AVX2 kernels read the reference packed format (the AVX2
     * packer writes the same bytes, faster) */
    .f32_nhwc_pack_size = er_f32_nhwc_pack_size__ref,
    .f32_nhwc_pack = er_f32_nhwc_pack__avx2,
    .f32_nhwc_gemm = er_f32_nhwc_gemm_6x16__avx2,
    .f32_nhwc_dwconv = er_f32_nhwc_dwconv_4x16__avx2,
    .f32_nhwc_pool = er_f32_nhwc_pool__avx2,
    .f32_nhwc_gpool = er_f32_nhwc_gpool__avx2,
    .f32_nhwc_wino_in = er_f32_nhwc_wino_in__avx2,
    .f32_nhwc_wino_out = er_f32_nhwc_wino_out__avx2,
#if ER_MK_RNN
    .f32_gemv_packed_size = er_f32_gemv_packed_size_64__avx2,
    .f32_gemv_pack = er_f32_gemv_pack_64__avx2,
    .f32_gemv_packed = er_f32_gemv_packed_64__avx2,
    .f32_sigmoid = er_f32_sigmoid__avx2,
    .f32_tanh = er_f32_tanh__avx2,
    .f32_lstm_packed_size = er_f32_lstm_packed_size_16__avx2,
    .f32_lstm_pack = er_f32_lstm_pack_16__avx2,
    .f32_lstm_step = er_f32_lstm_step_16__avx2,
#endif
#if ER_MK_Q8
    .q8_pack_left_size = er_q8_pack_left_size__avx2,
    .q8_pack_left = er_q8_pack_left__avx2,
    .q8_pack_right_size = er_q8_pack_right_size_16__avx2,
    .q8_pack_right = er_q8_pack_right_16__avx2,
    .q8_gemm = er_q8_gemm_6x16__avx2,
    .q8_dwconv2d = er_q8_dwconv2d__avx2,
    .q8_dw_pack_size = er_q8_dw_pack_size__avx2,
    .q8_dw_pack = er_q8_dw_pack__avx2,
    .q8_dw_work_size = er_q8_dw_work_size__avx2,
    .q8_dwconv_nhwc = er_q8_dwconv_nhwc__avx2,
    .q8_quantize = er_q8_quantize__avx2,
    .q8_dequantize = er_q8_dequantize__avx2,
    .q8_add = er_q8_add__avx2,
    .f32_minmax = er_f32_minmax__avx2,
    .u8_transpose = er_u8_transpose__avx2,
    .f32_q4_gemm = er_f32_q4_gemm_4x16__avx2,
#endif
    .f32_vunary = er_f32_vunary__avx2,
#if ER_MK_SOFTMAX
    .f32_softmax = er_f32_softmax__avx2,
#endif
#if ER_MK_LAYERNORM
    .f32_layernorm = er_f32_layernorm__avx2,
#endif
    .x32_transpose = er_x32_transpose_8x8__avx2,
    .f32_spmm_32 = er_f32_spmm_32__avx2,
    .f32_spmv = er_f32_spmv_8__avx2,
    .f32_nhwc_add_act = er_f32_nhwc_add_act__avx2,
};

const er_microkernels *er_microkernels_avx2(void) {
#if ER_MK_Q8
  er_cpu_features f = er_cpu_detect();
  if (f.avx_vnni) er_q8_use_avxvnni(&avx2_table); /* 8-bit GEMM on vpdpbusd (4 exact products per lane) */
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni) { /* 512-bit vpdpbusd; AMX tiles if granted */
    er_q8_use_avx512vnni(&avx2_table);
    if (er_cpu_amx_enable()) er_q8_use_amx(&avx2_table);
  }
#endif
  return &avx2_table;
}
