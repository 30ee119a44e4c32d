/* edgerun prune MODEL -o OUT.onnx --sparsity S [--structured] [--exclude NODE,...] [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "cli.h"
#include "compress/prune.h"
#include "export/onnx_write.h"
#include "import/onnx/onnx.h"

static const char *usage =
    "usage: edgerun prune MODEL -o OUT.onnx --sparsity S [--structured] [--exclude NODE,...] [--json]\n"
    "  magnitude pruning of constant Conv/Gemm/MatMul weights; writes a standard ONNX model\n"
    "  -o OUT.onnx        output model\n"
    "  --sparsity S       fraction removed, 0 <= S < 1: of each layer's weights (the smallest |w|\n"
    "                     become 0, shapes stay), or with --structured of each Conv's output channels\n"
    "  --structured       remove whole output channels (smallest L1 norm) and shrink what reads\n"
    "                     them: bias, BatchNormalization, depthwise convs, the next Conv, Gemm/MatMul\n"
    "                     rows after Flatten; convs joined by Add/Mul/Concat lose the same channels\n"
    "  --exclude NODE,... nodes left alone (repeatable)\n"
    "  --json             one JSON object on stdout\n";

static void print_json(const char *in, const char *out, const er_prune_options *o, const er_prune_report *r) {
  printf("{\"model\":");
  cli_json_str(stdout, in);
  printf(",\"output\":");
  cli_json_str(stdout, out);
  printf(",\"structured\":%s,\"sparsity\":%g,\"pruned\":%d,\"params_before\":%lld,\"params_after\":%lld,"
         "\"nonzero_before\":%lld,\"nonzero_after\":%lld,\"layers\":[",
         o->structured ? "true" : "false", o->sparsity, r->n_pruned, (long long)r->params_before,
         (long long)r->params_after, (long long)r->nonzero_before, (long long)r->nonzero_after);
  for (int i = 0; i < r->n_layers; i++) {
    const er_prune_layer *L = &r->layers[i];
    printf("%s{\"node\":", i ? "," : "");
    cli_json_str(stdout, L->node);
    printf(",\"op\":\"%s\",\"params\":%lld,\"params_after\":%lld,", L->op, (long long)L->params,
           (long long)L->params_after);
    if (o->structured)
      printf("\"group\":%d,\"channels\":%lld,\"channels_after\":%lld,", L->group, (long long)L->channels_before,
             (long long)L->channels_after);
    else
      printf("\"zeros\":%lld,\"zeros_after\":%lld,", (long long)L->zeros_before, (long long)L->zeros_after);
    printf("\"skipped\":");
    if (L->skipped) cli_json_str(stdout, L->skipped);
    else printf("null");
    printf(",\"blocker\":");
    if (L->blocker) cli_json_str(stdout, L->blocker);
    else printf("null");
    printf("}");
  }
  printf("]}\n");
}

static void print_text(const char *in, const char *out, const er_prune_options *o, const er_prune_report *r) {
  if (o->structured) {
    printf("prune %s -> %s: %g of the output channels of each Conv (structured)\n", in, out, o->sparsity);
    printf("  %-40s %5s %16s %22s\n", "node", "group", "channels", "weights");
  } else {
    printf("prune %s -> %s: %g of the weights of each layer (unstructured)\n", in, out, o->sparsity);
    printf("  %-40s %-6s %10s %22s %8s\n", "node", "op", "weights", "zeros", "sparsity");
  }
  for (int i = 0; i < r->n_layers; i++) {
    const er_prune_layer *L = &r->layers[i];
    char a[64], b[64];
    if (o->structured) {
      snprintf(a, sizeof a, "%lld -> %lld", (long long)L->channels_before, (long long)L->channels_after);
      snprintf(b, sizeof b, "%lld -> %lld", (long long)L->params, (long long)L->params_after);
      printf("  %-40s %5d %16s %22s", L->node, L->group, a, b);
    } else {
      snprintf(a, sizeof a, "%lld -> %lld", (long long)L->zeros_before, (long long)L->zeros_after);
      printf("  %-40s %-6s %10lld %22s %7.1f%%", L->node, L->op, (long long)L->params, a,
             L->params ? 100.0 * (double)L->zeros_after / (double)L->params : 0.0);
    }
    if (L->skipped) printf("  skipped: %s%s%s%s", L->skipped, L->blocker ? " (node '" : "", L->blocker ? L->blocker : "",
                           L->blocker ? "')" : "");
    printf("\n");
  }
  double fewer = r->params_before ? 100.0 * (double)(r->params_before - r->params_after) / (double)r->params_before : 0;
  double zeros = r->params_after ? 100.0 * (double)(r->params_after - r->nonzero_after) / (double)r->params_after : 0;
  if (r->in_subgraphs) printf("%d Conv/Gemm/MatMul nodes inside If/Loop/Scan bodies are not pruned\n", r->in_subgraphs);
  printf("%d of %d layers pruned; parameters %lld -> %lld (%.1f%% fewer), %lld non-zero (%.1f%% zeros)\n",
         r->n_pruned, r->n_layers, (long long)r->params_before, (long long)r->params_after, fewer,
         (long long)r->nonzero_after, zeros);
}

int cmd_prune(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  er_prune_options po = {0};
  int json = 0, have_s = 0, rc = EXIT_OK;
  char **exclude = (char **)calloc((size_t)argc + 1, sizeof(char *)); /* split --exclude lists */
  char *lists = NULL;
  size_t total = 0;
  for (int i = 0; i < argc; i++) total += strlen(argv[i]) + 1;
  lists = (char *)malloc(total + 1);
  int n_ex = 0, cap_ex = argc + 1;
  size_t used = 0;
  if (!exclude || !lists) {
    free(exclude);
    free(lists);
    return cli_fail(ER_ERR(ER_OUT_OF_MEMORY, "out of memory"), EXIT_FAIL);
  }
  for (int i = 1; i < argc && rc == EXIT_OK; i++) {
    const char *o = argv[i];
    int has_val = i + 1 < argc;
    char msg[200];
    if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
      fputs(usage, stdout);
      rc = -1;
    } else if (!strcmp(o, "--json")) {
      json = 1;
    } else if (!strcmp(o, "--structured")) {
      po.structured = 1;
    } else if (!strcmp(o, "-o") && has_val) {
      out = argv[++i];
    } else if (!strcmp(o, "--sparsity") && has_val) {
      if (!cli_parse_double(argv[++i], 0, 0.999999, &po.sparsity)) {
        snprintf(msg, sizeof msg, "--sparsity needs a number in [0, 1), got '%s'", argv[i]);
        rc = cli_usage(msg, usage);
      }
      have_s = 1;
    } else if (!strcmp(o, "--exclude") && has_val) {
      char *list = lists + used;
      strcpy(list, argv[++i]);
      used += strlen(list) + 1;
      for (char *tok = strtok(list, ","); tok && n_ex < cap_ex; tok = strtok(NULL, ","))
        exclude[n_ex++] = tok;
    } else if (o[0] == '-' && o[1]) {
      snprintf(msg, sizeof msg, "unknown option or missing value '%s'", o);
      rc = cli_usage(msg, usage);
    } else if (!in) {
      in = o;
    } else {
      rc = cli_usage("more than one model given", usage);
    }
  }
  if (rc == EXIT_OK && !in) rc = cli_usage("no model given", usage);
  if (rc == EXIT_OK && !out) rc = cli_usage("no output given (-o OUT.onnx)", usage);
  if (rc == EXIT_OK && !have_s) rc = cli_usage("--sparsity is required", usage);
  if (rc != EXIT_OK) {
    free(exclude);
    free(lists);
    return rc < 0 ? EXIT_OK : rc;
  }
  po.exclude = (const char *const *)exclude;
  po.n_exclude = n_ex;
  er_imported m;
  er_prune_report rep = {0};
  er_status st = er_onnx_import_file(in, 0, &m);
  if (st) {
    rc = cli_fail(st, EXIT_MODEL);
  } else if ((st = er_prune(&m, &po, &rep)) != NULL) {
    int code = er_status_code(st) == ER_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_FAIL;
    rc = cli_fail(er_status_prefix(st, "%s", in), code);
  } else if (rep.n_pruned == 0) {
    const char *what = po.structured ? "Conv layer" : "Conv/Gemm/MatMul layer";
    char sub[96] = "";
    if (rep.in_subgraphs) snprintf(sub, sizeof sub, " (%d inside If/Loop/Scan bodies are not pruned)", rep.in_subgraphs);
    if (!rep.n_layers)
      fprintf(stderr, "edgerun: %s: nothing to prune: no %s with constant float32 weights in the main graph%s\n",
              in, what, sub);
    else
      fprintf(stderr, "edgerun: %s: nothing to prune: %d %s(s) with constant weights%s, none can be pruned (first: '%s': %s)\n", in,
              rep.n_layers, what, sub, rep.layers[0].node, rep.layers[0].skipped ? rep.layers[0].skipped : "");
    rc = EXIT_MODEL;
  } else if ((st = er_onnx_write_file(&m, out)) != NULL || (st = cli_check_written(out)) != NULL) {
    rc = cli_fail(st, EXIT_FAIL);
  } else if (json) {
    print_json(in, out, &po, &rep);
  } else {
    print_text(in, out, &po, &rep);
  }
  er_prune_report_free(&rep);
  er_imported_free(&m);
  free(exclude);
  free(lists);
  return rc;
}
