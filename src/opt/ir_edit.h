/*
 * Internal helpers shared by the graph passes (src/opt/): use counts, consumer lookup,
 * value rewiring, node removal and rewriting, new values and initializers in pool memory,
 * and static shape/type facts per value.
 *
 * Passes edit only the top-level graph. Nodes inside subgraphs are never touched; a value
 * a subgraph refers to (ER_VALUE_OUTER) counts as used, and rewiring it updates the
 * subgraph's outer index. Removed nodes are only marked dead (kept in topological order)
 * until opt_compact, which every pass calls at its end.
 */
#ifndef ER_OPT_IR_EDIT_H
#define ER_OPT_IR_EDIT_H
#include "import/model.h"
#include "opt/opt.h"

typedef struct opt_ctx {
  er_pool *pool;
  er_graph *g;
  unsigned flags;        /* ER_OPT_F_* */
  int cap_values;        /* capacity of g->values (grown in pool memory) */
  /* per value (size cap_values) */
  int *uses;             /* node-input occurrences in g's nodes */
  int *sub_uses;         /* references from direct subgraphs (OUTER values) */
  int *out_uses;         /* occurrences in g->outputs */
  int *vi_dtype;         /* statically known dtype (0 unknown) */
  int *vi_rank;          /* -1 unknown */
  int64_t (*vi_dims)[ER_MAX_RANK]; /* -1 where not static */
  /* per node (size g->n_nodes at pass start) */
  unsigned char *dead;
  int changed;           /* rewrites in the current pass */
  int cap_nodes;         /* capacity of g->nodes once opt_add_node grew it (0: importer's) */
  int needs_sort;        /* opt_add_node appended nodes: opt_compact re-sorts */
  unsigned act_ops;      /* OPT_ACT_*: producers whose kernels read _act / _act_a / _act_b */
  /* value names of g for opt_new_value's uniqueness test: open addressing over value indices
   * (-1 empty), built on first use, dropped by opt_refresh and opt_compact_values */
  int *name_slots;
  size_t name_cap;
} opt_ctx;

enum { OPT_ACT_CONV = 1u << 0, OPT_ACT_CONVTRANSPOSE = 1u << 1, OPT_ACT_GEMM = 1u << 2,
       OPT_ACT_MATMUL = 1u << 3 };

/* ---- setup ---- */
er_status opt_ctx_init(opt_ctx *c, er_pool *pool, er_graph *g, unsigned flags);
void opt_ctx_free(opt_ctx *c);
/* Recount uses and reset the dead marks (after structural edits / at pass start). */
er_status opt_refresh(opt_ctx *c);
/* Drop dead nodes, keeping order; fixes producer indices. Then refresh. */
er_status opt_compact(opt_ctx *c);
/* Remove values nothing refers to (renumbers indices everywhere, including subgraphs'
 * outer references). Called once by the driver at the end. */
er_status opt_compact_values(opt_ctx *c);
/* Fill vi_* by planning the graph with the executor (symbolic dims tried at two sizes;
 * dims that differ are recorded as not static). Failure leaves only declared facts. */
void opt_infer_facts(opt_ctx *c);
/* Reset v's facts to its declaration (after turning it into an initializer). */
void opt_note_declared(opt_ctx *c, int v);

/* ---- queries ---- */
/* Total references to v: node inputs, subgraphs and graph outputs. */
static inline int opt_refs(const opt_ctx *c, int v) {
  return c->uses[v] + c->sub_uses[v] + c->out_uses[v];
}
/* Value produced by a live node of g (not an input, initializer or outer value). */
int opt_is_node_value(const opt_ctx *c, int v);
/* The producing node of v, or NULL. */
er_node *opt_producer(const opt_ctx *c, int v);
/* If v has exactly one reference and it is one live node's input, that node (and its
 * input slot in *out_slot, may be NULL); else NULL. */
er_node *opt_sole_consumer(const opt_ctx *c, int v, int *out_slot);
/* Up to cap live consumer nodes of v (node-input uses only); returns their count. */
int opt_consumers(const opt_ctx *c, int v, er_node **out, int cap);
/* Initializer data of v as float32, or NULL (not an initializer or not float32). */
const float *opt_const_f32(const opt_ctx *c, int v, int64_t *out_numel);
/* Scalar numeric initializer value (any numeric dtype, numel 1). 1 on success. */
int opt_const_scalar(const opt_ctx *c, int v, double *out);
/* Constant integer vector (initializer of an int dtype, up to cap). Count or -1. */
int opt_const_ints(const opt_ctx *c, int v, int64_t *out, int cap);
int opt_node_index(const opt_ctx *c, const er_node *n);
int opt_is(const er_node *n, const char *op_type); /* default domain and op_type equal */
/* Static facts (see opt_infer_facts). */
int opt_dtype(const opt_ctx *c, int v);
int opt_rank(const opt_ctx *c, int v);

/* ---- edits ---- */
void opt_set_input(opt_ctx *c, er_node *n, int k, int v);
/* Replace every use of `from` (node inputs, subgraph outer refs) by `to`. */
void opt_replace_uses(opt_ctx *c, int from, int to);
/* Make value y (output of node `n`, which is removed) equal to x: consumers of y read x;
 * if y is a graph output, x's producer is made to produce y instead. Returns 0 (and
 * changes nothing) when that is not possible. */
int opt_forward(opt_ctx *c, er_node *n, int y, int x);
/* Mark a node dead (its input uses are released). */
void opt_kill(opt_ctx *c, er_node *n);
/* Make node n's output k be value v (v's producer becomes n). */
void opt_set_output(opt_ctx *c, er_node *n, int k, int v);
/* Append a value; returns its index or -1 (out of memory). `name` is copied. */
int opt_new_value(opt_ctx *c, const char *name, int kind);
/* New float32 initializer of the given shape with data copied from `data`. -1 on OOM. */
int opt_new_init_f32(opt_ctx *c, const char *name, int rank, const int64_t *dims,
                     const float *data);
/* New initializer of any fixed-size dtype (data copied, numel * er_dtype_size bytes).
 * -1 on OOM or a dtype without a fixed element size. */
int opt_new_init(opt_ctx *c, const char *name, int dtype, int rank, const int64_t *dims,
                 const void *data);
/* Append a node (op resolved with er_op_find(domain, op_type, opset); domain "" is
 * ai.onnx). inputs may contain -1 (absent); outputs are existing values (made from
 * opt_new_value) that this node now produces. Attributes are set afterwards with
 * opt_set_attr_*. The node goes at the end of g->nodes; opt_compact (which every pass
 * calls at its end) restores topological order, placing it before its first consumer.
 * Returns the node's index, or -1 (no kernel for that op: nothing is changed; or OOM).
 * Growing the node array INVALIDATES er_node pointers held by the caller: keep
 * indices across calls. `name` is copied. */
int opt_add_node(opt_ctx *c, const char *domain, const char *op_type, int opset,
                 const char *name, int n_in, const int *inputs, int n_out, const int *outputs);
/* Set (add or overwrite) an INT / FLOAT attribute. 0 on success, -1 on OOM. */
int opt_set_attr_int(opt_ctx *c, er_node *n, const char *name, int64_t v);
int opt_set_attr_float(opt_ctx *c, er_node *n, const char *name, float v);
int opt_set_attr_ints(opt_ctx *c, er_node *n, const char *name, int count, const int64_t *v);
/* Drop every attribute of n (before retyping it into another op). */
void opt_clear_attrs(er_node *n);
/* Replace the inputs array of n. -1 on OOM. */
int opt_set_inputs(opt_ctx *c, er_node *n, int n_in, const int *inputs);
/* "a+b" in pool memory (NULL on OOM). */
const char *opt_join_name(opt_ctx *c, const char *a, const char *b);
/* Change a node's op (default domain); resolves node->op. 0 if no kernel exists (node
 * unchanged), 1 on success. */
int opt_retype(er_node *n, const char *op_type, int opset);
/* Attribute readers on a node with defaults. */
int64_t opt_attr_int(const er_node *n, const char *name, int64_t def);
float opt_attr_float(const er_node *n, const char *name, float def);

/* ---- passes: each returns the number of rewrites in *out_count ---- */
er_status opt_pass_dce(opt_ctx *c, int *out_count);
er_status opt_pass_constants(opt_ctx *c, int *out_count);
er_status opt_pass_identity(opt_ctx *c, int *out_count);
er_status opt_pass_bn_fold(opt_ctx *c, int *out_count);
er_status opt_pass_conv_add(opt_ctx *c, int *out_count);
er_status opt_pass_layernorm(opt_ctx *c, int *out_count);
er_status opt_pass_gelu(opt_ctx *c, int *out_count);
er_status opt_pass_hardswish(opt_ctx *c, int *out_count);
er_status opt_pass_matmul_add(opt_ctx *c, int *out_count);
er_status opt_pass_act_fuse(opt_ctx *c, int *out_count);
er_status opt_pass_reshape(opt_ctx *c, int *out_count);
er_status opt_pass_layout(opt_ctx *c, int *out_count);
er_status opt_pass_qdq(opt_ctx *c, int *out_count);
er_status opt_pass_attention(opt_ctx *c, int *out_count);
er_status opt_pass_fold(opt_ctx *c, int *out_count);
er_status opt_pass_sparse(opt_ctx *c, int *out_count);
er_status opt_pass_conv_residual(opt_ctx *c, int *out_count);
/* The activation (ER_ACT_* of kernels/dispatch.h, parameters in *a, *b) that node n computes
 * from its input 0 -- Relu, Clip with constant bounds, LeakyRelu, HardSigmoid, HardSwish,
 * Sigmoid, Tanh, exact Gelu -- or ER_ACT_NONE (act_fuse.c). */
int opt_act_of(const opt_ctx *c, const er_node *n, float *a, float *b);
#endif
