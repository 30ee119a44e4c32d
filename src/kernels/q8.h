/*
 * 8-bit integer micro-kernels: the q8_* entries of er_microkernels (kernels/dispatch.h).
 * Every table's entries give the SAME BITS as the reference table's (tests/unit/
 * test_microkernels_q8.c): integer sums are exact, and the output stage (er_q8_out) is the
 * same float requantization everywhere.
 *
 * Requantization: float, as ONNX Runtime's MLAS (so QDQ models agree with ORT):
 *     v = (float)acc * scale;  v = fminf(fmaxf(v, lo - zp), hi - zp);  y = rintf(v) + zp
 * with scale = x_scale * w_scale / y_scale computed in float32 by the op. Chosen over a
 * gemmlowp-style int32 multiplier + shift because ORT (the reference our QDQ results are
 * compared with) computes exactly this; both cost about the same per output.
 *
 * ---- GEMM:  C[m][n] = out( sum_k (L[m][k] - zl[m]) * (R[k][n] - zr[n]) ) ----
 * L (M x K, "left") and R (K x N, "right") are uint8 or int8 (is_signed), read through
 * element strides: L[m][k] = src[m*sm + k*sk], R[k][n] = src[k*sk + n*sn]. Zero points are
 * zp[i * zp_stride] (zp_stride 0: one for all), within the operand type's range. Both
 * operands are packed first (formats private to each table; pack_*_size gives bytes, any
 * alignment works); either may be the weights (packed once) or the activations (packed per
 * call into scratch). The products are exact in int32: |(a - za) * (b - zb)| <= 255 * 255.
 *
 *   q8_gemm(K, left, M, right, N, m0, m1, n0, n1, o, C, ldc) computes rows [m0, m1) and
 *   columns [n0, n1) (n0 a multiple of ER_Q8_NALIGN) of the M x N product of a left packed
 *   with M rows and a right packed with N columns, both with depth K. C addresses element
 *   (0, 0): element (m, n) is at C + m * ldc + n, of type o->type. Output parameters are
 *   indexed by m (o->per_row) or n. Any split of the ranges gives the same bits.
 *
 * ---- elementwise ----
 *   q8_quantize:   y[i] = clamp(rint(x[i] / scale) + zp, lo, hi) as type (ER_U8 / ER_I8);
 *                  the division is float32 (QuantizeLinear's), NaN gives lo.
 *   q8_dequantize: y[i] = (float)(x[i] - zp) * scale.
 *   q8_add:        c[i] = clamp(rint(ra * (float)(a[i] - za) + rb * (float)(b[i * b_stride] - zb)) + zc,
 *                  lo, hi): two products and one sum in float32, no fused multiply-add
 *                  (ra = a_scale / c_scale, rb = b_scale / c_scale); a, b and c of one type.
 *   f32_minmax:    *mn = min(*mn, x[i]...), *mx = max(*mx, x[i]...); NaNs are skipped.
 *   u8_transpose:  dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols (bytes).
 *
 * ---- 4-bit weights, float activations:  f32_q4_gemm (MatMulQ4) ----
 *   C[m][n] = sum_k A[m][k] * w[k][n]  (+ bias[n]),  w[k][n] = (float)(q[k][n] - z[k/block][n]) * s[k/block][n]
 *   for m < M, n in [n0, n1) (n0 a multiple of 16). q: 4-bit (int4 if is_signed, else uint4),
 *   row k at B + k * ceil(N/2) bytes, element n in byte n/2, low nibble for even n (ONNX's
 *   packing of each row). s: float [ceil(K/block)][N]; z: NULL (0) or one byte per value,
 *   [ceil(K/block)][N] (int8 / uint8 holding the 4-bit value). The reference sums over k in
 *   order (acc = acc + A * w, bias added last); optimized tables may fuse the multiply-add:
 *   float results within rounding of the reference (the only non-bit-exact q8 entry), the
 *   same for any split of rows or columns. Each kernel unpacks the nibbles in its own loop;
 *   the weights stay 4-bit.
 *
 * ---- depthwise convolution, channels-first (one plane):  q8_dwconv2d ----
 *   out[oh][ow] = out_stage( sum_{kh,kw} (in[ih][iw] - xzp) * w[kh*KW + kw] ),
 *   ih = oh*sh - ph + kh*dh, iw = ow*sw - pw + kw*dw; taps outside the plane count 0.
 *   w holds the KH*KW weights of this channel minus their zero point (int16). Output
 *   parameters are those of index ch.
 *
 * ---- depthwise convolution, channels-last (output rows):  q8_dwconv_nhwc ----
 *   in is [H][W][C], out is [OH][OW][C]; computes out[oh][ow][c] for oh in [oh0, oh1), every
 *   ow and c, with the weights packed by q8_dw_pack(KH, KW, C, w, ...) from w[(kh*KW + kw)*C + c]
 *   (tap-major, as the NhwcQLinearConv op lays them out) minus zp[c * zp_stride], and a work
 *   buffer of q8_dw_work_size(KH, KW, OW, C) bytes (private to the call; one per thread).
 *   Output parameters are indexed by the channel c. Any split of the rows: same bits.
 */
#ifndef ER_KERNELS_Q8_H
#define ER_KERNELS_Q8_H
#include <math.h>
#include <stdint.h>

#include "base/dtype.h"
#include "kernels/dispatch.h"

enum { ER_Q8_NALIGN = 16 };

/* clamp(rint(v) + zp, lo, hi) computed as the vector kernels do: clamp v to [lo - zp,
 * hi - zp] in float (NaN gives lo - zp, as _mm256_max_ps(v, lo - zp)), round half to even. */
static inline int32_t er_q8_round_clamp(float v, int32_t zp, int32_t lo, int32_t hi) {
  float fl = (float)(lo - zp), fh = (float)(hi - zp);
  v = v > fl ? v : fl;
  v = v < fh ? v : fh;
  return (int32_t)rintf(v) + zp;
}

/* The output stage for one accumulator (the specification every table follows). */
static inline int32_t er_q8_requant(int32_t acc, float scale, int32_t zp, int32_t lo, int32_t hi) {
  return er_q8_round_clamp((float)acc * scale, zp, lo, hi);
}

/* acc + bias with int32 wrap-around (no signed-overflow UB). */
static inline int32_t er_q8_add_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

/* Apply the output stage to accumulator acc at parameter index i and store element j of C. */
static inline void er_q8_store(const er_q8_out *o, int64_t i, int32_t acc, void *C, int64_t j) {
  if (o->bias) acc = er_q8_add_wrap(acc, o->bias[i]);
  if (o->type == ER_I32) {
    ((int32_t *)C)[j] = acc;
    return;
  }
  int32_t y = er_q8_requant(acc, o->scale[i * o->scale_stride], o->zp, o->lo, o->hi);
  if (o->type == ER_U8) ((uint8_t *)C)[j] = (uint8_t)y;
  else ((int8_t *)C)[j] = (int8_t)y;
}

/* Range of a uint8 / int8 output type. */
static inline void er_q8_range(int type, int32_t *lo, int32_t *hi) {
  *lo = type == ER_I8 ? -128 : 0;
  *hi = type == ER_I8 ? 127 : 255;
}

/* Reference entries (the portable table). */
size_t er_q8_pack_left_size_ref(int64_t M, int64_t K);
void er_q8_pack_left_ref(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk,
                         const int32_t *zp, int zp_stride, void *packed);
size_t er_q8_pack_right_size_ref(int64_t K, int64_t N);
void er_q8_pack_right_ref(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn,
                          const int32_t *zp, int zp_stride, void *packed);
void er_q8_gemm_ref(int64_t K, const void *left, int64_t M, const void *right, int64_t N, int64_t m0,
                    int64_t m1, int64_t n0, int64_t n1, const er_q8_out *o, void *C, int64_t ldc);
void er_q8_dwconv2d_ref(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, const int16_t *w,
                        int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,
                        int64_t dw, const er_q8_out *o, int64_t ch, void *out, int64_t OH, int64_t OW);
size_t er_q8_dw_pack_size_ref(int64_t KH, int64_t KW, int64_t C);
void er_q8_dw_pack_ref(int64_t KH, int64_t KW, int64_t C, const void *w, int is_signed, const int32_t *zp,
                       int zp_stride, void *packed);
size_t er_q8_dw_work_size_ref(int64_t KH, int64_t KW, int64_t OW, int64_t C);
void er_q8_dwconv_nhwc_ref(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, int64_t C,
                           const void *packed, int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph,
                           int64_t pw, int64_t dh, int64_t dw, const er_q8_out *o, void *out, int64_t OW,
                           int64_t oh0, int64_t oh1, void *work);
void er_q8_quantize_ref(int64_t n, const float *x, float scale, int32_t zp, int32_t lo, int32_t hi, int type,
                        void *y);
void er_q8_dequantize_ref(int64_t n, const void *x, int is_signed, int32_t zp, float scale, float *y);
void er_q8_add_ref(int64_t n, const void *a, const void *b, int64_t b_stride, int is_signed, int32_t za, int32_t zb,
                   float ra, float rb, int32_t zc, int32_t lo, int32_t hi, void *c);
void er_f32_minmax_ref(int64_t n, const float *x, float *mn, float *mx);
void er_f32_q4_gemm_ref(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint8_t *B, int is_signed,
                        const float *scale, const void *zp, int64_t block, const float *bias, float *C, int64_t ldc,
                        int64_t n0, int64_t n1);
void er_u8_transpose_ref(int64_t rows, int64_t cols, const void *src, int64_t lds, void *dst, int64_t ldd);
#endif
