#include "ir/ir.h"

static int str_eq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

const er_attr *er_node_attr(const er_node *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++)
    if (str_eq(n->attrs[i].name, name)) return &n->attrs[i];
  return 0;
}

int er_graph_find_value(const er_graph *g, const char *name) {
  for (int i = 0; i < g->n_values; i++)
    if (str_eq(g->values[i].name, name)) return i;
  return -1;
}
