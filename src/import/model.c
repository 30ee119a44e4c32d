#include "import/model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import/onnx/onnx.h"

void er_imported_free(er_imported *m) {
  if (!m) return;
  er_pool_free(&m->pool);
  er_mappings_free(m->mappings);
  memset(m, 0, sizeof *m);
}

/* 1 if some initializer or tensor attribute of g (or a subgraph) has data in [lo, hi) */
static int graph_reads(const er_graph *g, uintptr_t lo, uintptr_t hi) {
  for (int i = 0; i < g->n_values; i++) {
    uintptr_t a = (uintptr_t)g->values[i].data;
    if (g->values[i].kind == ER_VALUE_INITIALIZER && a >= lo && a < hi) return 1;
  }
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_attrs; k++) {
      const er_attr *at = &g->nodes[i].attrs[k];
      uintptr_t a = at->t ? (uintptr_t)at->t->data : 0;
      if (at->t && a >= lo && a < hi) return 1;
      if (at->g && graph_reads(at->g, lo, hi)) return 1;
      for (int j = 0; at->graphs && j < at->n; j++)
        if (at->graphs[j] && graph_reads(at->graphs[j], lo, hi)) return 1;
    }
  return 0;
}

size_t er_imported_release_unused(er_imported *m) {
  size_t freed = 0;
  if (!m || !m->graph) return 0;
  for (er_mapping **p = &m->mappings; *p;) {
    er_mapping *mp = *p;
    uintptr_t lo = (uintptr_t)mp->ptr;
    if (mp->unpacked4 && !mp->is_mmap && !graph_reads(m->graph, lo, lo + (mp->size ? mp->size : 1))) {
      *p = mp->next;
      freed += mp->size;
      free(mp->ptr);
      free(mp);
      continue;
    }
    p = &mp->next;
  }
  return freed;
}
