/* edgerun inspect MODEL [--json] [--optimized]
 * edgerun inspect --ops-list[-import] MODEL... (op types for a selective-op build) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "import/onnx/onnx.h"
#include "import/onnx/onnx_internal.h"
#include "base/status.h"
#include "cli.h"

static const char *usage =
    "usage: edgerun inspect MODEL [--json] [--optimized]\n"
    "  prints inputs, outputs (with symbolic dimensions), op counts, parameter bytes, opsets\n"
    "  --optimized  also list the graph as edgerun runs it (after its graph passes), node by\n"
    "               node: op, name, inputs -> outputs (text output only)\n"
    "usage: edgerun inspect --ops-list MODEL...\n"
    "  prints the op types the models run (after edgerun's graph passes, so internal ops such\n"
    "  as NhwcConv are listed), one per line, sorted: the OPS file of a selective-op build\n"
    "  (make OPS=FILE) that runs these models prepared\n"
    "  --ops-list-import  also the op types as written in the files (a build that imports the\n"
    "               ONNX files itself, such as the CLI, needs both)\n";

typedef struct op_count {
  const char *op;
  int n;
} op_count;

static void count_ops(const er_graph *g, op_count *oc, int *n_oc, int cap) {
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    int found = 0;
    for (int k = 0; k < *n_oc; k++)
      if (!strcmp(oc[k].op, n->op_type)) {
        oc[k].n++;
        found = 1;
        break;
      }
    if (!found && *n_oc < cap) oc[(*n_oc)++] = (op_count){n->op_type, 1};
    for (int a = 0; a < n->n_attrs; a++) {
      const er_attr *at = &n->attrs[a];
      if (at->type == ER_ATTR_GRAPH && at->g) count_ops(at->g, oc, n_oc, cap);
      if (at->type == ER_ATTR_GRAPHS)
        for (int k = 0; k < at->n; k++) count_ops(at->graphs[k], oc, n_oc, cap);
    }
  }
}

static void param_stats(const er_graph *g, long long *bytes, long long *count) {
  for (int i = 0; i < g->n_values; i++) {
    const er_value *v = &g->values[i];
    if (v->kind != ER_VALUE_INITIALIZER) continue;
    int64_t n = er_shape_numel(v->dims, v->rank);
    *count += n;
    *bytes += n * (long long)er_dtype_size(v->dtype);
  }
  for (int i = 0; i < g->n_nodes; i++)
    for (int a = 0; a < g->nodes[i].n_attrs; a++) {
      const er_attr *at = &g->nodes[i].attrs[a];
      if (at->type == ER_ATTR_GRAPH && at->g) param_stats(at->g, bytes, count);
    }
}

static void shape_text(const er_value *v, char *buf, size_t cap, int json) {
  size_t o = 0;
  if (v->rank < 0) {
    snprintf(buf, cap, json ? "null" : "?");
    return;
  }
  o += (size_t)snprintf(buf + o, cap - o, "[");
  for (int d = 0; d < v->rank && o < cap; d++) {
    const char *sep = d ? (json ? "," : ", ") : "";
    if (v->dim_params[d]) o += (size_t)snprintf(buf + o, cap - o, json ? "%s\"%s\"" : "%s%s", sep, v->dim_params[d]);
    else if (v->dims[d] < 0) o += (size_t)snprintf(buf + o, cap - o, json ? "%snull" : "%s?", sep);
    else o += (size_t)snprintf(buf + o, cap - o, "%s%lld", sep, (long long)v->dims[d]);
  }
  if (o < cap) snprintf(buf + o, cap - o, "]");
}

static void print_values(const er_graph *g, const int *idx, int n, int skip_init, int json) {
  int first = 1;
  for (int i = 0; i < n; i++) {
    const er_value *v = &g->values[idx[i]];
    if (skip_init && v->kind == ER_VALUE_INITIALIZER) continue;
    char sh[512];
    shape_text(v, sh, sizeof sh, json);
    if (json) printf("%s{\"name\":\"%s\",\"type\":\"%s\",\"shape\":%s}", first ? "" : ",", v->name,
                     er_dtype_name((er_dtype)v->dtype), sh);
    else printf("  %-24s %-8s %s\n", v->name, er_dtype_name((er_dtype)v->dtype), sh);
    first = 0;
  }
}

typedef struct unsup {
  const char *op, *domain, *node;
  int opset, n;
} unsup;

static void find_unsupported(const er_graph *g, unsup *u, int *n_u, int cap) {
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    if (!er_op_find(n->domain, n->op_type, n->opset)) {
      int k = 0;
      while (k < *n_u && (strcmp(u[k].op, n->op_type) || strcmp(u[k].domain, n->domain) || u[k].opset != n->opset)) k++;
      if (k == *n_u && *n_u < cap) u[(*n_u)++] = (unsup){n->op_type, n->domain, n->name, n->opset, 0};
      if (k < *n_u) u[k].n++;
    }
    for (int a = 0; a < n->n_attrs; a++) {
      const er_attr *at = &n->attrs[a];
      if (at->type == ER_ATTR_GRAPH && at->g) find_unsupported(at->g, u, n_u, cap);
      if (at->type == ER_ATTR_GRAPHS)
        for (int k = 0; k < at->n; k++) find_unsupported(at->graphs[k], u, n_u, cap);
    }
  }
}

static int cmp_oc(const void *a, const void *b) {
  const op_count *x = (const op_count *)a, *y = (const op_count *)b;
  if (x->n != y->n) return y->n - x->n;
  return strcmp(x->op, y->op);
}

static void print_node_list(const er_graph *g, int depth) {
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    printf("%*s%s%s%s %s (", 2 + 2 * depth, "", n->domain[0] ? n->domain : "", n->domain[0] ? ":" : "", n->op_type,
           n->name);
    for (int k = 0; k < n->n_inputs; k++)
      printf("%s%s", k ? ", " : "", n->inputs[k] >= 0 ? g->values[n->inputs[k]].name : "");
    printf(") -> (");
    for (int k = 0; k < n->n_outputs; k++)
      printf("%s%s", k ? ", " : "", n->outputs[k] >= 0 ? g->values[n->outputs[k]].name : "");
    printf(")\n");
    for (int a = 0; a < n->n_attrs; a++) {
      const er_attr *at = &n->attrs[a];
      int ng = at->type == ER_ATTR_GRAPH ? 1 : at->type == ER_ATTR_GRAPHS ? at->n : 0;
      for (int k = 0; k < ng; k++) {
        const er_graph *sg = at->type == ER_ATTR_GRAPH ? at->g : at->graphs[k];
        if (!sg) continue;
        printf("%*s%s:\n", 4 + 2 * depth, "", at->name);
        print_node_list(sg, depth + 2);
      }
    }
  }
}

static void print_optimized(const er_graph *g) {
  op_count oc[512];
  int n_oc = 0;
  count_ops(g, oc, &n_oc, 512);
  qsort(oc, (size_t)n_oc, sizeof oc[0], cmp_oc);
  printf("optimized graph (as run)\n");
  for (int i = 0; i < n_oc; i++) printf("  %-28s %d\n", oc[i].op, oc[i].n);
  printf("nodes in order\n");
  print_node_list(g, 0);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void add_ops(const er_graph *g, char **ops, int *n, int cap) {
  op_count oc[512];
  int n_oc = 0;
  count_ops(g, oc, &n_oc, 512);
  for (int i = 0; i < n_oc; i++) {
    int k = 0;
    while (k < *n && strcmp(ops[k], oc[i].op)) k++;
    if (k == *n && *n < cap) ops[(*n)++] = strdup(oc[i].op);
  }
}

/* --ops-list: the union of the op types of the models' optimized graphs (and with
 * with_import, of the files as written), one per line, sorted. */
static int ops_list(int n_paths, char **paths, int with_import) {
  char *ops[1024];
  int n = 0, rc = EXIT_OK;
  for (int p = 0; p < n_paths && rc == EXIT_OK; p++) {
    er_model *m = NULL;
    er_status st = er_model_load_file(paths[p], &m);
    if (st) {
      rc = cli_fail(st, EXIT_MODEL);
    } else {
      add_ops(er_model_ir(m)->graph, ops, &n, 1024);
      if (with_import) {
        er_imported imp;
        st = er_onnx_import_file(paths[p], ER_ONNX_NO_OP_RESOLVE, &imp);
        if (st) rc = cli_fail(st, EXIT_MODEL);
        else add_ops(imp.graph, ops, &n, 1024);
        er_imported_free(&imp);
      }
    }
    er_model_destroy(m);
  }
  qsort(ops, (size_t)n, sizeof ops[0], cmp_str);
  for (int i = 0; i < n; i++) {
    if (rc == EXIT_OK) printf("%s\n", ops[i]);
    free(ops[i]);
  }
  return rc;
}

int cmd_inspect(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--ops-list") || !strcmp(argv[i], "--ops-list-import")) {
      int with_import = !strcmp(argv[i], "--ops-list-import"), n = 0;
      char **paths = argv + 1;
      for (int k = 1; k < argc; k++)
        if (k != i) {
          if (argv[k][0] == '-') return cli_usage("--ops-list takes model files only", usage);
          paths[n++] = argv[k];
        }
      if (!n) return cli_usage("no model given", usage);
      return ops_list(n, paths, with_import);
    }
  const char *path = NULL;
  int json = 0, optimized = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage, stdout);
      return EXIT_OK;
    } else if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else if (!strcmp(argv[i], "--optimized")) {
      optimized = 1;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "edgerun: unknown option '%s'\n", argv[i]);
      return EXIT_USAGE;
    } else if (!path) {
      path = argv[i];
    } else {
      return cli_usage("more than one model given", usage);
    }
  }
  if (!path) return cli_usage("no model given", usage);
  if (json && optimized) return cli_usage("--optimized prints text only", usage);
  /* The file as written (no optimization), imported without resolving ops so that every
   * unsupported op can be listed. */
  er_imported imp;
  er_status st = er_onnx_import_file(path, ER_ONNX_NO_OP_RESOLVE, &imp);
  if (st) {
    er_imported_free(&imp);
    return cli_fail(st, EXIT_MODEL);
  }
  const er_imported *ir = &imp;
  const er_graph *g = ir->graph;
  unsup un[256];
  int n_un = 0;
  find_unsupported(g, un, &n_un, 256);
  /* planned arena (static shapes only): load and plan the optimized model */
  long long arena = -1;
  const char *plan_error = NULL;
  er_status plan_st = NULL;
  if (n_un == 0) {
    er_model *m = NULL;
    er_session *sess = NULL;
    er_session_options so = {0};
    so.threads = 1;
    plan_st = er_model_load_file(path, &m);
    if (!plan_st && optimized) print_optimized(er_model_ir(m)->graph);
    if (!plan_st) plan_st = er_session_create(m, &so, &sess);
    if (!plan_st && er_session_arena_bytes(sess)) arena = (long long)er_session_arena_bytes(sess);
    if (plan_st) plan_error = er_status_message(plan_st);
    er_session_destroy(sess);
    er_model_destroy(m);
  }
  op_count oc[512];
  int n_oc = 0;
  count_ops(g, oc, &n_oc, 512);
  qsort(oc, (size_t)n_oc, sizeof oc[0], cmp_oc);
  long long pbytes = 0, pcount = 0;
  param_stats(g, &pbytes, &pcount);
  int total = 0;
  for (int i = 0; i < n_oc; i++) total += oc[i].n;
  if (json) {
    printf("{\"model\":\"%s\",\"ir_version\":%lld,\"producer\":\"%s\",\"opsets\":{", path,
           (long long)ir->ir_version, ir->producer_name ? ir->producer_name : "");
    for (int i = 0; i < ir->n_opsets; i++)
      printf("%s\"%s\":%lld", i ? "," : "", ir->opset_domains[i][0] ? ir->opset_domains[i] : "ai.onnx",
             (long long)ir->opset_versions[i]);
    printf("},\"inputs\":[");
    print_values(g, g->inputs, g->n_inputs, 1, 1);
    printf("],\"outputs\":[");
    print_values(g, g->outputs, g->n_outputs, 0, 1);
    printf("],\"nodes\":%d,\"ops\":{", total);
    for (int i = 0; i < n_oc; i++) printf("%s\"%s\":%d", i ? "," : "", oc[i].op, oc[i].n);
    printf("},\"parameters\":%lld,\"parameter_bytes\":%lld,\"arena_bytes\":", pcount, pbytes);
    if (arena >= 0) printf("%lld", arena);
    else printf("null");
    printf(",\"unsupported_ops\":[");
    for (int i = 0; i < n_un; i++)
      printf("%s{\"op\":\"%s\",\"domain\":\"%s\",\"opset\":%d,\"nodes\":%d,\"first_node\":\"%s\"}", i ? "," : "",
             un[i].op, un[i].domain, un[i].opset, un[i].n, un[i].node);
    printf("]}\n");
  } else {
    printf("model      %s\n", path);
    printf("ir         %lld   producer %s %s\n", (long long)ir->ir_version,
           ir->producer_name ? ir->producer_name : "", ir->producer_version ? ir->producer_version : "");
    printf("opsets    ");
    for (int i = 0; i < ir->n_opsets; i++)
      printf(" %s:%lld", ir->opset_domains[i][0] ? ir->opset_domains[i] : "ai.onnx",
             (long long)ir->opset_versions[i]);
    printf("\ninputs\n");
    print_values(g, g->inputs, g->n_inputs, 1, 0);
    printf("outputs\n");
    print_values(g, g->outputs, g->n_outputs, 0, 0);
    printf("parameters %lld (%lld bytes)\n", pcount, pbytes);
    printf("nodes      %d\n", total);
    for (int i = 0; i < n_oc; i++) printf("  %-28s %d\n", oc[i].op, oc[i].n);
    if (arena >= 0) printf("arena      %lld bytes (planned for the declared input shapes)\n", arena);
    else if (plan_error) printf("arena      not planned: %s\n", plan_error);
    else if (n_un == 0) printf("arena      planned at run time (symbolic or data-dependent shapes)\n");
    if (n_un == 0) printf("unsupported ops: none\n");
    for (int i = 0; i < n_un; i++)
      printf("unsupported operator %s%s%s (opset %d) at %d node(s), first '%s'\n", un[i].domain[0] ? un[i].domain : "",
             un[i].domain[0] ? ":" : "", un[i].op, un[i].opset, un[i].n, un[i].node);
  }
  er_status_free(plan_st);
  er_imported_free(&imp);
  return EXIT_OK;
}
