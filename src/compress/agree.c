/* Output agreement statistics (see agree.h). */
#include "compress/agree.h"

#include <math.h>

#include "base/dtype.h"

int64_t er_agree_classes(const er_tensor *t) {
  if (!er_dtype_is_float(t->dtype) || t->rank < 1) return 0;
  int64_t c = t->dims[t->rank - 1];
  if (c < 2) return 0;
  for (int d = 0; d < t->rank - 1; d++) /* [C], [N,C], [N,1,...,1,C] */
    if ((d > 0 && t->dims[d] != 1) || t->dims[d] > c) return 0;
  return c;
}

void er_agree_add(er_agree *g, const er_tensor *a, const er_tensor *b) {
  int64_t n = er_tensor_numel(a);
  for (int64_t i = 0; i < n; i++) {
    double x = er_ld(a->data, a->dtype, i), y = er_ld(b->data, b->dtype, i);
    if (!isfinite(x) || !isfinite(y)) {
      int same = (isnan(x) && isnan(y)) || x == y;
      if (!same) g->nonfinite++;
      continue;
    }
    double d = fabs(x - y);
    if (d > g->max_abs) g->max_abs = d;
    g->sum_abs += d;
    g->dot += x * y;
    g->aa += x * x;
    g->bb += y * y;
    g->n++;
  }
  int64_t c = er_agree_classes(a);
  if (!c || c != er_agree_classes(b)) return;
  for (int64_t r = 0; r < n / c; r++) {
    int64_t ia = 0, ib = 0;
    for (int64_t k = 1; k < c; k++) {
      if (er_ld(a->data, a->dtype, r * c + k) > er_ld(a->data, a->dtype, r * c + ia)) ia = k;
      if (er_ld(b->data, b->dtype, r * c + k) > er_ld(b->data, b->dtype, r * c + ib)) ib = k;
    }
    g->rows++;
    g->top1_same += ia == ib;
  }
}

double er_agree_mean_abs(const er_agree *g) { return g->n ? g->sum_abs / (double)g->n : 0.0; }

double er_agree_cosine(const er_agree *g) {
  if (g->aa == 0 && g->bb == 0) return 1.0;
  if (g->aa == 0 || g->bb == 0) return 0.0;
  return g->dot / (sqrt(g->aa) * sqrt(g->bb));
}
