/* er_f32_nhwc_pack__avx2: the reference packer's contract and output (kernels/ref/nhwc_mk.c;
 * the format of kernels/ref/nhwc_mk.h), with 8x8 register transposes for the start-up cost
 * of channels-last weights. Pure data movement: the same bits as the reference.
 *   - rows contiguous in k (conv weights [N][kin][taps] or [N][K]: source offset of (k, j)
 *     is j*sn + q with q = c*T + t, k = t*kin + c): 8 columns x 8 consecutive q per transpose;
 *   - columns contiguous (row-major K x N, sn = 1): 16 floats per k copied whole;
 * any other layout, and the last panel when N is not a multiple of 16, go to the reference. */
#include "kernels/ref/nhwc_mk.h"
#include "kernels/x86/f32-nhwc.h"
#include "kernels/x86/x32-transpose.h"

enum { NR = 16 };

void er_f32_nhwc_pack__avx2(int64_t K, int64_t N, const float *src, int64_t sn, int64_t kin, int64_t sc,
                            int64_t st, void *packed) {
  if (K <= 0 || N <= 0 || kin <= 0) return;
  const int64_t T = (K + kin - 1) / kin;
  const int contiguous = sc == T && (T == 1 || st == 1) && T * kin == K;
  const int rowmajor = sn == 1 && T == 1 && !contiguous;
  float *p = (float *)packed;
  const int64_t full = N / NR * NR;
  if (contiguous || rowmajor) {
    for (int64_t j0 = 0; j0 < full; j0 += NR, p += K * NR) {
      const float *s0 = src + j0 * sn;
      if (rowmajor) {
        for (int64_t k = 0; k < K; k++) {
          _mm256_storeu_ps(p + k * NR, _mm256_loadu_ps(s0 + k * sc));
          _mm256_storeu_ps(p + k * NR + 8, _mm256_loadu_ps(s0 + k * sc + 8));
        }
        continue;
      }
      const int64_t K8 = K & ~(int64_t)7;
      for (int64_t q0 = 0; q0 < K8; q0 += 8)
        for (int h = 0; h < 2; h++) {
          if (T == 1) { /* k = q: straight into the panel's rows */
            er_x32_block8x8(s0 + h * 8 * sn + q0, sn, p + q0 * NR + h * 8, NR);
            continue;
          }
          float tmp[64];
          er_x32_block8x8(s0 + h * 8 * sn + q0, sn, tmp, 8);
          for (int i = 0; i < 8; i++) {
            const int64_t q = q0 + i, c = q / T, k = (q - c * T) * kin + c;
            _mm256_storeu_ps(p + k * NR + h * 8, _mm256_loadu_ps(tmp + 8 * i));
          }
        }
      for (int64_t q = K8; q < K; q++) {
        const int64_t c = q / T, k = (q - c * T) * kin + c;
        for (int j = 0; j < NR; j++) p[k * NR + j] = s0[j * sn + q];
      }
    }
  } else {
    er_f32_nhwc_pack__ref(K, full, src, sn, kin, sc, st, packed);
    p += (full / NR) * K * NR;
  }
  if (full < N) er_f32_nhwc_pack__ref(K, N - full, src + full * sn, sn, kin, sc, st, p);
}
