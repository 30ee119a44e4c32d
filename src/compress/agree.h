/*
 * Output agreement between two models (host code): accumulated over samples, per output.
 * Used by `edgerun compare` (and usable by the quantization report).
 *
 *   er_agree g = {0};
 *   for each sample: er_agree_add(&g, &a_out, &b_out);   (same shape; any numeric dtype)
 *   er_agree_cosine(&g), g.max_abs, er_agree_mean_abs(&g), g.top1_same / g.rows
 */
#ifndef ER_COMPRESS_AGREE_H
#define ER_COMPRESS_AGREE_H
#include <stdint.h>
#include "base/tensor.h"

typedef struct er_agree {
  int64_t n;            /* elements compared (finite in both) */
  double max_abs;       /* max |a - b| */
  double sum_abs;       /* sum |a - b| */
  double dot, aa, bb;   /* for the cosine similarity */
  int64_t nonfinite;    /* elements where a or b is NaN/Inf and they differ */
  int64_t rows;         /* class-score rows seen (0: not shaped like class scores) */
  int64_t top1_same;    /* rows whose arg-max agrees */
} er_agree;

/* Number of classes if t is shaped like class scores — a float tensor [C], [N,C] or
 * [N,1,...,1,C] with C >= 2 and N <= C — else 0 (sequences [N,T,C] are not counted: hidden
 * states have that shape too). Rows are the N. */
int64_t er_agree_classes(const er_tensor *t);
/* Add one sample's pair of outputs (same shape and element count; checked by the caller). */
void er_agree_add(er_agree *g, const er_tensor *a, const er_tensor *b);
double er_agree_mean_abs(const er_agree *g);
/* 1 when both are all zero, 0 when only one is. */
double er_agree_cosine(const er_agree *g);
#endif
