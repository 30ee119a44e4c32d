/* The AVX2/FMA micro-kernel table. Entries not yet optimized fall back to the reference:
 * set them from er_microkernels_ref() (one line each, below). */
#include "kernels/dispatch.h"
#include "kernels/x86/f32-gemm.h"
#include "kernels/x86/f32-conv.h"
#include "kernels/x86/f32-vmath.h"
#include "kernels/x86/x32-transpose.h"

static er_microkernels avx2_table = {
    .isa = "avx2",
    .f32_gemm = er_f32_gemm_6x16__avx2,
    .f32_gemm_packed_size = er_f32_gemm_packed_size_16__avx2,
    .f32_gemm_pack_b = er_f32_gemm_pack_b_16__avx2,
    .f32_gemm_packed = er_f32_gemm_packed_6x16__avx2,
    .f32_gemm_packed_cols = er_f32_gemm_packed_cols_6x16__avx2,
    .f32_dwconv2d = er_f32_dwconv2d__avx2,
    .f32_gemm_pack_a_size = er_f32_gemm_pack_a_size_6x16__avx2,
    .f32_gemm_pack_a = er_f32_gemm_pack_a_6x16__avx2,
    .f32_gemm_packed_a = er_f32_gemm_packed_a_6x16__avx2,
    .f32_vunary = er_f32_vunary__avx2,
    .f32_softmax = er_f32_softmax__avx2,
    .f32_layernorm = er_f32_layernorm__avx2,
    .x32_transpose = er_x32_transpose_8x8__avx2,
};

const er_microkernels *er_microkernels_avx2(void) {
  const er_microkernels *ref = er_microkernels_ref();
  /* entries without an AVX2 version yet: take the reference one */
  if (!avx2_table.f32_dwconv2d) avx2_table.f32_dwconv2d = ref->f32_dwconv2d;
  return &avx2_table;
}
