/* io/: .npy parse and write. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/tensor_io.h"
#include "test.h"

static size_t slurp(const char *path, unsigned char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

TEST(npy_write_then_parse_all_ranks) {
  char path[] = "/tmp/er_test_npyXXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  static unsigned char buf[1 << 16];
  int types[] = {ER_F32, ER_F64, ER_F16, ER_I8, ER_U8, ER_I16, ER_U16, ER_I32, ER_U32, ER_I64, ER_U64, ER_BOOL};
  for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
    for (int rank = 0; rank <= 3; rank++) {
      int64_t dims[3] = {2, 3, 4};
      er_tensor t = {0};
      er_tensor_set_shape(&t, types[ti], rank, dims);
      unsigned char data[256];
      for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 37 + 1) & (types[ti] == ER_BOOL ? 1 : 0xff);
      t.data = data;
      CHECK_OK(er_npy_write(path, &t));
      size_t n = slurp(path, buf, sizeof buf);
      CHECK(n > 0 && (n - er_tensor_nbytes(&t)) % 64 == 0); /* header padded to 64 */
      er_pool pool;
      er_pool_init(&pool);
      er_tensor r;
      CHECK_OK(er_npy_parse(buf, n, &pool, &r));
      CHECK(r.dtype == types[ti] && r.rank == rank);
      for (int d = 0; d < rank; d++) CHECK(r.dims[d] == dims[d]);
      CHECK(memcmp(r.data, data, er_tensor_nbytes(&t)) == 0);
      er_pool_free(&pool);
    }
  }
  unlink(path);
}

TEST(npy_rejects_bad_files) {
  er_pool pool;
  er_pool_init(&pool);
  er_tensor t;
  const char *bad_magic = "\x93NUMPX\x01\x00\x10\x00{}";
  CHECK_ERR(er_npy_parse(bad_magic, 14, &pool, &t), ER_INVALID_ARGUMENT);
  /* header length beyond file */
  unsigned char h1[] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x7f, '{'};
  CHECK_ERR(er_npy_parse(h1, sizeof h1, &pool, &t), ER_INVALID_ARGUMENT);
  char hdr[128];
  unsigned char file[256];
  const char *cases[] = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",   /* truncated data */
      "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",   /* complex: unsupported */
      "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }",    /* fortran */
      "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3, 4, 5, 6, 7, 8, 9), }",
      "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }",
      "{'descr': '<f4', 'fortran_order': False }",
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t hl = (size_t)snprintf(hdr, sizeof hdr, "%s", cases[i]);
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    file[8] = (unsigned char)hl;
    file[9] = 0;
    memcpy(file + 10, hdr, hl);
    memset(file + 10 + hl, 0, 4); /* 4 data bytes */
    er_status s = er_npy_parse(file, 10 + hl + 4, &pool, &t);
    CHECK(s != NULL);
    er_status_free(s);
  }
  er_pool_free(&pool);
}
