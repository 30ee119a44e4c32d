/* Vector math of every micro-kernel table (f32_vunary: kernels/vmath.h) against double
 * libm over a sweep of float32 values (every 4099th bit pattern, a dense grid on
 * [-12, 12], special values), with the error bounds documented in kernels/vmath.h; and
 * f32_softmax / f32_layernorm rows against double-precision formulas. */
#include <float.h>
#include <string.h>

#include "kernels/kernel.h"
#include "kernels/vmath.h"
#include "optest.h"
#include "test.h"
#include "xf_util.h"

static double d_sigmoid(double x) { return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)); }
static double d_gelu(double x) { return 0.5 * x * erfc(-x / sqrt(2.0)); }
static double d_gelu_tanh(double x) {
  double u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return x * d_sigmoid(2 * u);
}
static double d_silu(double x) { return x * d_sigmoid(x); }

/* Size of one unit in the last place of the float32 nearest to r. */
static double ulp_of(double r) {
  float f = (float)fabs(r);
  if (f < FLT_MIN) return ldexp(1, -149);
  int e;
  frexp(f, &e);
  return ldexp(1, e - 24);
}

/* Bounds: for x >= lo with a normal result, max_ulp units in the last place; otherwise
 * (x < lo, or a result that overflows or is below FLT_MIN) the larger of tail_rel * |y| and
 * tail_steps * 2^-149. */
typedef struct {
  int fn;
  const char *name;
  double (*ref)(double);
  double lo, max_ulp, tail_rel, tail_steps;
} vm_case;

static const vm_case k_cases[] = {
    {ER_VF_EXP, "exp", exp, -1e30, 2, 0, 1},
    {ER_VF_ERF, "erf", erf, -1e30, 3, 0, 1},
    {ER_VF_TANH, "tanh", tanh, -1e30, 3, 0, 1},
    {ER_VF_SIGMOID, "sigmoid", d_sigmoid, -1e30, 4, 0, 1},
    {ER_VF_GELU, "gelu", d_gelu, -3, 10, 5e-5, 16},
    {ER_VF_GELU_TANH, "gelu_tanh", d_gelu_tanh, -3, 16, 2e-5, 16},
    {ER_VF_SILU, "silu", d_silu, -87, 4, 3e-6, 128},
};

/* Checks y = f(x) over n values; returns 0 if a bound is broken (and prints). */
static int check_values(const er_microkernels *t, const vm_case *c, const float *x, float *y,
                        int64_t n) {
  t->f32_vunary(c->fn, x, y, n);
  int ok = 1;
  for (int64_t i = 0; i < n; i++) {
    double r = c->ref((double)x[i]);
    float rf = (float)r;
    if (isnan(r) || isnan(y[i])) {
      if (isnan(r) != isnan(y[i])) {
        fprintf(stderr, "  %s %s(%.9g) = %.9g, expected %.9g\n", t->isa, c->name, x[i], y[i], r);
        ok = 0;
      }
      continue;
    }
    if (y[i] == rf) continue;
    double e = fabs((double)y[i] - r), tol;
    if (x[i] >= c->lo && !isinf(rf) && fabs(r) >= FLT_MIN) tol = c->max_ulp * ulp_of(r);
    else tol = fmax(c->tail_rel * fabs(r), c->tail_steps * ldexp(1, -149));
    if (!(e <= tol)) {
      fprintf(stderr, "  %s %s(%.9g) = %.9g, expected %.9g (%.2f ulp)\n", t->isa, c->name, x[i],
              y[i], r, e / ulp_of(r));
      ok = 0;
    }
  }
  return ok;
}

TEST(vmath_functions_vs_libm) {
  const er_microkernels *tabs[4];
  int nt = xf_tables(tabs);
  enum { CHUNK = 4096 };
  float *x = (float *)malloc(CHUNK * sizeof(float)), *y = (float *)malloc(CHUNK * sizeof(float));
  for (int ti = 0; ti < nt; ti++)
    for (size_t k = 0; k < sizeof k_cases / sizeof k_cases[0]; k++) {
      const vm_case *c = &k_cases[k];
      int ok = 1, m = 0;
      /* every 4099th bit pattern (all exponents, both signs) */
      for (uint64_t b = 0; b < (UINT64_C(1) << 32) && ok; b += 4099) {
        x[m++] = er_vm_bitsf((uint32_t)b);
        if (m == CHUNK) ok = check_values(tabs[ti], c, x, y, m), m = 0;
      }
      /* dense grid where the functions bend, including both branch points */
      for (int64_t i = 0; i <= 600000 && ok; i++) {
        x[m++] = (float)(-12.0 + 24.0 * (double)i / 600000.0);
        if (m == CHUNK) ok = check_values(tabs[ti], c, x, y, m), m = 0;
      }
      const float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, FLT_MIN, -FLT_MIN,
                          1e-45f, -1e-45f, FLT_MAX, -FLT_MAX, 88.72283f, 88.7229f, -87.33655f,
                          -103.97f, -104.0f, 0.875f * 1.41421356f, 0.55f, 0.875f, 1e-20f};
      for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) x[m++] = sp[i];
      if (ok) ok = check_values(tabs[ti], c, x, y, m);
      if (!ok) fprintf(stderr, "  table %s: %s out of bounds\n", tabs[ti]->isa, c->name);
      CHECK(ok);
      /* in place and odd lengths (vector tails) give the same values */
      float a[37], b[37];
      for (int i = 0; i < 37; i++) a[i] = b[i] = (float)(i - 18) * 0.37f;
      for (int len = 0; len <= 37; len++) {
        tabs[ti]->f32_vunary(c->fn, b, b, len);
        float z[37];
        tabs[ti]->f32_vunary(c->fn, a, z, 37);
        for (int i = 0; i < 37; i++) {
          if (i < len) CHECK(memcmp(&b[i], &z[i], sizeof(float)) == 0);
          else CHECK(b[i] == a[i]);
          b[i] = a[i];
        }
      }
    }
  free(x);
  free(y);
}

static uint32_t g_rng = 777;
static float frand(void) {
  g_rng = g_rng * 1664525u + 1013904223u;
  return (float)((g_rng >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}

TEST(vmath_softmax_rows) {
  const er_microkernels *tabs[4];
  int nt = xf_tables(tabs);
  const int64_t ns[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 128, 129, 1000};
  const float scales[] = {1.0f, 0.125f, 3.0f, -0.5f};
  for (int ti = 0; ti < nt; ti++)
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
      for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++)
        for (int lg = 0; lg < 2; lg++) {
          int64_t n = ns[a], rows = 3, ld = n + 5;
          float *x = (float *)malloc(sizeof(float) * (size_t)(rows * ld));
          float *y = (float *)malloc(sizeof(float) * (size_t)(rows * ld));
          for (int64_t i = 0; i < rows * ld; i++) x[i] = 20.0f * frand(), y[i] = -7.0f;
          float sc = scales[si];
          tabs[ti]->f32_softmax(x, ld, y, ld, rows, n, sc, lg);
          /* Error in ulp of the result beyond what rounding the float argument
           * scale * x - max costs: that rounding (up to ulp(|scale x|) + ulp(|max|)) is an
           * absolute error of the exponent, i.e. a relative error of the result, which
           * any expf-based float kernel has as well. */
          double worst = 0;
          for (int64_t r = 0; r < rows; r++) {
            double m = -INFINITY, s = 0;
            for (int64_t i = 0; i < n; i++) m = fmax(m, (double)sc * x[r * ld + i]);
            for (int64_t i = 0; i < n; i++) s += exp((double)sc * x[r * ld + i] - m);
            for (int64_t i = 0; i < n; i++) {
              double sx = (double)sc * x[r * ld + i], v = sx - m;
              double arg = ulp_of(sx) + ulp_of(m); /* absolute error of the argument */
              double ref = lg ? v - log(s) : exp(v) / s;
              if (!lg && ref < 1.3e-38) { /* flushed to 0 near and below FLT_MIN */
                CHECK(fabs(y[r * ld + i] - ref) <= FLT_MIN);
                continue;
              }
              double e = lg ? (fabs(y[r * ld + i] - ref) - arg) / ulp_of(fmax(1.0, fabs(ref)))
                            : (fabs(y[r * ld + i] - ref) - arg * ref) / ulp_of(ref);
              if (e > worst) worst = e;
            }
            for (int64_t i = n; i < ld; i++) CHECK(y[r * ld + i] == -7.0f); /* padding untouched */
          }
          /* few ulp: exp (2) + sum rounding (n * eps / 8 partial sums) + scaling */
          double bound = lg ? 8 : 6 + (double)n / 64;
          if (!(worst <= bound))
            fprintf(stderr, "  %s softmax n=%lld scale=%g log=%d: %.2f ulp\n", tabs[ti]->isa,
                    (long long)n, sc, lg, worst);
          CHECK(worst <= bound);
          /* in place */
          memcpy(y, x, sizeof(float) * (size_t)(rows * ld));
          tabs[ti]->f32_softmax(y, ld, y, ld, rows, n, sc, lg);
          float *z = (float *)malloc(sizeof(float) * (size_t)(rows * ld));
          tabs[ti]->f32_softmax(x, ld, z, ld, rows, n, sc, lg);
          for (int64_t r = 0; r < rows; r++)
            CHECK(memcmp(y + r * ld, z + r * ld, sizeof(float) * (size_t)n) == 0);
          free(x), free(y), free(z);
        }
  /* NaN in a row makes the row NaN; +inf too (inf - inf), like the expf-based kernel */
  for (int ti = 0; ti < nt; ti++) {
    float x[10] = {1, 2, NAN, 4, 5, 6, 7, 8, 9, 10}, y[10];
    tabs[ti]->f32_softmax(x, 10, y, 10, 1, 10, 1.0f, 0);
    for (int i = 0; i < 10; i++) CHECK(isnan(y[i]));
    float u[3] = {-INFINITY, 0.0f, 1.0f}, v[3];
    tabs[ti]->f32_softmax(u, 3, v, 3, 1, 3, 1.0f, 0);
    CHECK(v[0] == 0.0f);
    CHECK_NEAR(v[1] + v[2], 1.0, 1e-6);
  }
}

TEST(vmath_layernorm_rows) {
  const er_microkernels *tabs[4];
  int nt = xf_tables(tabs);
  const int64_t ns[] = {1, 2, 7, 8, 9, 16, 17, 33, 312, 1001};
  for (int ti = 0; ti < nt; ti++)
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
      for (int with_bias = 0; with_bias < 2; with_bias++) {
        int64_t n = ns[a], rows = 4;
        float *x = (float *)malloc(sizeof(float) * (size_t)(rows * n));
        float *y = (float *)malloc(sizeof(float) * (size_t)(rows * n));
        float *sc = (float *)malloc(sizeof(float) * (size_t)n);
        float *bi = (float *)malloc(sizeof(float) * (size_t)n);
        for (int64_t i = 0; i < rows * n; i++) x[i] = 3.0f + 2.0f * frand();
        for (int64_t i = 0; i < n; i++) sc[i] = frand(), bi[i] = frand();
        float mean[4], istd[4];
        tabs[ti]->f32_layernorm(x, y, rows, n, sc, with_bias ? bi : NULL, 1e-5f, mean, istd);
        for (int64_t r = 0; r < rows; r++) {
          double m = 0, v = 0;
          for (int64_t i = 0; i < n; i++) m += x[r * n + i];
          m /= (double)n;
          for (int64_t i = 0; i < n; i++) v += (x[r * n + i] - m) * (x[r * n + i] - m);
          v /= (double)n;
          double is = 1 / sqrt(v + 1e-5);
          CHECK_NEAR(mean[r], m, 1e-5);
          CHECK_NEAR(istd[r], is, 1e-5 * is);
          for (int64_t i = 0; i < n; i++) {
            double ref = (x[r * n + i] - m) * is * sc[i] + (with_bias ? bi[i] : 0);
            CHECK_NEAR(y[r * n + i], ref, 2e-5);
          }
        }
        free(x), free(y), free(sc), free(bi);
      }
}
