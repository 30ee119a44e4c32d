/*
 * Low-rank factorization of constant Gemm/MatMul weights (host code), for
 * `edgerun factorize`. Works on a model as imported (er_onnx_import_file, no graph passes);
 * the result is written with er_onnx_write_file.
 *
 * A weight W[K,N] (MatMul input B, or Gemm input B, transposed when transB=1), float32,
 * used by this node only, with K*N >= min_size parameters, becomes W1[K,r] x W2[r,N] from
 * its SVD (W = U S V^T, W1 = U_r sqrt(S_r), W2 = sqrt(S_r) V_r^T), r = ceil(rank_ratio *
 * min(K,N)), only where r*(K+N) < K*N. The node becomes two: MatMul(X,W1) then MatMul(.,W2)
 * (Gemm: Gemm(A,W1; transA, alpha) then Gemm(.,W2,C; beta)). Top-level graph only.
 */
#ifndef ER_COMPRESS_FACTORIZE_H
#define ER_COMPRESS_FACTORIZE_H
#include <stdint.h>
#include "base/status.h"
#include "import/model.h"

typedef struct er_factorize_options {
  double rank_ratio; /* (0, 1] */
  int64_t min_size;  /* smallest K*N considered */
  void (*progress)(void *user, int done, int total); /* may be NULL */
  void *user;
} er_factorize_options;

typedef struct er_factorize_layer {
  const char *node, *op;  /* model pool strings */
  int64_t k, n;           /* W is K x N */
  int rank;               /* r (0 when skipped before choosing one) */
  int64_t params_before, params_after;
  double rel_error;       /* ||W - W1 W2||_F / ||W||_F with the stored float32 factors */
  const char *skipped;    /* NULL: factorized; else why not (static string) */
} er_factorize_layer;

typedef struct er_factorize_report {
  int n_layers;                /* every Gemm/MatMul with a constant 2-D float32 weight */
  er_factorize_layer *layers;  /* malloc */
  int n_factorized;
  int64_t params_before, params_after; /* of those weights */
  int in_subgraphs;            /* Gemm/MatMul nodes inside If/Loop/Scan bodies (left alone) */
} er_factorize_report;

er_status er_factorize(er_imported *m, const er_factorize_options *o, er_factorize_report *out);
void er_factorize_report_free(er_factorize_report *r);
#endif
