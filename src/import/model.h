/* Host-side container for an imported model (the body of the public er_model). */
#ifndef ER_IMPORT_MODEL_H
#define ER_IMPORT_MODEL_H
#include <stddef.h>
#include <stdint.h>
#include "base/pool.h"
#include "ir/ir.h"

typedef struct er_mapping {      /* a memory-mapped or heap buffer to release with the model */
  struct er_mapping *next;
  void *ptr;
  size_t size;
  int is_mmap;                   /* 1: a mapped file, 2: anonymous memory (both munmap); 0: free */
  int unpacked4;                 /* 1: the one-per-byte copy of a 4-bit initializer's data, which
                                    er_imported_release_unused frees once no value reads it */
} er_mapping;

/* An initializer the importer had to copy out of the file (its bytes were not aligned for
 * its type there). Kept so the host can drop the copy's pages once every kernel packed it
 * (it is then re-read from src before anything plans again). */
typedef struct er_copied {
  struct er_copied *next;
  void *dst;                     /* the copy (pool memory), what the IR points to */
  const void *src;               /* the bytes in the mapped file or the caller's buffer */
  size_t bytes;
  int dropped;                   /* host: dst's whole pages were dropped (read as zeros) */
} er_copied;

typedef struct er_imported {
  er_pool pool;                  /* all IR memory */
  er_graph *graph;
  int64_t ir_version;
  int n_opsets;
  const char **opset_domains;    /* "" for the default domain */
  int64_t *opset_versions;
  const char *producer_name;
  const char *producer_version;
  er_mapping *mappings;          /* model file and external data files */
  er_copied *copies;             /* unaligned initializers copied at import (>= 64 KiB) */
} er_imported;

/* Release everything the importer allocated (pool and mappings). */
void er_imported_free(er_imported *m);
/* Free the unpacked copies of 4-bit initializers (er_mapping.unpacked4) that no initializer
 * or tensor attribute of the graph (or its subgraphs) points into any more, e.g. after the
 * QDQ pass replaced them by packed MatMulQ4 weights. Returns the bytes released. */
size_t er_imported_release_unused(er_imported *m);
#endif
