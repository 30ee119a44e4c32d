/*
 * Executor: plans a graph for concrete input shapes and runs it.
 *
 * Plan: walk nodes in order, infer each output's dtype/shape; nodes whose inputs are all
 * known constants (initializers, folded values, or shapes for Shape/Size) are evaluated
 * right away (constant folding of Shape-driven subgraphs). Remaining values get offsets in
 * one arena from their lifetimes (greedy by size). A run then only calls kernels: no
 * allocation.
 *
 * If some output shape depends on values only known at run time (NonZero, a Reshape fed by
 * data, control flow...), the plan is "dynamic": every run re-infers node by node and
 * allocates through the allocator (host heap). `er_exec_is_dynamic` tells which.
 *
 * Memory: all allocation goes through er_allocator, so device builds can supply their own.
 */
#ifndef ER_RUNTIME_EXEC_H
#define ER_RUNTIME_EXEC_H
#include "base/alloc.h"
#include "kernels/kernel.h"


typedef struct er_exec er_exec;

/* Create an executor for g. `parent` is the executor of the enclosing graph (subgraphs),
 * NULL at top level. */
er_status er_exec_create(const er_graph *g, er_exec *parent, const er_allocator *a,
                         er_exec **out_exec);
void er_exec_destroy(er_exec *e);

/* Bind graph input `index` (GraphProto.input order, initializer-backed ones included).
 * Copies the data. Validates dtype/rank/fixed dims against the declaration, unless the
 * graph is a subgraph (declarations there are often partial). */
er_status er_exec_set_input(er_exec *e, int index, const er_tensor *t);
/* Use caller memory for the arena (must stay valid); NULL to let the executor allocate. */
void er_exec_use_arena(er_exec *e, void *arena, size_t bytes);
/* Plan for shapes only (graph passes): no arena, no weight packing for nodes that are not
 * folded. The executor can then only report shapes (er_exec_node), not run. */
void er_exec_set_infer_only(er_exec *e, int on);

/* Threads for kernels (NULL: one). The pool must outlive the executor; children inherit it. */
void er_exec_set_threads(er_exec *e, er_threadpool *pool);

/* Per-node observation (profiling): after each node runs, fn(user, ctx, t0, t1, depth) with
 * start/end times from now() (ns) and the subgraph nesting depth (0 = top level). Subgraph
 * executors inherit the observer, so control-flow bodies are observed too; a control-flow
 * node's own call comes after its body's nodes and spans them. fn NULL turns it off. */
typedef void (*er_node_observer)(void *user, const er_kctx *c, uint64_t t0, uint64_t t1, int depth);
void er_exec_set_observer(er_exec *e, uint64_t (*now)(void), er_node_observer fn, void *user);
/* The context of node i (inputs/outputs with shapes after a run), for tools. */
const er_kctx *er_exec_node(const er_exec *e, int i);

/* Constants whose bytes no kernel reads after prepare: once every node reading initializer
 * v has marked it consumed (er_kctx.consumed) in a static plan, fn(user, data, bytes) is
 * called for it, right after the last of those prepares (so pages can be dropped as planning
 * goes: peak memory ~ packed weights, not packed + original). The data must stay readable
 * (a later re-plan prepares again): on the host, file pages dropped with
 * madvise(MADV_DONTNEED) are read back from the file. Top-level graphs only; values that a
 * subgraph or a graph output reads are never reported. fn NULL turns it off. */
typedef void (*er_release_fn)(void *user, const void *data, size_t bytes);
void er_exec_set_release(er_exec *e, er_release_fn fn, void *user);

/* 1 if the next er_exec_run will read constants to prepare (it plans first, or the graph
 * runs in dynamic mode), 0 if it only runs the plan. */
int er_exec_prepares(const er_exec *e);

/* Plan for the bound input shapes (done automatically by run when shapes changed). */
er_status er_exec_plan(er_exec *e);
er_status er_exec_run(er_exec *e);
/* Graph output `index`, valid until the next run. */
const er_tensor *er_exec_output(const er_exec *e, int index);
/* Bytes of this graph's arena plus those of its statically planned subgraphs (0 when the
 * graph is planned in dynamic mode). */
size_t er_exec_arena_bytes(const er_exec *e);
int er_exec_is_dynamic(const er_exec *e);

/* ---- for control-flow kernels (If, Loop, Scan) ---- */
/* Allocate the data of output i of the running control-flow node with the given shape. */
er_status er_exec_alloc_output(er_kctx *ctx, int i, int dtype, int rank, const int64_t *dims);
/* Executor of the enclosing graph for running subgraph g as a child of the current node's
 * executor (cached per graph; created on first use). */
er_status er_exec_child(er_kctx *ctx, const er_graph *g, er_exec **out_child);

/* Temporary memory for control-flow kernels (through the executor's allocator). */
void *er_exec_temp_alloc(er_kctx *ctx, size_t n);
void er_exec_temp_free(er_kctx *ctx, void *p);
#endif
