/* AVX-512F entries f32_vunary, f32_softmax and f32_layernorm (see kernels/dispatch.h):
 * 16 floats per step (f32-vmath-impl.h over vmath-simd.h), tails through lane masks. */
#define ER_VW 16
#define VM_NAME(x) x##__avx512
#include "kernels/x86/f32-vmath-impl.h"
