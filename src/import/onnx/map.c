/* File mapping and the importer's string hash map. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import/onnx/onnx_internal.h"

er_status er_map_file(const char *path, er_mapping **list, const void **out_data,
                      size_t *out_size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return ER_ERR(ER_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return ER_ERR(ER_IO, "%s: cannot stat: %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return ER_ERR(ER_IO, "%s: not a regular file", path);
  }
  if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX / 2) {
    close(fd);
    return ER_ERR(ER_IO, "%s: file too large", path);
  }
  size_t size = (size_t)st.st_size;
  er_mapping *mp = (er_mapping *)calloc(1, sizeof *mp);
  if (!mp) {
    close(fd);
    return ER_ERR(ER_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  void *ptr = NULL;
  if (size > 0) {
    ptr = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (ptr == MAP_FAILED) ptr = NULL;
    else mp->is_mmap = 1;
  }
  if (!ptr) { /* empty file or mmap unavailable: read it */
    ptr = malloc(size ? size : 1);
    if (!ptr) {
      free(mp);
      close(fd);
      return ER_ERR(ER_OUT_OF_MEMORY, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = 0;
    while (got < size) {
      ssize_t k = read(fd, (char *)ptr + got, size - got);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) {
        int e = errno;
        free(ptr);
        free(mp);
        close(fd);
        return ER_ERR(ER_IO, "%s: read failed: %s", path, k < 0 ? strerror(e) : "short read");
      }
      got += (size_t)k;
    }
    mp->is_mmap = 0;
  }
  close(fd);
  mp->ptr = ptr;
  mp->size = size;
  mp->next = *list;
  *list = mp;
  *out_data = ptr;
  *out_size = size;
  return NULL;
}

void er_mappings_free(er_mapping *list) {
  while (list) {
    er_mapping *n = list->next;
    if (list->is_mmap) munmap(list->ptr, list->size);
    else free(list->ptr);
    free(list);
    list = n;
  }
}

/* ---- strmap: open addressing, FNV-1a ---- */
static size_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)(h ^ (h >> 29));
}

int strmap_get(const strmap *m, const char *key) {
  if (!m->cap) return -1;
  size_t mask = m->cap - 1, i = hash_str(key) & mask;
  while (m->keys[i]) {
    if (strcmp(m->keys[i], key) == 0) return m->vals[i];
    i = (i + 1) & mask;
  }
  return -1;
}

static void put_raw(strmap *m, const char *key, int val) {
  size_t mask = m->cap - 1, i = hash_str(key) & mask;
  while (m->keys[i]) {
    if (strcmp(m->keys[i], key) == 0) {
      m->vals[i] = val;
      return;
    }
    i = (i + 1) & mask;
  }
  m->keys[i] = key;
  m->vals[i] = val;
  m->n++;
}

int strmap_put(strmap *m, er_pool *pool, const char *key, int val) {
  if ((m->n + 1) * 2 > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    if (cap > ((size_t)1 << 40)) return -1;
    strmap nm = {0};
    nm.keys = (const char **)er_pool_alloc(pool, cap * sizeof *nm.keys);
    nm.vals = (int *)er_pool_alloc(pool, cap * sizeof *nm.vals);
    if (!nm.keys || !nm.vals) return -1;
    nm.cap = cap;
    for (size_t i = 0; i < m->cap; i++)
      if (m->keys[i]) put_raw(&nm, m->keys[i], m->vals[i]);
    *m = nm;
  }
  put_raw(m, key, val);
  return 0;
}
