/*
 * Winograd F(4x4, 3x3) transforms across channels, AVX-512F: f32-nhwc-wino-impl.h on
 * 16-lane vectors, the last block masked by a mask register.
 */
#include <immintrin.h>

#include "kernels/x86/f32-conv.h"
#include "kernels/x86/f32-nhwc.h"

#define WV __m512
#define WT __mmask16
#define WN 16
#define WFULL ((__mmask16)0xffff)
#define WTAIL(n) ((__mmask16)((1u << (n)) - 1))
#define WSET1 _mm512_set1_ps
#define WADD _mm512_add_ps
#define WSUB _mm512_sub_ps
#define WFMA _mm512_fmadd_ps
#define WFNMA _mm512_fnmadd_ps
#define WZERO _mm512_setzero_ps
#define WLOAD(p, t) _mm512_maskz_loadu_ps((t), (p))
#define WSTORE(p, t, v) _mm512_mask_storeu_ps((p), (t), (v))
#define WACT er_nhwc_act_min_avx512
#define WACT_REGS er_nhwc_act_regs_avx512
#define WACT_ROW er_nhwc_act_stored_avx512
#define WIN er_f32_nhwc_wino_in__avx512
#define WOUT er_f32_nhwc_wino_out__avx512
#include "kernels/x86/f32-nhwc-wino-impl.h"
