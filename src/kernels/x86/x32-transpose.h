/* AVX2 2-D transpose of 32-bit elements (the table's x32_transpose; private to x86/). */
#ifndef ER_KERNELS_X86_X32_TRANSPOSE_H
#define ER_KERNELS_X86_X32_TRANSPOSE_H
#include <stdint.h>

void er_x32_transpose_8x8__avx2(const void *src, int64_t lds, void *dst, int64_t ldd,
                                int64_t rows, int64_t cols);
#endif
