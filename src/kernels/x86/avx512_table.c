/* The AVX-512F micro-kernel table: the AVX2/FMA table with the float32 GEMM entries
 * replaced by 8x48 AVX-512 kernels, the vector math by 16-wide versions, and the
 * channels-last GEMM, depthwise convolution and Winograd transforms by AVX-512 kernels.
 * Packed formats are unchanged (the AVX-512 kernels read the AVX2 16-column panels), so any
 * entry that consumes a packing entry's output keeps working. Chosen by
 * er_microkernels_select when cpuid reports AVX-512F (and the OS saves
 * the zmm state). Built once, on first use, into a static copy. */
#include <stdatomic.h>

#include "kernels/dispatch.h"
#include "kernels/x86/f32-gemm.h"
#include "kernels/x86/f32-nhwc.h"
#include "kernels/x86/f32-vmath.h"
#include "kernels/x86/f32-spmm.h"

const er_microkernels *er_microkernels_avx2(void);

#if !defined(ER_NO_AVX512)
static er_microkernels avx512_table;
static atomic_int avx512_state; /* 0 unbuilt, 1 building, 2 ready */
#endif

const er_microkernels *er_microkernels_avx512(void) {
#if defined(ER_NO_AVX512) /* make AVX512=0: no AVX-512 kernels built; tests get the AVX2 table */
  return er_microkernels_avx2();
#else
  int s = atomic_load_explicit(&avx512_state, memory_order_acquire);
  if (s == 2) return &avx512_table;
  int expect = 0;
  if (atomic_compare_exchange_strong(&avx512_state, &expect, 1)) {
    er_microkernels t = *er_microkernels_avx2();
    t.isa = "avx512";
    t.f32_gemm = er_f32_gemm_8x48__avx512;
    t.f32_gemm_packed = er_f32_gemm_packed_8x48__avx512;
    t.f32_gemm_packed_cols = er_f32_gemm_packed_cols_8x48__avx512;
    t.f32_vunary = er_f32_vunary__avx512;
#if ER_MK_SOFTMAX
    t.f32_softmax = er_f32_softmax__avx512;
#endif
#if ER_MK_LAYERNORM
    t.f32_layernorm = er_f32_layernorm__avx512;
#endif
    t.f32_nhwc_gemm = er_f32_nhwc_gemm_12x32__avx512;
    t.f32_nhwc_dwconv = er_f32_nhwc_dwconv_4x32__avx512;
    t.f32_nhwc_wino_in = er_f32_nhwc_wino_in__avx512;
    t.f32_nhwc_wino_out = er_f32_nhwc_wino_out__avx512;
    t.f32_spmm_32 = er_f32_spmm_32__avx512;
    t.f32_spmv = er_f32_spmv_16__avx512;
    avx512_table = t;
    atomic_store_explicit(&avx512_state, 2, memory_order_release);
  } else {
    while (atomic_load_explicit(&avx512_state, memory_order_acquire) != 2) {
    }
  }
  return &avx512_table;
#endif
}
