/* Quantizer driver (see quantize.h). Host code. */
#include "quant/quantize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"
#include "opt/opt.h"
#include "quant/internal.h"

void er_quant_options_default(er_quant_options *o) {
  memset(o, 0, sizeof *o);
  o->method = ER_CALIB_PERCENTILE; /* the best of the three on Silero VAD (docs/quantize.md) */
  o->percentile = 99.99;
  o->per_channel = 1;
  o->act_dtype = ER_U8;
  o->block_size = 64;
}

void er_quant_report_free(er_quant_report *r) {
  free(r->nodes);
  r->nodes = NULL;
  r->n_nodes = 0;
}

static int64_t init_bytes(const er_graph *g) {
  int64_t b = 0;
  for (int v = 0; v < g->n_values; v++) {
    const er_value *val = &g->values[v];
    if (val->kind != ER_VALUE_INITIALIZER || val->rank < 0) continue;
    int64_t n = er_shape_numel(val->dims, val->rank);
    if (val->dtype == ER_I4 || val->dtype == ER_U4 || val->dtype == ER_F4E2M1) b += (n + 1) / 2;
    else b += n * (int64_t)er_dtype_size(val->dtype);
  }
  for (int i = 0; i < g->n_nodes; i++)
    for (int a = 0; a < g->nodes[i].n_attrs; a++) {
      const er_attr *at = &g->nodes[i].attrs[a];
      /* weights stored in Constant nodes (older exporters) */
      if (at->type == ER_ATTR_TENSOR && at->t && !strcmp(g->nodes[i].op_type, "Constant"))
        b += er_shape_numel(at->t->dims, at->t->rank) * (int64_t)er_dtype_size(at->t->dtype);
      if (at->type == ER_ATTR_GRAPH && at->g) b += init_bytes(at->g);
      for (int j = 0; at->type == ER_ATTR_GRAPHS && j < at->n; j++)
        if (at->graphs[j]) b += init_bytes(at->graphs[j]);
    }
  return b;
}

static er_status check_options(const er_quant_options *o, const er_dataset *calib, int *static_mode) {
  if (o->act_dtype != ER_U8 && o->act_dtype != ER_I8)
    return ER_ERR(ER_INVALID_ARGUMENT, "activations must be uint8 or int8");
  if (o->method < ER_CALIB_MINMAX || o->method > ER_CALIB_ENTROPY)
    return ER_ERR(ER_INVALID_ARGUMENT, "unknown calibration method %d", o->method);
  if (o->method == ER_CALIB_PERCENTILE && !(o->percentile > 50 && o->percentile <= 100))
    return ER_ERR(ER_INVALID_ARGUMENT, "percentile must be in (50, 100], got %g", o->percentile);
  if (o->int4 && (o->block_size < 16 || (o->block_size & (o->block_size - 1))))
    return ER_ERR(ER_INVALID_ARGUMENT, "block size must be a power of two >= 16, got %d", o->block_size);
  if (o->qoperator && !o->dynamic)
    return ER_ERR(ER_INVALID_ARGUMENT, "the QOperator format is for dynamic quantization (--dynamic)");
  *static_mode = !o->dynamic && !o->int4 && !(o->fp16 && !calib);
  if (*static_mode && !calib)
    return ER_ERR(ER_INVALID_ARGUMENT,
                  "static quantization needs calibration data (--calib DIR); --dynamic quantizes weights only");
  return NULL;
}

/* Error for a model in which no node could be quantized. */
static er_status nothing(const er_graph *g, const char *what) {
  char ops[512] = "";
  size_t l = 0;
  int shown = 0;
  for (int i = 0; i < g->n_nodes && shown < 8; i++) {
    const char *op = g->nodes[i].op_type;
    int seen = 0;
    for (int j = 0; j < i && !seen; j++) seen = !strcmp(g->nodes[j].op_type, op);
    if (seen) continue;
    l += (size_t)snprintf(ops + l, sizeof ops - (l < sizeof ops ? l : sizeof ops), "%s%s", shown ? ", " : "", op);
    if (l >= sizeof ops) break;
    shown++;
  }
  return ER_ERR(ER_UNSUPPORTED, "nothing to quantize: %s (the model has %d node(s): %s%s)", what,
                g->n_nodes, ops, shown == 8 ? ", ..." : "");
}

static int excluded_name(const er_quant_options *o, const char *name) {
  for (int i = 0; i < o->n_exclude; i++)
    if (o->exclude[i] && strstr(name, o->exclude[i])) return 1;
  return 0;
}

/* Initializers listed as graph inputs that nothing reads any more leave the input list. */
static void drop_unused_inputs(opt_ctx *c) {
  er_graph *g = c->g;
  int m = 0;
  for (int k = 0; k < g->n_inputs; k++) {
    int v = g->inputs[k];
    er_value *val = &g->values[v];
    if (val->kind == ER_VALUE_INITIALIZER && opt_refs(c, v) == 0) {
      val->is_graph_input = 0;
      continue;
    }
    g->inputs[m++] = v;
  }
  g->n_inputs = m;
}

/* One report entry per node of every graph, main graph first (pre-order). */
static er_status report_nodes(qmodel *qm, er_quant_report *r) {
  int total = 0;
  for (int gi = 0; gi < qm->n; gi++) {
    qm->gs[gi].node_base = total;
    total += qm->gs[gi].g->n_nodes;
  }
  r->n_nodes = total;
  r->nodes = (er_quant_node *)calloc((size_t)total + 1, sizeof(er_quant_node));
  if (!r->nodes) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  for (int gi = 0; gi < qm->n; gi++)
    for (int i = 0; i < qm->gs[gi].g->n_nodes; i++) {
      er_quant_node *q = &r->nodes[qm->gs[gi].node_base + i];
      q->name = qm->gs[gi].g->nodes[i].name;
      q->op_type = qm->gs[gi].g->nodes[i].op_type;
      q->status = ER_QN_OTHER;
    }
  return NULL;
}

static int weighted_op(const char *op) {
  return !strcmp(op, "Conv") || !strcmp(op, "ConvTranspose") || !strcmp(op, "Gemm") || !strcmp(op, "MatMul") ||
         !strcmp(op, "LSTM") || !strcmp(op, "GRU") || !strcmp(op, "RNN");
}

/* Does a DequantizeLinear of a constant feed one of n's inputs? */
static int weight_dequantized(const opt_ctx *c, const er_node *n) {
  for (int k = 0; k < n->n_inputs; k++) {
    const er_node *pn = opt_producer(c, n->inputs[k]);
    if (pn && opt_is(pn, "DequantizeLinear") && c->g->values[pn->inputs[0]].kind == ER_VALUE_INITIALIZER) return 1;
  }
  return 0;
}

/* Weight-only quantization of graphs [from, qm->n) that are not planned (all of them in
 * dynamic/int4 mode; in static mode the subgraphs the samples never ran); the report says
 * what happened to their weighted nodes (nodes keep their indices: new nodes go last). */
static er_status quantize_weights(qmodel *qm, const er_quant_options *o, int opset, int static_mode,
                                  er_quant_report *r) {
  for (int gi = 0; gi < qm->n; gi++) {
    qgraph *q = &qm->gs[gi];
    if (q->planned) continue;
    int nn = q->g->n_nodes;
    ER_RETURN_IF_ERROR(quant_weights_only(&q->c, o, opset, 0, r));
    for (int i = 0; i < nn; i++) {
      er_quant_node *rn = &r->nodes[q->node_base + i];
      if (!weighted_op(rn->op_type)) continue;
      /* a dead node was replaced by ONNX Runtime's dynamic form (MatMulInteger) */
      int dq = q->c.dead[i] || weight_dequantized(&q->c, &q->g->nodes[i]);
      if (static_mode) {
        rn->status = ER_QN_FLOAT;
        rn->reason = dq ? "in a subgraph the calibration samples never ran: int8 weights (DequantizeLinear), "
                          "float activations"
                        : "in a subgraph the calibration samples never ran";
        r->n_float++;
        continue;
      }
      rn->status = dq ? ER_QN_QUANTIZED : ER_QN_FLOAT;
      rn->reason = dq ? NULL : "weight not a constant float32 tensor (or excluded)";
      r->n_quantized += dq;
      r->n_float += !dq;
    }
  }
  if (!static_mode && !r->n_weights)
    return nothing(qm->gs[0].g,
                   "no Conv, ConvTranspose, Gemm, MatMul, LSTM/GRU/RNN or Gather with constant float32 weights");
  return NULL;
}

static er_status quantize_static(qmodel *qm, const er_dataset *calib, const er_quant_options *o, int opset,
                                 er_quant_report *r) {
  int compute = 0, excluded = 0, unseen = 0;
  for (int gi = 0; gi < qm->n; gi++) {
    qgraph *q = &qm->gs[gi];
    if (gi > 0 && !q->seen) {
      for (int i = 0; i < q->g->n_nodes; i++) unseen += qnode_category(&q->g->nodes[i]) == QC_COMPUTE;
      continue;
    }
    q->planned = 1;
    ER_RETURN_IF_ERROR(qplan_make(&q->p, &q->c, o));
    q->p.parent = q->parent >= 0 ? &qm->gs[q->parent].p : NULL;
    for (int i = 0; i < q->p.nn; i++) {
      er_quant_node *rn = &r->nodes[q->node_base + i];
      rn->status = q->p.status[i];
      rn->reason = q->p.reason[i];
      r->n_quantized += q->p.status[i] == ER_QN_QUANTIZED;
      r->n_folded += q->p.status[i] == ER_QN_FOLDED;
      r->n_float += q->p.status[i] == ER_QN_FLOAT;
      compute += q->p.cat[i] == QC_COMPUTE && q->p.status[i] == ER_QN_QUANTIZED;
      excluded += q->p.cat[i] == QC_COMPUTE && q->p.status[i] == ER_QN_FLOAT;
    }
  }
  if (!compute)
    return nothing(qm->gs[0].g, excluded ? "every Conv/ConvTranspose/Gemm/MatMul is excluded or not float32"
                                : unseen ? "the calibration samples never ran the subgraphs that hold its "
                                           "Conv/ConvTranspose/Gemm/MatMul nodes"
                                         : "no Conv, ConvTranspose, Gemm or MatMul");
  ER_RETURN_IF_ERROR(quant_observe(qm, calib, r));
  for (int gi = 0; gi < qm->n; gi++) {
    qgraph *q = &qm->gs[gi];
    if (!q->planned) continue;
    ER_RETURN_IF_ERROR(qplan_rewrite(&q->p, opset, r));
    /* recurrent ops and embedding tables have no int8 activation form: int8 weights only */
    int before = r->n_weights;
    ER_RETURN_IF_ERROR(quant_weights_only(&q->c, o, opset, 1, r));
    for (int i = 0; r->n_weights > before && i < q->p.nn; i++) {
      er_quant_node *rn = &r->nodes[q->node_base + i];
      if (q->p.status[i] != ER_QN_FLOAT || excluded_name(o, rn->name)) continue;
      if (weight_dequantized(&q->c, &q->g->nodes[i]))
        rn->reason = "no int8 form: int8 weights (DequantizeLinear), float activations";
    }
  }
  return quantize_weights(qm, o, opset, 1, r);
}

er_status er_quantize(er_imported *m, const er_dataset *calib, const er_quant_options *o,
                      er_quant_report *r) {
  memset(r, 0, sizeof *r);
  int static_mode = 0;
  ER_RETURN_IF_ERROR(check_options(o, calib, &static_mode));
  r->mode = static_mode ? "static" : o->int4 ? "int4" : o->dynamic ? "dynamic" : "fp16";
  r->opset_before = quant_model_opset(m);
  r->weight_bytes_before = init_bytes(m->graph);
  /* exact passes only: no fused activations or internal ops in a file others read */
  unsigned passes = ER_OPT_DCE | ER_OPT_CONSTANTS | ER_OPT_IDENTITY | ER_OPT_BN_FOLD | ER_OPT_CONV_ADD |
                    ER_OPT_MATMUL_ADD | ER_OPT_RESHAPE;
  ER_RETURN_IF_ERROR(er_optimize_ex(m, passes, ER_OPT_F_STANDARD, NULL));
  int target = o->int4 ? 21 : (static_mode || o->dynamic) ? 13 : 0;
  /* passes may have made nodes at a newer opset than the model's (MatMul+Add -> Gemm-13):
   * every default-domain node of a written model must be at the model's opset */
  for (int i = 0; i < m->graph->n_nodes; i++)
    if (!m->graph->nodes[i].domain[0] && m->graph->nodes[i].opset > target) target = m->graph->nodes[i].opset;
  /* the first calibration sample gives every value a type and shape */
  er_pool sample_pool;
  er_pool_init(&sample_pool);
  er_tensor *ins = NULL;
  er_status s = NULL;
  if (calib && calib->n_samples > 0) {
    ins = (er_tensor *)er_pool_alloc(&sample_pool, sizeof(er_tensor) * ((size_t)calib->n_inputs + 1));
    for (int k = 0; ins && k < calib->n_inputs && !s; k++) s = er_dataset_read(calib, 0, k, 0, &sample_pool, &ins[k]);
    if (s || !ins) {
      er_status_free(s);
      s = NULL;
      ins = NULL; /* bad samples are reported by the calibration run */
    }
  }
  s = quant_upgrade_opset(m, target, ins);
  int opset = quant_model_opset(m);
  r->opset_after = opset;
  if (s) {
    er_pool_free(&sample_pool);
    return s;
  }
  qmodel qm;
  s = qmodel_init(&qm, m);
  if (!s) quant_facts_best(&qm.gs[0].c, ins);
  /* subgraph bodies get types and shapes from running the first samples */
  if (!s && static_mode && qm.n > 1) s = quant_facts_run(&qm, calib);
  if (!s) s = report_nodes(&qm, r);
  if (!s && static_mode) s = quantize_static(&qm, calib, o, opset, r);
  else if (!s && (o->dynamic || o->int4)) s = quantize_weights(&qm, o, opset, 0, r);
  for (int gi = 0; gi < qm.n && !s; gi++) s = opt_compact(&qm.gs[gi].c);
  if (!s && o->fp16) {
    int before = r->n_weights;
    for (int gi = 0; gi < qm.n && !s; gi++) s = quant_fp16_weights(&qm.gs[gi].c, opset, r);
    if (!s && !static_mode && !o->dynamic && !o->int4 && r->n_weights == before)
      s = nothing(m->graph, "no float32 weight of 16 or more elements");
    for (int gi = 0; gi < qm.n && !s; gi++) s = opt_compact(&qm.gs[gi].c);
  }
  if (!s) drop_unused_inputs(&qm.gs[0].c);
  /* subgraphs first: a graph's value compaction renumbers its subgraphs' outer references */
  for (int gi = qm.n - 1; gi >= 0 && !s; gi--) {
    s = opt_refresh(&qm.gs[gi].c);
    if (!s) s = opt_compact_values(&qm.gs[gi].c);
  }
  if (!s) quant_sync_outer_names(m->graph);
  if (!s) r->weight_bytes_after = init_bytes(m->graph);
  qmodel_free(&qm);
  er_pool_free(&sample_pool);
  return s;
}
