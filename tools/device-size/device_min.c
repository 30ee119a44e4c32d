/* The smallest program that runs a prepared model with the device part alone (runtime +
 * kernels, no importer, no graph passes, no stdio): it binds each node's kernel from the
 * registry (what a loader of a prepared graph does on the device), plans into one arena,
 * binds inputs and runs on a thread pool, with all optimized kernel tables (AVX2, AVX-512)
 * reachable through the dispatch table. `make size` links it with --gc-sections against
 * the device library and reports its text minus that of the same program built with
 * -DER_EMPTY (C start-up code only): the device code a firmware running models carries.
 * libc/libm (memcpy, expf, pthread...) are shared libraries here and not counted.
 *
 * edgerun has no serialized prepared-graph format yet, so the graph comes from the loader
 * (er_device_graph and er_device_input, filled by whatever places the graph in memory); as built here it is
 * NULL and the program exits: it exists to be linked and measured. */
#include "runtime/exec.h"

const er_graph *volatile er_device_graph;
const er_tensor *volatile er_device_input;

#ifndef ER_EMPTY
static int bind_ops(const er_graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    er_node *n = &g->nodes[i];
    n->op = er_op_find(n->domain, n->op_type, n->opset);
    if (!n->op) return 1; /* the loader reports "op X not in this build" */
    for (int a = 0; a < n->n_attrs; a++) {
      const er_attr *at = &n->attrs[a];
      if (at->type == ER_ATTR_GRAPH && bind_ops(at->g)) return 1;
      for (int k = 0; at->type == ER_ATTR_GRAPHS && k < at->n; k++)
        if (bind_ops(at->graphs[k])) return 1;
    }
  }
  return 0;
}
#endif

int main(int argc, char **argv) {
  (void)argv;
  const er_graph *g = er_device_graph;
  if (!g) return 0;
#ifndef ER_EMPTY
  er_threadpool *pool = 0;
  er_exec *e = 0;
  if (bind_ops(g) || er_threadpool_create(argc, &pool) || er_exec_create(g, 0, er_host_allocator(), &e))
    return 1;
  er_exec_set_threads(e, pool);
  int rc = er_exec_set_input(e, 0, er_device_input) || er_exec_plan(e) || er_exec_run(e) || !er_exec_output(e, 0);
  er_exec_destroy(e);
  er_threadpool_destroy(pool);
  return rc;
#else
  return argc;
#endif
}
