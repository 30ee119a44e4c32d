/*
 * NhwcConv vs the NCHW Conv kernel on the distinct conv layers of MobileNetV2, ResNet-18 and
 * EfficientNet-B0 (table made by bench/kernels/conv_shapes.py) and Silero VAD's 1-D convs (one
 * frame: 1 to 4 output steps), with the best micro-kernel
 * table for this CPU, weights packed once (prepare) as in a session. Per layer the two
 * kernels alternate for --rounds rounds of >= --min-ms each; the best time of each is
 * reported as GFLOP/s (2 x multiply-adds / time) with the ratio NHWC/NCHW, the path NhwcConv
 * takes, and per model the conv time summed over all layers (times their count).
 *
 *   make bench-kernels && build/bench_nhwc_layers [--model resnet] [--threads 1] [--rounds 5]
 *        [--min-ms 20] [--layer C,H,M,k,s]   (one layer shape, e.g. 16,112,96,1,1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/threads.h"
#include "kernels/kernel.h"
#include "kernels/nhwc.h"

enum { ACT_CLIP6 = 100 };
typedef struct layer {
  const char *model;
  int C, H, W, M, k, s, p, g, act, count;
} layer;
#define ER_ACT_CLIP6 ACT_CLIP6
static const layer layers[] = {
    {"mobilenet_v2", 3, 224, 224, 32, 3, 2, 1, 1, ER_ACT_CLIP6, 1},
    {"mobilenet_v2", 32, 112, 112, 32, 3, 1, 1, 32, ER_ACT_CLIP6, 1},
    {"mobilenet_v2", 32, 112, 112, 16, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mobilenet_v2", 16, 112, 112, 96, 1, 1, 0, 1, ER_ACT_CLIP6, 1},
    {"mobilenet_v2", 96, 112, 112, 96, 3, 2, 1, 96, ER_ACT_CLIP6, 1},
    {"mobilenet_v2", 96, 56, 56, 24, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mobilenet_v2", 24, 56, 56, 144, 1, 1, 0, 1, ER_ACT_CLIP6, 2},
    {"mobilenet_v2", 144, 56, 56, 144, 3, 1, 1, 144, ER_ACT_CLIP6, 1},
    {"mobilenet_v2", 144, 56, 56, 24, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mobilenet_v2", 144, 56, 56, 144, 3, 2, 1, 144, ER_ACT_CLIP6, 1},
    {"mobilenet_v2", 144, 28, 28, 32, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mobilenet_v2", 32, 28, 28, 192, 1, 1, 0, 1, ER_ACT_CLIP6, 3},
    {"mobilenet_v2", 192, 28, 28, 192, 3, 1, 1, 192, ER_ACT_CLIP6, 2},
    {"mobilenet_v2", 192, 28, 28, 32, 1, 1, 0, 1, ER_ACT_NONE, 2},
    {"mobilenet_v2", 192, 28, 28, 192, 3, 2, 1, 192, ER_ACT_CLIP6, 1},
    {"mobilenet_v2", 192, 14, 14, 64, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mobilenet_v2", 64, 14, 14, 384, 1, 1, 0, 1, ER_ACT_CLIP6, 4},
    {"mobilenet_v2", 384, 14, 14, 384, 3, 1, 1, 384, ER_ACT_CLIP6, 4},
    {"mobilenet_v2", 384, 14, 14, 64, 1, 1, 0, 1, ER_ACT_NONE, 3},
    {"mobilenet_v2", 384, 14, 14, 96, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mobilenet_v2", 96, 14, 14, 576, 1, 1, 0, 1, ER_ACT_CLIP6, 3},
    {"mobilenet_v2", 576, 14, 14, 576, 3, 1, 1, 576, ER_ACT_CLIP6, 2},
    {"mobilenet_v2", 576, 14, 14, 96, 1, 1, 0, 1, ER_ACT_NONE, 2},
    {"mobilenet_v2", 576, 14, 14, 576, 3, 2, 1, 576, ER_ACT_CLIP6, 1},
    {"mobilenet_v2", 576, 7, 7, 160, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mobilenet_v2", 160, 7, 7, 960, 1, 1, 0, 1, ER_ACT_CLIP6, 3},
    {"mobilenet_v2", 960, 7, 7, 960, 3, 1, 1, 960, ER_ACT_CLIP6, 3},
    {"mobilenet_v2", 960, 7, 7, 160, 1, 1, 0, 1, ER_ACT_NONE, 2},
    {"mobilenet_v2", 960, 7, 7, 320, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mobilenet_v2", 320, 7, 7, 1280, 1, 1, 0, 1, ER_ACT_CLIP6, 1},
    {"resnet18", 3, 224, 224, 64, 7, 2, 3, 1, ER_ACT_RELU, 1},
    {"resnet18", 64, 56, 56, 64, 3, 1, 1, 1, ER_ACT_RELU, 2},
    {"resnet18", 64, 56, 56, 64, 3, 1, 1, 1, ER_ACT_NONE, 2},
    {"resnet18", 64, 56, 56, 128, 3, 2, 1, 1, ER_ACT_RELU, 1},
    {"resnet18", 128, 28, 28, 128, 3, 1, 1, 1, ER_ACT_NONE, 2},
    {"resnet18", 64, 56, 56, 128, 1, 2, 0, 1, ER_ACT_NONE, 1},
    {"resnet18", 128, 28, 28, 128, 3, 1, 1, 1, ER_ACT_RELU, 1},
    {"resnet18", 128, 28, 28, 256, 3, 2, 1, 1, ER_ACT_RELU, 1},
    {"resnet18", 256, 14, 14, 256, 3, 1, 1, 1, ER_ACT_NONE, 2},
    {"resnet18", 128, 28, 28, 256, 1, 2, 0, 1, ER_ACT_NONE, 1},
    {"resnet18", 256, 14, 14, 256, 3, 1, 1, 1, ER_ACT_RELU, 1},
    {"resnet18", 256, 14, 14, 512, 3, 2, 1, 1, ER_ACT_RELU, 1},
    {"resnet18", 512, 7, 7, 512, 3, 1, 1, 1, ER_ACT_NONE, 2},
    {"resnet18", 256, 14, 14, 512, 1, 2, 0, 1, ER_ACT_NONE, 1},
    {"resnet18", 512, 7, 7, 512, 3, 1, 1, 1, ER_ACT_RELU, 1},
    {"efficientnet_b0", 3, 224, 224, 32, 3, 2, 1, 1, ER_ACT_SILU, 1},
    {"efficientnet_b0", 32, 112, 112, 32, 3, 1, 1, 32, ER_ACT_SILU, 1},
    {"efficientnet_b0", 32, 1, 1, 8, 1, 1, 0, 1, ER_ACT_SILU, 1},
    {"efficientnet_b0", 8, 1, 1, 32, 1, 1, 0, 1, ER_ACT_SIGMOID, 1},
    {"efficientnet_b0", 32, 112, 112, 16, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"efficientnet_b0", 16, 112, 112, 96, 1, 1, 0, 1, ER_ACT_SILU, 1},
    {"efficientnet_b0", 96, 112, 112, 96, 3, 2, 1, 96, ER_ACT_SILU, 1},
    {"efficientnet_b0", 96, 1, 1, 4, 1, 1, 0, 1, ER_ACT_SILU, 1},
    {"efficientnet_b0", 4, 1, 1, 96, 1, 1, 0, 1, ER_ACT_SIGMOID, 1},
    {"efficientnet_b0", 96, 56, 56, 24, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"efficientnet_b0", 24, 56, 56, 144, 1, 1, 0, 1, ER_ACT_SILU, 2},
    {"efficientnet_b0", 144, 56, 56, 144, 3, 1, 1, 144, ER_ACT_SILU, 1},
    {"efficientnet_b0", 144, 1, 1, 6, 1, 1, 0, 1, ER_ACT_SILU, 2},
    {"efficientnet_b0", 6, 1, 1, 144, 1, 1, 0, 1, ER_ACT_SIGMOID, 2},
    {"efficientnet_b0", 144, 56, 56, 24, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"efficientnet_b0", 144, 56, 56, 144, 5, 2, 2, 144, ER_ACT_SILU, 1},
    {"efficientnet_b0", 144, 28, 28, 40, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"efficientnet_b0", 40, 28, 28, 240, 1, 1, 0, 1, ER_ACT_SILU, 2},
    {"efficientnet_b0", 240, 28, 28, 240, 5, 1, 2, 240, ER_ACT_SILU, 1},
    {"efficientnet_b0", 240, 1, 1, 10, 1, 1, 0, 1, ER_ACT_SILU, 2},
    {"efficientnet_b0", 10, 1, 1, 240, 1, 1, 0, 1, ER_ACT_SIGMOID, 2},
    {"efficientnet_b0", 240, 28, 28, 40, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"efficientnet_b0", 240, 28, 28, 240, 3, 2, 1, 240, ER_ACT_SILU, 1},
    {"efficientnet_b0", 240, 14, 14, 80, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"efficientnet_b0", 80, 14, 14, 480, 1, 1, 0, 1, ER_ACT_SILU, 3},
    {"efficientnet_b0", 480, 14, 14, 480, 3, 1, 1, 480, ER_ACT_SILU, 2},
    {"efficientnet_b0", 480, 1, 1, 20, 1, 1, 0, 1, ER_ACT_SILU, 3},
    {"efficientnet_b0", 20, 1, 1, 480, 1, 1, 0, 1, ER_ACT_SIGMOID, 3},
    {"efficientnet_b0", 480, 14, 14, 80, 1, 1, 0, 1, ER_ACT_NONE, 2},
    {"efficientnet_b0", 480, 14, 14, 480, 5, 1, 2, 480, ER_ACT_SILU, 1},
    {"efficientnet_b0", 480, 14, 14, 112, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"efficientnet_b0", 112, 14, 14, 672, 1, 1, 0, 1, ER_ACT_SILU, 3},
    {"efficientnet_b0", 672, 14, 14, 672, 5, 1, 2, 672, ER_ACT_SILU, 2},
    {"efficientnet_b0", 672, 1, 1, 28, 1, 1, 0, 1, ER_ACT_SILU, 3},
    {"efficientnet_b0", 28, 1, 1, 672, 1, 1, 0, 1, ER_ACT_SIGMOID, 3},
    {"efficientnet_b0", 672, 14, 14, 112, 1, 1, 0, 1, ER_ACT_NONE, 2},
    {"efficientnet_b0", 672, 14, 14, 672, 5, 2, 2, 672, ER_ACT_SILU, 1},
    {"efficientnet_b0", 672, 7, 7, 192, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"efficientnet_b0", 192, 7, 7, 1152, 1, 1, 0, 1, ER_ACT_SILU, 4},
    {"efficientnet_b0", 1152, 7, 7, 1152, 5, 1, 2, 1152, ER_ACT_SILU, 3},
    {"efficientnet_b0", 1152, 1, 1, 48, 1, 1, 0, 1, ER_ACT_SILU, 4},
    {"efficientnet_b0", 48, 1, 1, 1152, 1, 1, 0, 1, ER_ACT_SIGMOID, 4},
    {"efficientnet_b0", 1152, 7, 7, 192, 1, 1, 0, 1, ER_ACT_NONE, 3},
    {"efficientnet_b0", 1152, 7, 7, 1152, 3, 1, 1, 1152, ER_ACT_SILU, 1},
    {"efficientnet_b0", 1152, 7, 7, 320, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"efficientnet_b0", 320, 7, 7, 1280, 1, 1, 0, 1, ER_ACT_SILU, 1},
    /* Silero VAD v5, 16 kHz branch, one 512-sample frame + 64 context (1-D: H = 0) */
    {"silero_vad", 1, 0, 640, 258, 256, 128, 0, 1, ER_ACT_NONE, 1},
    {"silero_vad", 129, 0, 4, 128, 3, 1, 1, 1, ER_ACT_RELU, 1},
    {"silero_vad", 128, 0, 4, 64, 3, 2, 1, 1, ER_ACT_RELU, 1},
    {"silero_vad", 64, 0, 2, 64, 3, 2, 1, 1, ER_ACT_RELU, 1},
    {"silero_vad", 64, 0, 1, 128, 3, 1, 1, 1, ER_ACT_RELU, 1},
    {"silero_vad", 128, 0, 1, 1, 1, 1, 0, 1, ER_ACT_SIGMOID, 1},
    {"mnasnet1_0", 3, 224, 224, 32, 3, 2, 1, 1, ER_ACT_RELU, 1},
    {"mnasnet1_0", 32, 112, 112, 32, 3, 1, 1, 32, ER_ACT_RELU, 1},
    {"mnasnet1_0", 32, 112, 112, 16, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mnasnet1_0", 16, 112, 112, 48, 1, 1, 0, 1, ER_ACT_RELU, 1},
    {"mnasnet1_0", 48, 112, 112, 48, 3, 2, 1, 48, ER_ACT_RELU, 1},
    {"mnasnet1_0", 48, 56, 56, 24, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mnasnet1_0", 24, 56, 56, 72, 1, 1, 0, 1, ER_ACT_RELU, 3},
    {"mnasnet1_0", 72, 56, 56, 72, 3, 1, 1, 72, ER_ACT_RELU, 2},
    {"mnasnet1_0", 72, 56, 56, 24, 1, 1, 0, 1, ER_ACT_NONE, 2},
    {"mnasnet1_0", 72, 56, 56, 72, 5, 2, 2, 72, ER_ACT_RELU, 1},
    {"mnasnet1_0", 72, 28, 28, 40, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mnasnet1_0", 40, 28, 28, 120, 1, 1, 0, 1, ER_ACT_RELU, 2},
    {"mnasnet1_0", 120, 28, 28, 120, 5, 1, 2, 120, ER_ACT_RELU, 2},
    {"mnasnet1_0", 120, 28, 28, 40, 1, 1, 0, 1, ER_ACT_NONE, 2},
    {"mnasnet1_0", 40, 28, 28, 240, 1, 1, 0, 1, ER_ACT_RELU, 1},
    {"mnasnet1_0", 240, 28, 28, 240, 5, 2, 2, 240, ER_ACT_RELU, 1},
    {"mnasnet1_0", 240, 14, 14, 80, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mnasnet1_0", 80, 14, 14, 480, 1, 1, 0, 1, ER_ACT_RELU, 3},
    {"mnasnet1_0", 480, 14, 14, 480, 5, 1, 2, 480, ER_ACT_RELU, 2},
    {"mnasnet1_0", 480, 14, 14, 80, 1, 1, 0, 1, ER_ACT_NONE, 2},
    {"mnasnet1_0", 480, 14, 14, 480, 3, 1, 1, 480, ER_ACT_RELU, 1},
    {"mnasnet1_0", 480, 14, 14, 96, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mnasnet1_0", 96, 14, 14, 576, 1, 1, 0, 1, ER_ACT_RELU, 2},
    {"mnasnet1_0", 576, 14, 14, 576, 3, 1, 1, 576, ER_ACT_RELU, 1},
    {"mnasnet1_0", 576, 14, 14, 96, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mnasnet1_0", 576, 14, 14, 576, 5, 2, 2, 576, ER_ACT_RELU, 1},
    {"mnasnet1_0", 576, 7, 7, 192, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mnasnet1_0", 192, 7, 7, 1152, 1, 1, 0, 1, ER_ACT_RELU, 4},
    {"mnasnet1_0", 1152, 7, 7, 1152, 5, 1, 2, 1152, ER_ACT_RELU, 3},
    {"mnasnet1_0", 1152, 7, 7, 192, 1, 1, 0, 1, ER_ACT_NONE, 3},
    {"mnasnet1_0", 1152, 7, 7, 1152, 3, 1, 1, 1152, ER_ACT_RELU, 1},
    {"mnasnet1_0", 1152, 7, 7, 320, 1, 1, 0, 1, ER_ACT_NONE, 1},
    {"mnasnet1_0", 320, 7, 7, 1280, 1, 1, 0, 1, ER_ACT_RELU, 1},
    {"squeezenet1_1", 3, 224, 224, 64, 3, 2, 0, 1, ER_ACT_RELU, 1},
    {"squeezenet1_1", 64, 55, 55, 16, 1, 1, 0, 1, ER_ACT_RELU, 1},
    {"squeezenet1_1", 16, 55, 55, 64, 1, 1, 0, 1, ER_ACT_RELU, 2},
    {"squeezenet1_1", 16, 55, 55, 64, 3, 1, 1, 1, ER_ACT_RELU, 2},
    {"squeezenet1_1", 128, 55, 55, 16, 1, 1, 0, 1, ER_ACT_RELU, 1},
    {"squeezenet1_1", 128, 27, 27, 32, 1, 1, 0, 1, ER_ACT_RELU, 1},
    {"squeezenet1_1", 32, 27, 27, 128, 1, 1, 0, 1, ER_ACT_RELU, 2},
    {"squeezenet1_1", 32, 27, 27, 128, 3, 1, 1, 1, ER_ACT_RELU, 2},
    {"squeezenet1_1", 256, 27, 27, 32, 1, 1, 0, 1, ER_ACT_RELU, 1},
    {"squeezenet1_1", 256, 13, 13, 48, 1, 1, 0, 1, ER_ACT_RELU, 1},
    {"squeezenet1_1", 48, 13, 13, 192, 1, 1, 0, 1, ER_ACT_RELU, 2},
    {"squeezenet1_1", 48, 13, 13, 192, 3, 1, 1, 1, ER_ACT_RELU, 2},
    {"squeezenet1_1", 384, 13, 13, 48, 1, 1, 0, 1, ER_ACT_RELU, 1},
    {"squeezenet1_1", 384, 13, 13, 64, 1, 1, 0, 1, ER_ACT_RELU, 1},
    {"squeezenet1_1", 64, 13, 13, 256, 1, 1, 0, 1, ER_ACT_RELU, 2},
    {"squeezenet1_1", 64, 13, 13, 256, 3, 1, 1, 1, ER_ACT_RELU, 2},
    {"squeezenet1_1", 512, 13, 13, 64, 1, 1, 0, 1, ER_ACT_RELU, 1},
    {"squeezenet1_1", 512, 13, 13, 1000, 1, 1, 0, 1, ER_ACT_RELU, 1},
};
enum { NLAYERS = sizeof layers / sizeof layers[0] };

static uint32_t rng = 1;
static void fill(float *p, int64_t n) {
  for (int64_t i = 0; i < n; i++) rng = rng * 1664525u + 1013904223u, p[i] = (float)((rng >> 8) & 0xffff) / 65536.0f - 0.5f;
}
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One op ready to run: infer, state + prepare, scratch, as the runtime does. */
typedef struct runner {
  er_node node;
  er_kctx c;
  er_attr at[8];
  er_tensor *in[3], y, *out[1];
  void *state, *scratch;
} runner;

/* nhwc: 0 the NCHW Conv, 1 NhwcConv, 2 / 3 NhwcConv forced to _algo 1 / 2 */
static int setup(runner *r, int nhwc, const layer *L, int nsp, er_tensor *X, er_tensor *W, er_tensor *B,
                 er_threadpool *pool, const int64_t *s2, const int64_t *p4) {
  memset(r, 0, sizeof *r);
  er_act act = {L->act == ACT_CLIP6 ? ER_ACT_CLIP : L->act, 0.0f, L->act == ACT_CLIP6 ? 6.0f : 0.0f};
  r->at[0] = (er_attr){.name = "strides", .type = ER_ATTR_INTS, .n = nsp, .ints = s2};
  r->at[1] = (er_attr){.name = "pads", .type = ER_ATTR_INTS, .n = 2 * nsp, .ints = p4};
  r->at[2] = (er_attr){.name = "group", .type = ER_ATTR_INT, .i = L->g};
  r->at[3] = (er_attr){.name = "_act", .type = ER_ATTR_INT, .i = act.kind};
  r->at[4] = (er_attr){.name = "_act_a", .type = ER_ATTR_FLOAT, .f = act.a};
  r->at[5] = (er_attr){.name = "_act_b", .type = ER_ATTR_FLOAT, .f = act.b};
  r->at[6] = (er_attr){.name = "_algo", .type = ER_ATTR_INT, .i = nhwc >= 2 ? nhwc - 1 : 0};
  const char *domain = nhwc ? ER_DOMAIN_EDGERUN : "", *op = nhwc ? ER_OP_NHWC_CONV : "Conv";
  const int opset = nhwc ? 1 : 13;
  r->node = (er_node){.name = "conv", .op_type = op, .domain = domain, .opset = opset, .n_inputs = 3,
                      .n_outputs = 1, .n_attrs = nhwc ? 7 : 6, .attrs = r->at, .op = er_op_find(domain, op, opset)};
  r->in[0] = X, r->in[1] = W, r->in[2] = B, r->out[0] = &r->y;
  r->c = (er_kctx){.node = &r->node, .opset = opset, .n_in = 3, .n_out = 1, .in = r->in, .out = r->out,
                   .threads = pool, .mk = er_microkernels_select()};
  er_status s = r->node.op->infer(&r->c);
  if (!s) {
    r->y.data = malloc(er_tensor_nbytes(&r->y));
    r->state = r->c.state_bytes ? calloc(1, r->c.state_bytes) : NULL;
    r->c.state = r->state;
    if (r->node.op->prepare) s = r->node.op->prepare(&r->c);
    r->scratch = r->c.scratch_bytes ? calloc(1, r->c.scratch_bytes) : NULL;
    r->c.scratch = r->scratch;
  }
  if (s) {
    fprintf(stderr, "%s: %s\n", op, er_status_message(s));
    er_status_free(s);
    return 0;
  }
  return 1;
}
static void teardown(runner *r) { free(r->y.data), free(r->state), free(r->scratch); }

/* best seconds per run over `rounds` samples of >= min_s each, alternating the runners */
static void measure(runner *r, int nr, int rounds, double min_s, double *best) {
  int reps[3];
  for (int i = 0; i < nr; i++) {
    double t0 = now();
    r[i].node.op->run(&r[i].c); /* warm-up and calibration */
    double t = now() - t0;
    reps[i] = t >= min_s ? 1 : (int)(min_s / (t > 1e-7 ? t : 1e-7)) + 1;
    best[i] = 1e30;
  }
  for (int k = 0; k < rounds; k++)
    for (int i = 0; i < nr; i++) {
      double t0 = now();
      for (int q = 0; q < reps[i]; q++) r[i].node.op->run(&r[i].c);
      double t = (now() - t0) / reps[i];
      if (t < best[i]) best[i] = t;
    }
}

int main(int argc, char **argv) {
  const char *model = NULL;
  int threads = 1, rounds = 5;
  double min_ms = 20;
  int only[5] = {0}; /* --layer C,H,M,k,s */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--min-ms") && i + 1 < argc) min_ms = atof(argv[++i]);
    else if (!strcmp(argv[i], "--layer") && i + 1 < argc) {
      if (sscanf(argv[++i], "%d,%d,%d,%d,%d", &only[0], &only[1], &only[2], &only[3], &only[4]) != 5) only[0] = -1;
    }
    else {
      fprintf(stderr, "usage: %s [--model NAME] [--threads N] [--rounds N] [--min-ms MS] [--layer C,H,M,k,s]\n", argv[0]);
      return 2;
    }
  }
  er_threadpool *pool = NULL;
  if (threads > 1 && er_threadpool_create(threads, &pool)) return 1;
  printf("%d thread(s), table %s, best of %d rounds of >= %.0f ms\n", threads, er_microkernels_select()->isa, rounds,
         min_ms);
  printf("%-16s %5s %8s %5s %2s %2s %5s %-8s %3s | %-10s %9s %9s %6s | %s\n", "model", "C", "HxW", "M", "k", "s", "g",
         "act", "n", "NHWC path", "NCHW GF/s", "NHWC GF/s", "ratio", "other NHWC path GF/s");
  const char *cur = NULL;
  double sum[2] = {0, 0};
  for (int li = 0; li <= NLAYERS; li++) {
    const layer *L = li < NLAYERS ? &layers[li] : NULL;
    if (L && model && !strstr(L->model, model)) continue;
    if (L && only[0] && (L->C != only[0] || L->H != only[1] || L->M != only[2] || L->k != only[3] || L->s != only[4]))
      continue;
    if (cur && (!L || strcmp(cur, L->model))) {
      printf("%-16s conv total %.3f ms NCHW, %.3f ms NHWC: ratio %.2f\n\n", cur, 1e3 * sum[0], 1e3 * sum[1],
             sum[0] / sum[1]);
      sum[0] = sum[1] = 0;
    }
    if (!L) break;
    cur = L->model;
    const int nsp = L->H ? 2 : 1, rank = nsp + 2; /* H = 0: 1-D */
    int64_t xn[4] = {1, L->C, L->H, L->W}, xh[4] = {1, L->H, L->W, L->C};
    int64_t wd[4] = {L->M, L->C / L->g, L->k, L->k}, bd[1] = {L->M}, s2[2] = {L->s, L->s},
            p4[4] = {L->p, L->p, L->p, L->p};
    if (nsp == 1) xn[2] = L->W, xh[1] = L->W, xh[2] = L->C;
    er_tensor Xn = {0}, Xh = {0}, W = {0}, B = {0};
    er_tensor_set_shape(&Xn, ER_F32, rank, xn), er_tensor_set_shape(&Xh, ER_F32, rank, xh);
    er_tensor_set_shape(&W, ER_F32, rank, wd), er_tensor_set_shape(&B, ER_F32, 1, bd);
    Xn.data = malloc(er_tensor_nbytes(&Xn)), Xh.data = malloc(er_tensor_nbytes(&Xh));
    W.data = malloc(er_tensor_nbytes(&W)), B.data = malloc(er_tensor_nbytes(&B));
    fill(Xn.data, er_tensor_numel(&Xn)), fill(Xh.data, er_tensor_numel(&Xh));
    fill(W.data, er_tensor_numel(&W)), fill(B.data, L->M);
    runner r[3];
    if (!setup(&r[0], 0, L, nsp, &Xn, &W, &B, pool, s2, p4) || !setup(&r[1], 1, L, nsp, &Xh, &W, &B, pool, s2, p4))
      return 1;
    const char *path = er_nhwc_conv_path(&r[1].c);
    /* 3x3 stride-1 group-1: also time the other algorithm (gathered GEMM / Winograd) */
    const int other = nsp == 2 && L->k == 3 && L->s == 1 && L->g == 1 ? (strcmp(path, "winograd") ? 3 : 2) : 0;
    if (other && !setup(&r[2], other, L, nsp, &Xh, &W, &B, pool, s2, p4)) return 1;
    double best[3];
    measure(r, other ? 3 : 2, rounds, 1e-3 * min_ms, best);
    const double flop = 2.0 * (double)er_tensor_numel(&r[1].y) * (double)(L->C / L->g) * L->k * (nsp == 2 ? L->k : 1);
    static const char *const act_names[] = {"none", "relu", "clip", "hswish", "hsigm", "silu", "gelu", "sigmoid", "tanh", "lrelu"};
    char hw[16];
    snprintf(hw, sizeof hw, nsp == 2 ? "%dx%d" : "%.0d%d", L->H, L->W);
    char alt[48] = "";
    if (other) snprintf(alt, sizeof alt, "%s %.1f", other == 2 ? "gemm" : "winograd", 1e-9 * flop / best[2]);
    printf("%-16s %5d %8s %5d %2d %2d %5d %-8s %3d | %-10s %9.1f %9.1f %6.2f | %s\n", L->model, L->C, hw, L->M, L->k,
           L->s, L->g, L->act == ACT_CLIP6 ? "clip6" : act_names[L->act], L->count, path ? path : "?",
           1e-9 * flop / best[0], 1e-9 * flop / best[1], best[0] / best[1], alt);
    fflush(stdout);
    sum[0] += L->count * best[0], sum[1] += L->count * best[1];
    teardown(&r[0]), teardown(&r[1]);
    if (other) teardown(&r[2]);
    free(Xn.data), free(Xh.data), free(W.data), free(B.data);
  }
  er_threadpool_destroy(pool);
  return 0;
}
