/* ONNX writer: er_imported IR -> ModelProto (see onnx_write.h). Field numbers from onnx.proto. */
#include "export/onnx_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/dtype.h"
#include "edgerun.h"
#include "export/pb_write.h"

/* ModelProto */
enum { M_IR_VERSION = 1, M_PRODUCER_NAME = 2, M_PRODUCER_VERSION = 3, M_GRAPH = 7, M_OPSET = 8 };
/* GraphProto */
enum { G_NODE = 1, G_NAME = 2, G_INITIALIZER = 5, G_INPUT = 11, G_OUTPUT = 12, G_VALUE_INFO = 13 };
/* NodeProto */
enum { N_INPUT = 1, N_OUTPUT = 2, N_NAME = 3, N_OP_TYPE = 4, N_ATTRIBUTE = 5, N_DOMAIN = 7 };
/* AttributeProto */
enum { A_NAME = 1, A_F = 2, A_I = 3, A_S = 4, A_T = 5, A_G = 6, A_FLOATS = 7, A_INTS = 8,
       A_STRINGS = 9, A_GRAPHS = 11, A_TYPE = 20 };
/* TensorProto */
enum { T_DIMS = 1, T_DATA_TYPE = 2, T_NAME = 8, T_RAW_DATA = 9 };

typedef struct opset {
  const char *domain;
  int64_t version;
} opset;

typedef struct wctx {
  pbw w;
  const er_imported *m;
  opset *ops; /* model opsets, then domains only nodes use */
  int n_ops, cap_ops;
  int64_t ir_needed;
} wctx;

#define OOM() ER_ERR(ER_OUT_OF_MEMORY, "out of memory")

static int is_4bit(int dt) { return dt == ER_U4 || dt == ER_I4 || dt == ER_F4E2M1; }
/* A type a file may declare (TensorProto.DataType; string and complex included). */
static int is_file_dtype(int dt) { return dt >= ER_F32 && dt <= ER_F4E2M1; }

/* IR version a file needs for a data type (float8: 9, 4-bit integers: 10, float4e2m1: 11). */
static int64_t ir_for_dtype(int dt) {
  if (dt >= ER_F8E4M3FN && dt <= ER_F8E5M2FNUZ) return 9;
  if (dt == ER_U4 || dt == ER_I4) return 10;
  if (dt == ER_F4E2M1) return 11;
  return 3;
}

/* Smallest IR version that carries an opset (onnx.helper.VERSION_TABLE). */
static int64_t ir_for_opset(const char *domain, int64_t v) {
  if (!*domain) {
    static const int64_t ir[] = {3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 5, 6, 7, 7, 7, 8, 8, 8, 8, 9, 9, 10, 10, 11};
    if (v < 1) return 3;
    if (v >= (int64_t)(sizeof ir / sizeof ir[0])) return 11;
    return ir[v];
  }
  if (!strcmp(domain, "ai.onnx.ml")) return v >= 4 ? 10 : v == 3 ? 8 : v == 2 ? 6 : 3;
  return 3;
}

/* Subgraphs held by an attribute (GRAPH: one, GRAPHS: n, others: none). */
static int n_graphs(const er_attr *a) {
  return a->type == ER_ATTR_GRAPH ? 1 : a->type == ER_ATTR_GRAPHS ? a->n : 0;
}
static const er_graph *graph_at(const er_attr *a, int j) {
  return a->type == ER_ATTR_GRAPH ? a->g : a->graphs[j];
}

static void need_ir(wctx *c, int64_t ir) {
  if (ir > c->ir_needed) c->ir_needed = ir;
}

/* ---------------------------------------------------------------- checks and opsets */

static er_status add_opset(wctx *c, const char *domain, int64_t version) {
  if (c->n_ops == c->cap_ops) {
    int cap = c->cap_ops ? 2 * c->cap_ops : 8;
    opset *o = (opset *)realloc(c->ops, sizeof(opset) * (size_t)cap);
    if (!o) return OOM();
    c->ops = o;
    c->cap_ops = cap;
  }
  c->ops[c->n_ops].domain = domain;
  c->ops[c->n_ops].version = version;
  c->n_ops++;
  need_ir(c, ir_for_opset(domain, version));
  return NULL;
}

static er_status note_opset(wctx *c, const er_node *n) {
  for (int i = 0; i < c->n_ops; i++) {
    if (strcmp(c->ops[i].domain, n->domain) != 0) continue;
    if (c->ops[i].version != n->opset)
      return ER_ERR(ER_UNSUPPORTED,
                    "node '%s' (%s) uses opset %d of domain '%s', but the model imports opset %lld",
                    n->name, n->op_type, n->opset, *n->domain ? n->domain : "ai.onnx",
                    (long long)c->ops[i].version);
    return NULL;
  }
  return add_opset(c, n->domain, n->opset);
}

static const char *attr_type_name(int t) {
  switch (t) {
    case ER_ATTR_TENSORS: return "TENSORS";
    case ER_ATTR_SPARSE_TENSOR: return "SPARSE_TENSOR";
    case ER_ATTR_SPARSE_TENSORS: return "SPARSE_TENSORS";
    case ER_ATTR_TYPE_PROTO: return "TYPE_PROTO";
    case ER_ATTR_TYPE_PROTOS: return "TYPE_PROTOS";
    default: return "unknown";
  }
}

/* Everything that cannot be written fails here, before any output: internal ops and
 * attributes, attribute kinds the IR does not keep, conflicting opsets. */
static er_status check_graph(wctx *c, const er_graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    if (!strcmp(n->domain, "edgerun"))
      return ER_ERR(ER_UNSUPPORTED,
                    "node '%s' (%s) is an edgerun-internal operator (domain 'edgerun'): it has no "
                    "ONNX form (write the model before internal rewrites)",
                    n->name, n->op_type);
    ER_RETURN_IF_ERROR(note_opset(c, n));
    for (int k = 0; k < n->n_attrs; k++) {
      const er_attr *a = &n->attrs[k];
      if (a->name[0] == '_')
        return ER_ERR(ER_UNSUPPORTED,
                      "node '%s' (%s) has edgerun-internal attribute '%s' (a fused activation): "
                      "write the model before internal rewrites",
                      n->name, n->op_type, a->name);
      switch (a->type) {
        case ER_ATTR_FLOAT: case ER_ATTR_INT: case ER_ATTR_STRING: case ER_ATTR_FLOATS:
        case ER_ATTR_INTS: case ER_ATTR_STRINGS:
          break;
        case ER_ATTR_TENSOR:
          if (!a->t)
            return ER_ERR(ER_INVALID_ARGUMENT, "node '%s' (%s) attribute '%s' has no tensor",
                          n->name, n->op_type, a->name);
          need_ir(c, ir_for_dtype(a->t->dtype));
          break;
        case ER_ATTR_GRAPH:
        case ER_ATTR_GRAPHS:
          for (int j = 0; j < n_graphs(a); j++) {
            if (!graph_at(a, j))
              return ER_ERR(ER_INVALID_ARGUMENT, "node '%s' (%s) attribute '%s' has no graph",
                            n->name, n->op_type, a->name);
            ER_RETURN_IF_ERROR(check_graph(c, graph_at(a, j)));
          }
          break;
        default:
          return ER_ERR(ER_UNSUPPORTED,
                        "node '%s' (%s) attribute '%s' of type %s is not kept by the importer and "
                        "cannot be written",
                        n->name, n->op_type, a->name, attr_type_name(a->type));
      }
    }
  }
  for (int v = 0; v < g->n_values; v++)
    if (is_file_dtype(g->values[v].dtype)) need_ir(c, ir_for_dtype(g->values[v].dtype));
  return NULL;
}

/* ---------------------------------------------------------------- tensors and types */

/* TensorProto with raw_data (4-bit types packed two per byte, low nibble first). */
static er_status write_tensor(wctx *c, uint32_t field, const char *name, int dtype, int rank,
                              const int64_t *dims, const void *data) {
  size_t es = er_dtype_size(dtype);
  if (!is_file_dtype(dtype) || !es)
    return ER_ERR(ER_UNSUPPORTED, "tensor '%s' has type %s, which the writer does not support",
                  name ? name : "", er_dtype_name((er_dtype)dtype));
  if (rank < 0) return ER_ERR(ER_INVALID_ARGUMENT, "tensor '%s' has no shape", name ? name : "");
  int64_t numel = er_shape_numel(dims, rank);
  if (numel > 0 && !data) return ER_ERR(ER_INVALID_ARGUMENT, "tensor '%s' has no data", name ? name : "");
  pbw *w = &c->w;
  size_t at = pbw_begin(w, field);
  for (int d = 0; d < rank; d++) pbw_int(w, T_DIMS, dims[d]);
  pbw_int(w, T_DATA_TYPE, dtype);
  if (name && *name) pbw_str(w, T_NAME, name);
  if (is_4bit(dtype)) {
    uint8_t *p = pbw_bytes_open(w, T_RAW_DATA, (size_t)(numel + 1) / 2);
    const uint8_t *s = (const uint8_t *)data;
    if (p) {
      for (int64_t i = 0; i + 1 < numel; i += 2)
        p[i / 2] = (uint8_t)((s[i] & 0xf) | (s[i + 1] & 0xf) << 4);
      if (numel & 1) p[numel / 2] = s[numel - 1] & 0xf;
    }
  } else {
    pbw_bytes(w, T_RAW_DATA, data, (size_t)numel * es);
  }
  pbw_end(w, at);
  return NULL;
}

/* ValueInfoProto: name and, when the dtype is known, tensor_type (elem_type, shape). */
enum { VI_NAME = 1, VI_TYPE = 2, TP_TENSOR = 1, TT_ELEM = 1, TT_SHAPE = 2, SH_DIM = 1,
       DIM_VALUE = 1, DIM_PARAM = 2 };

static void write_value_info(wctx *c, uint32_t field, const char *name, int dtype, int rank,
                             const int64_t *dims, const char *const *params) {
  pbw *w = &c->w;
  size_t at = pbw_begin(w, field);
  pbw_str(w, VI_NAME, name);
  if (is_file_dtype(dtype)) {
    size_t tp = pbw_begin(w, VI_TYPE);
    size_t tt = pbw_begin(w, TP_TENSOR);
    pbw_int(w, TT_ELEM, dtype);
    if (rank >= 0) {
      size_t sh = pbw_begin(w, TT_SHAPE);
      for (int d = 0; d < rank; d++) {
        size_t dm = pbw_begin(w, SH_DIM);
        if (params && params[d]) pbw_str(w, DIM_PARAM, params[d]);
        else if (dims[d] >= 0) pbw_int(w, DIM_VALUE, dims[d]);
        pbw_end(w, dm);
      }
      pbw_end(w, sh);
    }
    pbw_end(w, tt);
    pbw_end(w, tp);
  }
  pbw_end(w, at);
}

/* ---------------------------------------------------------------- graphs */

static er_status write_graph(wctx *c, uint32_t field, const er_graph *g, const char *name, int main);

static er_status write_attr(wctx *c, const er_node *n, const er_attr *a) {
  pbw *w = &c->w;
  size_t at = pbw_begin(w, N_ATTRIBUTE);
  pbw_str(w, A_NAME, a->name);
  switch (a->type) {
    case ER_ATTR_FLOAT: {
      uint32_t u;
      memcpy(&u, &a->f, 4);
      pbw_fixed32(w, A_F, u);
      break;
    }
    case ER_ATTR_INT: pbw_int(w, A_I, a->i); break;
    case ER_ATTR_STRING: pbw_bytes(w, A_S, a->s ? a->s : "", a->s ? a->s_len : 0); break;
    case ER_ATTR_TENSOR: {
      er_status s = write_tensor(c, A_T, NULL, a->t->dtype, a->t->rank, a->t->dims, a->t->data);
      if (s) return er_status_prefix(s, "node '%s' (%s) attribute '%s'", n->name, n->op_type, a->name);
      break;
    }
    case ER_ATTR_FLOATS:
      for (int k = 0; k < a->n; k++) {
        uint32_t u;
        memcpy(&u, &a->floats[k], 4);
        pbw_fixed32(w, A_FLOATS, u);
      }
      break;
    case ER_ATTR_INTS:
      for (int k = 0; k < a->n; k++) pbw_int(w, A_INTS, a->ints[k]);
      break;
    case ER_ATTR_STRINGS:
      for (int k = 0; k < a->n; k++) pbw_str(w, A_STRINGS, a->strings[k]);
      break;
    case ER_ATTR_GRAPH:
    case ER_ATTR_GRAPHS: {
      for (int j = 0; j < n_graphs(a); j++) {
        char nm[256];
        if (a->type == ER_ATTR_GRAPH) snprintf(nm, sizeof nm, "%s_%s", n->name, a->name);
        else snprintf(nm, sizeof nm, "%s_%s_%d", n->name, a->name, j);
        er_status s = write_graph(c, a->type == ER_ATTR_GRAPH ? A_G : A_GRAPHS, graph_at(a, j), nm, 0);
        if (s) return er_status_prefix(s, "node '%s' (%s) attribute '%s'", n->name, n->op_type, a->name);
      }
      break;
    }
    default: break; /* rejected by check_graph */
  }
  pbw_int(w, A_TYPE, a->type);
  pbw_end(w, at);
  return NULL;
}

static const char *value_name(const er_graph *g, int v) { return v >= 0 ? g->values[v].name : ""; }

static er_status write_node(wctx *c, const er_graph *g, const er_node *n) {
  pbw *w = &c->w;
  size_t at = pbw_begin(w, G_NODE);
  for (int k = 0; k < n->n_inputs; k++) pbw_str(w, N_INPUT, value_name(g, n->inputs[k]));
  for (int k = 0; k < n->n_outputs; k++) pbw_str(w, N_OUTPUT, value_name(g, n->outputs[k]));
  if (n->name && *n->name) pbw_str(w, N_NAME, n->name);
  pbw_str(w, N_OP_TYPE, n->op_type);
  for (int k = 0; k < n->n_attrs; k++) ER_RETURN_IF_ERROR(write_attr(c, n, &n->attrs[k]));
  if (*n->domain) pbw_str(w, N_DOMAIN, n->domain);
  pbw_end(w, at);
  return NULL;
}

/* Which values of g something refers to: node inputs, graph inputs and outputs, and the
 * outer references of its direct subgraphs. Unused initializers are not written. */
static er_status mark_used(const er_graph *g, unsigned char **out) {
  unsigned char *used = (unsigned char *)calloc((size_t)g->n_values + 1, 1);
  if (!used) return OOM();
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0 && n->inputs[k] < g->n_values) used[n->inputs[k]] = 1;
    for (int k = 0; k < n->n_attrs; k++) {
      const er_attr *a = &n->attrs[k];
      for (int j = 0; j < n_graphs(a); j++) {
        const er_graph *sg = graph_at(a, j);
        for (int v = 0; v < sg->n_values; v++) {
          int o = sg->values[v].outer;
          if (sg->values[v].kind == ER_VALUE_OUTER && o >= 0 && o < g->n_values) used[o] = 1;
        }
      }
    }
  }
  for (int k = 0; k < g->n_inputs; k++) used[g->inputs[k]] = 1;
  for (int k = 0; k < g->n_outputs; k++) used[g->outputs[k]] = 1;
  *out = used;
  return NULL;
}

static er_status write_graph(wctx *c, uint32_t field, const er_graph *g, const char *name, int main) {
  pbw *w = &c->w;
  unsigned char *used = NULL;
  ER_RETURN_IF_ERROR(mark_used(g, &used));
  unsigned char *is_out = (unsigned char *)calloc((size_t)g->n_values + 1, 1);
  if (!is_out) {
    free(used);
    return OOM();
  }
  for (int k = 0; k < g->n_outputs; k++) is_out[g->outputs[k]] = 1;
  er_status s = NULL;
  size_t at = pbw_begin(w, field);
  for (int i = 0; i < g->n_nodes && !s; i++) s = write_node(c, g, &g->nodes[i]);
  pbw_str(w, G_NAME, g->name && *g->name ? g->name : name);
  for (int v = 0; v < g->n_values && !s; v++) {
    const er_value *val = &g->values[v];
    if (val->kind != ER_VALUE_INITIALIZER || !used[v]) continue;
    s = write_tensor(c, G_INITIALIZER, val->name, val->dtype, val->rank, val->dims, val->data);
    if (s) s = er_status_prefix(s, "initializer");
  }
  for (int k = 0; k < g->n_inputs && !s; k++) {
    const er_value *val = &g->values[g->inputs[k]];
    if (main && !is_file_dtype(val->dtype))
      s = ER_ERR(ER_UNSUPPORTED, "graph input '%s' has no tensor type (a sequence, map, optional or "
                 "undeclared type): the writer only writes tensor inputs", val->name);
    else
      write_value_info(c, G_INPUT, val->name, val->dtype, val->rank, val->dims,
                       val->kind == ER_VALUE_INITIALIZER ? NULL : val->dim_params);
  }
  for (int k = 0; k < g->n_outputs && !s; k++) {
    const er_value *val = &g->values[g->outputs[k]];
    if (main && !is_file_dtype(val->dtype))
      s = ER_ERR(ER_UNSUPPORTED, "graph output '%s' has no tensor type (a sequence, map, optional or "
                 "undeclared type): the writer only writes tensor outputs", val->name);
    else
      write_value_info(c, G_OUTPUT, val->name, val->dtype, val->rank, val->dims, val->dim_params);
  }
  for (int v = 0; v < g->n_values && !s; v++) {
    const er_value *val = &g->values[v];
    if (val->kind != ER_VALUE_NODE || val->producer < 0 || is_out[v] || !is_file_dtype(val->dtype))
      continue;
    write_value_info(c, G_VALUE_INFO, val->name, val->dtype, val->rank, val->dims, val->dim_params);
  }
  pbw_end(w, at);
  free(used);
  free(is_out);
  return s;
}

/* ---------------------------------------------------------------- model */

static er_status write_model(wctx *c) {
  const er_imported *m = c->m;
  if (!m || !m->graph) return ER_ERR(ER_INVALID_ARGUMENT, "no model to write");
  for (int i = 0; i < m->n_opsets; i++)
    ER_RETURN_IF_ERROR(add_opset(c, m->opset_domains[i] ? m->opset_domains[i] : "", m->opset_versions[i]));
  ER_RETURN_IF_ERROR(check_graph(c, m->graph));
  pbw *w = &c->w;
  int64_t ir = m->ir_version > c->ir_needed ? m->ir_version : c->ir_needed;
  pbw_int(w, M_IR_VERSION, ir);
  pbw_str(w, M_PRODUCER_NAME, "edgerun");
  char ver[32];
  snprintf(ver, sizeof ver, "%d.%d", ER_VERSION_MAJOR, ER_VERSION_MINOR);
  pbw_str(w, M_PRODUCER_VERSION, ver);
  ER_RETURN_IF_ERROR(write_graph(c, M_GRAPH, m->graph, "main_graph", 1));
  for (int i = 0; i < c->n_ops; i++) {
    size_t at = pbw_begin(w, M_OPSET);
    pbw_str(w, 1, c->ops[i].domain);
    pbw_int(w, 2, c->ops[i].version);
    pbw_end(w, at);
  }
  if (pbw_error(w) == 2)
    return ER_ERR(ER_UNSUPPORTED, "the model is larger than 2 GiB, the protobuf limit (external "
                  "data is not written)");
  if (pbw_error(w)) return OOM();
  return NULL;
}

er_status er_onnx_write_buffer(const er_imported *m, void **out_buf, size_t *out_size) {
  if (!out_buf || !out_size) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  *out_buf = NULL;
  *out_size = 0;
  wctx c;
  memset(&c, 0, sizeof c);
  c.m = m;
  er_status s = write_model(&c);
  free(c.ops);
  if (s) {
    pbw_free(&c.w);
    return er_status_prefix(s, "cannot write ONNX");
  }
  *out_buf = c.w.buf;
  *out_size = c.w.len;
  return NULL;
}

er_status er_onnx_write_file(const er_imported *m, const char *path) {
  if (!path) return ER_ERR(ER_INVALID_ARGUMENT, "NULL path");
  void *buf;
  size_t size;
  er_status s = er_onnx_write_buffer(m, &buf, &size);
  if (s) return er_status_prefix(s, "%s", path);
  size_t n = strlen(path) + 40;
  char *tmp = (char *)malloc(n);
  if (!tmp) {
    free(buf);
    return OOM();
  }
  int fd = -1;
  for (int k = 0; k < 100 && fd < 0; k++) {
    snprintf(tmp, n, "%s.tmp%ld.%d", path, (long)getpid(), k);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    s = ER_ERR(ER_IO, "%s: cannot create: %s", path, strerror(errno));
    free(tmp);
    free(buf);
    return s;
  }
  const uint8_t *p = (const uint8_t *)buf;
  size_t left = size;
  while (left > 0) {
    ssize_t k = write(fd, p, left);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      s = ER_ERR(ER_IO, "%s: write failed: %s", path, k < 0 ? strerror(errno) : "no space");
      break;
    }
    p += k;
    left -= (size_t)k;
  }
  if (close(fd) != 0 && !s) s = ER_ERR(ER_IO, "%s: write failed: %s", path, strerror(errno));
  if (!s && rename(tmp, path) != 0) s = ER_ERR(ER_IO, "%s: cannot write: %s", path, strerror(errno));
  if (s) unlink(tmp);
  free(tmp);
  free(buf);
  return s;
}
