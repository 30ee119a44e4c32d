/* Packed float32 GEMV, 64 outputs per group (see f32-rnn.h). */
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/f32-rnn.h"

#define GROUP 64

static int64_t round8(int64_t n) { return (n + 7) & ~(int64_t)7; }

size_t er_f32_gemv_packed_size_64__avx2(int64_t N, int64_t K) {
  return (size_t)(round8(N) * K) * sizeof(float);
}

void er_f32_gemv_pack_64__avx2(int64_t N, int64_t K, const float *W, int64_t ldw, void *packed) {
  float *p = (float *)packed;
  int64_t np = round8(N);
  for (int64_t n0 = 0; n0 < np; n0 += GROUP) {
    int64_t w = np - n0 < GROUP ? np - n0 : GROUP;
    for (int64_t k = 0; k < K; k++)
      for (int64_t c = 0; c < w; c++) p[k * w + c] = n0 + c < N ? W[(n0 + c) * ldw + k] : 0.0f;
    p += w * K;
  }
}

static inline void store_vec(__m256 acc, const float *add, float *y, int64_t left) {
  if (left >= 8) {
    _mm256_storeu_ps(y, add ? _mm256_add_ps(_mm256_loadu_ps(add), acc) : acc);
  } else if (left > 0) {
    __m256i m = er_lanes_below_avx2(left);
    _mm256_maskstore_ps(y, m, add ? _mm256_add_ps(_mm256_maskload_ps(add, m), acc) : acc);
  }
}

/* One group of NV vectors (8 * NV outputs, `valid` of them real). NV is a constant at each
 * call site and the accumulators are named, so they stay in registers. */
#define ACC_STEP(v) \
  if (NV > v) a##v = _mm256_fmadd_ps(_mm256_loadu_ps(pk + 8 * v), xb, a##v)
#define ACC_STORE(v) \
  if (NV > v) store_vec(a##v, add ? add + 8 * v : 0, y + 8 * v, valid - 8 * v)
static inline __attribute__((always_inline)) void group(const int NV, int64_t K, const float *x,
                                                        const float *p, const float *add, float *y,
                                                        int64_t valid) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (int64_t k = 0; k < K; k++) {
    const __m256 xb = _mm256_broadcast_ss(x + k);
    const float *pk = p + k * 8 * NV;
    ACC_STEP(0); ACC_STEP(1); ACC_STEP(2); ACC_STEP(3);
    ACC_STEP(4); ACC_STEP(5); ACC_STEP(6); ACC_STEP(7);
  }
  ACC_STORE(0); ACC_STORE(1); ACC_STORE(2); ACC_STORE(3);
  ACC_STORE(4); ACC_STORE(5); ACC_STORE(6); ACC_STORE(7);
}

void er_f32_gemv_packed_64__avx2(int64_t N, int64_t K, const float *x, const void *packed,
                                 const float *add, float *y) {
  const float *p = (const float *)packed;
  int64_t np = round8(N);
  for (int64_t n0 = 0; n0 < np; n0 += GROUP) {
    int64_t w = np - n0 < GROUP ? np - n0 : GROUP, valid = N - n0 < w ? N - n0 : w;
    const float *a = add ? add + n0 : NULL;
    switch (w / 8) {
      case 8: group(8, K, x, p, a, y + n0, valid); break;
      case 7: group(7, K, x, p, a, y + n0, valid); break;
      case 6: group(6, K, x, p, a, y + n0, valid); break;
      case 5: group(5, K, x, p, a, y + n0, valid); break;
      case 4: group(4, K, x, p, a, y + n0, valid); break;
      case 3: group(3, K, x, p, a, y + n0, valid); break;
      case 2: group(2, K, x, p, a, y + n0, valid); break;
      default: group(1, K, x, p, a, y + n0, valid); break;
    }
    p += w * K;
  }
}
