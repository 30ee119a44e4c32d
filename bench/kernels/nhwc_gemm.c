/*
 * The channels-last conv GEMM (table entry f32_nhwc_gemm) against the packed-B GEMM the
 * NCHW-independent ops use (f32_gemm_packed), both computing act(A[M x K] * B[K x N] + bias)
 * with pre-packed B, 1 thread, on shapes of 1x1 convs in channels-last layout: rows = pixels,
 * small K (expand convs), small N (projections), and 1-4 rows (Silero VAD's 1-D convs, SE
 * blocks, late layers). Best of --rounds rounds of >= --min-ms, GFLOP/s and ratio.
 *
 *   make bench-kernels && build/bench_nhwc_gemm [--rounds 15] [--min-ms 3]
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

static const struct {
  int M, K, N;
  const char *what;
} shapes[] = {
    {12544, 16, 96, "MobileNetV2 expand 16->96 @112x112"},
    {3136, 24, 144, "expand 24->144 @56x56"},
    {784, 40, 240, "EfficientNet expand 40->240 @28x28"},
    {12544, 32, 16, "projection 32->16 @112x112"},
    {3136, 144, 24, "projection 144->24 @56x56"},
    {784, 144, 40, "projection 144->40 @28x28"},
    {196, 576, 96, "projection 576->96 @14x14"},
    {49, 960, 160, "projection 960->160 @7x7"},
    {49, 320, 1280, "last 1x1 320->1280 @7x7"},
    {4, 387, 128, "Silero conv 129->128 k3, 4 steps"},
    {2, 384, 64, "Silero conv 128->64 k3 s2, 2 steps"},
    {1, 192, 128, "Silero conv 64->128 k3, 1 step"},
    {1, 1152, 48, "EfficientNet SE squeeze 1152->48"},
    {1, 48, 1152, "EfficientNet SE excite 48->1152"},
    {3, 256, 256, "3 pixels, 256->256"},
    {96, 147, 64, "ResNet-18 7x7 stem, one gathered tile of 96 pixels"},
    {96, 27, 32, "MobileNetV2 3x3 stem, one gathered tile"},
    {96, 576, 64, "3x3 64->64 @56x56, one gathered tile"},
    {49, 512, 512, "ResNet-18 layer4 3x3, one tap of the gathered depth @7x7"},
    {49, 4608, 512, "ResNet-18 layer4 3x3, all taps @7x7"},
};

int main(int argc, char **argv) {
  int rounds = 15;
  double min_ms = 3;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--min-ms") && i + 1 < argc) min_ms = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--rounds N] [--min-ms MS]\n", argv[0]);
      return 2;
    }
  }
  const er_microkernels *mk = er_microkernels_select();
  const er_act act = {ER_ACT_RELU, 0, 0};
  printf("table %s, bias + ReLU, best of %d rounds of >= %.0f ms\n", mk->isa, rounds, min_ms);
  printf("%6s %5s %5s  %-36s %12s %12s %6s\n", "M", "K", "N", "shape", "gemm_packed", "nhwc_gemm", "ratio");
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const int M = shapes[s].M, K = shapes[s].K, N = shapes[s].N;
    float *A = malloc(sizeof(float) * (size_t)M * K), *B = malloc(sizeof(float) * (size_t)K * N);
    float *bias = malloc(sizeof(float) * (size_t)N), *C = malloc(sizeof(float) * (size_t)M * N);
    for (long i = 0; i < (long)M * K; i++) A[i] = (float)(i % 13) * 0.01f - 0.06f;
    for (long i = 0; i < (long)K * N; i++) B[i] = (float)(i % 7) * 0.01f - 0.03f;
    for (int i = 0; i < N; i++) bias[i] = 0.1f;
    void *p0 = malloc(mk->f32_gemm_packed_size(K, N)), *p1 = malloc(mk->f32_nhwc_pack_size(K, N));
    mk->f32_gemm_pack_b(0, K, N, B, N, p0);
    mk->f32_nhwc_pack(K, N, B, 1, K, N, 0, p1);
    double best[2] = {1e30, 1e30};
    int reps[2];
    for (int v = 0; v < 2; v++) { /* calibrate */
      double t0 = now();
      if (v == 0) mk->f32_gemm_packed(M, N, K, A, K, p0, bias, act, C, N);
      else mk->f32_nhwc_gemm(M, N, K, A, K, p1, K, 0, 0, bias, 0, act, C, N);
      double t = now() - t0;
      reps[v] = (int)(1e-3 * min_ms / (t > 1e-8 ? t : 1e-8)) + 1;
    }
    for (int r = 0; r < rounds; r++)
      for (int v = 0; v < 2; v++) {
        double t0 = now();
        for (int q = 0; q < reps[v]; q++) {
          if (v == 0) mk->f32_gemm_packed(M, N, K, A, K, p0, bias, act, C, N);
          else mk->f32_nhwc_gemm(M, N, K, A, K, p1, K, 0, 0, bias, 0, act, C, N);
        }
        double t = (now() - t0) / reps[v];
        if (t < best[v]) best[v] = t;
      }
    const double flop = 2.0 * M * K * N;
    printf("%6d %5d %5d  %-36s %12.1f %12.1f %6.2f\n", M, K, N, shapes[s].what, 1e-9 * flop / best[0],
           1e-9 * flop / best[1], best[0] / best[1]);
    free(A), free(B), free(bias), free(C), free(p0), free(p1);
  }
  return 0;
}
