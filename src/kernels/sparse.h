/*
 * Sparse float32 weights: products C = act(A * W + bias) whose constant weight W (K x N) is
 * mostly zeros (unstructured, as `edgerun prune --sparsity S` leaves it) run over the
 * nonzeros only. Used by Gemm, MatMul (2-D constant B) and NhwcConv's 1x1 path when the
 * rule below says it is faster; chosen per node at plan time (infer/prepare).
 *
 * Format (built once in prepare into the node's state, er_spw_pack): the rows k of W cut
 * into blocks of ER_SPW_KB (so a block of the transposed input tile, 256 x 32 floats, stays
 * in L1 while every column uses it); per block, per output column n, its nonzeros in
 * increasing k: uint16 k and float32 value (CSC), with int32 starts ptr[b*N + n], each run
 * padded to a multiple of ER_SPW_RUN entries with zero values (its last k again). 6 bytes
 * per nonzero (+4 per column and block, + the padding) instead of 4 per weight: 70 % zeros
 * -> 0.45x the bytes, 90 % -> 0.15-0.2x. K <= 65535.
 *
 * Two kernels (micro-kernel table, kernels/dispatch.h):
 *   f32_spmm_32  32 rows at a time (a tile of A transposed, K x 32): per nonzero w of
 *                column n, Ct[n][0:32] += w * At[k][0:32] (one broadcast, whole vectors of
 *                rows; the XNNPACK SpMM scheme), block after block of k. The driver
 *                transposes A's tile in and the result tile out (x32_transpose) and applies
 *                the activation.
 *   f32_spmv     one row: y[n] += sum over column n's nonzeros w * x[k] (gathers).
 * Per output element the sum runs over its column's nonzeros in a fixed order, whatever
 * the tile or the thread split: any thread count gives the same bits. Results differ from
 * the dense kernels by float rounding (another summation order), and a zero weight times
 * an Inf/NaN input contributes nothing (dense: NaN).
 *
 * The rule (er_spw_choose, measured on this project's machine, docs/design.md): at least
 * ER_SPW_MIN_SPARSITY zeros, and a cost model of the dense packed GEMM against the sparse
 * path (nonzeros, plus the transposes of the 32-row tiles, plus gathers for few rows). A
 * node attribute `_sparse` overrides it: 0 never, 1 whenever the shape allows (tests,
 * benchmarks); ER_SPARSE=0/1 in the environment sets it on every candidate node
 * (src/opt/opt.c).
 */
#ifndef ER_KERNELS_SPARSE_H
#define ER_KERNELS_SPARSE_H
#include "kernels/kernel.h"

#define ER_SPW_TILE 32            /* rows per f32_spmm_32 call */
#define ER_SPW_KB 256             /* rows of W per block */
#define ER_SPW_RUN 4              /* every column's run of a block: a multiple of 4 entries */
#define ER_SPW_MAX_K 65535
#define ER_SPW_MIN_SPARSITY 0.7

typedef struct er_spw {
  uint32_t magic;
  int32_t K, N;
  int32_t nnz;                    /* nonzeros (entries stored: ptr[nkb * N], with padding) */
  int32_t nkb;                    /* blocks of ER_SPW_KB rows */
  int64_t off_idx, off_val;       /* bytes from the header to idx[] and val[] */
  int32_t ptr[];                  /* nkb * N + 1 starts: block b, column n at ptr[b*N + n] */
} er_spw;

static inline const uint16_t *er_spw_idx(const er_spw *s) {
  return (const uint16_t *)((const char *)s + s->off_idx);
}
static inline const float *er_spw_val(const er_spw *s) {
  return (const float *)((const char *)s + s->off_val);
}

/* Weights B[k][n] = src[n*sn + k*sk] (k < K, n < N). Nonzero count. */
int64_t er_spw_count(int64_t K, int64_t N, const float *src, int64_t sn, int64_t sk);
/* Bytes of the format for nnz nonzeros (0 if the shape cannot be stored). */
size_t er_spw_bytes(int64_t K, int64_t N, int64_t nnz);
/* Build it at dst (er_spw_bytes of room, 64-byte aligned). */
void er_spw_pack(int64_t K, int64_t N, const float *src, int64_t sn, int64_t sk, void *dst);
/* 1 if a product of M rows with these weights should run sparse. mode: the node's
 * `_sparse` attribute (-1 absent: the rule; 0 never; 1 whenever storable). */
int er_spw_choose(int64_t M, int64_t K, int64_t N, int64_t nnz, int64_t mode);
/* The `_sparse` attribute (-1 if absent); an error for values other than 0 / 1. */
er_status er_spw_mode(const er_kctx *c, int64_t *out_mode);
/* Scratch the driver needs for M rows with `threads` threads. */
size_t er_spw_scratch_bytes(int64_t M, int64_t K, int64_t N, int threads);
/* C[m][n] = act(bias[n] + sum_k A[m*lda + k] W[k][n]) for m < M, n < N, split over the
 * session's threads (any count, the same bits); scratch of er_spw_scratch_bytes(M, K, N,
 * threads at infer) bytes (an error if smaller). */
er_status er_spw_gemm(const er_kctx *c, int64_t M, const float *A, int64_t lda, const er_spw *w, const float *bias,
                 er_act act, float *C, int64_t ldc, void *scratch, size_t scratch_bytes);

/* Reference micro-kernels (the portable table's entries; contract in kernels/dispatch.h). */
void er_f32_spmm_32_ref(const float *At, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                        const float *bias, int accumulate, er_act act, float *Ct);
void er_f32_spmv_ref(const float *x, const int32_t *ptr, const uint16_t *idx, const float *val, int64_t n,
                     const float *bias, int accumulate, float *y);
#endif
