/* edgerun compare A.onnx B.onnx [--data DIR] [--runs N] [--threads N] [--samples N] [--seed N]
 *                 [--json]
 * File sizes, latency (interleaved runs) and output agreement of two models that take the
 * same inputs (e.g. a model and its quantized / pruned / factorized version). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/dtype.h"
#include "base/pool.h"
#include "base/status.h"
#include "cli.h"
#include "compress/agree.h"
#include "io/dataset.h"

static const char *usage =
    "usage: edgerun compare A.onnx B.onnx [--data DIR] [--runs N] [--threads N] [--samples N]\n"
    "                       [--seed N] [--json]\n"
    "  file sizes, latency and output agreement of two models with the same inputs\n"
    "  --data DIR    one folder per sample: DIR/<sample>/input_K.npy (or .pb); reference\n"
    "                outputs DIR/<sample>/output_K.* are compared with both models too\n"
    "                (default: seeded random inputs: floats in [-1,1), integers 1)\n"
    "  --samples N   random samples without --data (default 8)\n"
    "  --seed N      seed of the random inputs (default 1)\n"
    "  --runs N      timed runs of each model, A and B interleaved; the median is reported\n"
    "                (default 20; 0 skips timing)\n"
    "  --threads N   worker threads of each session (default 1)\n"
    "  --json        one JSON object on stdout\n"
    "  per output: max and mean |A-B|, cosine similarity, and top-1 agreement for outputs\n"
    "  shaped like class scores ([C], [N,C] or [N,1,..,1,C], N <= C)\n";

typedef struct side {
  const char *path;
  er_model *m;
  er_session *s;
  long long bytes;
  double median_ms;
} side;

typedef struct out_stats {
  er_agree ab, a_ref, b_ref;
  int n_ref; /* samples with a reference for this output */
} out_stats;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static const char *shape_of(const int64_t *dims, int rank, char *buf, size_t cap) {
  if (rank < 0) {
    snprintf(buf, cap, "[?]");
    return buf;
  }
  size_t o = 0;
  o += (size_t)snprintf(buf + o, cap - o, "[");
  for (int d = 0; d < rank && o < cap; d++)
    o += (size_t)snprintf(buf + o, cap - o, d ? ",%lld" : "%lld", (long long)dims[d]);
  if (o < cap) snprintf(buf + o, cap - o, "]");
  return buf;
}

/* Same inputs (count, types, static dims) and outputs (count, declared types). */
static er_status check_io(const side *a, const side *b) {
  size_t na = er_model_input_count(a->m), nb = er_model_input_count(b->m);
  if (na != nb)
    return ER_ERR(ER_INVALID_ARGUMENT, "the models take different inputs: %s has %zu, %s has %zu", a->path,
                  na, b->path, nb);
  for (size_t k = 0; k < na; k++) {
    er_tensor_info x, y;
    ER_RETURN_IF_ERROR(er_model_input_info(a->m, k, &x));
    ER_RETURN_IF_ERROR(er_model_input_info(b->m, k, &y));
    if (x.dtype != y.dtype)
      return ER_ERR(ER_INVALID_ARGUMENT, "input %zu differs: '%s' is %s in %s, '%s' is %s in %s", k, x.name,
                    er_dtype_name(x.dtype), a->path, y.name, er_dtype_name(y.dtype), b->path);
    int differ = x.rank >= 0 && y.rank >= 0 && x.rank != y.rank;
    for (int d = 0; !differ && d < x.rank && d < y.rank; d++)
      differ = x.dims[d] >= 0 && y.dims[d] >= 0 && x.dims[d] != y.dims[d];
    if (differ) {
      char s1[128], s2[128];
      return ER_ERR(ER_INVALID_ARGUMENT, "input %zu differs: '%s' has shape %s in %s, '%s' has %s in %s", k,
                    x.name, shape_of(x.dims, x.rank, s1, sizeof s1), a->path, y.name,
                    shape_of(y.dims, y.rank, s2, sizeof s2), b->path);
    }
  }
  na = er_model_output_count(a->m);
  nb = er_model_output_count(b->m);
  if (na != nb)
    return ER_ERR(ER_INVALID_ARGUMENT, "the models have different outputs: %s has %zu, %s has %zu",
                  a->path, na, b->path, nb);
  for (size_t k = 0; k < na; k++) {
    er_tensor_info x, y;
    ER_RETURN_IF_ERROR(er_model_output_info(a->m, k, &x));
    ER_RETURN_IF_ERROR(er_model_output_info(b->m, k, &y));
    if (x.dtype && y.dtype && (!er_dtype_is_numeric(x.dtype) || !er_dtype_is_numeric(y.dtype)))
      return ER_ERR(ER_UNSUPPORTED, "output %zu ('%s') has type %s: only numeric outputs can be compared",
                    k, x.name, er_dtype_name(er_dtype_is_numeric(x.dtype) ? y.dtype : x.dtype));
  }
  return NULL;
}

static er_status load_side(side *sd, int threads) {
  struct stat st;
  ER_RETURN_IF_ERROR(er_model_load_file(sd->path, &sd->m));
  if (stat(sd->path, &st) == 0) sd->bytes = (long long)st.st_size;
  er_session_options o = {0};
  o.threads = threads;
  return er_session_create(sd->m, &o, &sd->s);
}

static er_status view_tensor(er_session *s, size_t k, er_tensor *t) {
  er_tensor_view v;
  ER_RETURN_IF_ERROR(er_session_get_output(s, k, &v));
  memset(t, 0, sizeof *t);
  er_tensor_set_shape(t, v.dtype, v.rank, v.dims);
  t->data = (void *)v.data;
  return NULL;
}

static int same_shape(const er_tensor *a, const er_tensor *b) {
  if (a->rank != b->rank) return 0;
  for (int d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return 0;
  return 1;
}

/* One sample: bind the same inputs to both, run both, accumulate per output. *code gets
 * the exit code on error. */
static er_status one_sample(side *a, side *b, const er_dataset *ds, int i, uint64_t *seed,
                            out_stats *os, int *code) {
  er_pool pool;
  er_pool_init(&pool);
  er_status st = NULL;
  size_t n_in = er_model_input_count(a->m), n_out = er_model_output_count(a->m);
  char where[64];
  *code = EXIT_INPUT;
  for (size_t k = 0; k < n_in && !st; k++) {
    er_tensor t;
    if (ds) {
      st = er_dataset_read(ds, i, (int)k, 0, &pool, &t);
    } else { /* dims static in either model are used; symbolic in both: 1 */
      er_tensor_info ia, ib;
      st = er_model_input_info(a->m, k, &ia);
      if (!st) st = er_model_input_info(b->m, k, &ib);
      for (int d = 0; !st && d < ia.rank && ia.rank == ib.rank; d++)
        if (ia.dims[d] < 0) ia.dims[d] = ib.dims[d];
      if (!st) st = cli_random_tensor(&ia, seed, &pool, &t);
    }
    if (st) {
      if (ds) st = er_status_prefix(st, "%s", ds->samples[i]);
      break;
    }
    st = cli_bind_input_tensor(a->m, a->s, k, &t);
    if (st) st = er_status_prefix(st, "%s", a->path);
    if (!st) {
      st = cli_bind_input_tensor(b->m, b->s, k, &t);
      if (st) st = er_status_prefix(st, "%s", b->path);
    }
    if (st && ds) st = er_status_prefix(st, "%s", ds->samples[i]);
  }
  if (!st) {
    *code = EXIT_FAIL;
    st = er_session_run(a->s);
    if (st) st = er_status_prefix(st, "%s", a->path);
  }
  if (!st) {
    st = er_session_run(b->s);
    if (st) st = er_status_prefix(st, "%s", b->path);
  }
  snprintf(where, sizeof where, ds ? "sample %d" : "random sample %d", i);
  for (size_t k = 0; k < n_out && !st; k++) {
    er_tensor x, y, r;
    st = view_tensor(a->s, k, &x);
    if (!st) st = view_tensor(b->s, k, &y);
    if (st) break;
    er_tensor_info info;
    er_model_output_info(a->m, k, &info);
    if (!same_shape(&x, &y)) {
      char s1[128], s2[128];
      *code = EXIT_MODEL;
      st = ER_ERR(ER_INVALID_ARGUMENT, "output %zu ('%s') has shape %s in %s but %s in %s (%s)", k, info.name,
                  shape_of(x.dims, x.rank, s1, sizeof s1), a->path, shape_of(y.dims, y.rank, s2, sizeof s2),
                  b->path, ds ? ds->samples[i] : where);
      break;
    }
    if (!er_dtype_is_numeric(x.dtype) || !er_dtype_is_numeric(y.dtype)) {
      *code = EXIT_MODEL;
      st = ER_ERR(ER_UNSUPPORTED, "output %zu ('%s') is not numeric: cannot compare", k, info.name);
      break;
    }
    er_agree_add(&os[k].ab, &x, &y);
    if (!ds || !er_dataset_has_output(ds, i, (int)k)) continue;
    st = er_dataset_read(ds, i, (int)k, 1, &pool, &r);
    if (!st && (!same_shape(&r, &x) || !er_dtype_is_numeric(r.dtype))) {
      char s1[128], s2[128];
      *code = EXIT_INPUT;
      st = ER_ERR(ER_INVALID_ARGUMENT, "%s: reference output_%zu has shape %s, the models give %s",
                  ds->samples[i], k, shape_of(r.dims, r.rank, s1, sizeof s1), shape_of(x.dims, x.rank, s2, sizeof s2));
    }
    if (st) break;
    er_agree_add(&os[k].a_ref, &x, &r);
    er_agree_add(&os[k].b_ref, &y, &r);
    os[k].n_ref++;
  }
  er_pool_free(&pool);
  return st;
}

/* Median latency of each, runs interleaved (the order alternates every run). */
static er_status time_both(side *a, side *b, int runs) {
  double *ta = (double *)calloc((size_t)runs + 1, sizeof(double));
  double *tb = (double *)calloc((size_t)runs + 1, sizeof(double));
  er_status st = NULL;
  if (!ta || !tb) st = ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  for (int w = 0; w < 2 && !st; w++) {
    st = er_session_run(a->s);
    if (!st) st = er_session_run(b->s);
  }
  for (int r = 0; r < runs && !st; r++) {
    cli_progress("compare: timing", r, runs);
    for (int j = 0; j < 2 && !st; j++) {
      side *sd = (j ^ (r & 1)) ? b : a;
      uint64_t t0 = cli_now_ns();
      st = er_session_run(sd->s);
      (sd == a ? ta : tb)[r] = (double)(cli_now_ns() - t0) / 1e6;
    }
  }
  cli_progress("compare: timing", runs, runs);
  if (!st) {
    qsort(ta, (size_t)runs, sizeof(double), cmp_double);
    qsort(tb, (size_t)runs, sizeof(double), cmp_double);
    a->median_ms = runs % 2 ? ta[runs / 2] : 0.5 * (ta[runs / 2 - 1] + ta[runs / 2]);
    b->median_ms = runs % 2 ? tb[runs / 2] : 0.5 * (tb[runs / 2 - 1] + tb[runs / 2]);
  }
  free(ta);
  free(tb);
  return st;
}

static void json_agree(const char *key, const er_agree *g) {
  printf("\"%s\":{\"max_abs\":%.6g,\"mean_abs\":%.6g,\"cosine\":%.8f,\"nonfinite\":%lld,", key, g->max_abs,
         er_agree_mean_abs(g), er_agree_cosine(g), (long long)g->nonfinite);
  if (g->rows) printf("\"top1\":%.6f,\"rows\":%lld}", (double)g->top1_same / (double)g->rows, (long long)g->rows);
  else printf("\"top1\":null,\"rows\":0}");
}

static void text_agree(const char *name, const char *who, const er_agree *g) {
  printf("  %-22s %-4s %-11.3e %-11.3e %-10.6f", name, who, g->max_abs, er_agree_mean_abs(g), er_agree_cosine(g));
  if (g->rows)
    printf(" %5.1f%% (%lld/%lld)", 100.0 * (double)g->top1_same / (double)g->rows, (long long)g->top1_same,
           (long long)g->rows);
  else
    printf(" -");
  if (g->nonfinite) printf("  %lld NaN/Inf mismatches", (long long)g->nonfinite);
  printf("\n");
}

static void report(const side *a, const side *b, const er_dataset *ds, int n_samples, int seed,
                   int runs, int threads, const out_stats *os, int json) {
  size_t n_out = er_model_output_count(a->m);
  double size_ratio = a->bytes ? (double)b->bytes / (double)a->bytes : 0;
  double lat_ratio = a->median_ms > 0 ? b->median_ms / a->median_ms : 0;
  int any_ref = 0;
  for (size_t k = 0; k < n_out; k++) any_ref |= os[k].n_ref > 0;
  if (json) {
    printf("{\"a\":{\"model\":");
    cli_json_str(stdout, a->path);
    printf(",\"bytes\":%lld,\"median_ms\":", a->bytes);
    if (runs) printf("%.4f", a->median_ms); else printf("null");
    printf("},\"b\":{\"model\":");
    cli_json_str(stdout, b->path);
    printf(",\"bytes\":%lld,\"median_ms\":", b->bytes);
    if (runs) printf("%.4f", b->median_ms); else printf("null");
    printf("},\"size_ratio\":%.6f,\"latency_ratio\":", size_ratio);
    if (runs) printf("%.6f", lat_ratio); else printf("null");
    printf(",\"runs\":%d,\"threads\":%d,\"samples\":%d,\"data\":", runs, threads, n_samples);
    if (ds) cli_json_str(stdout, ds->dir); else printf("null");
    printf(",\"seed\":");
    if (ds) printf("null"); else printf("%d", seed);
    printf(",\"outputs\":[");
    for (size_t k = 0; k < n_out; k++) {
      er_tensor_info info;
      er_model_output_info(a->m, k, &info);
      printf("%s{\"name\":", k ? "," : "");
      cli_json_str(stdout, info.name);
      printf(",");
      json_agree("a_vs_b", &os[k].ab);
      if (os[k].n_ref) {
        printf(",\"reference_samples\":%d,", os[k].n_ref);
        json_agree("a_vs_reference", &os[k].a_ref);
        printf(",");
        json_agree("b_vs_reference", &os[k].b_ref);
      }
      printf("}");
    }
    printf("]}\n");
    return;
  }
  printf("%-12s %-36s %s\n", "", "A", "B");
  printf("%-12s %-36s %s\n", "model", a->path, b->path);
  char s1[64];
  snprintf(s1, sizeof s1, "%.3f MB", (double)a->bytes / 1e6);
  printf("%-12s %-36s %.3f MB   (B/A %.3f)\n", "file size", s1, (double)b->bytes / 1e6, size_ratio);
  if (runs) {
    snprintf(s1, sizeof s1, "%.3f ms", a->median_ms);
    printf("%-12s %-36s %.3f ms   (B/A %.3f; median of %d interleaved runs, %d thread%s)\n", "latency", s1,
           b->median_ms, lat_ratio, runs, threads, threads == 1 ? "" : "s");
  }
  if (ds) printf("\noutputs on %d sample%s of %s\n", n_samples, n_samples == 1 ? "" : "s", ds->dir);
  else printf("\noutputs on %d seeded random sample%s (seed %d)\n", n_samples, n_samples == 1 ? "" : "s", seed);
  printf("  %-22s %-4s %-11s %-11s %-10s %s\n", "output", "", "max|diff|", "mean|diff|", "cosine", "top-1 agreement");
  for (size_t k = 0; k < n_out; k++) {
    er_tensor_info info;
    er_model_output_info(a->m, k, &info);
    text_agree(info.name, "A-B", &os[k].ab);
  }
  if (!any_ref) return;
  printf("\nagainst the reference outputs in %s\n", ds->dir);
  for (size_t k = 0; k < n_out; k++) {
    if (!os[k].n_ref) continue;
    er_tensor_info info;
    er_model_output_info(a->m, k, &info);
    text_agree(info.name, "A", &os[k].a_ref);
    text_agree("", "B", &os[k].b_ref);
  }
}

int cmd_compare(int argc, char **argv) {
  side a = {0}, b = {0};
  const char *data = NULL;
  int runs = 20, threads = 1, samples = 8, seed = 1, json = 0;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    int has_val = i + 1 < argc;
    if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
      fputs(usage, stdout);
      return EXIT_OK;
    } else if (!strcmp(o, "--json")) {
      json = 1;
    } else if (!strcmp(o, "--data") && has_val) {
      data = argv[++i];
    } else if ((!strcmp(o, "--runs") || !strcmp(o, "--threads") || !strcmp(o, "--samples") ||
                !strcmp(o, "--seed")) && has_val) {
      int *dst = o[2] == 'r' ? &runs : o[2] == 't' ? &threads : o[3] == 'a' ? &samples : &seed;
      int lo = dst == &threads || dst == &samples ? 1 : 0;
      if (!cli_parse_int(argv[++i], lo, 1000000, dst)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s needs a whole number >= %d, got '%s'", o, lo, argv[i]);
        return cli_usage(msg, usage);
      }
    } else if (o[0] == '-' && o[1]) {
      char msg[128];
      snprintf(msg, sizeof msg, "unknown option or missing value '%s'", o);
      return cli_usage(msg, usage);
    } else if (!a.path) {
      a.path = o;
    } else if (!b.path) {
      b.path = o;
    } else {
      return cli_usage("more than two models given", usage);
    }
  }
  if (!b.path) return cli_usage("compare needs two models", usage);
  int rc = EXIT_OK, code = EXIT_MODEL;
  er_dataset ds = {0};
  out_stats *os = NULL;
  er_status st = load_side(&a, threads);
  if (!st) st = load_side(&b, threads);
  if (!st) st = check_io(&a, &b);
  if (!st && data) {
    code = EXIT_INPUT;
    st = er_dataset_open(data, (int)er_model_input_count(a.m), &ds);
  }
  int n_samples = data ? ds.n_samples : samples;
  size_t n_out = er_model_output_count(a.m);
  if (!st) {
    os = (out_stats *)calloc(n_out + 1, sizeof *os);
    if (!os) st = ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  }
  uint64_t rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed * 0xbf58476d1ce4e5b9ull);
  if (!rng) rng = 1;
  for (int i = 0; i < n_samples && !st; i++) {
    cli_progress("compare: samples", i, n_samples);
    st = one_sample(&a, &b, data ? &ds : NULL, i, &rng, os, &code);
  }
  cli_progress("compare: samples", n_samples, n_samples);
  if (!st && runs) {
    code = EXIT_FAIL;
    st = time_both(&a, &b, runs);
  }
  if (st) rc = cli_fail(st, code);
  else report(&a, &b, data ? &ds : NULL, n_samples, seed, runs, threads, os, json);
  free(os);
  er_dataset_close(&ds);
  er_session_destroy(a.s);
  er_session_destroy(b.s);
  er_model_destroy(a.m);
  er_model_destroy(b.m);
  return rc;
}
