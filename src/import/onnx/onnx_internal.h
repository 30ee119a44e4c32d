/*
 * ONNX importer internals. Import runs in three stages:
 *   1. parse (onnx_parse.c, onnx_tensor.c): protobuf -> "px" structs (names, attributes and
 *      tensors already in model-pool form; graphs still by name),
 *   2. inline model-local functions (onnx_inline.c): px -> px,
 *   3. build the IR (onnx_import.c): values by name, outer-scope references, topological
 *      sort, op resolution.
 * px structs and builder scratch live in a temporary pool freed at the end of the import.
 */
#ifndef ER_IMPORT_ONNX_INTERNAL_H
#define ER_IMPORT_ONNX_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"
#include "base/status.h"
#include "import/onnx/onnx.h"
#include "import/onnx/pb.h"
#include "ir/ir.h"

/* Import flags for er_onnx_import_ex. */
enum { ER_ONNX_NO_OP_RESOLVE = 1u << 0 /* leave node->op NULL (structure-only import) */ };

/* Like er_onnx_import, with flags (ER_ONNX_*). */
er_status er_onnx_import_ex(const void *data, size_t size, const char *base_dir,
                            const char *what, er_imported *m, unsigned flags);

/* ---- string -> int hash map (keys are not copied) ---- */
typedef struct strmap {
  const char **keys;
  int *vals;
  size_t cap, n; /* cap: power of two (0 = empty) */
} strmap;
/* -1 if absent. */
int strmap_get(const strmap *m, const char *key);
/* Insert or overwrite; 0 on success, -1 on out-of-memory. Memory from pool. */
int strmap_put(strmap *m, er_pool *pool, const char *key, int val);

/* ---- parsed model ---- */
typedef struct onx_opsets {
  int n;
  const char **domains; /* normalised: "ai.onnx" -> "" */
  int64_t *versions;
  const struct onx_opsets *fallback; /* function opsets fall back to the model's */
} onx_opsets;

typedef struct px_graph px_graph;

typedef struct px_attr {
  er_attr a;          /* GRAPH/GRAPHS: a.g / a.graphs are filled when the IR is built */
  const char *ref;    /* ref_attr_name (inside functions), or NULL */
  px_graph *g;        /* GRAPH */
  px_graph **gs;      /* GRAPHS (a.n of them) */
} px_attr;

typedef struct px_node {
  const char *name, *op_type, *domain, *overload; /* domain normalised */
  int n_in, n_out, n_attrs;
  const char **in, **out; /* "" for absent */
  px_attr *attrs;
  const onx_opsets *opsets;
} px_node;

typedef struct px_vi {
  const char *name;
  int has_type;
  int dtype;                           /* 0 for non-tensor types */
  int rank;                            /* -1 unknown; may exceed ER_MAX_RANK (dims cut) */
  int64_t dims[ER_MAX_RANK];
  const char *dim_params[ER_MAX_RANK];
} px_vi;

typedef struct px_init {
  const char *name;
  er_tensor *t;
} px_init;

struct px_graph {
  const char *name;
  int n_nodes, n_inits, n_inputs, n_outputs, n_vi;
  px_node *nodes;
  px_init *inits;
  px_vi *inputs, *outputs, *vi;
};

typedef struct px_func {
  const char *name, *domain, *overload;
  int n_in, n_out, n_attr_defaults;
  const char **in, **out;
  px_attr *attr_defaults; /* attribute_proto: default values */
  int n_nodes;
  px_node *nodes;
  onx_opsets opsets;
} px_func;

typedef struct onx_extfile {
  struct onx_extfile *next;
  const char *path;
  const uint8_t *data;
  size_t size;
} onx_extfile;

typedef struct onx_ctx {
  er_pool *pool;        /* model pool: everything the IR references */
  er_pool tmp;          /* scratch: px structs, builder arrays, maps */
  const char *what;
  const char *base_dir; /* NULL: external data is an error */
  int copy_data;        /* copy tensor data even when aligned in place */
  er_mapping **mappings;
  er_copied **copies;   /* where to record large unaligned copies (NULL: don't) */
  uint8_t *copy_area;   /* large copies go here (an anonymous huge-page mapping, reserved */
  size_t copy_used;     /* at the first one; copy_cap: its size, the model's byte count) */
  size_t copy_cap;
  onx_extfile *files;
  onx_opsets model_opsets;
  int64_t ir_version;
  int n_funcs;
  px_func *funcs;
  int in_function;      /* parsing a FunctionProto body: ref_attr_name allowed */
  strmap names;         /* every value name seen (for unique names when inlining) */
  unsigned long uniq;
  size_t inlined_nodes;
} onx_ctx;

/* onnx_tensor.c: parse a TensorProto payload into a pool tensor. `kind` names the role in
 * errors ("initializer", "attribute 'value' tensor"...): "<kind> '<name>': ...". */
er_status onx_parse_tensor(onx_ctx *c, const pb_reader *r, const char *kind, er_tensor **out,
                           const char **out_name);

/* onnx_parse.c */
er_status onx_parse_model(onx_ctx *c, const uint8_t *data, size_t size, px_graph **out_graph,
                          const char **producer_name, const char **producer_version);
const char *onx_norm_domain(const char *d);
int onx_str_eq(const char *a, const char *b);
/* Pool copy of a LEN field as a NUL-terminated string. */
char *onx_str(er_pool *pool, const pb_field *f);

/* Prefix an error with context ("node 'x' (Op)"), like er_status_prefix, but stop
 * growing once the message is long (deeply nested graphs): then "...: " is added once. */
er_status onx_prefix(er_status s, const char *fmt, ...) ER_PRINTF(2, 3);

/* onnx_inline.c: replace calls to model-local functions in g (and its subgraphs). */
er_status onx_inline_functions(onx_ctx *c, px_graph *g);

/* Look up a domain's opset version (fallback chain). 0 if absent. */
int64_t onx_opset_of(const onx_opsets *o, const char *domain);
#endif
