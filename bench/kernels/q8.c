/*
 * The 8-bit micro-kernels of every ISA level this CPU has (plain AVX2, AVX-VNNI, AVX-512 VNNI,
 * AMX), side by side on the int8 models' layers, 1 thread; variants alternate within each
 * round, best of --rounds rounds of >= --min-ms each.
 *   GEMM (q8_gemm): rows of pixels (left, packed per call as a channels-last conv does) times
 *     packed weights (right, packed once), u8 x s8 -> u8; GOP/s (2 x multiply-adds / s) of
 *     pack + GEMM, and of the GEMM alone.
 *   depthwise (q8_dwconv_nhwc): MobileNetV2's and the DS-CNN's 3x3 layers, u8 input, s8
 *     weights, u8 output with per-channel scales; GMAC/s and microseconds per layer.
 *
 *   make bench-kernels && build/bench_q8 [--rounds 7] [--min-ms 5] [--gemm | --dw] [--shape M,N,K]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cpu.h"
#include "base/dtype.h"
#include "kernels/dispatch.h"
#include "kernels/q8.h"
#include "kernels/x86/q8.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct variant {
  const char *name;
  er_microkernels mk;
} variant;

/* The variants: the reference table with the q8 entries of each ISA level. */
static int variants(variant *v) {
  er_cpu_features f = er_cpu_detect();
  int nv = 0;
  v[nv].name = "avx2";
  v[nv].mk = *er_microkernels_ref();
  v[nv].mk.q8_pack_left_size = er_q8_pack_left_size__avx2;
  v[nv].mk.q8_pack_left = er_q8_pack_left__avx2;
  v[nv].mk.q8_pack_right_size = er_q8_pack_right_size_16__avx2;
  v[nv].mk.q8_pack_right = er_q8_pack_right_16__avx2;
  v[nv].mk.q8_gemm = er_q8_gemm_6x16__avx2;
  v[nv].mk.q8_dw_pack_size = er_q8_dw_pack_size__avx2;
  v[nv].mk.q8_dw_pack = er_q8_dw_pack__avx2;
  v[nv].mk.q8_dw_work_size = er_q8_dw_work_size__avx2;
  v[nv++].mk.q8_dwconv_nhwc = er_q8_dwconv_nhwc__avx2;
  if (f.avx_vnni) {
    v[nv] = v[0], v[nv].name = "avxvnni";
    er_q8_use_avxvnni(&v[nv++].mk);
  }
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni) {
    v[nv] = v[0], v[nv].name = "avx512vnni";
    er_q8_use_avx512vnni(&v[nv++].mk);
    if (er_cpu_amx_enable()) {
      v[nv] = v[0], v[nv].name = "amx";
      er_q8_use_amx(&v[nv++].mk);
    }
  }
  return nv;
}

static struct shape {
  int M, N, K;
  const char *what;
} shapes[] = {
    {600, 96, 16, "MobileNetV2 expand 16->96 @112 (tile)"},
    {600, 16, 32, "MobileNetV2 project 32->16 @112 (tile)"},
    {600, 144, 24, "MobileNetV2 expand 24->144 @56 (tile)"},
    {600, 24, 144, "MobileNetV2 project 144->24 @56 (tile)"},
    {196, 384, 64, "MobileNetV2 expand 64->384 @14"},
    {196, 64, 384, "MobileNetV2 project 384->64 @14"},
    {49, 1280, 320, "MobileNetV2 last 1x1 320->1280 @7"},
    {1, 1000, 1280, "MobileNetV2 classifier"},
    {455, 64, 576, "ResNet-18 3x3 64->64 @56 (tile)"},
    {227, 128, 1152, "ResNet-18 3x3 128->128 @28 (tile)"},
    {196, 256, 2304, "ResNet-18 3x3 256->256 @14"},
    {49, 512, 4608, "ResNet-18 3x3 512->512 @7"},
    {300, 256, 576, "square-ish 300x256x576"},
    {3136, 64, 64, "3136x64x64"},
};

static void bench_gemm(const variant *v, int nv, int rounds, double min_ms, struct shape one) {
  int nshapes = one.M ? 1 : (int)(sizeof shapes / sizeof shapes[0]);
  printf("GOP/s (2 x multiply-adds / s), best of %d rounds; pack+gemm / gemm only\n%-40s", rounds, "shape M x N x K");
  for (int i = 0; i < nv; i++) printf(" %17s", v[i].name);
  printf("\n");
  for (int si = 0; si < nshapes; si++) {
    struct shape s = one.M ? one : shapes[si];
    unsigned char *A = malloc((size_t)s.M * s.K), *B = malloc((size_t)s.K * s.N), *C = malloc((size_t)s.M * s.N);
    for (size_t i = 0; i < (size_t)s.M * s.K; i++) A[i] = (unsigned char)(i * 7 + 3);
    for (size_t i = 0; i < (size_t)s.K * s.N; i++) B[i] = (unsigned char)(i * 13 + 1);
    float *scale = malloc(sizeof(float) * s.N);
    int32_t *bias = malloc(sizeof(int32_t) * s.N), zb = 0, za = 3;
    for (int i = 0; i < s.N; i++) scale[i] = 1e-4f, bias[i] = i;
    er_q8_out o = {ER_U8, 0, bias, scale, 1, 128, 0, 255};
    void *pl[4], *pr[4];
    for (int i = 0; i < nv; i++) {
      pl[i] = malloc(v[i].mk.q8_pack_left_size(s.M, s.K));
      pr[i] = malloc(v[i].mk.q8_pack_right_size(s.K, s.N));
      v[i].mk.q8_pack_right(s.K, s.N, B, 1, s.N, 1, &zb, 0, pr[i]);
      v[i].mk.q8_pack_left(s.M, s.K, A, 0, s.K, 1, &za, 0, pl[i]);
    }
    double best[4][2];
    for (int i = 0; i < nv; i++) best[i][0] = best[i][1] = 1e30;
    for (int r = 0; r < rounds; r++)
      for (int i = 0; i < nv; i++)
        for (int only = 0; only < 2; only++) {
          const er_microkernels *mk = &v[i].mk;
          int reps = 0;
          double t0 = now(), t;
          do {
            if (!only) mk->q8_pack_left(s.M, s.K, A, 0, s.K, 1, &za, 0, pl[i]);
            mk->q8_gemm(s.K, pl[i], s.M, pr[i], s.N, 0, s.M, 0, s.N, &o, C, s.N);
            reps++;
            t = now() - t0;
          } while (t < min_ms * 1e-3);
          if (t / reps < best[i][only]) best[i][only] = t / reps;
        }
    printf("%-40.40s", s.what);
    for (int i = 0; i < nv; i++)
      printf("   %6.1f / %6.1f", 2.0 * s.M * s.N * s.K / best[i][0] * 1e-9, 2.0 * s.M * s.N * s.K / best[i][1] * 1e-9);
    printf("\n");
    fflush(stdout);
    for (int i = 0; i < nv; i++) free(pl[i]), free(pr[i]);
    free(A), free(B), free(C), free(scale), free(bias);
  }
}

static const struct {
  int H, C, k, s;
  const char *what;
} dw_shapes[] = {
    {112, 32, 3, 1, "MobileNetV2 dw 32 @112"},  {112, 96, 3, 2, "MobileNetV2 dw 96 s2 @112"},
    {56, 144, 3, 1, "MobileNetV2 dw 144 @56"},  {56, 144, 3, 2, "MobileNetV2 dw 144 s2 @56"},
    {28, 192, 3, 1, "MobileNetV2 dw 192 @28"},  {14, 384, 3, 1, "MobileNetV2 dw 384 @14"},
    {14, 576, 3, 1, "MobileNetV2 dw 576 @14"},  {7, 960, 3, 1, "MobileNetV2 dw 960 @7"},
    {25, 64, 3, 1, "DS-CNN dw 64 @25x5 (as 25x25)"},
};

static void bench_dw(const variant *v, int nv, int rounds, double min_ms) {
  int nd = 0; /* AMX has no depthwise entries of its own */
  for (int i = 0; i < nv; i++) nd += strcmp(v[i].name, "amx") != 0;
  nv = nd;
  printf("GMAC/s (us per layer), best of %d rounds\n%-32s", rounds, "layer");
  for (int i = 0; i < nv; i++) printf(" %18s", v[i].name);
  printf("\n");
  for (size_t si = 0; si < sizeof dw_shapes / sizeof dw_shapes[0]; si++) {
    const int H = dw_shapes[si].H, W = H, C = dw_shapes[si].C, k = dw_shapes[si].k, s = dw_shapes[si].s, p = k / 2;
    const int OH = (H + 2 * p - k) / s + 1, OW = OH;
    unsigned char *x = malloc((size_t)H * W * C), *w = malloc((size_t)k * k * C), *y = malloc((size_t)OH * OW * C);
    for (size_t i = 0; i < (size_t)H * W * C; i++) x[i] = (unsigned char)(i * 7 + 3);
    for (size_t i = 0; i < (size_t)k * k * C; i++) w[i] = (unsigned char)(i * 13 + 1) & 0x7f;
    float *scale = malloc(sizeof(float) * C);
    int32_t *bias = malloc(sizeof(int32_t) * C), zw = 0;
    for (int i = 0; i < C; i++) scale[i] = 1e-3f, bias[i] = i;
    er_q8_out o = {ER_U8, 0, bias, scale, 1, 0, 0, 255};
    void *pk[3], *wk[3];
    double best[3];
    for (int i = 0; i < nv; i++) {
      pk[i] = malloc(v[i].mk.q8_dw_pack_size(k, k, C));
      wk[i] = malloc(v[i].mk.q8_dw_work_size(k, k, OW, C) + 1);
      v[i].mk.q8_dw_pack(k, k, C, w, 1, &zw, 0, pk[i]);
      best[i] = 1e30;
    }
    for (int r = 0; r < rounds; r++)
      for (int i = 0; i < nv; i++) {
        int reps = 0;
        double t0 = now(), t;
        do {
          v[i].mk.q8_dwconv_nhwc(x, 0, 5, H, W, C, pk[i], k, k, s, s, p, p, 1, 1, &o, y, OW, 0, OH, wk[i]);
          reps++;
          t = now() - t0;
        } while (t < min_ms * 1e-3);
        if (t / reps < best[i]) best[i] = t / reps;
      }
    printf("%-32s", dw_shapes[si].what);
    for (int i = 0; i < nv; i++)
      printf("   %6.1f (%7.1f)", (double)OH * OW * C * k * k / best[i] * 1e-9, best[i] * 1e6);
    printf("\n");
    fflush(stdout);
    for (int i = 0; i < nv; i++) free(pk[i]), free(wk[i]);
    free(x), free(w), free(y), free(scale), free(bias);
  }
}

int main(int argc, char **argv) {
  int rounds = 7, which = 3;
  double min_ms = 5;
  struct shape one = {0, 0, 0, "--shape"};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--min-ms") && i + 1 < argc) min_ms = atof(argv[++i]);
    else if (!strcmp(argv[i], "--gemm")) which = 1;
    else if (!strcmp(argv[i], "--dw")) which = 2;
    else if (!strcmp(argv[i], "--shape") && i + 1 < argc && sscanf(argv[++i], "%d,%d,%d", &one.M, &one.N, &one.K) == 3) {
      which = 1;
    } else {
      fprintf(stderr, "usage: %s [--rounds N] [--min-ms MS] [--gemm | --dw] [--shape M,N,K]\n", argv[0]);
      return 2;
    }
  }
  er_cpu_features f = er_cpu_detect();
  if (!f.avx2 || !f.fma) {
    fprintf(stderr, "bench_q8: needs AVX2\n");
    return 1;
  }
  variant v[4];
  int nv = variants(v);
  if (which & 1) bench_gemm(v, nv, rounds, min_ms, one);
  if (which & 2) bench_dw(v, nv, rounds, min_ms);
  return 0;
}
