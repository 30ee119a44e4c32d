/* Recurrent-layer inner loops, portable versions (the reference table's entries; see
 * kernels/dispatch.h): packed GEMV, sigmoid, tanh and the LSTM step. The packed formats
 * are the matrices themselves (row-major), so unpacked weights can use these directly.
 *
 * tanh shares its method with the AVX2 version: for |x| < ER_TANH_POLY_MAX an odd
 * polynomial x * p(x^2) (coefficients fitted for relative error ~1e-7 in float, where
 * 1 - 2 / (exp(2x) + 1) would cancel), beyond it 1 - 2 / (exp(2|x|) + 1) with the sign of x
 * (at most a few ulp: the result is >= 0.55 there), evaluated at 10 past |x| = 10 (it rounds
 * to +-1 there). */
#ifndef ER_KERNELS_REF_RNN_CELL_H
#define ER_KERNELS_REF_RNN_CELL_H
#include <stddef.h>
#include <stdint.h>

#define ER_TANH_POLY_MAX 0.625f
#define ER_TANH_SAT 10.0f
/* tanh(x) / x ~= P0 + P1 u + ... + P5 u^5, u = x^2, on [0, 0.625] */
#define ER_TANH_P0 1.0f
#define ER_TANH_P1 -0.33333263f
#define ER_TANH_P2 0.1333115f
#define ER_TANH_P3 -0.05372268f
#define ER_TANH_P4 0.020595679f
#define ER_TANH_P5 -0.005664775f

size_t er_f32_gemv_packed_size_ref(int64_t N, int64_t K);
void er_f32_gemv_pack_ref(int64_t N, int64_t K, const float *W, int64_t ldw, void *packed);
void er_f32_gemv_packed_ref(int64_t N, int64_t K, const float *x, const void *packed,
                            const float *add, float *y);
void er_f32_sigmoid_ref(int64_t n, const float *x, float *y);
void er_f32_tanh_ref(int64_t n, const float *x, float *y);
size_t er_f32_lstm_packed_size_ref(int64_t H);
void er_f32_lstm_pack_ref(int64_t H, const float *R, void *packed);
void er_f32_lstm_step_ref(int64_t H, const float *h_prev, const void *packed, const float *xw,
                          float *c, float *h, int parity);
#endif
