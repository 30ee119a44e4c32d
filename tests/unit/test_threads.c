/* Thread pool: every index exactly once, repeated jobs, sleeping workers, destroy while idle;
 * and bit-identical results for 1, 2 and 3 threads in the threaded conv/pool kernels. */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "base/threads.h"
#include "kernels/dispatch.h"
#include "optest.h"
#include "test.h"

typedef struct hit_job {
  atomic_int *hits;
  atomic_int calls;
  int64_t grain, n;
  atomic_int bad_range;
} hit_job;

static void hit_fn(void *arg, int64_t b, int64_t e) {
  hit_job *j = (hit_job *)arg;
  atomic_fetch_add(&j->calls, 1);
  if (b < 0 || e > j->n || b >= e) atomic_store(&j->bad_range, 1);
  /* every chunk but possibly the last holds at least grain indices */
  if (e - b < j->grain && e != j->n) atomic_store(&j->bad_range, 1);
  for (int64_t i = b; i < e && i < j->n; i++)
    if (i >= 0) atomic_fetch_add(&j->hits[i], 1);
}

/* Runs fn over n indices and checks each was visited exactly once; returns 1 if so. */
static int check_cover(er_threadpool *p, int64_t n, int64_t grain, atomic_int *hits) {
  hit_job j = {hits, 0, grain < 1 ? 1 : grain, n, 0};
  for (int64_t i = 0; i < n; i++) atomic_store(&hits[i], 0);
  er_threadpool_run(p, n, grain, hit_fn, &j);
  int ok = !atomic_load(&j.bad_range);
  for (int64_t i = 0; i < n; i++) ok &= atomic_load(&hits[i]) == 1;
  int maxc = er_threadpool_size(p);
  if (n <= 0) ok &= atomic_load(&j.calls) == 0;
  else ok &= atomic_load(&j.calls) >= 1 && atomic_load(&j.calls) <= maxc;
  return ok;
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

TEST(threads_every_index_once) {
  static atomic_int hits[5000];
  const int64_t ns[] = {0, 1, 2, 3, 7, 16, 17, 100, 1023, 4999};
  const int64_t grains[] = {0, 1, 2, 3, 5, 64, 1000, 100000};
  for (int t = 1; t <= 5; t++) {
    er_threadpool *p = NULL;
    CHECK_OK(er_threadpool_create(t, &p));
    CHECK(er_threadpool_size(p) == t);
    int bad = 0;
    for (unsigned a = 0; a < sizeof ns / sizeof ns[0]; a++)
      for (unsigned b = 0; b < sizeof grains / sizeof grains[0]; b++)
        if (!check_cover(p, ns[a], grains[b], hits)) {
          fprintf(stderr, "  threads=%d n=%lld grain=%lld: bad coverage\n", t, (long long)ns[a],
                  (long long)grains[b]);
          bad++;
        }
    CHECK(bad == 0);
    er_threadpool_destroy(p);
  }
  /* no pool: runs inline */
  CHECK(check_cover(NULL, 777, 1, hits));
  CHECK(er_threadpool_size(NULL) == 1);
}

TEST(threads_repeated_and_sleeping) {
  static atomic_int hits[300];
  er_threadpool *p = NULL;
  CHECK_OK(er_threadpool_create(3, &p));
  int bad = 0;
  /* many back-to-back jobs (workers stay awake), then jobs after pauses long enough for the
   * workers to have gone to sleep */
  for (int r = 0; r < 20000; r++) bad += !check_cover(p, 1 + r % 300, 1 + r % 7, hits);
  for (int r = 0; r < 30; r++) {
    sleep_us(r % 3 == 0 ? 2000 : 50);
    bad += !check_cover(p, 1 + (r * 37) % 300, 1, hits);
  }
  CHECK(bad == 0);
  sleep_us(2000); /* idle: workers asleep */
  int sl = er_threadpool_sleeping(p); /* a hint: any count of the 2 workers */
  CHECK(sl >= 0 && sl <= 2);
  CHECK(er_threadpool_sleeping(NULL) == 0);
  er_threadpool_destroy(p);
  /* destroy right after a job and right after creation */
  CHECK_OK(er_threadpool_create(2, &p));
  CHECK(check_cover(p, 100, 1, hits));
  er_threadpool_destroy(p);
  CHECK_OK(er_threadpool_create(4, &p));
  er_threadpool_destroy(p);
  er_threadpool_destroy(NULL);
  CHECK_ERR(er_threadpool_create(1000, &p), ER_INVALID_ARGUMENT);
}

/* ---- kernels: same bits for any thread count ---- */

static void fill(float *x, int64_t n, unsigned seed) {
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    x[i] = (float)((seed >> 9) & 0xffff) / 32768.0f - 1.0f;
  }
}

/* infer, prepare, run with the given pool (what the runtime does) */
static er_status run_op(const char *op_type, const er_attr *at, int nat, er_tensor **in, int nin, er_tensor *y,
                        er_threadpool *pool) {
  const er_op_def *op = er_op_find("", op_type, 13);
  if (!op) return ER_ERR(ER_INTERNAL, "no op %s", op_type);
  er_node node = {.name = "n", .op_type = op_type, .domain = "", .opset = 13, .n_inputs = nin,
                  .n_outputs = 1, .n_attrs = nat, .attrs = (er_attr *)at, .op = op};
  er_tensor *outs[1] = {y};
  er_kctx c = {.node = &node, .opset = 13, .n_in = nin, .n_out = 1, .in = in, .out = outs,
               .threads = pool, .mk = er_microkernels_select()};
  ER_RETURN_IF_ERROR(op->infer(&c));
  y->data = calloc(1, er_tensor_nbytes(y) + 1);
  void *state = c.state_bytes ? calloc(1, c.state_bytes) : NULL;
  c.state = state;
  er_status s = op->prepare ? op->prepare(&c) : NULL;
  void *scratch = c.scratch_bytes ? calloc(1, c.scratch_bytes) : NULL;
  c.scratch = scratch;
  if (!s) s = op->run(&c);
  free(scratch), free(state);
  return s;
}

/* Runs the op with no pool, then 2 and 3 threads; 1 if all succeed with identical bytes. */
static int same_bits(const char *op_type, const er_attr *at, int nat, er_tensor **in, int nin,
                     er_threadpool *p2, er_threadpool *p3) {
  er_tensor y[3] = {{0}, {0}, {0}};
  er_threadpool *pools[3] = {NULL, p2, p3};
  int ok = 1;
  for (int i = 0; i < 3; i++) {
    er_status s = run_op(op_type, at, nat, in, nin, &y[i], pools[i]);
    if (s) {
      fprintf(stderr, "  %s: %s\n", op_type, er_status_message(s));
      er_status_free(s);
      ok = 0;
    }
  }
  size_t nb = er_tensor_nbytes(&y[0]);
  if (ok) {
    ok = nb > 0 && er_tensor_nbytes(&y[1]) == nb && er_tensor_nbytes(&y[2]) == nb && !memcmp(y[0].data, y[1].data, nb) &&
         !memcmp(y[0].data, y[2].data, nb);
    /* not all zeros: the kernel really ran */
    int nonzero = 0;
    for (size_t b = 0; b < nb; b++) nonzero |= ((unsigned char *)y[0].data)[b] != 0;
    ok &= nonzero;
  }
  for (int i = 0; i < 3; i++) free(y[i].data);
  return ok;
}

TEST(threads_depthwise_conv_bit_identical) {
  er_threadpool *p2 = NULL, *p3 = NULL;
  CHECK_OK(er_threadpool_create(2, &p2));
  CHECK_OK(er_threadpool_create(3, &p3));
  /* {N, C, H, W, k, stride, pad, dilation}: tiny (stays on one thread) to large (split) */
  const int64_t cases[][8] = {{1, 3, 5, 5, 3, 1, 1, 1},    {1, 64, 25, 5, 3, 1, 1, 1}, {1, 32, 56, 56, 3, 1, 1, 1},
                              {2, 17, 31, 29, 3, 2, 1, 1}, {1, 96, 28, 28, 5, 2, 2, 1}, {1, 40, 20, 20, 3, 1, 2, 2},
                              {3, 7, 64, 64, 3, 1, 0, 1}};
  for (unsigned ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const int64_t *q = cases[ci];
    int64_t xd[4] = {q[0], q[1], q[2], q[3]}, wd[4] = {q[1], 1, q[4], q[4]}, bd[1] = {q[1]};
    er_tensor *X = ot_tensor(ER_F32, 4, xd, NULL), *W = ot_tensor(ER_F32, 4, wd, NULL), *B = ot_tensor(ER_F32, 1, bd, NULL);
    fill((float *)X->data, er_tensor_numel(X), 1 + ci);
    fill((float *)W->data, er_tensor_numel(W), 100 + ci);
    fill((float *)B->data, q[1], 200 + ci);
    int64_t pads[4] = {q[6], q[6], q[6], q[6]}, st[2] = {q[5], q[5]}, dl[2] = {q[7], q[7]};
    er_attr at[] = {ot_int("group", q[1]), ot_ints("strides", 2, st), ot_ints("pads", 4, pads),
                    ot_ints("dilations", 2, dl), ot_int("_act", ER_ACT_RELU)};
    int ok = same_bits("Conv", at, 5, (er_tensor *[]){X, W, B}, 3, p2, p3);
    if (!ok) fprintf(stderr, "  depthwise case %u differs or failed\n", ci);
    CHECK(ok);
    ot_free_all();
  }
  /* pointwise and regular convs take the thread-split GEMM path above the work threshold */
  const int64_t gc[][5] = {{1, 16, 8, 8, 1}, {1, 64, 28, 28, 1}, {1, 32, 20, 20, 3}, {2, 5, 9, 9, 3}};
  for (unsigned ci = 0; ci < sizeof gc / sizeof gc[0]; ci++) {
    const int64_t *q = gc[ci];
    int64_t xd[4] = {q[0], q[1], q[2], q[3]}, wd[4] = {48, q[1], q[4], q[4]};
    er_tensor *X = ot_tensor(ER_F32, 4, xd, NULL), *W = ot_tensor(ER_F32, 4, wd, NULL);
    fill((float *)X->data, er_tensor_numel(X), 7 + ci);
    fill((float *)W->data, er_tensor_numel(W), 70 + ci);
    int64_t pads[4] = {q[4] / 2, q[4] / 2, q[4] / 2, q[4] / 2};
    er_attr at[] = {ot_ints("pads", 4, pads)};
    int ok = same_bits("Conv", at, 1, (er_tensor *[]){X, W, NULL}, 3, p2, p3);
    if (!ok) fprintf(stderr, "  conv case %u differs or failed\n", ci);
    CHECK(ok);
    ot_free_all();
  }
  er_threadpool_destroy(p2);
  er_threadpool_destroy(p3);
}

TEST(threads_pooling_bit_identical) {
  er_threadpool *p2 = NULL, *p3 = NULL;
  CHECK_OK(er_threadpool_create(2, &p2));
  CHECK_OK(er_threadpool_create(3, &p3));
  const char *ops[] = {"MaxPool", "AveragePool", "LpPool"};
  /* {N, C, H, W, k, stride} */
  const int64_t cases[][6] = {{1, 2, 4, 4, 2, 2}, {1, 64, 56, 56, 3, 2}, {2, 13, 33, 17, 3, 1}, {1, 128, 14, 14, 2, 2}};
  for (int o = 0; o < 3; o++)
    for (unsigned ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
      const int64_t *q = cases[ci];
      int64_t xd[4] = {q[0], q[1], q[2], q[3]}, k[2] = {q[4], q[4]}, st[2] = {q[5], q[5]}, pads[4] = {1, 1, 0, 0};
      er_tensor *X = ot_tensor(ER_F32, 4, xd, NULL);
      fill((float *)X->data, er_tensor_numel(X), 31 + ci);
      er_attr at[] = {ot_ints("kernel_shape", 2, k), ot_ints("strides", 2, st), ot_ints("pads", 4, pads)};
      int ok = same_bits(ops[o], at, 3, (er_tensor *[]){X}, 1, p2, p3);
      if (!ok) fprintf(stderr, "  %s case %u differs or failed\n", ops[o], ci);
      CHECK(ok);
      ot_free_all();
    }
  er_threadpool_destroy(p2);
  er_threadpool_destroy(p3);
}
