/*
 * The in-memory graph (IR). Built by an importer (src/import), rewritten by passes
 * (src/opt), walked by the planner/executor (src/runtime). Plain data: no libc calls,
 * so device code may include it. All memory belongs to the owning model's pool.
 */
#ifndef ER_IR_IR_H
#define ER_IR_IR_H
#include <stddef.h>
#include <stdint.h>
#include "base/tensor.h"

/* Values of ONNX AttributeProto.AttributeType. */
enum {
  ER_ATTR_UNDEFINED = 0, ER_ATTR_FLOAT = 1, ER_ATTR_INT = 2, ER_ATTR_STRING = 3,
  ER_ATTR_TENSOR = 4, ER_ATTR_GRAPH = 5, ER_ATTR_FLOATS = 6, ER_ATTR_INTS = 7,
  ER_ATTR_STRINGS = 8, ER_ATTR_TENSORS = 9, ER_ATTR_GRAPHS = 10,
  ER_ATTR_SPARSE_TENSOR = 11, ER_ATTR_SPARSE_TENSORS = 12, ER_ATTR_TYPE_PROTO = 13,
  ER_ATTR_TYPE_PROTOS = 14
};

struct er_graph;
struct er_op_def;

typedef struct er_attr {
  const char *name;
  int type;                 /* ER_ATTR_* */
  int64_t i;                /* INT */
  float f;                  /* FLOAT */
  const char *s;            /* STRING (NUL-terminated copy; s_len excludes the NUL) */
  size_t s_len;
  int n;                    /* element count for INTS / FLOATS / STRINGS / GRAPHS */
  const int64_t *ints;
  const float *floats;
  const char *const *strings;
  er_tensor *t;             /* TENSOR: dtype, shape and data (owned by the model) */
  struct er_graph *g;       /* GRAPH */
  struct er_graph *const *graphs;
} er_attr;

enum {
  ER_VALUE_NODE = 0,        /* produced by a node */
  ER_VALUE_INPUT = 1,       /* graph input without initializer */
  ER_VALUE_INITIALIZER = 2, /* constant (initializer; may also be listed as a graph input) */
  ER_VALUE_OUTER = 3        /* subgraph reference to a value of an enclosing graph */
};

typedef struct er_value {
  const char *name;
  int kind;                  /* ER_VALUE_* */
  int dtype;                 /* er_dtype, 0 if unknown */
  int rank;                  /* -1 if unknown */
  int64_t dims[ER_MAX_RANK]; /* -1 where symbolic or unknown */
  const char *dim_params[ER_MAX_RANK]; /* symbolic names, or NULL */
  const void *data;          /* INITIALIZER: element data, aligned for dtype; else NULL */
  int producer;              /* NODE: index of producing node, else -1 */
  int outer;                 /* OUTER: index of the value in graph->parent, else -1 */
  int is_graph_input;        /* listed in GraphProto.input */
} er_value;

typedef struct er_node {
  const char *name;          /* may be "" in the file; importer fills "#<index>" then */
  const char *op_type;
  const char *domain;        /* "" for the default ONNX domain */
  int opset;                 /* opset version imported for this node's domain */
  int n_inputs, n_outputs;
  int *inputs;               /* value indices; -1 for an absent optional input */
  int *outputs;              /* value indices; -1 for an absent optional output */
  int n_attrs;
  er_attr *attrs;
  const struct er_op_def *op;/* resolved by the importer */
} er_node;

typedef struct er_graph {
  const char *name;
  int n_values;
  er_value *values;
  int n_nodes;
  er_node *nodes;            /* topologically sorted by the importer */
  int n_inputs;
  int *inputs;               /* GraphProto.input order (initializer-backed ones included) */
  int n_outputs;
  int *outputs;
  struct er_graph *parent;   /* enclosing graph for subgraphs, else NULL */
} er_graph;

/* A value with no type or shape known yet (rank -1, every dim -1), no producer. */
static inline void er_value_init(er_value *v, const char *name, int kind) {
  er_value z = {0};
  *v = z;
  v->name = name;
  v->kind = kind;
  v->rank = -1;
  v->producer = -1;
  v->outer = -1;
  for (int d = 0; d < ER_MAX_RANK; d++) v->dims[d] = -1;
}

/* Attribute lookup on a node (NULL if absent). */
const er_attr *er_node_attr(const er_node *n, const char *name);
/* Index of a value by name in g (not its parents), or -1. Linear scan. */
int er_graph_find_value(const er_graph *g, const char *name);
#endif
