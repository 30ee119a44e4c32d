/*
 * Data sets on disk (host code), the layout of ONNX test data sets:
 *
 *   DIR/<sample>/input_0.npy  input_1.npy ...   (or .pb TensorProto files)
 *   DIR/<sample>/output_0.npy ...                (optional reference outputs)
 *
 * One sub-folder per sample, visited in name order. Used by `edgerun quantize --calib DIR`
 * and `edgerun compare --data DIR`.
 */
#ifndef ER_IO_DATASET_H
#define ER_IO_DATASET_H
#include <stddef.h>
#include "base/pool.h"
#include "base/status.h"
#include "base/tensor.h"

typedef struct er_dataset {
  char *dir;
  int n_samples;
  char **samples;   /* sample folder paths, sorted */
  int n_inputs;     /* input_K files per sample (the same in every sample) */
} er_dataset;

/* Scan DIR. Fails with a message naming DIR (or the sample folder) when DIR is missing or
 * not a folder, holds no sample folders, a sample lacks input_K for some K < n_inputs, or
 * samples disagree on their input count. If n_model_inputs > 0, the input count must equal
 * it. */
er_status er_dataset_open(const char *dir, int n_model_inputs, er_dataset *out);
/* Read input k (or, if output != 0, reference output k) of sample i into pool memory.
 * Errors name the file (missing, unreadable, malformed). */
er_status er_dataset_read(const er_dataset *d, int i, int k, int output, er_pool *pool, er_tensor *out);
/* 1 if sample i has output_k. */
int er_dataset_has_output(const er_dataset *d, int i, int k);
void er_dataset_close(er_dataset *d);
#endif
