/*
 * The float32 GEMM with pre-packed B (the path of MatMul/Gemm with constant weights) of the
 * best micro-kernel table, on the transformer layers' shapes (TinyBERT's projections and FFN,
 * PP-OCRv4 rec's SVTR block and classifier): GFLOP/s (2 x multiply-adds / s) of
 * f32_gemm_packed with bias, best of --rounds rounds of >= --min-ms each, 1 thread.
 *
 *   make bench-kernels && build/bench_f32_gemm [--rounds 7] [--min-ms 20] [--shape M,N,K]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/dispatch.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static struct shape {
  int M, N, K;
  const char *what;
} shapes[] = {
    {128, 312, 312, "TinyBERT q/k/v/o 128x312x312"},
    {128, 1200, 312, "TinyBERT ff1 128x1200x312"},
    {128, 312, 1200, "TinyBERT ff2 128x312x1200"},
    {40, 120, 480, "PP-OCRv4 rec SVTR proj 40x120x480"},
    {40, 6625, 120, "PP-OCRv4 rec classifier 40x6625x120"},
    {384, 768, 768, "BERT-base proj 384x768x768"},
};

int main(int argc, char **argv) {
  int rounds = 7;
  double min_ms = 20;
  struct shape one = {0, 0, 0, "--shape"};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--min-ms") && i + 1 < argc) min_ms = atof(argv[++i]);
    else if (!strcmp(argv[i], "--shape") && i + 1 < argc &&
             sscanf(argv[++i], "%d,%d,%d", &one.M, &one.N, &one.K) == 3 && one.M > 0 && one.N > 0 && one.K > 0) {
    } else {
      fprintf(stderr, "usage: %s [--rounds N] [--min-ms MS] [--shape M,N,K]\n", argv[0]);
      return 2;
    }
  }
  const er_microkernels *mk = er_microkernels_select();
  printf("f32_gemm_packed (%s), GFLOP/s, best of %d rounds of >= %.0f ms, 1 thread\n", mk->isa, rounds, min_ms);
  int nshapes = one.M ? 1 : (int)(sizeof shapes / sizeof shapes[0]);
  for (int si = 0; si < nshapes; si++) {
    struct shape s = one.M ? one : shapes[si];
    float *A = malloc(sizeof(float) * (size_t)s.M * s.K), *B = malloc(sizeof(float) * (size_t)s.K * s.N);
    float *C = malloc(sizeof(float) * (size_t)s.M * s.N), *bias = malloc(sizeof(float) * (size_t)s.N);
    for (size_t i = 0; i < (size_t)s.M * s.K; i++) A[i] = (float)((i * 7 + 3) % 17) * 0.1f - 0.8f;
    for (size_t i = 0; i < (size_t)s.K * s.N; i++) B[i] = (float)((i * 13 + 1) % 19) * 0.05f - 0.45f;
    for (int i = 0; i < s.N; i++) bias[i] = 0.01f * (float)i;
    /* 64-byte aligned like a session's packed state (a split line per B load costs ~13%) */
    void *P = aligned_alloc(64, (mk->f32_gemm_packed_size(s.K, s.N) + 63) / 64 * 64);
    mk->f32_gemm_pack_b(0, s.K, s.N, B, s.N, P);
    er_act act = {ER_ACT_NONE, 0, 0};
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
      int reps = 0;
      double t0 = now(), t;
      do {
        mk->f32_gemm_packed(s.M, s.N, s.K, A, s.K, P, bias, act, C, s.N);
        reps++;
        t = now() - t0;
      } while (t < min_ms * 1e-3);
      if (t / reps < best) best = t / reps;
    }
    printf("%-40s %7.1f GFLOP/s  %8.1f us\n", s.what, 2.0 * s.M * s.N * s.K / best * 1e-9, best * 1e6);
    fflush(stdout);
    free(A), free(B), free(C), free(bias), free(P);
  }
  return 0;
}
