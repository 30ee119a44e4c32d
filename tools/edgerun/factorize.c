/* edgerun factorize MODEL -o OUT.onnx --rank-ratio R [--min-size N] [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "cli.h"
#include "compress/factorize.h"
#include "export/onnx_write.h"
#include "import/onnx/onnx.h"

static const char *usage =
    "usage: edgerun factorize MODEL -o OUT.onnx --rank-ratio R [--min-size N] [--json]\n"
    "  low-rank (SVD) factorization of constant Gemm/MatMul weights W[K,N] into W1[K,r] x W2[r,N],\n"
    "  r = ceil(R * min(K,N)), where that saves parameters; writes a standard ONNX model\n"
    "  -o OUT.onnx      output model\n"
    "  --rank-ratio R   kept rank as a fraction of min(K,N), 0 < R <= 1\n"
    "  --min-size N     only weights with at least N parameters (default 65536)\n"
    "  --json           one JSON object on stdout\n"
    "  prints per weight: shape, rank, parameters before and after, relative Frobenius error\n";

static void progress(void *user, int done, int total) { cli_progress((const char *)user, done, total); }

static void print_json(const char *in, const char *out, double ratio, const er_factorize_report *r) {
  printf("{\"model\":");
  cli_json_str(stdout, in);
  printf(",\"output\":");
  cli_json_str(stdout, out);
  printf(",\"rank_ratio\":%g,\"factorized\":%d,\"params_before\":%lld,\"params_after\":%lld,\"layers\":[", ratio,
         r->n_factorized, (long long)r->params_before, (long long)r->params_after);
  for (int i = 0; i < r->n_layers; i++) {
    const er_factorize_layer *L = &r->layers[i];
    printf("%s{\"node\":", i ? "," : "");
    cli_json_str(stdout, L->node);
    printf(",\"op\":\"%s\",\"k\":%lld,\"n\":%lld,\"rank\":%d,\"params_before\":%lld,\"params_after\":%lld,", L->op,
           (long long)L->k, (long long)L->n, L->rank, (long long)L->params_before, (long long)L->params_after);
    if (L->skipped) {
      printf("\"rel_error\":null,\"skipped\":");
      cli_json_str(stdout, L->skipped);
    } else {
      printf("\"rel_error\":%.6g,\"skipped\":null", L->rel_error);
    }
    printf("}");
  }
  printf("]}\n");
}

static void print_text(const char *in, const char *out, double ratio, const er_factorize_report *r) {
  printf("factorize %s -> %s (rank ratio %g)\n", in, out, ratio);
  printf("  %-36s %-6s %-11s %6s %12s %12s %10s\n", "node", "op", "weight", "rank", "params", "after", "rel.error");
  for (int i = 0; i < r->n_layers; i++) {
    const er_factorize_layer *L = &r->layers[i];
    char shape[48];
    snprintf(shape, sizeof shape, "%lldx%lld", (long long)L->k, (long long)L->n);
    printf("  %-36s %-6s %-11s", L->node, L->op, shape);
    if (L->skipped) printf(" %6s %12lld %12s %10s  skipped: %s\n", "-", (long long)L->params_before, "-", "-", L->skipped);
    else
      printf(" %6d %12lld %12lld %10.4f\n", L->rank, (long long)L->params_before, (long long)L->params_after,
             L->rel_error);
  }
  if (r->in_subgraphs) printf("%d Gemm/MatMul nodes inside If/Loop/Scan bodies are not factorized\n", r->in_subgraphs);
  double saved = r->params_before ? 100.0 * (double)(r->params_before - r->params_after) / (double)r->params_before : 0;
  printf("%d of %d weights factorized: %lld -> %lld parameters (%.1f%% fewer)\n", r->n_factorized, r->n_layers,
         (long long)r->params_before, (long long)r->params_after, saved);
}

int cmd_factorize(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  double ratio = 0;
  int json = 0, have_ratio = 0;
  double min_size = 65536;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    int has_val = i + 1 < argc;
    char msg[160];
    if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
      fputs(usage, stdout);
      return EXIT_OK;
    } else if (!strcmp(o, "--json")) {
      json = 1;
    } else if (!strcmp(o, "-o") && has_val) {
      out = argv[++i];
    } else if (!strcmp(o, "--rank-ratio") && has_val) {
      if (!cli_parse_double(argv[++i], 1e-9, 1, &ratio)) {
        snprintf(msg, sizeof msg, "--rank-ratio needs a number in (0, 1], got '%s'", argv[i]);
        return cli_usage(msg, usage);
      }
      have_ratio = 1;
    } else if (!strcmp(o, "--min-size") && has_val) {
      if (!cli_parse_double(argv[++i], 0, 1e15, &min_size) || min_size != (double)(int64_t)min_size) {
        snprintf(msg, sizeof msg, "--min-size needs a whole number >= 0, got '%s'", argv[i]);
        return cli_usage(msg, usage);
      }
    } else if (o[0] == '-' && o[1]) {
      snprintf(msg, sizeof msg, "unknown option or missing value '%s'", o);
      return cli_usage(msg, usage);
    } else if (!in) {
      in = o;
    } else {
      return cli_usage("more than one model given", usage);
    }
  }
  if (!in) return cli_usage("no model given", usage);
  if (!out) return cli_usage("no output given (-o OUT.onnx)", usage);
  if (!have_ratio) return cli_usage("--rank-ratio is required", usage);
  er_imported m;
  er_status st = er_onnx_import_file(in, 0, &m);
  if (st) {
    er_imported_free(&m);
    return cli_fail(st, EXIT_MODEL);
  }
  er_factorize_options fo = {ratio, (int64_t)min_size, progress, (void *)"factorize: SVD"};
  er_factorize_report rep;
  int rc = EXIT_OK;
  st = er_factorize(&m, &fo, &rep);
  if (st) {
    rc = cli_fail(er_status_prefix(st, "%s", in), EXIT_FAIL);
  } else if (rep.n_factorized == 0) {
    int small = 0;
    for (int i = 0; i < rep.n_layers; i++) small += rep.layers[i].skipped && strstr(rep.layers[i].skipped, "minimum");
    char sub[96] = "";
    if (rep.in_subgraphs)
      snprintf(sub, sizeof sub, " (%d more inside If/Loop/Scan bodies are not factorized)", rep.in_subgraphs);
    fprintf(stderr, "edgerun: %s: nothing to factorize: %d Gemm/MatMul weight(s) with constant float32 values%s, "
            "%d below --min-size %.0f, none saves parameters at rank ratio %g\n", in, rep.n_layers, sub, small, min_size, ratio);
    rc = EXIT_MODEL;
  } else if ((st = er_onnx_write_file(&m, out)) != NULL || (st = cli_check_written(out)) != NULL) {
    rc = cli_fail(st, EXIT_FAIL);
  } else if (json) {
    print_json(in, out, ratio, &rep);
  } else {
    print_text(in, out, ratio, &rep);
  }
  er_factorize_report_free(&rep);
  er_imported_free(&m);
  return rc;
}
