/* ModelProto / GraphProto / NodeProto / AttributeProto / ValueInfoProto / FunctionProto
 * -> px structs. Unknown fields are skipped; known fields with a wrong wire type are errors. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "import/onnx/onnx_internal.h"

#define OOM() ER_ERR(ER_OUT_OF_MEMORY, "out of memory")

er_status onx_prefix(er_status s, const char *fmt, ...) {
  if (!s) return s;
  const char *msg = er_status_message(s);
  if (strncmp(msg, "...: ", 5) == 0) return s;
  if (strlen(msg) > 300) return er_status_prefix(s, "...");
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return er_status_prefix(s, "%s", buf);
}

int onx_str_eq(const char *a, const char *b) { return strcmp(a, b) == 0; }

const char *onx_norm_domain(const char *d) {
  if (!d || onx_str_eq(d, "ai.onnx")) return "";
  return d;
}

char *onx_str(er_pool *pool, const pb_field *f) {
  return er_pool_strndup(pool, (const char *)f->data, f->len);
}

int64_t onx_opset_of(const onx_opsets *o, const char *domain) {
  domain = onx_norm_domain(domain);
  for (; o; o = o->fallback)
    for (int i = 0; i < o->n; i++)
      if (onx_str_eq(o->domains[i], domain)) return o->versions[i];
  return 0;
}

static void *tmp_array(onx_ctx *c, size_t n, size_t elem) {
  if (n > ((size_t)1 << 40) / (elem ? elem : 1)) return NULL;
  return er_pool_alloc(&c->tmp, n * elem);
}

/* Record a value name for unique-name generation during inlining. */
static er_status note_name(onx_ctx *c, const char *name) {
  if (!*name) return NULL;
  if (strmap_put(&c->names, &c->tmp, name, 1) != 0) return OOM();
  return NULL;
}

/* A LEN string field into the model pool. */
static er_status get_str(onx_ctx *c, const pb_field *f, const char *fname, const char **out) {
  ER_RETURN_IF_ERROR(pb_expect(f, PB_LEN, fname));
  char *s = onx_str(c->pool, f);
  if (!s) return OOM();
  *out = s;
  return NULL;
}

/* ---- OperatorSetIdProto (repeated, field `fnum` of msg) ---- */
static er_status parse_opsets(onx_ctx *c, const pb_reader *msg, uint32_t fnum, onx_opsets *o) {
  pb_reader r = *msg;
  pb_field f;
  er_status err = NULL;
  int got, n = 0;
  while ((got = pb_next(&r, &f, &err)) > 0)
    if (f.num == fnum) n++;
  if (got < 0) return err;
  o->n = 0;
  o->domains = (const char **)tmp_array(c, (size_t)n + 1, sizeof(char *));
  o->versions = (int64_t *)tmp_array(c, (size_t)n + 1, sizeof(int64_t));
  if (!o->domains || !o->versions) return OOM();
  r = *msg;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    if (f.num != fnum) continue;
    pb_reader s;
    pb_field g;
    ER_RETURN_IF_ERROR(pb_sub(&r, &f, &s));
    const char *domain = "";
    int64_t version = 0;
    while ((got = pb_next(&s, &g, &err)) > 0) {
      if (g.num == 1) ER_RETURN_IF_ERROR(get_str(c, &g, "opset_import.domain", &domain));
      else if (g.num == 2) {
        ER_RETURN_IF_ERROR(pb_expect(&g, PB_VARINT, "opset_import.version"));
        version = (int64_t)g.u;
      }
    }
    if (got < 0) return err;
    domain = onx_norm_domain(domain);
    int dup = 0;
    for (int i = 0; i < o->n; i++)
      if (onx_str_eq(o->domains[i], domain)) dup = 1;
    if (dup) continue; /* first one wins */
    o->domains[o->n] = domain;
    o->versions[o->n] = version;
    o->n++;
  }
  if (got < 0) return err;
  return NULL;
}

/* ---- TypeProto ---- */
static er_status parse_shape(onx_ctx *c, const pb_reader *msg, px_vi *vi) {
  pb_reader r = *msg;
  pb_field f;
  er_status err = NULL;
  int got;
  vi->rank = 0;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    if (f.num != 1) continue;
    pb_reader d;
    pb_field g;
    ER_RETURN_IF_ERROR(pb_sub(&r, &f, &d));
    int64_t value = -1;
    const char *param = NULL;
    while ((got = pb_next(&d, &g, &err)) > 0) {
      if (g.num == 1) {
        ER_RETURN_IF_ERROR(pb_expect(&g, PB_VARINT, "dim_value"));
        value = (int64_t)g.u < 0 ? -1 : (int64_t)g.u;
        param = NULL;
      } else if (g.num == 2) {
        ER_RETURN_IF_ERROR(get_str(c, &g, "dim_param", &param));
        value = -1;
      }
    }
    if (got < 0) return err;
    if (vi->rank < ER_MAX_RANK) {
      vi->dims[vi->rank] = value;
      vi->dim_params[vi->rank] = param && *param ? param : NULL;
    }
    if (vi->rank < 1000000) vi->rank++;
  }
  if (got < 0) return err;
  return NULL;
}

static er_status parse_type(onx_ctx *c, const pb_reader *msg, px_vi *vi) {
  pb_reader r = *msg;
  pb_field f;
  er_status err = NULL;
  int got;
  vi->has_type = 1;
  vi->dtype = 0;
  vi->rank = -1;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    if (f.num == 1) { /* tensor_type */
      pb_reader t;
      pb_field g;
      ER_RETURN_IF_ERROR(pb_sub(&r, &f, &t));
      while ((got = pb_next(&t, &g, &err)) > 0) {
        if (g.num == 1) {
          ER_RETURN_IF_ERROR(pb_expect(&g, PB_VARINT, "elem_type"));
          vi->dtype = g.u > 1000 ? 1000 : (int)g.u;
        } else if (g.num == 2) {
          pb_reader s;
          ER_RETURN_IF_ERROR(pb_sub(&t, &g, &s));
          ER_RETURN_IF_ERROR(parse_shape(c, &s, vi));
        }
      }
      if (got < 0) return err;
    } else if (f.num == 4 || f.num == 5 || f.num == 8 || f.num == 9) {
      /* sequence / map / sparse / optional: recorded as unsupported (dtype 0) */
      pb_reader t;
      ER_RETURN_IF_ERROR(pb_sub(&r, &f, &t));
      vi->dtype = 0;
      vi->rank = -1;
    }
  }
  if (got < 0) return err;
  return NULL;
}

static er_status parse_value_info(onx_ctx *c, const pb_reader *msg, px_vi *vi) {
  pb_reader r = *msg;
  pb_field f;
  er_status err = NULL;
  int got;
  memset(vi, 0, sizeof *vi);
  vi->name = "";
  vi->rank = -1;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    if (f.num == 1) ER_RETURN_IF_ERROR(get_str(c, &f, "name", &vi->name));
    else if (f.num == 2) {
      pb_reader t;
      ER_RETURN_IF_ERROR(pb_sub(&r, &f, &t));
      er_status s = parse_type(c, &t, vi);
      if (s) return onx_prefix(s, "type of '%s'", vi->name);
    }
  }
  if (got < 0) return err;
  return note_name(c, vi->name);
}

/* ---- AttributeProto ---- */
static er_status parse_graph(onx_ctx *c, const pb_reader *msg, const onx_opsets *opsets,
                             px_graph **out);

static er_status parse_attr(onx_ctx *c, const pb_reader *msg, const onx_opsets *opsets,
                            px_attr *pa) {
  pb_reader r = *msg;
  pb_field f;
  er_status err = NULL;
  int got;
  er_attr *a = &pa->a;
  memset(pa, 0, sizeof *pa);
  a->name = "";
  size_t nf = 0, ni = 0, ns = 0, nt = 0, ng = 0;
  int has[32] = {0};
  /* pass 1: scalars and counts */
  while ((got = pb_next(&r, &f, &err)) > 0) {
    if (f.num < 32) has[f.num] = 1;
    switch (f.num) {
      case 1: ER_RETURN_IF_ERROR(get_str(c, &f, "name", &a->name)); break;
      case 21: ER_RETURN_IF_ERROR(get_str(c, &f, "ref_attr_name", &pa->ref)); break;
      case 20:
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_VARINT, "type"));
        a->type = f.u > 1000 ? 1000 : (int)f.u;
        break;
      case 2: {
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_I32, "f"));
        uint32_t u = (uint32_t)f.u;
        memcpy(&a->f, &u, 4);
        break;
      }
      case 3: ER_RETURN_IF_ERROR(pb_expect(&f, PB_VARINT, "i")); a->i = (int64_t)f.u; break;
      case 4:
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "s"));
        a->s = onx_str(c->pool, &f);
        if (!a->s) return OOM();
        a->s_len = f.len;
        break;
      case 5: case 6: case 14: case 22:
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "t/g/tp/sparse_tensor"));
        break;
      case 7: ER_RETURN_IF_ERROR(pb_rep_count(&f, PB_I32, "floats", &nf)); break;
      case 8: ER_RETURN_IF_ERROR(pb_rep_count(&f, PB_VARINT, "ints", &ni)); break;
      case 9: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "strings")); ns++; break;
      case 10: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "tensors")); nt++; break;
      case 11: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "graphs")); ng++; break;
      default: break;
    }
  }
  if (got < 0) return err;
  if (a->type == ER_ATTR_UNDEFINED) { /* old models: infer from the field present */
    static const struct { int field, type; } infer[] = {
        {2, ER_ATTR_FLOAT}, {3, ER_ATTR_INT},     {4, ER_ATTR_STRING}, {5, ER_ATTR_TENSOR},
        {6, ER_ATTR_GRAPH}, {22, ER_ATTR_SPARSE_TENSOR}, {14, ER_ATTR_TYPE_PROTO},
        {7, ER_ATTR_FLOATS}, {8, ER_ATTR_INTS},  {9, ER_ATTR_STRINGS}, {10, ER_ATTR_TENSORS},
        {11, ER_ATTR_GRAPHS}, {23, ER_ATTR_SPARSE_TENSORS}, {15, ER_ATTR_TYPE_PROTOS}};
    for (size_t k = 0; k < sizeof infer / sizeof infer[0]; k++)
      if (has[infer[k].field]) {
        a->type = infer[k].type;
        break;
      }
  }
  if (pa->ref) {
    if (!c->in_function)
      return ER_ERR(ER_INVALID_MODEL, "ref_attr_name '%s' is only allowed inside a function",
                    pa->ref);
    return NULL; /* value bound when the function is inlined */
  }
  switch (a->type) {
    case ER_ATTR_FLOAT: case ER_ATTR_INT: case ER_ATTR_STRING:
    case ER_ATTR_TENSOR: case ER_ATTR_GRAPH: case ER_ATTR_FLOATS: case ER_ATTR_INTS:
    case ER_ATTR_STRINGS: case ER_ATTR_TENSORS: case ER_ATTR_GRAPHS:
    case ER_ATTR_TYPE_PROTO: case ER_ATTR_TYPE_PROTOS:
      break;
    case ER_ATTR_SPARSE_TENSOR: case ER_ATTR_SPARSE_TENSORS:
      return ER_ERR(ER_UNSUPPORTED, "sparse tensor attributes are not supported");
    case ER_ATTR_UNDEFINED:
      return ER_ERR(ER_INVALID_MODEL, "has no type and no value");
    default:
      return ER_ERR(ER_INVALID_MODEL, "has invalid type %d", a->type);
  }
  if (a->type == ER_ATTR_STRING && !a->s) {
    a->s = "";
  }
  if (a->type == ER_ATTR_FLOATS) {
    a->n = (int)nf;
    float *v = (float *)er_pool_alloc(c->pool, (nf ? nf : 1) * sizeof(float));
    if (!v || nf > (1u << 30)) return OOM();
    a->floats = v;
  } else if (a->type == ER_ATTR_INTS) {
    a->n = (int)ni;
    int64_t *v = (int64_t *)er_pool_alloc(c->pool, (ni ? ni : 1) * sizeof(int64_t));
    if (!v || ni > (1u << 30)) return OOM();
    a->ints = v;
  } else if (a->type == ER_ATTR_STRINGS) {
    a->n = (int)ns;
    a->strings = (const char *const *)er_pool_alloc(c->pool, (ns ? ns : 1) * sizeof(char *));
    if (!a->strings) return OOM();
  } else if (a->type == ER_ATTR_GRAPHS) {
    a->n = (int)ng;
    pa->gs = (px_graph **)tmp_array(c, ng ? ng : 1, sizeof(px_graph *));
    if (!pa->gs) return OOM(); /* a->graphs is filled when the IR is built */
  }
  if (a->type == ER_ATTR_TENSORS) { /* er_attr has no tensor list: only the count is kept */
    a->n = (int)nt;
  }
  /* pass 2: values */
  r = *msg;
  size_t kf = 0, ki = 0, ks = 0, kg = 0;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    switch (f.num) {
      case 5:
        if (a->type == ER_ATTR_TENSOR) {
          pb_reader t;
          ER_RETURN_IF_ERROR(pb_sub(&r, &f, &t));
          ER_RETURN_IF_ERROR(onx_parse_tensor(c, &t, "tensor", &a->t, NULL));
        }
        break;
      case 6:
        if (a->type == ER_ATTR_GRAPH) {
          pb_reader t;
          ER_RETURN_IF_ERROR(pb_sub(&r, &f, &t));
          ER_RETURN_IF_ERROR(parse_graph(c, &t, opsets, &pa->g));
        }
        break;
      case 7:
        if (a->type == ER_ATTR_FLOATS) {
          pb_iter it;
          uint64_t v;
          pb_iter_init(&it, &f, PB_I32);
          while (kf < nf && pb_iter_next(&it, &v)) {
            uint32_t u = (uint32_t)v;
            memcpy((float *)a->floats + kf++, &u, 4);
          }
        }
        break;
      case 8:
        if (a->type == ER_ATTR_INTS) {
          pb_iter it;
          uint64_t v;
          pb_iter_init(&it, &f, PB_VARINT);
          while (ki < ni && pb_iter_next(&it, &v)) ((int64_t *)a->ints)[ki++] = (int64_t)v;
        }
        break;
      case 9:
        if (a->type == ER_ATTR_STRINGS && ks < ns) {
          char *s = onx_str(c->pool, &f);
          if (!s) return OOM();
          ((const char **)a->strings)[ks++] = s;
        }
        break;
      case 10:
        if (a->type == ER_ATTR_TENSORS) { /* validate the tensors even though unused */
          pb_reader t;
          er_tensor *tt;
          ER_RETURN_IF_ERROR(pb_sub(&r, &f, &t));
          ER_RETURN_IF_ERROR(onx_parse_tensor(c, &t, "tensor", &tt, NULL));
        }
        break;
      case 11:
        if (a->type == ER_ATTR_GRAPHS && kg < ng) {
          pb_reader t;
          ER_RETURN_IF_ERROR(pb_sub(&r, &f, &t));
          ER_RETURN_IF_ERROR(parse_graph(c, &t, opsets, &pa->gs[kg]));
          kg++;
        }
        break;
      default: break;
    }
  }
  if (got < 0) return err;
  if (a->type == ER_ATTR_TENSOR && !a->t) return ER_ERR(ER_INVALID_MODEL, "tensor value is missing");
  if (a->type == ER_ATTR_GRAPH && !pa->g) return ER_ERR(ER_INVALID_MODEL, "graph value is missing");
  return NULL;
}

/* ---- NodeProto ---- */
static er_status parse_node_body(onx_ctx *c, const pb_reader *msg, const onx_opsets *opsets,
                                 px_node *n) {
  pb_reader r = *msg;
  pb_field f;
  er_status err = NULL;
  int got;
  size_t ni = 0, no = 0, na = 0;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    switch (f.num) {
      case 1: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "input")); ni++; break;
      case 2: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "output")); no++; break;
      case 3: ER_RETURN_IF_ERROR(get_str(c, &f, "name", &n->name)); break;
      case 4: ER_RETURN_IF_ERROR(get_str(c, &f, "op_type", &n->op_type)); break;
      case 5: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "attribute")); na++; break;
      case 7: ER_RETURN_IF_ERROR(get_str(c, &f, "domain", &n->domain)); break;
      case 8: ER_RETURN_IF_ERROR(get_str(c, &f, "overload", &n->overload)); break;
      default: break;
    }
  }
  if (got < 0) return err;
  n->domain = onx_norm_domain(n->domain);
  if (!*n->op_type) return ER_ERR(ER_INVALID_MODEL, "op_type is empty");
  n->n_in = (int)ni;
  n->n_out = (int)no;
  n->n_attrs = (int)na;
  n->in = (const char **)tmp_array(c, ni + 1, sizeof(char *));
  n->out = (const char **)tmp_array(c, no + 1, sizeof(char *));
  n->attrs = (px_attr *)tmp_array(c, na + 1, sizeof(px_attr));
  if (!n->in || !n->out || !n->attrs) return OOM();
  r = *msg;
  size_t ki = 0, ko = 0, ka = 0;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    if (f.num == 1 || f.num == 2) {
      char *s = onx_str(c->pool, &f);
      if (!s) return OOM();
      ER_RETURN_IF_ERROR(note_name(c, s));
      if (f.num == 1) n->in[ki++] = s;
      else n->out[ko++] = s;
    } else if (f.num == 5) {
      pb_reader s;
      ER_RETURN_IF_ERROR(pb_sub(&r, &f, &s));
      px_attr *pa = &n->attrs[ka];
      er_status st = parse_attr(c, &s, opsets, pa);
      if (st) return onx_prefix(st, "attribute '%s'", pa->a.name ? pa->a.name : "");
      for (size_t j = 0; j < ka; j++)
        if (onx_str_eq(n->attrs[j].a.name, pa->a.name))
          return ER_ERR(ER_INVALID_MODEL, "attribute '%s' is given twice", pa->a.name);
      ka++;
    }
  }
  if (got < 0) return err;
  return NULL;
}

static er_status parse_node(onx_ctx *c, const pb_reader *msg, const onx_opsets *opsets,
                            int index, px_node *n) {
  memset(n, 0, sizeof *n);
  n->name = n->op_type = n->domain = n->overload = "";
  n->opsets = opsets;
  er_status s = parse_node_body(c, msg, opsets, n);
  if (s) {
    if (n->name && *n->name) return onx_prefix(s, "node '%s' (%s)", n->name, n->op_type);
    return onx_prefix(s, "node #%d (%s)", index, n->op_type);
  }
  return NULL;
}

/* ---- GraphProto ---- */
static er_status parse_graph_body(onx_ctx *c, const pb_reader *msg, const onx_opsets *opsets,
                                  px_graph *g) {
  pb_reader r = *msg;
  pb_field f;
  er_status err = NULL;
  int got;
  size_t cnt[17] = {0};
  while ((got = pb_next(&r, &f, &err)) > 0) {
    switch (f.num) {
      case 1: case 5: case 11: case 12: case 13:
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "graph element"));
        cnt[f.num]++;
        break;
      case 2: ER_RETURN_IF_ERROR(get_str(c, &f, "name", &g->name)); break;
      case 15:
        return ER_ERR(ER_UNSUPPORTED, "sparse_initializer is not supported");
      default: break;
    }
  }
  if (got < 0) return err;
  for (int k = 0; k < 17; k++)
    if (cnt[k] > (1u << 28)) return ER_ERR(ER_INVALID_MODEL, "too many graph elements");
  g->n_nodes = (int)cnt[1];
  g->n_inits = (int)cnt[5];
  g->n_inputs = (int)cnt[11];
  g->n_outputs = (int)cnt[12];
  g->n_vi = (int)cnt[13];
  g->nodes = (px_node *)tmp_array(c, cnt[1] + 1, sizeof(px_node));
  g->inits = (px_init *)tmp_array(c, cnt[5] + 1, sizeof(px_init));
  g->inputs = (px_vi *)tmp_array(c, cnt[11] + 1, sizeof(px_vi));
  g->outputs = (px_vi *)tmp_array(c, cnt[12] + 1, sizeof(px_vi));
  g->vi = (px_vi *)tmp_array(c, cnt[13] + 1, sizeof(px_vi));
  if (!g->nodes || !g->inits || !g->inputs || !g->outputs || !g->vi) return OOM();
  r = *msg;
  int kn = 0, kt = 0, ki = 0, ko = 0, kv = 0;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    pb_reader s;
    switch (f.num) {
      case 1:
        ER_RETURN_IF_ERROR(pb_sub(&r, &f, &s));
        ER_RETURN_IF_ERROR(parse_node(c, &s, opsets, kn, &g->nodes[kn]));
        kn++;
        break;
      case 5: {
        ER_RETURN_IF_ERROR(pb_sub(&r, &f, &s));
        px_init *in = &g->inits[kt];
        ER_RETURN_IF_ERROR(onx_parse_tensor(c, &s, "initializer", &in->t, &in->name));
        if (!in->name || !*in->name)
          return ER_ERR(ER_INVALID_MODEL, "initializer #%d has no name", kt);
        ER_RETURN_IF_ERROR(note_name(c, in->name));
        kt++;
        break;
      }
      case 11: case 12: case 13: {
        const char *what = f.num == 11 ? "input" : f.num == 12 ? "output" : "value_info";
        int k = f.num == 11 ? ki++ : f.num == 12 ? ko++ : kv++;
        px_vi *vi = f.num == 11 ? g->inputs : f.num == 12 ? g->outputs : g->vi;
        ER_RETURN_IF_ERROR(pb_sub(&r, &f, &s));
        er_status st = parse_value_info(c, &s, &vi[k]);
        if (st) return onx_prefix(st, "graph %s #%d", what, k);
        break;
      }
      default: break;
    }
  }
  if (got < 0) return err;
  return NULL;
}

static er_status parse_graph(onx_ctx *c, const pb_reader *msg, const onx_opsets *opsets,
                             px_graph **out) {
  px_graph *g = (px_graph *)er_pool_alloc(&c->tmp, sizeof *g);
  if (!g) return OOM();
  g->name = "";
  *out = g;
  return parse_graph_body(c, msg, opsets, g);
}

/* ---- FunctionProto ---- */
static er_status parse_function_body(onx_ctx *c, const pb_reader *msg, px_func *fn) {
  pb_reader r = *msg;
  pb_field f;
  er_status err = NULL;
  int got;
  size_t ni = 0, no = 0, nn = 0, nd = 0;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    switch (f.num) {
      case 1: ER_RETURN_IF_ERROR(get_str(c, &f, "name", &fn->name)); break;
      case 10: ER_RETURN_IF_ERROR(get_str(c, &f, "domain", &fn->domain)); break;
      case 13: ER_RETURN_IF_ERROR(get_str(c, &f, "overload", &fn->overload)); break;
      case 4: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "input")); ni++; break;
      case 5: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "output")); no++; break;
      case 7: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "node")); nn++; break;
      case 11: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "attribute_proto")); nd++; break;
      default: break;
    }
  }
  if (got < 0) return err;
  fn->domain = onx_norm_domain(fn->domain);
  ER_RETURN_IF_ERROR(parse_opsets(c, msg, 9, &fn->opsets));
  fn->opsets.fallback = &c->model_opsets;
  fn->n_in = (int)ni;
  fn->n_out = (int)no;
  fn->n_nodes = (int)nn;
  fn->n_attr_defaults = (int)nd;
  fn->in = (const char **)tmp_array(c, ni + 1, sizeof(char *));
  fn->out = (const char **)tmp_array(c, no + 1, sizeof(char *));
  fn->nodes = (px_node *)tmp_array(c, nn + 1, sizeof(px_node));
  fn->attr_defaults = (px_attr *)tmp_array(c, nd + 1, sizeof(px_attr));
  if (!fn->in || !fn->out || !fn->nodes || !fn->attr_defaults) return OOM();
  r = *msg;
  size_t ki = 0, ko = 0, kn = 0, kd = 0;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    pb_reader s;
    if (f.num == 4 || f.num == 5) {
      char *str = onx_str(c->pool, &f);
      if (!str) return OOM();
      if (f.num == 4) fn->in[ki++] = str;
      else fn->out[ko++] = str;
    } else if (f.num == 7) {
      ER_RETURN_IF_ERROR(pb_sub(&r, &f, &s));
      ER_RETURN_IF_ERROR(parse_node(c, &s, &fn->opsets, (int)kn, &fn->nodes[kn]));
      kn++;
    } else if (f.num == 11) {
      ER_RETURN_IF_ERROR(pb_sub(&r, &f, &s));
      c->in_function = 0; /* defaults are plain values */
      er_status st = parse_attr(c, &s, &fn->opsets, &fn->attr_defaults[kd]);
      c->in_function = 1;
      if (st) return onx_prefix(st, "attribute default #%zu", kd);
      kd++;
    }
  }
  if (got < 0) return err;
  return NULL;
}

/* ---- ModelProto ---- */
er_status onx_parse_model(onx_ctx *c, const uint8_t *data, size_t size, px_graph **out_graph,
                          const char **producer_name, const char **producer_version) {
  pb_reader r;
  pb_init(&r, data, size);
  pb_reader model = r;
  pb_field f, graph_field;
  er_status err = NULL;
  int got, has_graph = 0, has_ir = 0;
  size_t nfunc = 0;
  *producer_name = *producer_version = "";
  while ((got = pb_next(&r, &f, &err)) > 0) {
    switch (f.num) {
      case 1:
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_VARINT, "ir_version"));
        c->ir_version = (int64_t)f.u;
        has_ir = 1;
        break;
      case 2: ER_RETURN_IF_ERROR(get_str(c, &f, "producer_name", producer_name)); break;
      case 3: ER_RETURN_IF_ERROR(get_str(c, &f, "producer_version", producer_version)); break;
      case 7:
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "graph"));
        graph_field = f;
        has_graph = 1;
        break;
      case 8: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "opset_import")); break;
      case 25: ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "functions")); nfunc++; break;
      default: break;
    }
  }
  if (got < 0) return onx_prefix(err, "not a valid ONNX model");
  if (!has_graph)
    return ER_ERR(ER_INVALID_MODEL, "not a valid ONNX model: %s",
                  has_ir ? "it has no graph" : "no ir_version and no graph");
  ER_RETURN_IF_ERROR(parse_opsets(c, &model, 8, &c->model_opsets));
  if (c->model_opsets.n == 0 && c->ir_version < 3) { /* pre-opset models: ONNX opset 1 */
    c->model_opsets.domains[0] = "";
    c->model_opsets.versions[0] = 1;
    c->model_opsets.n = 1;
  }
  for (int i = 0; i < c->model_opsets.n; i++)
    if (c->model_opsets.versions[i] < 1 || c->model_opsets.versions[i] > 100000)
      return ER_ERR(ER_INVALID_MODEL, "opset_import for domain '%s' has invalid version %lld",
                    c->model_opsets.domains[i], (long long)c->model_opsets.versions[i]);
  c->funcs = (px_func *)tmp_array(c, nfunc + 1, sizeof(px_func));
  if (!c->funcs) return OOM();
  r = model;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    if (f.num != 25) continue;
    pb_reader s;
    ER_RETURN_IF_ERROR(pb_sub(&r, &f, &s));
    px_func *fn = &c->funcs[c->n_funcs];
    memset(fn, 0, sizeof *fn);
    fn->name = fn->domain = fn->overload = "";
    c->in_function = 1;
    er_status st = parse_function_body(c, &s, fn);
    c->in_function = 0;
    if (st) return onx_prefix(st, "function '%s'", fn->name);
    c->n_funcs++;
  }
  if (got < 0) return err;
  pb_reader gr;
  ER_RETURN_IF_ERROR(pb_sub(&model, &graph_field, &gr));
  return parse_graph(c, &gr, &c->model_opsets, out_graph);
}
