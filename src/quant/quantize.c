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
  o->method = ER_CALIB_MINMAX;
  o->percentile = 99.99;
  o->per_channel = 1;
  o->act_dtype = ER_U8;
  o->block_size = 32;
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

er_status er_quantize(er_imported *m, const er_dataset *calib, const er_quant_options *o,
                      er_quant_report *r) {
  memset(r, 0, sizeof *r);
  int static_mode;
  ER_RETURN_IF_ERROR(check_options(o, calib, &static_mode));
  r->mode = static_mode ? "static" : o->int4 ? "int4" : o->dynamic ? "dynamic" : "fp16";
  r->opset_before = quant_model_opset(m);
  r->weight_bytes_before = init_bytes(m->graph);
  /* exact passes only: no fused activations or internal ops in a file others read */
  unsigned passes = ER_OPT_DCE | ER_OPT_CONSTANTS | ER_OPT_IDENTITY | ER_OPT_BN_FOLD | ER_OPT_CONV_ADD |
                    ER_OPT_MATMUL_ADD | ER_OPT_RESHAPE;
  ER_RETURN_IF_ERROR(er_optimize_ex(m, passes, 0, NULL));
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

  er_graph *g = m->graph;
  opt_ctx c;
  qplan p;
  memset(&p, 0, sizeof p);
  if (s) {
    er_pool_free(&sample_pool);
    return s;
  }
  s = opt_ctx_init(&c, &m->pool, g, 0);
  if (!s) quant_facts_best(&c, ins);
  r->n_nodes = g->n_nodes;
  r->nodes = (er_quant_node *)calloc((size_t)g->n_nodes + 1, sizeof(er_quant_node));
  if (!s && !r->nodes) s = ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; !s && i < g->n_nodes; i++) {
    r->nodes[i].name = g->nodes[i].name;
    r->nodes[i].op_type = g->nodes[i].op_type;
    r->nodes[i].status = ER_QN_OTHER;
  }
  if (!s && static_mode) {
    s = qplan_make(&p, &c, o);
    int compute = 0, excluded = 0;
    for (int i = 0; !s && i < p.nn; i++) {
      r->nodes[i].status = p.status[i];
      r->nodes[i].reason = p.reason[i];
      r->n_quantized += p.status[i] == ER_QN_QUANTIZED;
      r->n_folded += p.status[i] == ER_QN_FOLDED;
      r->n_float += p.status[i] == ER_QN_FLOAT;
      compute += p.cat[i] == QC_COMPUTE && p.status[i] == ER_QN_QUANTIZED;
      excluded += p.cat[i] == QC_COMPUTE && p.status[i] == ER_QN_FLOAT;
    }
    if (!s && !compute)
      s = nothing(g, excluded ? "every Conv/ConvTranspose/Gemm/MatMul is excluded or not float32"
                              : "no Conv, ConvTranspose, Gemm or MatMul");
    if (!s) s = quant_observe(&p, calib, r);
    if (!s) s = qplan_rewrite(&p, opset, r);
    /* recurrent ops and embedding tables have no int8 activation form: int8 weights only */
    int before = r->n_weights;
    if (!s) s = quant_weights_only(&c, o, opset, 1, r);
    for (int i = 0; !s && r->n_weights > before && i < p.nn; i++) {
      if (p.status[i] != ER_QN_FLOAT || excluded_name(o, r->nodes[i].name)) continue;
      const er_node *n = &g->nodes[i];
      for (int k = 0; k < n->n_inputs; k++) {
        const er_node *pn = opt_producer(&c, n->inputs[k]);
        if (pn && opt_is(pn, "DequantizeLinear") && g->values[pn->inputs[0]].kind == ER_VALUE_INITIALIZER) {
          r->nodes[i].reason = "no int8 form: int8 weights (DequantizeLinear), float activations";
          break;
        }
      }
    }
  } else if (!s && (o->dynamic || o->int4)) {
    s = quant_weights_only(&c, o, opset, 0, r);
    if (!s && !r->n_weights)
      s = nothing(g, "no Conv, ConvTranspose, Gemm, MatMul, LSTM/GRU/RNN or Gather with constant float32 weights");
    for (int i = 0; !s && i < r->n_nodes; i++) {
      const char *op = r->nodes[i].op_type;
      int weighted = !strcmp(op, "Conv") || !strcmp(op, "ConvTranspose") || !strcmp(op, "Gemm") ||
                     !strcmp(op, "MatMul") || !strcmp(op, "LSTM") || !strcmp(op, "GRU") || !strcmp(op, "RNN");
      if (!weighted) continue;
      /* quantized iff a DequantizeLinear now feeds its weight */
      const er_node *n = &g->nodes[i];
      int q = 0;
      for (int k = 0; k < n->n_inputs; k++) {
        const er_node *pn = opt_producer(&c, n->inputs[k]);
        q |= pn && opt_is(pn, "DequantizeLinear");
      }
      r->nodes[i].status = q ? ER_QN_QUANTIZED : ER_QN_FLOAT;
      r->nodes[i].reason = q ? NULL : "weight not a constant float32 tensor (or excluded)";
      r->n_quantized += q;
      r->n_float += !q;
    }
  }
  if (!s) s = opt_compact(&c);
  if (!s && o->fp16) {
    int before = r->n_weights;
    s = quant_fp16_weights(&c, opset, r);
    if (!s && !static_mode && !o->dynamic && !o->int4 && r->n_weights == before)
      s = nothing(g, "no float32 weight of 16 or more elements");
    if (!s) s = opt_compact(&c);
  }
  if (!s) {
    drop_unused_inputs(&c);
    s = opt_refresh(&c);
  }
  if (!s) s = opt_compact_values(&c);
  if (!s) r->weight_bytes_after = init_bytes(g);
  qplan_free(&p);
  opt_ctx_free(&c);
  er_pool_free(&sample_pool);
  return s;
}
