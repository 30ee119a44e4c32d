/*
 * Magnitude pruning of Conv/Gemm/MatMul weights (host code), for `edgerun prune`. Works on
 * a model as imported (er_onnx_import_file, no graph passes); the result is written with
 * er_onnx_write_file. Top-level graph only.
 *
 * Unstructured: in every constant float32 weight (Conv input W, Gemm/MatMul input B) used
 * by that node only, the round(S * size) entries of smallest |w| become 0 — per layer, so
 * every layer ends at the same sparsity (a global threshold would empty whole small layers
 * first). Shapes do not change.
 *
 * Structured: whole output channels of Conv (group 1, constant weight) are removed, the
 * round(S * channels) of smallest L1 norm (times |gamma|/sqrt(var+eps) of a
 * BatchNormalization right after the conv), and every consumer is rewired so the model
 * really shrinks: the conv's bias; BatchNormalization / InstanceNormalization parameters;
 * per-channel constants of Add/Mul/Sub/Div/PRelu...; depthwise convs in between (their
 * weights, bias and group shrink with them); pools, activations, Pad and Resize pass the
 * channels on; the next Conv's (or ConvTranspose's) input channels; Gemm/MatMul weight rows
 * after Flatten / Reshape [N,-1] / Squeeze / ReduceMean over the spatial axes; Concat along
 * the channels. Convs whose outputs meet in an elementwise op (residual Add, squeeze-and-
 * excitation Mul) form a group and lose the same channels, ranked by their summed
 * normalized L1 norms. A group is skipped — and listed with the reason and the node — when
 * one of its channels reaches a graph output, a node of another kind (Reshape to other
 * shapes, Transpose, Split, Slice, grouped convs, ...), a tensor whose channels are not
 * tracked, or a node given in `exclude`.
 */
#ifndef ER_COMPRESS_PRUNE_H
#define ER_COMPRESS_PRUNE_H
#include <stdint.h>
#include "base/status.h"
#include "import/model.h"

typedef struct er_prune_options {
  double sparsity;                /* [0, 1): fraction of weights / output channels removed */
  int structured;
  const char *const *exclude;     /* node names left alone (their outputs keep every channel) */
  int n_exclude;
} er_prune_options;

typedef struct er_prune_layer {
  const char *node, *op;          /* model pool strings */
  int64_t params, params_after;   /* weight elements before and after */
  int64_t zeros_before, zeros_after;      /* unstructured */
  int64_t channels_before, channels_after; /* structured */
  int group;                      /* structured: layers pruned together share it (1, 2, ...) */
  const char *skipped;            /* NULL: pruned; else why not (static or pool string) */
  const char *blocker;            /* the node that caused a skip, or NULL */
} er_prune_layer;

typedef struct er_prune_report {
  int n_layers;
  er_prune_layer *layers;         /* malloc */
  int n_pruned;
  int64_t params_before, params_after;   /* elements of every constant the graph uses */
  int64_t nonzero_before, nonzero_after; /* non-zero elements of those initializers */
  int in_subgraphs;               /* Conv/Gemm/MatMul nodes inside If/Loop/Scan bodies (left alone) */
} er_prune_report;

er_status er_prune(er_imported *m, const er_prune_options *o, er_prune_report *out);
void er_prune_report_free(er_prune_report *r);
#endif
