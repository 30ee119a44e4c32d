/* Internal pieces of the quantizer shared by the files of src/quant (host code). */
#ifndef ER_QUANT_INTERNAL_H
#define ER_QUANT_INTERNAL_H
#include "opt/ir_edit.h"
#include "quant/calib.h"
#include "quant/quantize.h"

/* Node categories (see quantize.h). */
enum { QC_NONE = 0, QC_COMPUTE, QC_ACT, QC_SHARED, QC_SEPARATE };

/* Per-value quantization role. */
enum {
  QV_NONE = 0,
  QV_ACT = 1,    /* activation with its own calibrated range */
  QV_SHARED = 2, /* same scale/zero point as value src[v] */
  QV_CONST = 3   /* constant input of a quantized node, quantized as an activation */
};

typedef struct qplan {
  opt_ctx *c;
  const er_quant_options *o;
  const struct qplan *parent; /* plan of the enclosing graph (subgraphs), else NULL */
  int nv, nn;             /* values / nodes at plan time */
  int *cat;               /* per node: QC_* */
  int *status;            /* per node: ER_QN_* */
  const char **reason;    /* per node */
  int *fold_into;         /* per node: folded Relu/Clip -> producer node index, else -1 */
  int *role;              /* per value: QV_* */
  int *src;               /* per value: QV_SHARED source */
  er_qstat *stats;        /* per value (initialized for QV_ACT values in static mode) */
  unsigned char *has_stat;/* per value */
  float *scale;           /* per value: activation parameters after calibration */
  int32_t *zp;
  int *obs_at;            /* per value not made by a node of this graph (subgraph input or
                             outer-scope value): node whose input it is observed at, else -1 */
  int qmin, qmax;         /* activation range of opts->act_dtype */
} qplan;

/* Every graph of the model, parents before their subgraphs (pre-order). */
typedef struct qgraph {
  er_graph *g;
  int parent;   /* index of the enclosing graph in qmodel.gs, -1 for the main graph */
  opt_ctx c;
  qplan p;
  int planned;  /* static plan made (the main graph, or a subgraph the samples ran) */
  int seen;     /* some node of it ran during the facts run */
  int node_base;/* index of its first node in the report */
} qgraph;

typedef struct qmodel {
  int n, cap;
  qgraph *gs;
} qmodel;

/* graphs.c */
er_status qmodel_init(qmodel *qm, er_imported *m);
void qmodel_free(qmodel *qm);
/* Index of the graph whose node array holds n, or -1. */
int qmodel_find(const qmodel *qm, const er_node *n);
/* The definition of value v of g: v itself, or for an outer-scope reference the value of
 * the enclosing graph it refers to (followed up to where it is defined). */
const er_value *quant_root_value(const er_graph *g, int v);
/* Does g hold a node with a graph attribute? */
int quant_has_subgraphs(const er_graph *g);
/* Make buf a name no value of the whole model (g's main graph and every subgraph) has,
 * appending _1, _2 ... (ONNX names are unique across a model's graphs). */
void quant_unique_name(const er_graph *g, char *buf, size_t cap);
/* An outer-scope reference is written by name: after rewiring one to another value of the
 * enclosing graph (opt_replace_uses), give it that value's name, down every subgraph. */
void quant_sync_outer_names(er_graph *g);

/* qdq.c */
int qnode_category(const er_node *n);
er_status qplan_make(qplan *p, opt_ctx *c, const er_quant_options *o);
void qplan_free(qplan *p);
/* Does outer-scope value v take its scale and zero point from the enclosing graph's plan? */
int qplan_inherited(const qplan *p, int v);
/* Rewrite the graph with Q/DQ nodes (static mode: after calibration filled stats). */
er_status qplan_rewrite(qplan *p, int opset, er_quant_report *r);
/* Weight-only rewrite (dynamic / int4). float_ops_only: only the ops without an int8
 * activation path (LSTM/GRU/RNN, Gather tables), for static mode. */
er_status quant_weights_only(opt_ctx *c, const er_quant_options *o, int opset, int float_ops_only,
                             er_quant_report *r);
/* Store the remaining float32 weights as float16 + Cast. */
er_status quant_fp16_weights(opt_ctx *c, int opset, er_quant_report *r);

/* observe.c: run the float model over the data set, adding every QV_ACT value's data
 * (in every planned graph) to its statistics. */
er_status quant_observe(qmodel *qm, const er_dataset *d, er_quant_report *r);
/* Types and shapes of subgraph values (and main-graph values planning left unknown) from
 * running samples of d (up to 16, until every graph has run): sets gs[i].seen. */
er_status quant_facts_run(qmodel *qm, const er_dataset *d);

/* Types and shapes of every value from planning the graph (infer only) with the user
 * inputs `ins` (in user-input order; their data is used, e.g. for shape inputs) or, if
 * NULL, zeros with symbolic dims set to sym. 1 on success (else facts are untouched). */
int quant_facts(opt_ctx *c, const er_tensor *ins, int64_t sym);
/* quant_facts with the calibration inputs if given, else the optimizer's facts, else
 * symbolic dims of 32 then 224 (models whose spatial dims cannot be 2 or 3). */
int quant_facts_best(opt_ctx *c, const er_tensor *ins);

/* opset.c: bring the default domain to at least `target` (rewriting changed nodes);
 * ins: example user inputs for shapes (may be NULL). */
er_status quant_upgrade_opset(er_imported *m, int target, const er_tensor *ins);
int quant_model_opset(const er_imported *m);

/* weights.c */
/* Symmetric scales of w along `axis` (-1: per tensor; dims[axis] entries, else 1). */
void quant_weight_scales(const float *w, int rank, const int64_t *dims, int axis, int qmax, float *sc);
/* q = round(w / sc[channel]) saturated to [-qmax, qmax]. */
void quant_weight_apply(const float *w, int rank, const int64_t *dims, int axis, int qmax,
                        const float *sc, int8_t *q);
/* Quantize w (float32, dims) symmetric int8 along `axis` (-1: per tensor) into q; scales
 * into sc (dims[axis] entries, or 1). */
void quant_weight_int8(const float *w, int rank, const int64_t *dims, int axis, int8_t *q, float *sc);
/* Blocked symmetric int4 (one element per byte, [-8, 7]) along `axis` with block size bs;
 * scales have dims with dims[axis] replaced by ceil(dims[axis] / bs). */
void quant_weight_int4(const float *w, int rank, const int64_t *dims, int axis, int bs, int8_t *q,
                       float *sc);
#endif
