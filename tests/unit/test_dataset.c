/* io/dataset.c: sample folders of input_K / output_K tensor files, good and bad layouts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/dataset.h"
#include "io/tensor_io.h"
#include "test.h"

static void mk(const char *root, const char *rel) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  mkdir(p, 0755);
}

/* root/rel as a 3-float .npy, creating the folders on the way. */
static void put_npy(const char *root, const char *rel, float v) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  for (char *q = p + strlen(root) + 1; (q = strchr(q, '/')) != NULL; q++) {
    *q = 0;
    mkdir(p, 0755);
    *q = '/';
  }
  float data[3] = {v, v + 1, v + 2};
  int64_t dims[1] = {3};
  er_tensor t = {0};
  er_tensor_set_shape(&t, ER_F32, 1, dims);
  t.data = data;
  er_status s = er_npy_write(p, &t);
  er_status_free(s);
}

static void put_text(const char *root, const char *rel, const char *text) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  FILE *f = fopen(p, "wb");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static void rm_tree(const char *root) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  if (system(cmd) != 0) fprintf(stderr, "  cannot remove %s\n", root);
}

/* Open must fail with a message containing both a and b. */
static int open_fails(const char *dir, int n_inputs, const char *a, const char *b) {
  er_dataset d;
  er_status s = er_dataset_open(dir, n_inputs, &d);
  int ok = s && strstr(er_status_message(s), a) && (!b || strstr(er_status_message(s), b));
  if (!ok) fprintf(stderr, "  %s: wanted '%s'/'%s', got: %s\n", dir, a, b ? b : "", s ? er_status_message(s) : "success");
  if (!s) er_dataset_close(&d);
  er_status_free(s);
  return ok;
}

TEST(dataset_good_folder_natural_order) {
  char root[] = "/tmp/er_ds_XXXXXX";
  CHECK(mkdtemp(root) != NULL);
  const char *names[] = {"s10", "s2", "s1"};
  for (int i = 0; i < 3; i++) {
    char rel[64];
    mk(root, names[i]);
    snprintf(rel, sizeof rel, "%s/input_0.npy", names[i]);
    put_npy(root, rel, (float)(names[i][1] - '0'));
    snprintf(rel, sizeof rel, "%s/input_1.npy", names[i]);
    put_npy(root, rel, 100);
  }
  put_npy(root, "s2/output_0.npy", 7);
  put_text(root, "s1/notes.txt", "ignored");
  put_text(root, "README", "ignored too");
  er_dataset d;
  CHECK_OK(er_dataset_open(root, 2, &d));
  CHECK(d.n_samples == 3 && d.n_inputs == 2);
  if (d.n_samples == 3) {
    CHECK(strstr(d.samples[0], "/s1") && strstr(d.samples[1], "/s2") && strstr(d.samples[2], "/s10"));
    er_pool pool;
    er_pool_init(&pool);
    er_tensor t;
    CHECK_OK(er_dataset_read(&d, 1, 0, 0, &pool, &t));
    CHECK(t.dtype == ER_F32 && t.rank == 1 && t.dims[0] == 3 && ((float *)t.data)[0] == 2.0f);
    CHECK_OK(er_dataset_read(&d, 1, 0, 1, &pool, &t));
    CHECK(((float *)t.data)[0] == 7.0f);
    CHECK(er_dataset_has_output(&d, 1, 0) && !er_dataset_has_output(&d, 0, 0));
    er_status s = er_dataset_read(&d, 0, 0, 1, &pool, &t); /* no output there */
    CHECK(s && strstr(er_status_message(s), "output_0"));
    er_status_free(s);
    CHECK_ERR(er_dataset_read(&d, 3, 0, 0, &pool, &t), ER_INVALID_ARGUMENT);
    CHECK_ERR(er_dataset_read(&d, 0, 2, 0, &pool, &t), ER_INVALID_ARGUMENT);
    er_pool_free(&pool);
  }
  er_dataset_close(&d);
  /* a trailing slash and n_model_inputs 0 (any count) */
  char slash[64];
  snprintf(slash, sizeof slash, "%s/", root);
  CHECK_OK(er_dataset_open(slash, 0, &d));
  CHECK(d.n_samples == 3 && strcmp(d.dir, root) == 0);
  er_dataset_close(&d);
  CHECK(open_fails(root, 1, "2 input file(s)", "1 input(s)"));
  rm_tree(root);
}

TEST(dataset_pb_files) {
  char root[] = "/tmp/er_ds_XXXXXX";
  CHECK(mkdtemp(root) != NULL);
  mk(root, "a");
  char cmd[600];
  snprintf(cmd, sizeof cmd, "cp tests/data/import/tensor.pb '%s/a/input_0.pb'", root);
  CHECK(system(cmd) == 0);
  er_dataset d;
  CHECK_OK(er_dataset_open(root, 1, &d));
  er_pool pool;
  er_pool_init(&pool);
  er_tensor t;
  CHECK_OK(er_dataset_read(&d, 0, 0, 0, &pool, &t));
  er_pool_free(&pool);
  er_dataset_close(&d);
  rm_tree(root);
}

TEST(dataset_bad_folders) {
  char root[] = "/tmp/er_ds_XXXXXX";
  CHECK(mkdtemp(root) != NULL);
  char p[256];
  /* missing, a file, empty */
  snprintf(p, sizeof p, "%s/nope", root);
  CHECK(open_fails(p, 0, p, "cannot open"));
  put_text(root, "file", "x");
  snprintf(p, sizeof p, "%s/file", root);
  CHECK(open_fails(p, 0, p, "not a folder"));
  mk(root, "empty");
  snprintf(p, sizeof p, "%s/empty", root);
  CHECK(open_fails(p, 0, p, "no sample folders"));
  /* input files directly in the folder */
  mk(root, "loose");
  put_npy(root, "loose/input_0.npy", 1);
  snprintf(p, sizeof p, "%s/loose", root);
  CHECK(open_fails(p, 0, "no sample folders", "own sub-folder"));
  /* a sample without inputs */
  mk(root, "noin");
  mk(root, "noin/s0");
  put_text(root, "noin/s0/readme.txt", "x");
  snprintf(p, sizeof p, "%s/noin/s0", root);
  CHECK(open_fails(p, 0, "no sample folders", NULL));
  snprintf(p, sizeof p, "%s/noin", root);
  CHECK(open_fails(p, 0, "noin/s0", "no input_0"));
  /* a gap; both .npy and .pb; samples that disagree */
  put_npy(root, "gap/s0/input_0.npy", 1);
  put_npy(root, "gap/s0/input_2.npy", 1);
  put_npy(root, "both/s0/input_0.npy", 1);
  put_npy(root, "both/s0/input_0.pb", 1);
  put_npy(root, "mis/a/input_0.npy", 1);
  put_npy(root, "mis/b/input_0.npy", 1);
  put_npy(root, "mis/b/input_1.npy", 1);
  snprintf(p, sizeof p, "%s/gap", root);
  CHECK(open_fails(p, 0, "gap/s0", "input_1.npy (or .pb) is missing"));
  snprintf(p, sizeof p, "%s/both", root);
  CHECK(open_fails(p, 0, "both/s0", "both input_0.npy and input_0.pb"));
  snprintf(p, sizeof p, "%s/mis", root);
  CHECK(open_fails(p, 0, "mis/b: 2 input file(s)", "mis/a has 1"));
  /* a malformed file: open succeeds, read names the file */
  mk(root, "badfile");
  mk(root, "badfile/s0");
  put_text(root, "badfile/s0/input_0.npy", "\x93NUMPY garbage");
  snprintf(p, sizeof p, "%s/badfile", root);
  er_dataset d;
  CHECK_OK(er_dataset_open(p, 1, &d));
  er_pool pool;
  er_pool_init(&pool);
  er_tensor t;
  er_status s = er_dataset_read(&d, 0, 0, 0, &pool, &t);
  CHECK(s && strstr(er_status_message(s), "badfile/s0/input_0.npy"));
  er_status_free(s);
  er_pool_free(&pool);
  er_dataset_close(&d);
  rm_tree(root);
}
