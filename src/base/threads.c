#include "base/threads.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct er_threadpool {
  int n;                 /* total threads including the caller */
  pthread_t *tids;
  pthread_mutex_t mu;
  pthread_cond_t work_cv, done_cv;
  uint64_t generation;   /* bumped per job */
  int pending;           /* workers still busy with the current job */
  int stop;
  /* current job */
  er_range_fn fn;
  void *arg;
  int64_t total, chunk;
  int chunks;
};

static void run_chunk(er_threadpool *p, int k) {
  int64_t b = (int64_t)k * p->chunk, e = b + p->chunk;
  if (e > p->total) e = p->total;
  if (b < e) p->fn(p->arg, b, e);
}

typedef struct worker_arg {
  er_threadpool *p;
  int index;
} worker_arg;

static void *worker(void *v) {
  worker_arg *wa = (worker_arg *)v;
  er_threadpool *p = wa->p;
  int index = wa->index;
  free(wa);
  uint64_t seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stop && p->generation == seen) pthread_cond_wait(&p->work_cv, &p->mu);
    if (p->stop) break;
    seen = p->generation;
    pthread_mutex_unlock(&p->mu);
    if (index < p->chunks) run_chunk(p, index);
    pthread_mutex_lock(&p->mu);
    if (--p->pending == 0) pthread_cond_signal(&p->done_cv);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int er_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

er_status er_threadpool_create(int threads, er_threadpool **out_pool) {
  *out_pool = NULL;
  if (threads < 1) threads = 1;
  if (threads > 256) return ER_ERR(ER_INVALID_ARGUMENT, "%d threads is too many (at most 256)", threads);
  er_threadpool *p = (er_threadpool *)calloc(1, sizeof *p);
  if (!p) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  p->n = threads;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work_cv, NULL);
  pthread_cond_init(&p->done_cv, NULL);
  if (threads > 1) {
    p->tids = (pthread_t *)calloc((size_t)threads - 1, sizeof(pthread_t));
    if (!p->tids) {
      er_threadpool_destroy(p);
      return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    }
    for (int i = 0; i < threads - 1; i++) {
      worker_arg *wa = (worker_arg *)malloc(sizeof *wa);
      if (wa) *wa = (worker_arg){p, i + 1}; /* filled before the thread can read it */
      if (!wa || pthread_create(&p->tids[i], NULL, worker, wa) != 0) {
        free(wa);
        p->n = i + 1; /* only the started ones get joined */
        er_threadpool_destroy(p);
        return ER_ERR(ER_INTERNAL, "could not start thread %d", i + 1);
      }
    }
  }
  *out_pool = p;
  return NULL;
}

void er_threadpool_destroy(er_threadpool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; p->tids && i < p->n - 1; i++) pthread_join(p->tids[i], NULL);
  free(p->tids);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->work_cv);
  pthread_cond_destroy(&p->done_cv);
  free(p);
}

int er_threadpool_size(const er_threadpool *p) { return p ? p->n : 1; }

void er_threadpool_run(er_threadpool *p, int64_t n, int64_t grain, er_range_fn fn, void *arg) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int threads = p ? p->n : 1;
  int64_t max_chunks = (n + grain - 1) / grain;
  if (threads > max_chunks) threads = (int)max_chunks;
  if (!p || threads <= 1) {
    fn(arg, 0, n);
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->arg = arg;
  p->total = n;
  p->chunks = threads;
  p->chunk = (n + threads - 1) / threads;
  p->pending = p->n - 1;
  p->generation++;
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  run_chunk(p, 0);
  pthread_mutex_lock(&p->mu);
  while (p->pending > 0) pthread_cond_wait(&p->done_cv, &p->mu);
  pthread_mutex_unlock(&p->mu);
}
