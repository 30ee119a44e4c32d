/* Helpers shared by the compression passes (prune.c, factorize.c). Host code. */
#ifndef ER_COMPRESS_COMMON_H
#define ER_COMPRESS_COMMON_H
#include <stdint.h>
#include "opt/ir_edit.h"

/* A constant value: an initializer or the `value` of a Constant node. */
typedef struct cmp_const {
  int dtype, rank;
  const int64_t *dims;
  const void *data;
} cmp_const;

/* 1 and *out filled if value v is a constant. */
int cmp_const_view(const opt_ctx *c, int v, cmp_const *out);
/* float32 data of a constant v of rank >= min_rank (NULL otherwise). */
const float *cmp_const_f32(const opt_ctx *c, int v, int min_rank, cmp_const *out);
static inline int64_t cmp_numel(const cmp_const *t) { return er_shape_numel(t->dims, t->rank); }
/* Remove Constant nodes whose value nothing uses any more (weights the pass replaced). */
void cmp_drop_unused_constants(opt_ctx *c);
/* Elements and non-zero elements of every constant (initializer or Constant node) the
 * graph's nodes use. */
void cmp_count_params(const opt_ctx *c, int64_t *params, int64_t *nonzero);
/* Nodes of the given op types (NULL-terminated list, default domain) inside the subgraphs
 * of g's nodes, at any depth: the passes leave them alone, the tools say so. */
int cmp_count_in_subgraphs(const er_graph *g, const char *const *ops);
#endif
