/* edgerun run MODEL [-i FILE]... [-o DIR] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/pool.h"
#include "base/status.h"
#include "cli.h"
#include "io/tensor_io.h"

static const char *usage =
    "usage: edgerun run MODEL [-i FILE]... [-o DIR]\n"
    "  -i FILE   input tensor (.npy or ONNX TensorProto .pb), bound to the model's inputs in\n"
    "            order (inputs backed by an initializer are not counted)\n"
    "  -o DIR    write DIR/output_K.npy for each graph output K (default: current directory)\n";

int cmd_run(int argc, char **argv) {
  const char *model_path = NULL, *out_dir = ".";
  const char **inputs = (const char **)calloc((size_t)argc + 1, sizeof(char *));
  int n_inputs = 0;
  if (!inputs) return cli_fail(ER_ERR(ER_OUT_OF_MEMORY, "out of memory"), EXIT_FAIL);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      free(inputs);
      return EXIT_OK;
    } else if (!strcmp(a, "-i") || !strcmp(a, "-o")) {
      if (i + 1 >= argc) {
        free(inputs);
        return cli_usage("option needs an argument", usage);
      }
      if (a[1] == 'i') inputs[n_inputs++] = argv[++i];
      else out_dir = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      free(inputs);
      fprintf(stderr, "edgerun: unknown option '%s'\n", a);
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
  int rc = EXIT_OK;
  er_model *m = NULL;
  er_session *s = NULL;
  er_pool pool;
  er_pool_init(&pool);
  er_status st = er_model_load_file(model_path, &m);
  if (st) {
    rc = cli_fail(st, EXIT_MODEL);
    goto done;
  }
  size_t n_model_in = er_model_input_count(m);
  if ((size_t)n_inputs != n_model_in) {
    er_tensor_info info;
    char names[1024] = "";
    for (size_t k = 0; k < n_model_in; k++) {
      if (er_model_input_info(m, k, &info)) continue;
      size_t l = strlen(names);
      snprintf(names + l, sizeof names - l, "%s'%s'", k ? ", " : "", info.name);
    }
    fprintf(stderr, "edgerun: model expects %zu input(s) (%s), %d given\n", n_model_in, names, n_inputs);
    rc = EXIT_INPUT;
    goto done;
  }
  st = er_session_create(m, NULL, &s);
  if (st) {
    rc = cli_fail(st, EXIT_MODEL);
    goto done;
  }
  for (int k = 0; k < n_inputs; k++) {
    er_tensor t;
    er_tensor_info info;
    st = er_tensor_file_read(inputs[k], &pool, &t);
    if (!st) st = er_model_input_info(m, (size_t)k, &info);
    if (!st) {
      /* numpy has no bfloat16/float8/int4: accept their bit patterns from .npy files */
      int same_size = er_dtype_size(t.dtype) == er_dtype_size(info.dtype);
      if (same_size && ((info.dtype == ER_BF16 && t.dtype == ER_U16) ||
                        (info.dtype >= ER_F8E4M3FN && info.dtype <= ER_F8E5M2FNUZ && t.dtype == ER_U8) ||
                        (info.dtype == ER_F4E2M1 && t.dtype == ER_U8) ||
                        (info.dtype == ER_I4 && t.dtype == ER_I8) || (info.dtype == ER_U4 && t.dtype == ER_U8)))
        t.dtype = info.dtype;
      st = er_session_set_input(s, (size_t)k, (er_dtype)t.dtype, t.dims, t.rank, t.data,
                                er_tensor_nbytes(&t));
    }
    if (st) {
      rc = cli_fail(st, EXIT_INPUT);
      goto done;
    }
  }
  st = er_session_run(s);
  if (st) {
    rc = cli_fail(st, EXIT_FAIL);
    goto done;
  }
  if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "edgerun: cannot create output directory %s: %s\n", out_dir, strerror(errno));
    rc = EXIT_FAIL;
    goto done;
  }
  for (size_t k = 0; k < er_model_output_count(m); k++) {
    er_tensor_view v;
    st = er_session_get_output(s, k, &v);
    if (st) {
      rc = cli_fail(st, EXIT_FAIL);
      goto done;
    }
    er_tensor t = {0};
    er_tensor_set_shape(&t, v.dtype, v.rank, v.dims);
    t.data = (void *)v.data;
    char path[4096];
    snprintf(path, sizeof path, "%s/output_%zu.npy", out_dir, k);
    st = er_npy_write(path, &t);
    if (st) {
      rc = cli_fail(st, EXIT_FAIL);
      goto done;
    }
  }
done:
  er_session_destroy(s);
  er_model_destroy(m);
  er_pool_free(&pool);
  free(inputs);
  return rc;
}
