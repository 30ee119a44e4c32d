/* libFuzzer target: ONNX model import (protobuf reader, tensors, graph building, function
 * inlining, op resolution). Seed corpus: the models in tests/data/import and
 * the libonnx-testdata models. External data resolves against a
 * directory that does not exist, so path checks run but no file is read. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/dtype.h"
#include "import/onnx/onnx.h"

static volatile unsigned char sink;

/* Touch everything the IR points at so ASan sees any dangling or out-of-bounds pointer. */
static void walk(const er_graph *g, int depth) {
  for (int i = 0; i < g->n_values; i++) {
    const er_value *v = &g->values[i];
    sink ^= (unsigned char)v->name[0];
    if (v->kind == ER_VALUE_INITIALIZER && v->rank >= 0) {
      size_t n = (size_t)er_shape_numel(v->dims, v->rank) * er_dtype_size(v->dtype);
      for (size_t k = 0; k < n; k++) sink ^= ((const unsigned char *)v->data)[k];
    }
    if (v->kind == ER_VALUE_OUTER) sink ^= (unsigned char)g->parent->values[v->outer].name[0];
  }
  for (int i = 0; i < g->n_inputs; i++) sink ^= (unsigned char)g->values[g->inputs[i]].kind;
  for (int i = 0; i < g->n_outputs; i++) sink ^= (unsigned char)g->values[g->outputs[i]].kind;
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    sink ^= (unsigned char)(n->name[0] ^ n->op_type[0] ^ n->domain[0]);
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0) sink ^= (unsigned char)g->values[n->inputs[k]].name[0];
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0) sink ^= (unsigned char)g->values[n->outputs[k]].name[0];
    for (int k = 0; k < n->n_attrs; k++) {
      const er_attr *a = &n->attrs[k];
      sink ^= (unsigned char)a->name[0];
      if (a->type == ER_ATTR_INTS)
        for (int j = 0; j < a->n; j++) sink ^= (unsigned char)a->ints[j];
      if (a->type == ER_ATTR_FLOATS)
        for (int j = 0; j < a->n; j++) sink ^= (unsigned char)(a->floats[j] > 0);
      if (a->type == ER_ATTR_STRINGS)
        for (int j = 0; j < a->n; j++) sink ^= (unsigned char)a->strings[j][0];
      if (a->type == ER_ATTR_STRING) sink ^= (unsigned char)a->s[a->s_len];
      if (a->type == ER_ATTR_TENSOR) {
        size_t nb = er_tensor_nbytes(a->t);
        for (size_t j = 0; j < nb; j++) sink ^= ((const unsigned char *)a->t->data)[j];
      }
      if (a->type == ER_ATTR_GRAPH) walk(a->g, depth + 1);
      if (a->type == ER_ATTR_GRAPHS)
        for (int j = 0; j < a->n; j++) walk(a->graphs[j], depth + 1);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  er_imported m;
  memset(&m, 0, sizeof m);
  er_status s = er_onnx_import(data, size, "/nonexistent-edgerun-fuzz-dir", "fuzz", &m);
  if (!s) walk(m.graph, 0);
  else sink ^= (unsigned char)er_status_message(s)[0];
  er_status_free(s);
  er_imported_free(&m);
  return 0;
}
