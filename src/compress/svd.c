/* One-sided Jacobi SVD (see svd.h). The working matrix is column-major so that the inner
 * loops (dot products and plane rotations of two columns) run over contiguous memory. */
#include "compress/svd.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif

/* Four partial sums (a fixed order, so results do not depend on the vector width). */
static double dot(const double *x, const double *y, int n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i] * y[i];
    s1 += x[i + 1] * y[i + 1];
    s2 += x[i + 2] * y[i + 2];
    s3 += x[i + 3] * y[i + 3];
  }
  for (; i < n; i++) s0 += x[i] * y[i];
  return (s0 + s1) + (s2 + s3);
}

static void rotate(double *x, double *y, int n, double c, double s) {
  for (int i = 0; i < n; i++) {
    double a = x[i], b = y[i];
    x[i] = c * a - s * b;
    y[i] = s * a + c * b;
  }
}

/* Orthogonalize the `cols` columns (each `rows` long) of g, applying the same rotations
 * to the columns of v (cols x cols, starting from the identity). Returns 0 when converged. */
static int jacobi(double *g, int rows, int cols, double *v, double *norm2) {
  const double tol = DBL_EPSILON * (rows > 8 ? rows : 8);
  for (int j = 0; j < cols; j++) v[(size_t)j * cols + j] = 1;
  for (int sweep = 0; sweep < 60; sweep++) {
    for (int j = 0; j < cols; j++) norm2[j] = dot(g + (size_t)j * rows, g + (size_t)j * rows, rows);
    int rotated = 0;
    for (int p = 0; p < cols - 1; p++) {
      double *gp = g + (size_t)p * rows;
      for (int q = p + 1; q < cols; q++) {
        double *gq = g + (size_t)q * rows;
        double alpha = norm2[p], beta = norm2[q];
        if (alpha == 0 || beta == 0) continue;
        double gamma = dot(gp, gq, rows);
        if (fabs(gamma) <= tol * sqrt(alpha * beta)) continue;
        rotated = 1;
        double zeta = (beta - alpha) / (2 * gamma);
        double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1 + zeta * zeta));
        double c = 1 / sqrt(1 + t * t), s = c * t;
        rotate(gp, gq, rows, c, s);
        rotate(v + (size_t)p * cols, v + (size_t)q * cols, cols, c, s);
        norm2[p] = alpha - t * gamma;
        norm2[q] = beta + t * gamma;
      }
    }
    if (!rotated) return 0;
  }
  return 1;
}

typedef struct sv_idx {
  double s;
  int j;
} sv_idx;

static int cmp_desc(const void *a, const void *b) {
  const sv_idx *x = (const sv_idx *)a, *y = (const sv_idx *)b;
  if (x->s != y->s) return x->s < y->s ? 1 : -1;
  return x->j - y->j;
}

int er_svd(const double *a, int m, int n, double *u, double *s, double *v) {
  /* Work on the orientation with rows >= cols: A itself (m >= n) or A^T. */
  int tall = m >= n;
  int rows = tall ? m : n, cols = tall ? n : m;
  double *g = (double *)malloc(sizeof(double) * (size_t)rows * (size_t)cols);
  double *w = (double *)calloc((size_t)cols * (size_t)cols, sizeof(double));
  double *norm2 = (double *)malloc(sizeof(double) * (size_t)(cols + 1));
  sv_idx *order = (sv_idx *)malloc(sizeof(sv_idx) * (size_t)(cols + 1));
  if (!g || !w || !norm2 || !order) {
    free(g);
    free(w);
    free(norm2);
    free(order);
    return -1;
  }
  /* column j of g: column j of A (tall) or row j of A (wide) */
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double x = a[(size_t)i * n + j];
      if (tall) g[(size_t)j * rows + i] = x;
      else g[(size_t)i * rows + j] = x;
    }
  int rc = jacobi(g, rows, cols, w, norm2);
  for (int j = 0; j < cols; j++) {
    order[j].s = sqrt(dot(g + (size_t)j * rows, g + (size_t)j * rows, rows));
    order[j].j = j;
  }
  qsort(order, (size_t)cols, sizeof(sv_idx), cmp_desc);
  /* G = X W with orthogonal columns: X = (G/S) S W^T. Tall: U = G/S, V = W. Wide: the
   * roles swap (A^T = (G/S) S W^T, so A = W S (G/S)^T). */
  double *left = tall ? u : v, *right = tall ? v : u;
  for (int k = 0; k < cols; k++) {
    int j = order[k].j;
    double sk = order[k].s;
    s[k] = sk;
    const double *gj = g + (size_t)j * rows;
    for (int i = 0; i < rows; i++) left[(size_t)i * cols + k] = sk > 0 ? gj[i] / sk : 0;
    const double *wj = w + (size_t)j * cols;
    for (int i = 0; i < cols; i++) right[(size_t)i * cols + k] = wj[i];
  }
  free(g);
  free(w);
  free(norm2);
  free(order);
  return rc;
}
