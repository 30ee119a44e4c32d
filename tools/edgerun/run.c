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
    st = cli_bind_input_file(m, s, (size_t)k, inputs[k], &pool);
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
