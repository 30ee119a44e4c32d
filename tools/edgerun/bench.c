/* edgerun bench MODEL [-i FILE]... [--threads N] [--runs N] [--warmup N] [--json]
 *                    [--profile FILE] [--per-op] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "api/internal.h"
#include "base/pool.h"
#include "base/status.h"
#include "cli.h"
#include "io/tensor_io.h"

static const char *usage =
    "usage: edgerun bench MODEL [-i FILE]... [--threads N] [--runs N] [--warmup N] [--json]\n"
    "                     [--profile FILE] [--per-op]\n"
    "  -i FILE         input tensor (.npy or .pb) in model input order; without -i, inputs are\n"
    "                  seeded random data (floats in [-1,1), integers 1) with symbolic dims = 1\n"
    "  --threads N     worker threads (default: number of cores)\n"
    "  --runs N        timed runs (default 50)      --warmup N   untimed runs first (default 5)\n"
    "  --json          one JSON object: median_ms p90_ms p99_ms min_ms max_ms load_ms first_ms\n"
    "                  arena_bytes peak_rss_kb ...\n"
    "  --profile FILE  per-node timings of the timed runs as a Chrome trace (Perfetto)\n"
    "  --per-op        table of time, share and GFLOP/s by op type\n";

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *sorted, int n, double p) {
  if (n == 0) return 0;
  double r = p * (n - 1);
  int lo = (int)floor(r), hi = (int)ceil(r);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (r - lo);
}

static er_status random_input(er_session *s, const er_tensor_info *info, size_t k, uint64_t *seed,
                              er_pool *pool) {
  er_tensor t;
  ER_RETURN_IF_ERROR(cli_random_tensor(info, seed, pool, &t));
  return er_session_set_input(s, k, info->dtype, t.dims, t.rank, t.data, er_tensor_nbytes(&t));
}

static double node_flops(const er_kctx *c) {
  const char *op = c->node->op_type;
  const er_tensor *o = c->n_out > 0 ? c->out[0] : NULL;
  if (!o) return 0;
  double out_n = (double)er_tensor_numel(o);
  if (!strcmp(op, "Conv") && c->n_in > 1 && c->in[1] && c->in[1]->rank > 0 && c->in[1]->dims[0] > 0)
    return 2.0 * out_n * ((double)er_tensor_numel(c->in[1]) / (double)c->in[1]->dims[0]);
  if (!strcmp(op, "ConvTranspose") && c->n_in > 1 && c->in[0] && c->in[1] && c->in[1]->dims[0] > 0)
    return 2.0 * (double)er_tensor_numel(c->in[0]) * ((double)er_tensor_numel(c->in[1]) / (double)c->in[1]->dims[0]);
  if (!strcmp(op, "Gemm") && c->in[0] && c->in[0]->rank == 2) {
    int64_t k = er_attr_int(c, "transA", 0) ? c->in[0]->dims[0] : c->in[0]->dims[1];
    return 2.0 * out_n * (double)k;
  }
  if ((!strcmp(op, "MatMul") || !strcmp(op, "MatMulInteger")) && c->in[0] && c->in[0]->rank >= 1)
    return 2.0 * out_n * (double)c->in[0]->dims[c->in[0]->rank - 1];
  return 0;
}

typedef struct op_stat {
  const char *op;
  double ns, flops;
  long count;
} op_stat;

/* Observer state for profiled runs: per-op totals and the Chrome trace. */
typedef struct prof_ctx {
  op_stat *stats;
  int n_stats, cap;
  FILE *trace;
  int first_event;
  uint64_t base;
} prof_ctx;

static void observe_node(void *user, const er_kctx *c, uint64_t t0, uint64_t t1, int depth) {
  prof_ctx *p = (prof_ctx *)user;
  double ns = (double)(t1 - t0);
  if (p->trace) {
    fprintf(p->trace, "%s{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"depth\":%d}}",
            p->first_event ? "" : ",\n", c->node->name, c->node->op_type, (double)(t0 - p->base) / 1e3,
            ns / 1e3, depth);
    p->first_event = 0;
  }
  /* a control-flow node's time is the sum of its body's nodes, which are counted themselves */
  if (c->node->op->flags & ER_OP_CONTROL_FLOW) return;
  int k = 0;
  while (k < p->n_stats && strcmp(p->stats[k].op, c->node->op_type)) k++;
  if (k == p->n_stats) {
    if (p->n_stats == p->cap) return;
    p->stats[p->n_stats++].op = c->node->op_type;
  }
  p->stats[k].ns += ns;
  p->stats[k].flops += node_flops(c);
  p->stats[k].count++;
}

int cmd_bench(int argc, char **argv) {
  const char *model_path = NULL, *profile_path = NULL;
  int runs = 50, warmup = 5, threads = 0, json = 0, per_op = 0;
  const char **inputs = (const char **)calloc((size_t)argc + 1, sizeof(char *));
  int n_inputs = 0;
  if (!inputs) return cli_fail(ER_ERR(ER_OUT_OF_MEMORY, "out of memory"), EXIT_FAIL);
  int rc = EXIT_OK;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_val = i + 1 < argc;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      free(inputs);
      return EXIT_OK;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--per-op")) {
      per_op = 1;
    } else if (!strcmp(a, "-i") && has_val) {
      inputs[n_inputs++] = argv[++i];
    } else if (!strcmp(a, "--profile") && has_val) {
      profile_path = argv[++i];
    } else if ((!strcmp(a, "--runs") || !strcmp(a, "--warmup") || !strcmp(a, "--threads")) && has_val) {
      int *dst = a[2] == 'r' ? &runs : a[2] == 'w' ? &warmup : &threads;
      int lo = a[2] == 'r' ? 1 : 0;
      if (!cli_parse_int(argv[++i], lo, 1000000, dst)) {
        fprintf(stderr, "edgerun: %s needs a whole number >= %d, got '%s'\n", a, lo, argv[i]);
        free(inputs);
        return EXIT_USAGE;
      }
    } else if (a[0] == '-') {
      fprintf(stderr, "edgerun: unknown option or missing value '%s'\n", a);
      free(inputs);
      return EXIT_USAGE;
    } else if (!model_path) {
      model_path = a;
    } else {
      free(inputs);
      return cli_usage("more than one model given", usage);
    }
  }
  if (!model_path) {
    free(inputs);
    return cli_usage("no model given", usage);
  }
  er_pool pool;
  er_pool_init(&pool);
  er_model *m = NULL;
  er_session *s = NULL;
  double *times = (double *)calloc((size_t)runs, sizeof(double));
  op_stat *stats = NULL;
  FILE *trace = NULL;
  uint64_t t0 = cli_now_ns();
  er_status st = er_model_load_file(model_path, &m);
  if (st) {
    rc = cli_fail(st, EXIT_MODEL);
    goto done;
  }
  er_session_options opts = {0};
  opts.threads = threads;
  st = er_session_create(m, &opts, &s);
  if (st) {
    rc = cli_fail(st, EXIT_MODEL);
    goto done;
  }
  size_t n_model_in = er_model_input_count(m);
  if (n_inputs && (size_t)n_inputs != n_model_in) {
    fprintf(stderr, "edgerun: model expects %zu input(s), %d given\n", n_model_in, n_inputs);
    rc = EXIT_INPUT;
    goto done;
  }
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  for (size_t k = 0; k < n_model_in; k++) {
    er_tensor_info info;
    st = er_model_input_info(m, k, &info);
    if (!st && n_inputs) {
      st = cli_bind_input_file(m, s, k, inputs[k], &pool);
    } else if (!st) {
      st = random_input(s, &info, k, &seed, &pool);
    }
    if (st) {
      rc = cli_fail(st, EXIT_INPUT);
      goto done;
    }
  }
  uint64_t t1 = cli_now_ns();
  st = er_session_run(s);
  uint64_t t2 = cli_now_ns();
  if (st) {
    rc = cli_fail(st, EXIT_FAIL);
    goto done;
  }
  for (int i = 0; i < warmup && !st; i++) st = er_session_run(s);
  for (int i = 0; i < runs && !st; i++) {
    uint64_t a = cli_now_ns();
    st = er_session_run(s);
    times[i] = (double)(cli_now_ns() - a) / 1e6;
  }
  if (st) {
    rc = cli_fail(st, EXIT_FAIL);
    goto done;
  }
  /* profiled runs, separately, so the timed ones carry no clock reads */
  er_exec *e = er_session_exec(s);
  prof_ctx pc = {0};
  if (per_op || profile_path) {
    pc.cap = 1024;
    stats = (op_stat *)calloc((size_t)pc.cap, sizeof(op_stat));
    pc.stats = stats;
    if (profile_path && !(trace = fopen(profile_path, "w"))) {
      fprintf(stderr, "edgerun: cannot write %s\n", profile_path);
      rc = EXIT_FAIL;
      goto done;
    }
    if (!stats) {
      rc = cli_fail(ER_ERR(ER_OUT_OF_MEMORY, "out of memory"), EXIT_FAIL);
      goto done;
    }
    pc.trace = trace;
    pc.first_event = 1;
    pc.base = cli_now_ns();
    if (trace) fprintf(trace, "{\"traceEvents\":[");
    er_exec_set_observer(e, cli_now_ns, observe_node, &pc);
    for (int r = 0; r < runs && !st; r++) st = er_session_run(s);
    er_exec_set_observer(e, NULL, NULL, NULL);
    if (trace) fprintf(trace, "],\"displayTimeUnit\":\"ms\"}\n");
    if (st) {
      rc = cli_fail(st, EXIT_FAIL);
      goto done;
    }
  }
  int n_stats = pc.n_stats;
  qsort(times, (size_t)runs, sizeof(double), cmp_double);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double load_ms = (double)(t1 - t0) / 1e6, first_ms = (double)(t2 - t1) / 1e6;
  int nthreads = threads > 0 ? threads : er_cpu_count();
  const char *isa = er_exec_node(e, 0) ? er_exec_node(e, 0)->mk->isa : "ref";
  if (json) {
    printf("{\"model\":\"%s\",\"threads\":%d,\"runs\":%d,\"warmup\":%d,\"isa\":\"%s\","
           "\"median_ms\":%.4f,\"p90_ms\":%.4f,\"p99_ms\":%.4f,\"min_ms\":%.4f,\"max_ms\":%.4f,"
           "\"load_ms\":%.3f,\"first_ms\":%.3f,\"arena_bytes\":%zu,\"dynamic\":%s,\"peak_rss_kb\":%ld",
           model_path, nthreads, runs, warmup, isa, pct(times, runs, 0.5), pct(times, runs, 0.9),
           pct(times, runs, 0.99), times[0], times[runs - 1], load_ms, first_ms,
           er_session_arena_bytes(s), er_exec_is_dynamic(e) ? "true" : "false", ru.ru_maxrss);
    if (per_op) {
      printf(",\"per_op\":[");
      for (int k = 0; k < n_stats; k++)
        printf("%s{\"op\":\"%s\",\"ms\":%.4f,\"count\":%ld,\"gflops\":%.3f}", k ? "," : "", stats[k].op,
               stats[k].ns / 1e6 / runs, stats[k].count / runs,
               stats[k].ns > 0 ? stats[k].flops / stats[k].ns : 0.0);
      printf("]");
    }
    printf("}\n");
  } else {
    printf("model      %s\n", model_path);
    printf("threads    %d   isa %s   runs %d (+%d warmup)\n", nthreads, isa, runs, warmup);
    printf("latency    median %.3f ms   p90 %.3f   p99 %.3f   min %.3f   max %.3f\n",
           pct(times, runs, 0.5), pct(times, runs, 0.9), pct(times, runs, 0.99), times[0], times[runs - 1]);
    printf("start-up   load %.2f ms   first run %.2f ms\n", load_ms, first_ms);
    printf("memory     arena %zu bytes%s   peak RSS %ld KB\n", er_session_arena_bytes(s),
           er_exec_is_dynamic(e) ? " (dynamic shapes: allocated per run)" : "", ru.ru_maxrss);
  }
  if (per_op && !json) {
    /* sort by time */
    for (int a = 1; a < n_stats; a++)
      for (int b = a; b > 0 && stats[b].ns > stats[b - 1].ns; b--) {
        op_stat tmp = stats[b];
        stats[b] = stats[b - 1];
        stats[b - 1] = tmp;
      }
    double total = 0;
    for (int k = 0; k < n_stats; k++) total += stats[k].ns;
    printf("\n%-24s %10s %7s %7s %9s\n", "op", "ms/run", "share", "nodes", "GFLOP/s");
    for (int k = 0; k < n_stats; k++) {
      printf("%-24s %10.4f %6.1f%% %7ld", stats[k].op, stats[k].ns / 1e6 / runs,
             total > 0 ? 100.0 * stats[k].ns / total : 0.0, stats[k].count / runs);
      if (stats[k].flops > 0) printf(" %9.2f", stats[k].flops / stats[k].ns);
      printf("\n");
    }
  }
done:
  if (trace) fclose(trace);
  free(stats);
  free(times);
  er_session_destroy(s);
  er_model_destroy(m);
  er_pool_free(&pool);
  free(inputs);
  return rc;
}
