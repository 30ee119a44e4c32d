/* AVX2 8-bit integer kernels (private to src/kernels/x86/; entries of the AVX2 micro-kernel
 * table). Contract: kernels/q8.h; packed formats: the comments of q8-gemm-6x16-avx2.c and
 * q8-dwconv-avx2.c. */
#ifndef ER_KERNELS_X86_Q8_H
#define ER_KERNELS_X86_Q8_H
#include "kernels/dispatch.h"

size_t er_q8_pack_left_size__avx2(int64_t M, int64_t K);
void er_q8_pack_left__avx2(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk,
                           const int32_t *zp, int zp_stride, void *packed);
size_t er_q8_pack_right_size_16__avx2(int64_t K, int64_t N);
void er_q8_pack_right_16__avx2(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn,
                               const int32_t *zp, int zp_stride, void *packed);
void er_q8_gemm_6x16__avx2(int64_t K, const void *left, int64_t M, const void *right, int64_t N, int64_t m0,
                           int64_t m1, int64_t n0, int64_t n1, const er_q8_out *o, void *C, int64_t ldc);
void er_q8_dwconv2d__avx2(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, const int16_t *w,
                          int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,
                          int64_t dw, const er_q8_out *o, int64_t ch, void *out, int64_t OH, int64_t OW);
size_t er_q8_dw_pack_size__avx2(int64_t KH, int64_t KW, int64_t C);
void er_q8_dw_pack__avx2(int64_t KH, int64_t KW, int64_t C, const void *w, int is_signed, const int32_t *zp,
                         int zp_stride, void *packed);
size_t er_q8_dw_work_size__avx2(int64_t KH, int64_t KW, int64_t OW, int64_t C);
void er_q8_dwconv_nhwc__avx2(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, int64_t C,
                             const void *packed, int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph,
                             int64_t pw, int64_t dh, int64_t dw, const er_q8_out *o, void *out, int64_t OW,
                             int64_t oh0, int64_t oh1, void *work);
void er_q8_quantize__avx2(int64_t n, const float *x, float scale, int32_t zp, int32_t lo, int32_t hi, int type,
                          void *y);
void er_q8_dequantize__avx2(int64_t n, const void *x, int is_signed, int32_t zp, float scale, float *y);
void er_q8_add__avx2(int64_t n, const void *a, const void *b, int64_t b_stride, int is_signed, int32_t za, int32_t zb,
                     float ra, float rb, int32_t zc, int32_t lo, int32_t hi, void *c);
void er_f32_minmax__avx2(int64_t n, const float *x, float *mn, float *mx);
void er_u8_transpose__avx2(int64_t rows, int64_t cols, const void *src, int64_t lds, void *dst, int64_t ldd);
/* AVX-VNNI variants of the GEMM entries (q8-gemm-6x16-avxvnni.c), used when cpuid has AVX-VNNI */
size_t er_q8_pack_left_size__avxvnni(int64_t M, int64_t K);
void er_q8_pack_left__avxvnni(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk,
                              const int32_t *zp, int zp_stride, void *packed);
size_t er_q8_pack_right_size_16__avxvnni(int64_t K, int64_t N);
void er_q8_pack_right_16__avxvnni(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn,
                                  const int32_t *zp, int zp_stride, void *packed);
void er_q8_gemm_6x16__avxvnni(int64_t K, const void *left, int64_t M, const void *right, int64_t N, int64_t m0,
                              int64_t m1, int64_t n0, int64_t n1, const er_q8_out *o, void *C, int64_t ldc);
/* AVX-VNNI channels-last depthwise (q8-dwconv-avxvnni.c) */
size_t er_q8_dw_pack_size__avxvnni(int64_t KH, int64_t KW, int64_t C);
void er_q8_dw_pack__avxvnni(int64_t KH, int64_t KW, int64_t C, const void *w, int is_signed, const int32_t *zp,
                            int zp_stride, void *packed);
size_t er_q8_dw_work_size__avxvnni(int64_t KH, int64_t KW, int64_t OW, int64_t C);
void er_q8_dwconv_nhwc__avxvnni(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, int64_t C,
                                const void *packed, int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph,
                                int64_t pw, int64_t dh, int64_t dw, const er_q8_out *o, void *out, int64_t OW,
                                int64_t oh0, int64_t oh1, void *work);
/* 4-bit weights (q4-gemm-4x16-avx2.c) */
void er_f32_q4_gemm_4x16__avx2(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint8_t *B,
                               int is_signed, const float *scale, const void *zp, int64_t block, const float *bias,
                               float *C, int64_t ldc, int64_t n0, int64_t n1);
/* AVX-512 VNNI GEMM (q8-gemm-avx512vnni.c) and its formats padded for AMX tiles (_16x64) */
size_t er_q8_pack_left_size__avx512vnni(int64_t M, int64_t K);
void er_q8_pack_left__avx512vnni(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk,
                                 const int32_t *zp, int zp_stride, void *packed);
size_t er_q8_pack_right_size_16__avx512vnni(int64_t K, int64_t N);
void er_q8_pack_right_16__avx512vnni(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn,
                                     const int32_t *zp, int zp_stride, void *packed);
size_t er_q8_pack_left_size_16x64__avx512vnni(int64_t M, int64_t K);
void er_q8_pack_left_16x64__avx512vnni(int64_t M, int64_t K, const void *src, int is_signed, int64_t sm, int64_t sk,
                                       const int32_t *zp, int zp_stride, void *packed);
size_t er_q8_pack_right_size_16x64__avx512vnni(int64_t K, int64_t N);
void er_q8_pack_right_16x64__avx512vnni(int64_t K, int64_t N, const void *src, int is_signed, int64_t sk, int64_t sn,
                                        const int32_t *zp, int zp_stride, void *packed);
void er_q8_gemm_8x32__avx512vnni(int64_t K, const void *left, int64_t M, const void *right, int64_t N, int64_t m0,
                                 int64_t m1, int64_t n0, int64_t n1, const er_q8_out *o, void *C, int64_t ldc);
/* AVX-512 VNNI channels-last depthwise, 64 channels per block (q8-dwconv-64-avx512vnni.c) */
size_t er_q8_dw_pack_size_64__avx512vnni(int64_t KH, int64_t KW, int64_t C);
void er_q8_dw_pack_64__avx512vnni(int64_t KH, int64_t KW, int64_t C, const void *w, int is_signed, const int32_t *zp,
                                  int zp_stride, void *packed);
size_t er_q8_dw_work_size_64__avx512vnni(int64_t KH, int64_t KW, int64_t OW, int64_t C);
void er_q8_dwconv_nhwc_64__avx512vnni(const void *in, int is_signed, int32_t xzp, int64_t H, int64_t W, int64_t C,
                                      const void *packed, int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t ph,
                                      int64_t pw, int64_t dh, int64_t dw, const er_q8_out *o, void *out, int64_t OW,
                                      int64_t oh0, int64_t oh1, void *work);
/* AMX tiles (q8-gemm-amx.c) on the _16x64 formats */
void er_q8_gemm_32x32__amx(int64_t K, const void *left, int64_t M, const void *right, int64_t N, int64_t m0,
                           int64_t m1, int64_t n0, int64_t n1, const er_q8_out *o, void *C, int64_t ldc);
/* Put the 8-bit entries of each ISA level into table t (the caller checked cpuid; AMX also
 * needs er_cpu_amx_enable()): AVX-VNNI (256-bit), AVX-512 VNNI, AMX (on the AVX-512 VNNI
 * entries). Used by the table selection and by tests that force a variant. */
void er_q8_use_avxvnni(er_microkernels *t);
void er_q8_use_avx512vnni(er_microkernels *t);
void er_q8_use_amx(er_microkernels *t);
#endif
