/* Public API (include/edgerun.h) over the importer and the executor. Host code. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "edgerun.h"
#include "import/onnx/onnx.h"
#include "opt/opt.h"
#include "runtime/exec.h"
#include "base/alloc.h"

struct er_model {
  er_imported imp;
  int n_user_inputs;
  int *user_inputs; /* indices into graph->inputs of non-initializer inputs */
  /* Sessions share the model's constants. `lock` is held while a session plans or runs a
   * plan that prepares (reads constants), so that dropping and restoring the pages of
   * copied constants (below) never meets a reader. */
  pthread_mutex_t lock;
  int lock_ok;
  int n_sessions;
};

struct er_session {
  er_model *model;
  er_exec *exec;
  er_threadpool *threads;
  int counted; /* included in model->n_sessions */
};


/* Weights a kernel packed into its own state are not read again; drop their pages from the
 * process's resident set (called by the executor as planning goes, with the model locked):
 *   - bytes in the mapped model file: clean file pages, read back from the file if touched;
 *   - a copy the importer made of an unaligned initializer (imp.copies): its whole pages are
 *     dropped (they would read as zeros) and the copy is marked; restore_copies() puts the
 *     bytes back from the file before anything prepares again. Only while the model has a
 *     single session: another session's kernels may still read the copy at run time.
 * Only whole pages inside the tensor are dropped. */
static long page_size(void) {
  static long page;
  if (!page) page = sysconf(_SC_PAGESIZE);
  return page;
}

static void drop_pages(const void *data, size_t bytes) {
  long page = page_size();
  if (page <= 0 || !data || bytes < (size_t)page) return;
  uintptr_t a = (uintptr_t)data;
  uintptr_t b = (a + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
  uintptr_t e = (a + bytes) & ~((uintptr_t)page - 1);
  if (e > b) madvise((void *)b, e - b, MADV_DONTNEED);
}

static int in_file_mapping(const er_model *m, const void *data, size_t bytes) {
  for (const er_mapping *mp = m->imp.mappings; mp; mp = mp->next) {
    uintptr_t lo = (uintptr_t)mp->ptr, hi = lo + mp->size, a = (uintptr_t)data;
    if (mp->is_mmap == 1 && a >= lo && a + bytes <= hi) return 1;
  }
  return 0;
}

static void release_constant(void *user, const void *data, size_t bytes) {
  er_model *m = (er_model *)user;
  if (in_file_mapping(m, data, bytes)) {
    drop_pages(data, bytes);
    return;
  }
  if (m->n_sessions != 1) return;
  for (er_copied *cp = m->imp.copies; cp; cp = cp->next) {
    if (cp->dst != data || cp->dropped) continue;
    drop_pages(cp->dst, cp->bytes);
    cp->dropped = 1;
    if (in_file_mapping(m, cp->src, cp->bytes)) drop_pages(cp->src, cp->bytes);
    return;
  }
}

/* Before anything may read constants again (a plan, a dynamic run, a second session). */
static void restore_copies(er_model *m) {
  for (er_copied *cp = m->imp.copies; cp; cp = cp->next)
    if (cp->dropped) {
      memcpy(cp->dst, cp->src, cp->bytes);
      cp->dropped = 0;
    }
}

static void model_lock(er_model *m) {
  if (m->lock_ok) pthread_mutex_lock(&m->lock);
}
static void model_unlock(er_model *m) {
  if (m->lock_ok) pthread_mutex_unlock(&m->lock);
}

/* After the graph passes: free the unpacked copies of 4-bit weights the passes replaced, and
 * drop the model file's pages from the resident set (the passes' shape inference read
 * constants it no longer needs, e.g. a whole quantized embedding table; clean file pages:
 * what the session reads later comes back from the file). */
static void after_optimize(er_model *m) {
  er_imported_release_unused(&m->imp);
  static long page;
  if (!page) page = sysconf(_SC_PAGESIZE);
  for (const er_mapping *mp = m->imp.mappings; mp && page > 0; mp = mp->next) {
    uintptr_t b = ((uintptr_t)mp->ptr + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t e = ((uintptr_t)mp->ptr + mp->size) & ~((uintptr_t)page - 1);
    if (mp->is_mmap == 1 && e > b) madvise((void *)b, e - b, MADV_DONTNEED);
  }
}

/* ER_TIMING=1 in the environment: the start-up phases' wall times on stderr. */
static double timing_ms(void) {
  static int on = -1;
  if (on < 0) {
    const char *env = getenv("ER_TIMING");
    on = env && *env && strcmp(env, "0") != 0;
  }
  if (!on) return -1;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void timing_note(double *t, const char *phase) {
  if (*t < 0) return;
  double now = timing_ms();
  fprintf(stderr, "edgerun: %-10s %8.2f ms\n", phase, now - *t);
  *t = now;
}

static er_status finish_model(er_model *m) {
  m->lock_ok = pthread_mutex_init(&m->lock, NULL) == 0;
  const er_graph *g = m->imp.graph;
  m->user_inputs = (int *)er_pool_alloc(&m->imp.pool, sizeof(int) * (size_t)(g->n_inputs + 1));
  if (!m->user_inputs) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; i < g->n_inputs; i++)
    if (g->values[g->inputs[i]].kind != ER_VALUE_INITIALIZER) m->user_inputs[m->n_user_inputs++] = i;
  return NULL;
}

er_status er_model_load_file(const char *path, er_model **out_model) {
  if (!path || !out_model) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  *out_model = NULL;
  er_model *m = (er_model *)calloc(1, sizeof *m);
  if (!m) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  double t = timing_ms();
  er_status s = er_onnx_import_file(path, 0, &m->imp);
  timing_note(&t, "import");
  if (!s) s = er_optimize(&m->imp, 1); /* ER_OPT=0 in the environment skips it */
  timing_note(&t, "optimize");
  if (!s) after_optimize(m);
  timing_note(&t, "release");
  if (!s) s = finish_model(m);
  if (s) {
    er_model_destroy(m);
    return s;
  }
  *out_model = m;
  return NULL;
}

er_status er_model_load_buffer(const void *data, size_t size, const char *base_dir,
                               er_model **out_model) {
  if (!data || !out_model) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  *out_model = NULL;
  er_model *m = (er_model *)calloc(1, sizeof *m);
  if (!m) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  er_pool_init(&m->imp.pool);
  er_status s = er_onnx_import(data, size, base_dir, "<buffer>", &m->imp);
  if (!s) s = er_optimize(&m->imp, 1);
  if (!s) after_optimize(m);
  if (!s) s = finish_model(m);
  if (s) {
    er_model_destroy(m);
    return s;
  }
  *out_model = m;
  return NULL;
}

void er_model_destroy(er_model *m) {
  if (!m) return;
  if (m->lock_ok) pthread_mutex_destroy(&m->lock);
  er_imported_free(&m->imp);
  free(m);
}

size_t er_model_input_count(const er_model *m) { return m ? (size_t)m->n_user_inputs : 0; }
size_t er_model_output_count(const er_model *m) { return m ? (size_t)m->imp.graph->n_outputs : 0; }

static void fill_info(const er_value *v, er_tensor_info *o) {
  memset(o, 0, sizeof *o);
  o->name = v->name;
  o->dtype = (er_dtype)v->dtype;
  o->rank = v->rank;
  for (int i = 0; i < v->rank && i < ER_MAX_RANK; i++) {
    o->dims[i] = v->dims[i];
    o->dim_names[i] = v->dim_params[i];
  }
}

er_status er_model_input_info(const er_model *m, size_t index, er_tensor_info *out_info) {
  if (!m || !out_info) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  if (index >= (size_t)m->n_user_inputs)
    return ER_ERR(ER_INVALID_ARGUMENT, "input index %zu out of range (model has %d inputs)", index,
                  m->n_user_inputs);
  const er_graph *g = m->imp.graph;
  fill_info(&g->values[g->inputs[m->user_inputs[index]]], out_info);
  return NULL;
}

er_status er_model_output_info(const er_model *m, size_t index, er_tensor_info *out_info) {
  if (!m || !out_info) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  const er_graph *g = m->imp.graph;
  if (index >= (size_t)g->n_outputs)
    return ER_ERR(ER_INVALID_ARGUMENT, "output index %zu out of range (model has %d outputs)",
                  index, g->n_outputs);
  fill_info(&g->values[g->outputs[index]], out_info);
  return NULL;
}

er_status er_session_create(er_model *model, const er_session_options *opts,
                            er_session **out_session) {
  if (!model || !out_session) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  *out_session = NULL;
  er_session *s = (er_session *)calloc(1, sizeof *s);
  if (!s) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  s->model = model;
  er_status st = er_exec_create(model->imp.graph, NULL, er_host_allocator(), &s->exec);
  if (st) {
    free(s);
    return st;
  }
  if (opts && opts->arena) er_exec_use_arena(s->exec, opts->arena, opts->arena_bytes);
  int nthreads = (opts && opts->threads > 0) ? opts->threads : er_cpu_count();
  if (opts && opts->threads < 0) st = ER_ERR(ER_INVALID_ARGUMENT, "threads must be >= 0, got %d", opts->threads);
  if (!st && nthreads > 1) st = er_threadpool_create(nthreads, &s->threads);
  if (st) {
    er_session_destroy(s);
    return st;
  }
  er_exec_set_threads(s->exec, s->threads);
  er_exec_set_release(s->exec, release_constant, model);
  model_lock(model);
  model->n_sessions++;
  s->counted = 1;
  restore_copies(model); /* a second session may read what the first one dropped */
  /* Plan right away when every input shape is fully static. */
  const er_graph *g = model->imp.graph;
  int all_static = 1;
  for (int i = 0; i < model->n_user_inputs; i++) {
    const er_value *v = &g->values[g->inputs[model->user_inputs[i]]];
    if (v->rank < 0 || !v->dtype || !er_dtype_size(v->dtype)) all_static = 0;
    for (int d = 0; d < v->rank; d++)
      if (v->dims[d] < 0) all_static = 0;
  }
  if (all_static) {
    for (int i = 0; i < model->n_user_inputs && !st; i++) {
      const er_value *v = &g->values[g->inputs[model->user_inputs[i]]];
      er_tensor t = {0};
      er_tensor_set_shape(&t, v->dtype, v->rank, v->dims);
      size_t nb = er_tensor_nbytes(&t);
      void *zero = calloc(1, nb ? nb : 1);
      if (!zero) {
        st = ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
        break;
      }
      t.data = zero;
      st = er_exec_set_input(s->exec, model->user_inputs[i], &t);
      free(zero);
    }
    double t = timing_ms();
    if (!st) st = er_exec_plan(s->exec);
    timing_note(&t, "plan");
  }
  model_unlock(model);
  if (st) {
    er_session_destroy(s);
    return st;
  }
  *out_session = s;
  return NULL;
}

void er_session_destroy(er_session *s) {
  if (!s) return;
  if (s->counted) {
    model_lock(s->model);
    s->model->n_sessions--;
    model_unlock(s->model);
  }
  er_exec_destroy(s->exec);
  er_threadpool_destroy(s->threads);
  free(s);
}

er_status er_session_set_input(er_session *s, size_t index, er_dtype dtype, const int64_t *dims,
                               int rank, const void *data, size_t nbytes) {
  if (!s || (rank > 0 && !dims)) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  if (index >= (size_t)s->model->n_user_inputs)
    return ER_ERR(ER_INVALID_ARGUMENT, "input index %zu out of range (model has %d inputs)", index,
                  s->model->n_user_inputs);
  if (rank < 0 || rank > ER_MAX_RANK)
    return ER_ERR(ER_INVALID_ARGUMENT, "rank %d is not supported (0..%d)", rank, ER_MAX_RANK);
  er_tensor t = {0};
  er_tensor_set_shape(&t, dtype, rank, dims);
  ER_RETURN_IF_ERROR(er_shape_check(t.dims, t.rank, dtype, (uint64_t)1 << 40));
  size_t need = er_tensor_nbytes(&t);
  if (nbytes != need)
    return ER_ERR(ER_INVALID_ARGUMENT, "input %zu: %zu bytes given, shape and type need %zu", index,
                  nbytes, need);
  if (need && !data) return ER_ERR(ER_INVALID_ARGUMENT, "input %zu: NULL data", index);
  t.data = (void *)data;
  return er_exec_set_input(s->exec, s->model->user_inputs[index], &t);
}

er_status er_session_run(er_session *s) {
  if (!s) return ER_ERR(ER_INVALID_ARGUMENT, "NULL session");
  if (!er_exec_prepares(s->exec)) return er_exec_run(s->exec);
  model_lock(s->model); /* this run plans or prepares: constants are read */
  restore_copies(s->model);
  double t = timing_ms();
  er_status st = er_exec_run(s->exec);
  timing_note(&t, "run");
  model_unlock(s->model);
  return st;
}

er_status er_session_get_output(er_session *s, size_t index, er_tensor_view *out) {
  if (!s || !out) return ER_ERR(ER_INVALID_ARGUMENT, "NULL argument");
  const er_tensor *t = er_exec_output(s->exec, (int)index);
  if (!t) return ER_ERR(ER_INVALID_ARGUMENT, "output index %zu out of range", index);
  if (!t->data && er_tensor_nbytes(t))
    return ER_ERR(ER_INVALID_ARGUMENT, "output %zu has no value (run the session first)", index);
  memset(out, 0, sizeof *out);
  out->dtype = (er_dtype)t->dtype;
  out->rank = t->rank;
  for (int i = 0; i < t->rank; i++) out->dims[i] = t->dims[i];
  out->data = t->data;
  out->nbytes = er_tensor_nbytes(t);
  return NULL;
}

size_t er_session_arena_bytes(const er_session *s) { return s ? er_exec_arena_bytes(s->exec) : 0; }

#include "api/internal.h"
const er_imported *er_model_ir(const er_model *m) { return m ? &m->imp : NULL; }
er_exec *er_session_exec(er_session *s) { return s ? s->exec : NULL; }
