/* AVX2/FMA float32 GEMM (private to src/kernels/x86/; entries of the AVX2 micro-kernel table).
 *
 * Packed B format ("panels of 16"): op(B) (K x N) is cut into ceil(N/16) panels of 16
 * columns; panel p holds K rows of 16 floats, row k = op(B)[k][16p .. 16p+15], columns past
 * N zero. Panel p starts at float offset p * K * 16. Any alignment works (unaligned loads).
 *
 * The register tile is 6 rows x 16 columns (12 ymm accumulators); K is cut into blocks of
 * at most 256 (equal sizes, a function of K only), so every element of C is computed with
 * the same sequence of operations whatever the M/N split: results are bit-identical for
 * any thread split over rows or column blocks. */
#ifndef ER_KERNELS_X86_F32_GEMM_H
#define ER_KERNELS_X86_F32_GEMM_H
#include "kernels/dispatch.h"

void er_f32_gemm_6x16__avx2(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                            const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                            float *C, int64_t ldc);
size_t er_f32_gemm_packed_size_16__avx2(int64_t K, int64_t N);
void er_f32_gemm_pack_b_16__avx2(int transB, int64_t K, int64_t N, const float *B, int64_t ldb,
                                 void *packed);
void er_f32_gemm_packed_6x16__avx2(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                                   const void *packed, const float *bias, er_act act, float *C,
                                   int64_t ldc);
void er_f32_gemm_packed_cols_6x16__avx2(int64_t M, int64_t N, int64_t K, const float *A,
                                        int64_t lda, const void *packed, const float *bias,
                                        er_act act, float *C, int64_t ldc, int64_t n0, int64_t n1);

/* AVX-512F (f32-gemm-8x48-avx512.c): 8x48 tiles over the same packed-B format. */
void er_f32_gemm_8x48__avx512(int transA, int transB, int64_t M, int64_t N, int64_t K,
                               float alpha, const float *A, int64_t lda, const float *B,
                               int64_t ldb, float beta, float *C, int64_t ldc);
void er_f32_gemm_packed_8x48__avx512(int64_t M, int64_t N, int64_t K, const float *A,
                                      int64_t lda, const void *packed, const float *bias,
                                      er_act act, float *C, int64_t ldc);
void er_f32_gemm_packed_cols_8x48__avx512(int64_t M, int64_t N, int64_t K, const float *A,
                                           int64_t lda, const void *packed, const float *bias,
                                           er_act act, float *C, int64_t ldc, int64_t n0,
                                           int64_t n1);
#endif
