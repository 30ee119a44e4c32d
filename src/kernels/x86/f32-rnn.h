/*
 * AVX2/FMA kernels for recurrent layers (float32); see kernels/dispatch.h for contracts.
 *
 *   er_f32_gemv_pack_64__avx2 / er_f32_gemv_packed_64__avx2
 *       W (N x K) -> column groups of 64 outputs, each stored k-major ([K][64], the last
 *       group as wide as N rounded up to 8, zero-padded), so the product streams the packed
 *       matrix once with 8 accumulators per group.
 *   er_f32_lstm_pack_16__avx2 / er_f32_lstm_step_16__avx2
 *       R (4H x H) -> groups of 16 hidden units, each [H][i 16 | o 16 | f 16 | c~ 16] (zero
 *       rows past H): a step accumulates one group's 4 gates in 8 registers and finishes
 *       its cell right there (no gate vector written and read back). Odd steps walk the
 *       groups last to first: when R is larger than L1 the first groups visited are then
 *       the ones the previous step left in cache (~20% faster for H = 64).
 *   er_f32_sigmoid__avx2, er_f32_tanh__avx2
 *       the method of kernels/ref/rnn_cell.h in 8 lanes.
 */
#ifndef ER_KERNELS_X86_F32_RNN_H
#define ER_KERNELS_X86_F32_RNN_H
#include <stddef.h>
#include <stdint.h>

size_t er_f32_gemv_packed_size_64__avx2(int64_t N, int64_t K);
void er_f32_gemv_pack_64__avx2(int64_t N, int64_t K, const float *W, int64_t ldw, void *packed);
void er_f32_gemv_packed_64__avx2(int64_t N, int64_t K, const float *x, const void *packed,
                                 const float *add, float *y);
size_t er_f32_lstm_packed_size_16__avx2(int64_t H);
void er_f32_lstm_pack_16__avx2(int64_t H, const float *R, void *packed);
void er_f32_lstm_step_16__avx2(int64_t H, const float *h_prev, const void *packed,
                               const float *xw, float *c, float *h, int parity);
void er_f32_sigmoid__avx2(int64_t n, const float *x, float *y);
void er_f32_tanh__avx2(int64_t n, const float *x, float *y);

#if defined(__AVX2__)
#include <immintrin.h>
/* Mask of the lanes below `valid` (for maskload/maskstore of a row's tail). */
static inline __m256i er_lanes_below_avx2(int64_t valid) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)valid), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif
#endif
