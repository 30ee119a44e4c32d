/* Data sets on disk: one folder per sample with input_K / output_K tensor files (dataset.h). */
#include "io/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/tensor_io.h"

#define MAX_TENSORS 1024 /* input_K with K below this */

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *s = (char *)malloc(n);
  if (s) snprintf(s, n, "%s/%s", a, b);
  return s;
}

/* Name order with digit runs compared as numbers: sample_2 before sample_10. */
static int natural_cmp(const char *a, const char *b) {
  while (*a && *b) {
    if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
      while (*a == '0') a++;
      while (*b == '0') b++;
      size_t na = 0, nb = 0;
      while (a[na] >= '0' && a[na] <= '9') na++;
      while (b[nb] >= '0' && b[nb] <= '9') nb++;
      if (na != nb) return na < nb ? -1 : 1;
      int c = strncmp(a, b, na);
      if (c) return c;
      a += na;
      b += nb;
      continue;
    }
    if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
    a++;
    b++;
  }
  return *a ? 1 : *b ? -1 : 0;
}

static int cmp_names(const void *x, const void *y) {
  return natural_cmp(*(const char *const *)x, *(const char *const *)y);
}

/* "input_K.npy" / "input_K.pb" (prefix given): K, and *ext 0 for .npy, 1 for .pb; -1 if the
 * name has another form. */
static int tensor_index(const char *name, const char *prefix, int *ext) {
  size_t pl = strlen(prefix);
  if (strncmp(name, prefix, pl) != 0) return -1;
  const char *p = name + pl;
  if (*p < '0' || *p > '9') return -1;
  long k = 0;
  while (*p >= '0' && *p <= '9') {
    k = k * 10 + (*p - '0');
    if (k >= MAX_TENSORS) return -2;
    p++;
  }
  if (!strcmp(p, ".npy")) *ext = 0;
  else if (!strcmp(p, ".pb")) *ext = 1;
  else return -1;
  return (int)k;
}

/* Count the input_K files of one sample folder (K = 0..count-1, each exactly once). */
static er_status count_inputs(const char *sample, int *out_count) {
  DIR *d = opendir(sample);
  if (!d) return ER_ERR(ER_IO, "%s: cannot open: %s", sample, strerror(errno));
  unsigned char seen[MAX_TENSORS];
  memset(seen, 0, sizeof seen);
  int count = 0;
  er_status s = NULL;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && !s) {
    int ext;
    int k = tensor_index(e->d_name, "input_", &ext);
    if (k == -2) s = ER_ERR(ER_INVALID_ARGUMENT, "%s/%s: input index too large (at most %d inputs)",
                            sample, e->d_name, MAX_TENSORS);
    if (k < 0) continue;
    if (seen[k])
      s = ER_ERR(ER_INVALID_ARGUMENT, "%s: both input_%d.npy and input_%d.pb: keep one", sample, k, k);
    seen[k] = 1;
    if (k + 1 > count) count = k + 1;
  }
  closedir(d);
  if (s) return s;
  if (count == 0)
    return ER_ERR(ER_INVALID_ARGUMENT, "%s: no input_0.npy or input_0.pb in this sample folder",
                  sample);
  for (int k = 0; k < count; k++)
    if (!seen[k])
      return ER_ERR(ER_INVALID_ARGUMENT, "%s: input_%d.npy (or .pb) is missing, but input_%d exists",
                    sample, k, count - 1);
  *out_count = count;
  return NULL;
}

static er_status list_samples(er_dataset *ds) {
  DIR *d = opendir(ds->dir);
  if (!d) return ER_ERR(ER_IO, "%s: cannot open data folder: %s", ds->dir, strerror(errno));
  int cap = 0, loose = 0;
  er_status s = NULL;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && !s) {
    if (e->d_name[0] == '.') continue;
    char *p = join(ds->dir, e->d_name);
    if (!p) {
      s = ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
      break;
    }
    if (!is_dir(p)) {
      int ext;
      if (tensor_index(e->d_name, "input_", &ext) >= 0) loose = 1;
      free(p);
      continue;
    }
    if (ds->n_samples == cap) {
      cap = cap ? 2 * cap : 16;
      char **ns = (char **)realloc(ds->samples, sizeof(char *) * (size_t)cap);
      if (!ns) {
        free(p);
        s = ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
        break;
      }
      ds->samples = ns;
    }
    ds->samples[ds->n_samples++] = p;
  }
  closedir(d);
  if (s) return s;
  if (ds->n_samples == 0) {
    if (loose)
      return ER_ERR(ER_INVALID_ARGUMENT,
                    "%s: holds input files but no sample folders: put each sample in its own "
                    "sub-folder (%s/<sample>/input_0.npy)",
                    ds->dir, ds->dir);
    return ER_ERR(ER_INVALID_ARGUMENT,
                  "%s: no sample folders (expected %s/<sample>/input_0.npy or .pb)", ds->dir, ds->dir);
  }
  qsort(ds->samples, (size_t)ds->n_samples, sizeof(char *), cmp_names);
  return NULL;
}

er_status er_dataset_open(const char *dir, int n_model_inputs, er_dataset *out) {
  if (!dir || !out) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  memset(out, 0, sizeof *out);
  struct stat st;
  if (stat(dir, &st) != 0) return ER_ERR(ER_IO, "%s: cannot open data folder: %s", dir, strerror(errno));
  if (!S_ISDIR(st.st_mode)) return ER_ERR(ER_INVALID_ARGUMENT, "%s: not a folder", dir);
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') n--; /* "data/" -> "data" in messages and paths */
  out->dir = (char *)malloc(n + 1);
  if (!out->dir) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  memcpy(out->dir, dir, n);
  out->dir[n] = 0;
  er_status s = list_samples(out);
  for (int i = 0; i < out->n_samples && !s; i++) {
    int count = 0;
    s = count_inputs(out->samples[i], &count);
    if (!s && i == 0) out->n_inputs = count;
    if (!s && count != out->n_inputs)
      s = ER_ERR(ER_INVALID_ARGUMENT, "%s: %d input file(s), but %s has %d", out->samples[i], count,
                 out->samples[0], out->n_inputs);
  }
  if (!s && n_model_inputs > 0 && out->n_inputs != n_model_inputs)
    s = ER_ERR(ER_INVALID_ARGUMENT, "%s: samples have %d input file(s), the model has %d input(s)",
               out->dir, out->n_inputs, n_model_inputs);
  if (s) er_dataset_close(out);
  return s;
}

/* Path of input/output k of sample i (.npy preferred, else .pb); NULL on out-of-memory.
 * *exists says whether the file is there. */
static char *tensor_path(const er_dataset *d, int i, int k, int output, int *exists) {
  char name[64];
  snprintf(name, sizeof name, "%s_%d.npy", output ? "output" : "input", k);
  char *p = join(d->samples[i], name);
  if (!p) return NULL;
  *exists = is_file(p);
  if (*exists) return p;
  free(p);
  snprintf(name, sizeof name, "%s_%d.pb", output ? "output" : "input", k);
  p = join(d->samples[i], name);
  if (p) *exists = is_file(p);
  return p;
}

er_status er_dataset_read(const er_dataset *d, int i, int k, int output, er_pool *pool, er_tensor *out) {
  if (!d || !pool || !out) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  if (i < 0 || i >= d->n_samples)
    return ER_ERR(ER_INVALID_ARGUMENT, "%s: sample %d out of range (%d samples)", d->dir, i, d->n_samples);
  if (k < 0 || k >= MAX_TENSORS || (!output && k >= d->n_inputs))
    return ER_ERR(ER_INVALID_ARGUMENT, "%s: %s %d out of range", d->samples[i],
                  output ? "output" : "input", k);
  int exists = 0;
  char *p = tensor_path(d, i, k, output, &exists);
  if (!p) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  er_status s = exists ? er_tensor_file_read(p, pool, out)
                       : ER_ERR(ER_IO, "%s: missing (no %s_%d.npy either)", p, output ? "output" : "input", k);
  free(p);
  return s;
}

int er_dataset_has_output(const er_dataset *d, int i, int k) {
  if (!d || i < 0 || i >= d->n_samples || k < 0 || k >= MAX_TENSORS) return 0;
  int exists = 0;
  free(tensor_path(d, i, k, 1, &exists));
  return exists;
}

void er_dataset_close(er_dataset *d) {
  if (!d) return;
  for (int i = 0; i < d->n_samples; i++) free(d->samples[i]);
  free(d->samples);
  free(d->dir);
  memset(d, 0, sizeof *d);
}
