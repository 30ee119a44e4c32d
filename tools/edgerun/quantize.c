/* edgerun quantize MODEL -o OUT.onnx --calib DIR [options]: post-training quantization to a
 * standard ONNX QDQ model (src/quant/quantize.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/status.h"
#include "cli.h"
#include "export/onnx_write.h"
#include "import/onnx/onnx.h"
#include "io/dataset.h"
#include "quant/calib.h"
#include "quant/quantize.h"

static const char *usage =
    "usage: edgerun quantize MODEL -o OUT.onnx [--calib DIR] [options]\n"
    "  -o OUT.onnx          output: a standard ONNX model with QuantizeLinear/DequantizeLinear\n"
    "  --calib DIR          calibration data, one folder per sample: DIR/<sample>/input_K.npy\n"
    "                       (or .pb); required for static quantization\n"
    "  --method M           percentile (default) | minmax | entropy (KL, TensorRT-style)\n"
    "  --percentile P       for --method percentile (default 99.99)\n"
    "  --per-channel        one weight scale per output channel (default)\n"
    "  --per-tensor         one weight scale per tensor\n"
    "  --activations T      uint8 (default, asymmetric) | int8 (asymmetric)\n"
    "  --dynamic            weights only (int8 + DequantizeLinear); activations stay float;\n"
    "                       no calibration (for LSTM/Gemm/MatMul-heavy models)\n"
    "  --format qdq|qoperator  with --dynamic: qdq (default) int8 weights + DequantizeLinear;\n"
    "                       qoperator: MatMul/Gemm as ONNX Runtime's quantize_dynamic writes them\n"
    "                       (DynamicQuantizeLinear + MatMulInteger + Mul by the scales), which\n"
    "                       ONNX Runtime runs with integer GEMMs\n"
    "  --weights int8|int4  int4: MatMul/Gemm weights int4 in blocks along K (weight-only,\n"
    "                       DequantizeLinear opset 21 with block_size); other weights int8\n"
    "  --block-size N       int4 block size (default 64: with float32 scales, 7.1x smaller\n"
    "                       MatMul/Gemm weights; 32: 6.4x)\n"
    "  --fp16               store the float32 weights that remain as float16 + Cast (alone:\n"
    "                       the whole model's weights, computed in float32 as before)\n"
    "  --exclude A,B,...    node names kept in float\n"
    "  --json               summary as JSON on stdout\n"
    "Prints what was quantized, what stayed float and why, and the weight bytes before/after.\n";

/* ---------------------------------------------------------------- progress */

static void progress(void *user, int done, int total) {
  (void)user;
  cli_progress("calibrating", done, total);
}

/* ---------------------------------------------------------------- summary */

static long long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void human(double b, char *buf, size_t cap) {
  if (b >= 1 << 20) snprintf(buf, cap, "%.2f MiB", b / (1 << 20));
  else if (b >= 1 << 10) snprintf(buf, cap, "%.1f KiB", b / (1 << 10));
  else snprintf(buf, cap, "%.0f B", b);
}

/* "Conv 52, Add 10" for nodes of the given status. */
static void op_counts(const er_quant_report *r, int status, char *buf, size_t cap) {
  size_t l = 0;
  buf[0] = 0;
  for (int i = 0; i < r->n_nodes; i++) {
    if (r->nodes[i].status != status) continue;
    int first = 1, count = 0;
    for (int j = 0; j < i && first; j++)
      if (r->nodes[j].status == status && !strcmp(r->nodes[j].op_type, r->nodes[i].op_type)) first = 0;
    if (!first) continue;
    for (int j = i; j < r->n_nodes; j++)
      count += r->nodes[j].status == status && !strcmp(r->nodes[j].op_type, r->nodes[i].op_type);
    if (l < cap) l += (size_t)snprintf(buf + l, cap - l, "%s%s %d", l ? ", " : "", r->nodes[i].op_type, count);
  }
}

static void print_text(const er_quant_report *r, const er_quant_options *o, const char *out,
                       long long fb, long long fa) {
  char a[32], b[32], ops[1024];
  printf("wrote %s (%s", out, r->mode);
  if (!strcmp(r->mode, "static"))
    printf(", %s activations, %s int8 weights, %s, %d sample(s)", o->act_dtype == ER_I8 ? "int8" : "uint8",
           o->per_channel ? "per-channel" : "per-tensor",
           o->method == ER_CALIB_PERCENTILE ? "percentile" : o->method == ER_CALIB_ENTROPY ? "entropy" : "minmax",
           r->n_samples);
  else if (!strcmp(r->mode, "int4"))
    printf(", int4 MatMul/Gemm weights in blocks of %d", o->block_size);
  else if (o->qoperator)
    printf(", MatMul/Gemm as DynamicQuantizeLinear + MatMulInteger");
  if (o->fp16) printf(", float16 weights");
  printf(", opset %d%s)\n", r->opset_after, r->opset_after != r->opset_before ? " (upgraded)" : "");
  op_counts(r, ER_QN_QUANTIZED, ops, sizeof ops);
  if (strcmp(r->mode, "fp16") != 0)
    printf("  quantized: %d node(s)%s%s%s\n", r->n_quantized, *ops ? " (" : "", ops, *ops ? ")" : "");
  else
    printf("  float16: %d weight tensor(s) stored as float16, each followed by a Cast to float32\n", r->n_weights);
  if (r->n_folded) {
    op_counts(r, ER_QN_FOLDED, ops, sizeof ops);
    printf("  folded into the producer's range: %d (%s)\n", r->n_folded, ops);
  }
  if (r->n_float) {
    printf("  left float: %d node(s)\n", r->n_float);
    /* group by op type and reason; name up to 3 per group */
    for (int i = 0; i < r->n_nodes; i++) {
      const er_quant_node *n = &r->nodes[i];
      if (n->status != ER_QN_FLOAT) continue;
      int first = 1;
      for (int j = 0; j < i && first; j++)
        first = !(r->nodes[j].status == ER_QN_FLOAT && !strcmp(r->nodes[j].op_type, n->op_type) &&
                  r->nodes[j].reason == n->reason);
      if (!first) continue;
      int count = 0;
      printf("    %s:", n->op_type);
      for (int j = i; j < r->n_nodes; j++) {
        const er_quant_node *m = &r->nodes[j];
        if (m->status != ER_QN_FLOAT || strcmp(m->op_type, n->op_type) || m->reason != n->reason) continue;
        if (count < 3) printf("%s '%s'", count ? "," : "", m->name);
        count++;
      }
      if (count > 3) printf(" and %d more", count - 3);
      printf(" — %s\n", n->reason ? n->reason : "");
    }
  }
  human((double)r->weight_bytes_before, a, sizeof a);
  human((double)r->weight_bytes_after, b, sizeof b);
  printf("  weights: %s -> %s (%.2fx)", a, b,
         r->weight_bytes_after ? (double)r->weight_bytes_before / (double)r->weight_bytes_after : 0.0);
  if (fb > 0 && fa > 0) {
    human((double)fb, a, sizeof a);
    human((double)fa, b, sizeof b);
    printf("; file: %s -> %s (%.2fx)", a, b, (double)fb / (double)fa);
  }
  printf("\n");
}

static void print_json(const er_quant_report *r, const er_quant_options *o, const char *out, long long fb,
                       long long fa) {
  printf("{\"output\": ");
  cli_json_str(stdout, out);
  printf(", \"mode\": \"%s\", \"activations\": \"%s\", \"weights\": \"%s\", \"per_channel\": %s, ", r->mode,
         !strcmp(r->mode, "static") ? (o->act_dtype == ER_I8 ? "int8" : "uint8") : "float",
         o->int4 ? "int4" : (!strcmp(r->mode, "fp16") ? "float16" : "int8"), o->per_channel ? "true" : "false");
  printf("\"method\": \"%s\", \"samples\": %d, \"opset_before\": %d, \"opset_after\": %d, ",
         o->method == ER_CALIB_PERCENTILE ? "percentile" : o->method == ER_CALIB_ENTROPY ? "entropy" : "minmax",
         r->n_samples, r->opset_before, r->opset_after);
  printf("\"quantized\": %d, \"folded\": %d, \"float\": %d, \"qdq_pairs\": %d, \"weight_tensors\": %d, ",
         r->n_quantized, r->n_folded, r->n_float, r->n_qdq_pairs, r->n_weights);
  printf("\"weight_bytes_before\": %lld, \"weight_bytes_after\": %lld, \"file_bytes_before\": %lld, "
         "\"file_bytes_after\": %lld, \"nodes\": [",
         (long long)r->weight_bytes_before, (long long)r->weight_bytes_after, fb, fa);
  int k = 0;
  for (int i = 0; i < r->n_nodes; i++) {
    const er_quant_node *n = &r->nodes[i];
    if (n->status == ER_QN_OTHER) continue;
    printf("%s{\"name\": ", k++ ? ", " : "");
    cli_json_str(stdout, n->name);
    printf(", \"op\": ");
    cli_json_str(stdout, n->op_type);
    printf(", \"status\": \"%s\"",
           n->status == ER_QN_QUANTIZED ? "quantized" : n->status == ER_QN_FOLDED ? "folded" : "float");
    if (n->reason) {
      printf(", \"reason\": ");
      cli_json_str(stdout, n->reason);
    }
    printf("}");
  }
  printf("]}\n");
}

/* ---------------------------------------------------------------- main */

static int exit_code(er_status s) {
  switch (er_status_code(s)) {
    case ER_INVALID_ARGUMENT: return EXIT_INPUT;
    case ER_UNSUPPORTED:
    case ER_INVALID_MODEL: return EXIT_MODEL;
    default: return EXIT_FAIL;
  }
}

/* --exclude names must name nodes (the optimizer may join names with '+' later). */
static int check_excludes(const er_imported *m, const er_quant_options *o) {
  for (int i = 0; i < o->n_exclude; i++) {
    if (!er_quant_has_node(m, o->exclude[i])) {
      fprintf(stderr, "edgerun: --exclude: the model has no node named '%s'\n", o->exclude[i]);
      return 0;
    }
  }
  return 1;
}

int cmd_quantize(int argc, char **argv) {
  const char *model_path = NULL, *out = NULL, *calib_dir = NULL;
  int json = 0;
  char *exclude_buf = NULL;
  const char **excl = NULL;
  er_quant_options o;
  er_quant_options_default(&o);
  int rc = EXIT_OK;
#define NEED_ARG()                                                      \
  do {                                                                  \
    if (i + 1 >= argc) {                                                \
      fprintf(stderr, "edgerun: option '%s' needs an argument (see 'edgerun quantize --help')\n", a); \
      rc = EXIT_USAGE;                                                  \
      goto done;                                                        \
    }                                                                   \
  } while (0)
#define BAD(...)                                \
  do {                                          \
    char m_[256];                               \
    snprintf(m_, sizeof m_, __VA_ARGS__);       \
    rc = cli_usage(m_, usage);                  \
    goto done;                                  \
  } while (0)
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      goto done;
    } else if (!strcmp(a, "-o")) {
      NEED_ARG();
      out = argv[++i];
    } else if (!strcmp(a, "--calib")) {
      NEED_ARG();
      calib_dir = argv[++i];
    } else if (!strcmp(a, "--method")) {
      NEED_ARG();
      const char *m = argv[++i];
      if (!strcmp(m, "minmax") || !strcmp(m, "min-max")) o.method = ER_CALIB_MINMAX;
      else if (!strcmp(m, "percentile")) o.method = ER_CALIB_PERCENTILE;
      else if (!strcmp(m, "entropy") || !strcmp(m, "kl")) o.method = ER_CALIB_ENTROPY;
      else BAD("unknown --method '%s' (minmax, percentile or entropy)", m);
    } else if (!strcmp(a, "--percentile")) {
      NEED_ARG();
      char *end;
      o.percentile = strtod(argv[++i], &end);
      if (*end || !(o.percentile > 50 && o.percentile <= 100))
        BAD("--percentile must be a number in (50, 100], got '%s'", argv[i]);
      o.method = ER_CALIB_PERCENTILE;
    } else if (!strcmp(a, "--per-channel")) {
      o.per_channel = 1;
    } else if (!strcmp(a, "--per-tensor")) {
      o.per_channel = 0;
    } else if (!strcmp(a, "--activations")) {
      NEED_ARG();
      const char *t = argv[++i];
      if (!strcmp(t, "uint8") || !strcmp(t, "u8")) o.act_dtype = ER_U8;
      else if (!strcmp(t, "int8") || !strcmp(t, "i8")) o.act_dtype = ER_I8;
      else BAD("--activations must be uint8 or int8, got '%s'", t);
    } else if (!strcmp(a, "--dynamic")) {
      o.dynamic = 1;
    } else if (!strcmp(a, "--format")) {
      NEED_ARG();
      const char *f = argv[++i];
      if (!strcmp(f, "qoperator")) o.qoperator = 1;
      else if (strcmp(f, "qdq")) BAD("--format must be qdq or qoperator, got '%s'", f);
    } else if (!strcmp(a, "--weights")) {
      NEED_ARG();
      const char *t = argv[++i];
      if (!strcmp(t, "int4")) o.int4 = 1;
      else if (!strcmp(t, "int8")) o.int4 = 0;
      else BAD("--weights must be int8 or int4, got '%s'", t);
    } else if (!strcmp(a, "--block-size")) {
      NEED_ARG();
      char *end;
      long v = strtol(argv[++i], &end, 10);
      if (*end || v < 16 || v > 1 << 20 || (v & (v - 1))) BAD("--block-size must be a power of two >= 16, got '%s'", argv[i]);
      o.block_size = (int)v;
    } else if (!strcmp(a, "--fp16")) {
      o.fp16 = 1;
    } else if (!strcmp(a, "--exclude")) {
      NEED_ARG();
      const char *list = argv[++i];
      size_t len = strlen(list), cnt = 1;
      for (size_t k = 0; k < len; k++) cnt += list[k] == ',';
      free(exclude_buf); /* the last --exclude wins */
      free(excl);
      exclude_buf = strdup(list);
      excl = (const char **)calloc(cnt + 1, sizeof(char *));
      if (!exclude_buf || !excl) {
        rc = cli_fail(ER_ERR(ER_OUT_OF_MEMORY, "out of memory"), EXIT_FAIL);
        goto done;
      }
      o.n_exclude = 0;
      for (char *tok = strtok(exclude_buf, ","); tok; tok = strtok(NULL, ","))
        if (*tok) excl[o.n_exclude++] = tok;
      o.exclude = excl;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (a[0] == '-' && a[1]) {
      BAD("unknown option '%s'", a);
    } else if (!model_path) {
      model_path = a;
    } else {
      BAD("more than one model given");
    }
  }
  if (!model_path) BAD("no model given");
  if (!out) BAD("no output given (-o OUT.onnx)");
  if ((o.dynamic || o.int4) && calib_dir)
    BAD("--calib is for static quantization; --dynamic and --weights int4 quantize weights only");
  if (o.dynamic && o.int4) BAD("--weights int4 is already weight-only: drop --dynamic");
  if (o.qoperator && !o.dynamic) BAD("--format qoperator is for --dynamic");
  if (!calib_dir && !o.dynamic && !o.int4 && !o.fp16)
    BAD("static quantization needs calibration data (--calib DIR); --dynamic quantizes weights only");

  er_imported m;
  er_dataset d;
  memset(&d, 0, sizeof d);
  int have_d = 0;
  er_quant_report r;
  memset(&r, 0, sizeof r);
  er_status s = er_onnx_import_file(model_path, 0, &m);
  if (s) {
    rc = cli_fail(s, EXIT_MODEL);
    er_imported_free(&m);
    goto done;
  }
  if (!check_excludes(&m, &o)) {
    rc = EXIT_USAGE;
    goto free_model;
  }
  if (calib_dir) {
    int n_user = 0;
    for (int i = 0; i < m.graph->n_inputs; i++)
      n_user += m.graph->values[m.graph->inputs[i]].kind != ER_VALUE_INITIALIZER;
    s = er_dataset_open(calib_dir, n_user, &d);
    if (s) {
      rc = cli_fail(s, EXIT_INPUT);
      goto free_model;
    }
    have_d = 1;
    if (isatty(2)) {
      o.progress = progress;
      o.progress_user = NULL;
    }
  }
  s = er_quantize(&m, have_d ? &d : NULL, &o, &r);
  if (!s) s = er_onnx_write_file(&m, out);
  if (s) {
    if (o.progress) fputs("\r\033[K", stderr);
    rc = cli_fail(s, exit_code(s));
  } else {
    long long fb = file_size(model_path), fa = file_size(out);
    if (json) print_json(&r, &o, out, fb, fa);
    else print_text(&r, &o, out, fb, fa);
  }
  er_quant_report_free(&r);
  if (have_d) er_dataset_close(&d);
free_model:
  er_imported_free(&m);
done:
  free(exclude_buf);
  free(excl);
  return rc;
#undef NEED_ARG
#undef BAD
}
