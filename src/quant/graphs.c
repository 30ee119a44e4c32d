/* The graphs of a model being quantized: the main graph and every If/Loop/Scan body, each
 * with its own editing context and plan (see internal.h). Host code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/internal.h"

/* Subgraph j of node n's graph attributes, counted over all of them (NULL past the end). */
static er_graph *subgraph(const er_node *n, int j) {
  for (int a = 0; a < n->n_attrs; a++) {
    const er_attr *at = &n->attrs[a];
    int ng = at->type == ER_ATTR_GRAPH ? 1 : at->type == ER_ATTR_GRAPHS ? at->n : 0;
    if (j < ng) return at->type == ER_ATTR_GRAPH ? at->g : at->graphs[j];
    j -= ng;
  }
  return NULL;
}

/* Number of graph attributes of n (GRAPHS counted per graph). */
static int n_subgraphs(const er_node *n) {
  int k = 0;
  for (int a = 0; a < n->n_attrs; a++)
    k += n->attrs[a].type == ER_ATTR_GRAPH ? 1 : n->attrs[a].type == ER_ATTR_GRAPHS ? n->attrs[a].n : 0;
  return k;
}

static er_status add_graph(qmodel *qm, er_pool *pool, er_graph *g, int parent) {
  if (qm->n == qm->cap) {
    int cap = qm->cap ? qm->cap * 2 : 8;
    qgraph *ng = (qgraph *)realloc(qm->gs, sizeof(qgraph) * (size_t)cap);
    if (!ng) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    qm->gs = ng;
    qm->cap = cap;
  }
  int me = qm->n++;
  qgraph *q = &qm->gs[me];
  memset(q, 0, sizeof *q);
  q->g = g;
  q->parent = parent;
  ER_RETURN_IF_ERROR(opt_ctx_init(&q->c, pool, g, 0));
  /* an outer-scope constant has its definition's type and shape */
  for (int v = 0; v < g->n_values; v++) {
    const er_value *r = quant_root_value(g, v);
    if (g->values[v].kind != ER_VALUE_OUTER || r->kind != ER_VALUE_INITIALIZER) continue;
    q->c.vi_dtype[v] = r->dtype;
    q->c.vi_rank[v] = r->rank;
    for (int d = 0; d < ER_MAX_RANK; d++) q->c.vi_dims[v][d] = d < r->rank ? r->dims[d] : -1;
  }
  for (int i = 0; i < g->n_nodes; i++)
    for (int j = 0; j < n_subgraphs(&g->nodes[i]); j++) {
      er_graph *sg = subgraph(&g->nodes[i], j);
      if (sg) ER_RETURN_IF_ERROR(add_graph(qm, pool, sg, me));
    }
  return NULL;
}

er_status qmodel_init(qmodel *qm, er_imported *m) {
  memset(qm, 0, sizeof *qm);
  return add_graph(qm, &m->pool, m->graph, -1);
}

void qmodel_free(qmodel *qm) {
  for (int i = 0; i < qm->n; i++) {
    qplan_free(&qm->gs[i].p);
    opt_ctx_free(&qm->gs[i].c);
  }
  free(qm->gs);
  memset(qm, 0, sizeof *qm);
}

int qmodel_find(const qmodel *qm, const er_node *n) {
  for (int i = 0; i < qm->n; i++) {
    const er_graph *g = qm->gs[i].g;
    if (n >= g->nodes && n < g->nodes + g->n_nodes) return i;
  }
  return -1;
}

const er_value *quant_root_value(const er_graph *g, int v) {
  const er_graph *g0 = g;
  int v0 = v;
  for (int guard = 0; guard < 256; guard++) {
    const er_value *val = &g->values[v];
    if (val->kind != ER_VALUE_OUTER) return val;
    if (!g->parent || val->outer < 0 || val->outer >= g->parent->n_values) break;
    v = val->outer;
    g = g->parent;
  }
  return &g0->values[v0];
}

/* Is a value (values = 1) or a node (values = 0) of g or its subgraphs called name? */
static int name_taken(const er_graph *g, const char *name, int values) {
  for (int v = 0; values && v < g->n_values; v++)
    if (g->values[v].name && !strcmp(g->values[v].name, name)) return 1;
  for (int i = 0; i < g->n_nodes; i++) {
    if (!values && !strcmp(g->nodes[i].name, name)) return 1;
    for (int j = 0; j < n_subgraphs(&g->nodes[i]); j++) {
      const er_graph *sg = subgraph(&g->nodes[i], j);
      if (sg && name_taken(sg, name, values)) return 1;
    }
  }
  return 0;
}

int er_quant_has_node(const er_imported *m, const char *name) { return name_taken(m->graph, name, 0); }

int quant_has_subgraphs(const er_graph *g) {
  for (int i = 0; i < g->n_nodes; i++)
    if (n_subgraphs(&g->nodes[i])) return 1;
  return 0;
}

void quant_unique_name(const er_graph *g, char *buf, size_t cap) {
  while (g->parent) g = g->parent;
  if (!name_taken(g, buf, 1)) return;
  char base[512];
  snprintf(base, sizeof base, "%s", buf);
  for (int k = 1; k < 1000000; k++) {
    snprintf(buf, cap, "%s_%d", base, k);
    if (!name_taken(g, buf, 1)) return;
  }
}

void quant_sync_outer_names(er_graph *g) {
  for (int i = 0; i < g->n_nodes; i++)
    for (int j = 0; j < n_subgraphs(&g->nodes[i]); j++) {
      er_graph *sg = subgraph(&g->nodes[i], j);
      if (!sg) continue;
      for (int u = 0; u < sg->n_values; u++) {
        er_value *val = &sg->values[u];
        if (val->kind == ER_VALUE_OUTER && val->outer >= 0 && val->outer < g->n_values)
          val->name = g->values[val->outer].name;
      }
      quant_sync_outer_names(sg);
    }
}
