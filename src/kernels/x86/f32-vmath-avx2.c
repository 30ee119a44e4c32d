/* AVX2/FMA entries f32_vunary, f32_softmax and f32_layernorm (see kernels/dispatch.h):
 * 8 floats per step with the approximations of vmath-simd.h, tails through masked loads
 * and stores. */
#define ER_VW 8
#include "kernels/x86/f32-vmath.h"

#include <math.h>

#include "kernels/x86/vmath-simd.h"

static const int32_t k_mask_tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static inline __m256i tail_mask(int64_t n) { /* lanes [0, n) for n in [0, 8] */
  return _mm256_loadu_si256((const __m256i *)(k_mask_tab + 8 - n));
}

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

#define UNARY_LOOP(F)                                                  \
  do {                                                                 \
    int64_t i = 0;                                                     \
    for (; i + 16 <= n; i += 16) {                                     \
      __m256 a = F(_mm256_loadu_ps(x + i)), b = F(_mm256_loadu_ps(x + i + 8)); \
      _mm256_storeu_ps(y + i, a);                                      \
      _mm256_storeu_ps(y + i + 8, b);                                  \
    }                                                                  \
    for (; i < n; i += 8) {                                            \
      const __m256i m = tail_mask(n - i < 8 ? n - i : 8);              \
      _mm256_maskstore_ps(y + i, m, F(_mm256_maskload_ps(x + i, m)));  \
    }                                                                  \
  } while (0)

void er_f32_vunary__avx2(int fn, const float *x, float *y, int64_t n) {
  switch (fn) {
    case ER_VF_EXP: UNARY_LOOP(vm_exp); break;
    case ER_VF_ERF: UNARY_LOOP(vm_erf); break;
    case ER_VF_TANH: UNARY_LOOP(vm_tanh); break;
    case ER_VF_SIGMOID: UNARY_LOOP(vm_sigmoid); break;
    case ER_VF_GELU: UNARY_LOOP(vm_gelu); break;
    case ER_VF_GELU_TANH: UNARY_LOOP(vm_gelu_tanh); break;
    case ER_VF_SILU: UNARY_LOOP(vm_silu); break;
    default:
      if (y != x)
        for (int64_t i = 0; i < n; i++) y[i] = x[i];
      break;
  }
}

void er_f32_softmax__avx2(const float *x, int64_t ldx, float *y, int64_t ldy, int64_t rows,
                          int64_t n, float scale, int log_) {
  if (n <= 0) return;
  const __m256 vs = _mm256_set1_ps(scale), ninf = _mm256_set1_ps(-INFINITY);
  const int64_t nv = n & ~(int64_t)7, tail = n - nv;
  const __m256i tm = tail_mask(tail);
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * ldx;
    float *yr = y + r * ldy;
    __m256 m0 = ninf, m1 = ninf;
    int64_t i = 0;
    for (; i + 16 <= nv; i += 16) {
      m0 = _mm256_max_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(xr + i)), m0); /* NaN: ignored */
      m1 = _mm256_max_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(xr + i + 8)), m1);
    }
    if (i < nv) m0 = _mm256_max_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(xr + i)), m0);
    if (tail) {
      __m256 v = _mm256_mul_ps(vs, _mm256_maskload_ps(xr + nv, tm));
      m1 = _mm256_max_ps(_mm256_blendv_ps(ninf, v, _mm256_castsi256_ps(tm)), m1);
    }
    const __m256 vm = _mm256_set1_ps(hmax(_mm256_max_ps(m0, m1)));
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    if (log_) {
      for (i = 0; i + 16 <= nv; i += 16) {
        s0 = _mm256_add_ps(s0, vm_exp(_mm256_fmsub_ps(vs, _mm256_loadu_ps(xr + i), vm)));
        s1 = _mm256_add_ps(s1, vm_exp(_mm256_fmsub_ps(vs, _mm256_loadu_ps(xr + i + 8), vm)));
      }
      if (i < nv) s0 = _mm256_add_ps(s0, vm_exp(_mm256_fmsub_ps(vs, _mm256_loadu_ps(xr + i), vm)));
      if (tail) {
        __m256 e = vm_exp(_mm256_fmsub_ps(vs, _mm256_maskload_ps(xr + nv, tm), vm));
        s1 = _mm256_add_ps(s1, _mm256_and_ps(e, _mm256_castsi256_ps(tm)));
      }
      const __m256 lse = _mm256_set1_ps(logf(hsum(_mm256_add_ps(s0, s1))));
      for (i = 0; i < nv; i += 8)
        _mm256_storeu_ps(yr + i, _mm256_sub_ps(_mm256_fmsub_ps(vs, _mm256_loadu_ps(xr + i), vm), lse));
      if (tail)
        _mm256_maskstore_ps(yr + nv, tm,
                            _mm256_sub_ps(_mm256_fmsub_ps(vs, _mm256_maskload_ps(xr + nv, tm), vm), lse));
      continue;
    }
    for (i = 0; i + 16 <= nv; i += 16) {
      __m256 e0 = vm_exp(_mm256_fmsub_ps(vs, _mm256_loadu_ps(xr + i), vm));
      __m256 e1 = vm_exp(_mm256_fmsub_ps(vs, _mm256_loadu_ps(xr + i + 8), vm));
      _mm256_storeu_ps(yr + i, e0);
      _mm256_storeu_ps(yr + i + 8, e1);
      s0 = _mm256_add_ps(s0, e0);
      s1 = _mm256_add_ps(s1, e1);
    }
    if (i < nv) {
      __m256 e0 = vm_exp(_mm256_fmsub_ps(vs, _mm256_loadu_ps(xr + i), vm));
      _mm256_storeu_ps(yr + i, e0);
      s0 = _mm256_add_ps(s0, e0);
    }
    if (tail) {
      __m256 e = _mm256_and_ps(vm_exp(_mm256_fmsub_ps(vs, _mm256_maskload_ps(xr + nv, tm), vm)),
                               _mm256_castsi256_ps(tm));
      _mm256_maskstore_ps(yr + nv, tm, e);
      s1 = _mm256_add_ps(s1, e);
    }
    const __m256 inv = _mm256_set1_ps(1.0f / hsum(_mm256_add_ps(s0, s1)));
    for (i = 0; i < nv; i += 8) _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_loadu_ps(yr + i), inv));
    if (tail) _mm256_maskstore_ps(yr + nv, tm, _mm256_mul_ps(_mm256_maskload_ps(yr + nv, tm), inv));
  }
}

void er_f32_layernorm__avx2(const float *x, float *y, int64_t rows, int64_t n, const float *scale,
                            const float *bias, float eps, float *mean, float *istd) {
  if (n <= 0) return;
  const int64_t nv = n & ~(int64_t)7, tail = n - nv;
  const __m256i tm = tail_mask(tail);
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= nv; i += 16) {
      s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + i));
      s1 = _mm256_add_ps(s1, _mm256_loadu_ps(xr + i + 8));
    }
    if (i < nv) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + i));
    if (tail) s1 = _mm256_add_ps(s1, _mm256_maskload_ps(xr + nv, tm));
    const float mu = hsum(_mm256_add_ps(s0, s1)) / (float)n;
    const __m256 vmu = _mm256_set1_ps(mu);
    s0 = s1 = _mm256_setzero_ps();
    for (i = 0; i + 16 <= nv; i += 16) {
      __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(xr + i), vmu);
      __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(xr + i + 8), vmu);
      s0 = _mm256_fmadd_ps(d0, d0, s0);
      s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    if (i < nv) {
      __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(xr + i), vmu);
      s0 = _mm256_fmadd_ps(d0, d0, s0);
    }
    if (tail) {
      __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + nv, tm), vmu),
                               _mm256_castsi256_ps(tm));
      s1 = _mm256_fmadd_ps(d, d, s1);
    }
    const float var = hsum(_mm256_add_ps(s0, s1)) / (float)n;
    const float is = 1.0f / sqrtf(var + eps);
    if (mean) mean[r] = mu;
    if (istd) istd[r] = is;
    const __m256 vis = _mm256_set1_ps(is);
    for (i = 0; i < nv; i += 8) {
      __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vmu), vis);
      __m256 b = bias ? _mm256_loadu_ps(bias + i) : _mm256_setzero_ps();
      _mm256_storeu_ps(yr + i, _mm256_fmadd_ps(t, _mm256_loadu_ps(scale + i), b));
    }
    if (tail) {
      __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + nv, tm), vmu), vis);
      __m256 b = bias ? _mm256_maskload_ps(bias + nv, tm) : _mm256_setzero_ps();
      _mm256_maskstore_ps(yr + nv, tm, _mm256_fmadd_ps(t, _mm256_maskload_ps(scale + nv, tm), b));
    }
  }
}
