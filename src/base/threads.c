#include "base/threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Jobs. A job is split into `chunks` fixed contiguous ranges (chunk k is always the same
 * indices, so results do not depend on which thread runs it). Chunks are claimed through one
 * atomic word, `ticket` = generation << 38 | chunks << 32 | mask of claimed chunks (at most
 * 32 chunks per job; the generation wraps after 2^26 jobs), by the caller and by any worker
 * that is awake. Thread t (the caller is 0, workers
 * 1..n-1) first claims chunk t, then any chunk left: a thread gets the same part of every
 * job, so the rows a layer's chunk reads were written by the same core in the previous
 * layer (a two-thread chain of 1x1 convs on 55x55x64 rows: 51 -> 37 us per layer when
 * chunks stopped changing cores), and when a worker is slow to wake the caller just runs
 * its chunk too (a sleeping thread can take tens of microseconds to wake, longer than a
 * small layer).
 * A claim succeeds only while the word still holds the job's generation, so a late worker
 * never runs a chunk of a newer job with an older job's description, and the caller rewrites
 * the description only after every chunk of the previous job has finished.
 *
 * Idle workers poll `ticket` for WORKER_SPIN_NS (100 us: a model's layers are parallel
 * regions tens of microseconds apart, with single-threaded nodes and the executor between
 * them, and a futex wake costs tens of microseconds, more than many layers; MobileNetV2 at
 * 2 threads 6.8 -> 6.0 ms with 100 us instead of 5) and then sleep on work_cv. A sleeper
 * registers in `sleepers` under the mutex before re-checking the ticket; the caller reads
 * `sleepers` after publishing (both seq_cst), so either the worker sees the new job or the
 * caller sees the sleeper and broadcasts under the mutex. The worker that completes the
 * last chunk signals done_cv under the mutex; the caller, once no chunk is left to claim,
 * polls for up to CALLER_SPIN_NS (work is in flight on another thread) and then waits. */
#define WORKER_SPIN_NS 100000
#define CALLER_SPIN_NS 50000
#define MAX_CHUNKS 32

struct er_threadpool {
  int n;                 /* total threads including the caller */
  pthread_t *tids;
  pthread_mutex_t mu;
  pthread_cond_t work_cv, done_cv;
  atomic_uint_fast64_t ticket; /* generation << 38 | chunk count << 32 | claimed chunks */
  atomic_int done;       /* chunks of the current job finished */
  atomic_int sleepers;   /* workers asleep (or about to sleep) on work_cv */
  atomic_int stop;
  /* current job: written by the caller before the ticket is published */
  er_range_fn fn;
  void *arg;
  int64_t total, chunk;
};

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__ __volatile__("pause");
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t tk_gen(uint64_t v) { return v >> 38; }

/* Poll for a job newer than `seen` for at most WORKER_SPIN_NS; returns whether one came. */
static int spin_gen(er_threadpool *p, uint64_t seen) {
  int64_t t0 = 0;
  for (int i = 0;; i++) {
    if (tk_gen(atomic_load_explicit(&p->ticket, memory_order_acquire)) != seen || atomic_load(&p->stop)) return 1;
    cpu_relax();
    if ((i & 63) == 63) {
      int64_t t = now_ns();
      if (!t0) t0 = t;
      else if (t - t0 > WORKER_SPIN_NS) return 0;
    }
  }
}

/* Poll until `chunks` chunks are done, for at most CALLER_SPIN_NS; returns whether they are. */
static int spin_done(er_threadpool *p, int chunks) {
  int64_t t0 = 0;
  for (int i = 0;; i++) {
    if (atomic_load_explicit(&p->done, memory_order_acquire) == chunks) return 1;
    cpu_relax();
    if ((i & 63) == 63) {
      int64_t t = now_ns();
      if (!t0) t0 = t;
      else if (t - t0 > CALLER_SPIN_NS) return 0;
    }
  }
}

/* Claims and runs chunks of job `gen` until none is left, thread `self`'s own chunk
 * first; returns the number run. */
static int run_chunks(er_threadpool *p, uint64_t gen, int self, int is_worker) {
  int ran = 0;
  uint64_t v = atomic_load_explicit(&p->ticket, memory_order_acquire);
  for (;;) {
    if (tk_gen(v) != gen) return ran;
    const int chunks = (int)(v >> 32 & 63);
    const uint64_t all = chunks >= 32 ? UINT64_C(0xffffffff) : (UINT64_C(1) << chunks) - 1, free_ = ~v & all;
    if (!free_) return ran;
    int k = self < chunks && (free_ >> self & 1u) ? self : __builtin_ctzll(free_);
    if (!atomic_compare_exchange_weak_explicit(&p->ticket, &v, v | UINT64_C(1) << k, memory_order_acq_rel,
                                               memory_order_acquire))
      continue; /* v was reloaded */
    int64_t b = (int64_t)k * p->chunk, e = b + p->chunk;
    if (e > p->total) e = p->total;
    if (b < e) p->fn(p->arg, b, e);
    ran++;
    if (atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel) + 1 == chunks && is_worker) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done_cv);
      pthread_mutex_unlock(&p->mu);
    }
    v = atomic_load_explicit(&p->ticket, memory_order_acquire);
  }
}

typedef struct worker_arg {
  er_threadpool *p;
  int index;
} worker_arg;

static void *worker(void *v) {
  worker_arg *wa = (worker_arg *)v;
  er_threadpool *p = wa->p;
  const int self = wa->index;
  free(wa);
  uint64_t seen = 0;
  for (;;) {
    if (!spin_gen(p, seen)) {
      pthread_mutex_lock(&p->mu);
      atomic_fetch_add(&p->sleepers, 1);
      while (!atomic_load(&p->stop) && tk_gen(atomic_load(&p->ticket)) == seen) pthread_cond_wait(&p->work_cv, &p->mu);
      atomic_fetch_sub(&p->sleepers, 1);
      pthread_mutex_unlock(&p->mu);
    }
    if (atomic_load(&p->stop)) break;
    seen = tk_gen(atomic_load_explicit(&p->ticket, memory_order_acquire));
    run_chunks(p, seen, self, 1);
  }
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
  atomic_init(&p->ticket, 0);
  atomic_init(&p->done, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->stop, 0);
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
  atomic_store(&p->stop, 1);
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

int er_threadpool_sleeping(const er_threadpool *p) {
  return p ? atomic_load_explicit(&((er_threadpool *)p)->sleepers, memory_order_relaxed) : 0;
}

void er_threadpool_run(er_threadpool *p, int64_t n, int64_t grain, er_range_fn fn, void *arg) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int threads = p ? p->n : 1;
  if (threads > MAX_CHUNKS) threads = MAX_CHUNKS;
  int64_t max_chunks = (n + grain - 1) / grain;
  if (threads > max_chunks) threads = (int)max_chunks;
  if (!p || threads <= 1) {
    fn(arg, 0, n);
    return;
  }
  /* every chunk of the previous job has finished, so no thread reads these now */
  p->fn = fn;
  p->arg = arg;
  p->total = n;
  p->chunk = (n + threads - 1) / threads;
  if (p->chunk < grain) p->chunk = grain; /* every chunk but the last holds >= grain indices */
  int chunks = (int)((n + p->chunk - 1) / p->chunk);
  atomic_store(&p->done, 0);
  uint64_t gen = (tk_gen(atomic_load(&p->ticket)) + 1) & ((UINT64_C(1) << 26) - 1);
  atomic_store(&p->ticket, gen << 38 | (uint64_t)chunks << 32); /* seq_cst: publishes */
  if (atomic_load(&p->sleepers) > 0) {
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
  }
  run_chunks(p, gen, 0, 0);
  if (!spin_done(p, chunks)) {
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->done) < chunks) pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
  }
}
