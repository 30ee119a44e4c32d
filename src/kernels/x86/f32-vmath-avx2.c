/* AVX2/FMA entries f32_vunary, f32_softmax and f32_layernorm (see kernels/dispatch.h):
 * 8 floats per step (f32-vmath-impl.h over vmath-simd.h), tails through masked loads
 * and stores. */
#define ER_VW 8
#define VM_NAME(x) x##__avx2
#include "kernels/x86/f32-vmath-impl.h"
