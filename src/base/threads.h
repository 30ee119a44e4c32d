/* A small thread pool. Idle workers poll for new work for ~100 us, then sleep on a
 * condition variable; the caller wakes them only when one sleeps. A job's [0, n) is cut into
 * at most 32 fixed contiguous chunks; thread t (the caller is 0) takes chunk t first, then
 * any chunk left, so a kernel that computes each index independently gives the same bits for
 * any thread count, and a thread handles the same part of consecutive jobs. After claiming
 * the last chunk the caller polls up to ~50 us for chunks still running (it is waiting on a
 * job in progress, not idle) before it sleeps. */
#ifndef ER_BASE_THREADS_H
#define ER_BASE_THREADS_H
#include <stdint.h>
#include "base/status.h"

typedef struct er_threadpool er_threadpool;
typedef void (*er_range_fn)(void *arg, int64_t begin, int64_t end);

/* threads <= 1 creates no worker (everything runs on the caller). */
er_status er_threadpool_create(int threads, er_threadpool **out_pool);
void er_threadpool_destroy(er_threadpool *p);
int er_threadpool_size(const er_threadpool *p); /* 1 for NULL */
/* Run fn over [0, n) in up to min(size(), 32) contiguous chunks of at least `grain`
 * indices; the caller thread takes part. Returns when all chunks are done. */
void er_threadpool_run(er_threadpool *p, int64_t n, int64_t grain, er_range_fn fn, void *arg);
/* Workers asleep right now (0 for NULL): waking one costs tens of microseconds, so callers
 * may keep small work on one thread then. A hint only (it changes as workers wake). */
int er_threadpool_sleeping(const er_threadpool *p);
/* Number of online CPUs (1 if unknown). */
int er_cpu_count(void);
#endif
