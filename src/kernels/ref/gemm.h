/* Portable float32 GEMM used by the reference kernels (Gemm, MatMul, and any kernel that
 * wants a matrix product: Conv via im2col, attention, ...).
 *
 *   C = alpha * op(A) * op(B) + beta * C      op(A) is M x K, op(B) is K x N, C is M x N
 *
 * Row-major storage. transA = 0: A[m*lda + k]; transA = 1: A[k*lda + m].
 *                    transB = 0: B[k*ldb + n]; transB = 1: B[n*ldb + k].
 * When beta == 0, C is not read (it may hold NaN or garbage). K == 0 gives C = beta * C.
 * No allocation: packs one B panel (a few KB) on the stack. Thread-safe, no global state. */
#ifndef ER_KERNELS_REF_GEMM_H
#define ER_KERNELS_REF_GEMM_H
#include <stdint.h>

#include "kernels/dispatch.h"

void er_f32_gemm_ref(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                     int64_t ldc);

/* C = act(A * packed + bias) with B packed by ctx->mk->f32_gemm_pack_b, split over the
 * session's threads by rows or column blocks when the product is big enough (same bits for
 * any thread count). Defined in linalg_gemm.c. */
struct er_kctx;
void er_f32_gemm_packed_mt(const struct er_kctx *ctx, int64_t M, int64_t N, int64_t K,
                           const float *A, int64_t lda, const void *packed, const float *bias,
                           er_act act, float *C, int64_t ldc);
#endif
