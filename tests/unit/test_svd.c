/* compress/svd.c: known singular values, and for random, tall, wide, tiny and rank-deficient
 * matrices: A = U S V^T, orthonormal U and V, S descending. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compress/svd.h"
#include "test.h"

static double frand(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(*s >> 11) / 9007199254740992.0 * 2 - 1;
}

/* Check one decomposition; returns the relative reconstruction error. */
static double check_svd(int *er_failed_, const double *a, int m, int n, double *out_s) {
  int k = m < n ? m : n;
  double *u = (double *)malloc(sizeof(double) * (size_t)m * k);
  double *v = (double *)malloc(sizeof(double) * (size_t)n * k);
  double *s = (double *)malloc(sizeof(double) * (size_t)k);
  CHECK(er_svd(a, m, n, u, s, v) == 0);
  double err = 0, norm = 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double r = 0;
      for (int p = 0; p < k; p++) r += u[(size_t)i * k + p] * s[p] * v[(size_t)j * k + p];
      double d = a[(size_t)i * n + j] - r;
      err += d * d;
      norm += a[(size_t)i * n + j] * a[(size_t)i * n + j];
    }
  double rel = norm > 0 ? sqrt(err / norm) : sqrt(err);
  CHECK(rel < 1e-12);
  for (int p = 0; p < k; p++) {
    CHECK(s[p] >= 0);
    if (p) CHECK(s[p] <= s[p - 1]);
  }
  /* orthonormal columns where the singular value is not ~0 */
  double smax = s[0];
  for (int p = 0; p < k; p++)
    for (int q = 0; q <= p; q++) {
      double du = 0, dv = 0;
      for (int i = 0; i < m; i++) du += u[(size_t)i * k + p] * u[(size_t)i * k + q];
      for (int i = 0; i < n; i++) dv += v[(size_t)i * k + p] * v[(size_t)i * k + q];
      if (s[p] > 1e-10 * smax && s[q] > 1e-10 * smax) {
        CHECK_NEAR(du, p == q ? 1 : 0, 1e-12);
        CHECK_NEAR(dv, p == q ? 1 : 0, 1e-12);
      }
    }
  if (out_s) memcpy(out_s, s, sizeof(double) * (size_t)k);
  free(u);
  free(v);
  free(s);
  return rel;
}

TEST(svd_known_values) {
  const double a[9] = {1, 2, 3, 4, 5, 6, 7, 8, 10};
  double s[3];
  check_svd(er_failed_, a, 3, 3, s);
  CHECK_NEAR(s[0], 17.41250517, 1e-7);
  CHECK_NEAR(s[1], 0.87516135, 1e-7);
  CHECK_NEAR(s[2], 0.19686652, 1e-7);
  const double w[8] = {2, 0, 1, -1, 0, 3, 1, 2}; /* wide 2 x 4 */
  check_svd(er_failed_, w, 2, 4, s);
  CHECK_NEAR(s[0], 3.75807206, 1e-7);
  CHECK_NEAR(s[1], 2.42423068, 1e-7);
  const double d[6] = {3, 0, 0, -4, 0, 0}; /* 3 x 2: singular values 4, 3 */
  check_svd(er_failed_, d, 3, 2, s);
  CHECK_NEAR(s[0], 4, 1e-14);
  CHECK_NEAR(s[1], 3, 1e-14);
}

TEST(svd_random_shapes) {
  static const int shapes[][2] = {{1, 1}, {1, 7}, {7, 1}, {2, 2}, {5, 3}, {3, 5}, {16, 16}, {40, 17}, {17, 40}, {96, 64}};
  uint64_t seed = 7;
  for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
    int m = shapes[t][0], n = shapes[t][1];
    double *a = (double *)malloc(sizeof(double) * (size_t)m * n);
    for (int i = 0; i < m * n; i++) a[i] = frand(&seed);
    check_svd(er_failed_, a, m, n, NULL);
    free(a);
  }
}

TEST(svd_rank_deficient_and_zero) {
  /* 6 x 5 of rank 2: two outer products */
  uint64_t seed = 3;
  double x[2][6], y[2][5], a[30];
  for (int r = 0; r < 2; r++) {
    for (int i = 0; i < 6; i++) x[r][i] = frand(&seed);
    for (int j = 0; j < 5; j++) y[r][j] = frand(&seed);
  }
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 5; j++) a[i * 5 + j] = x[0][i] * y[0][j] + x[1][i] * y[1][j];
  double s[5];
  check_svd(er_failed_, a, 6, 5, s);
  CHECK(s[1] > 1e-3);
  for (int k = 2; k < 5; k++) CHECK(s[k] < 1e-12 * s[0]);
  double z[12] = {0};
  check_svd(er_failed_, z, 3, 4, s);
  CHECK(s[0] == 0 && s[2] == 0);
}
