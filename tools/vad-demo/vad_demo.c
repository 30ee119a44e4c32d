/*
 * vad_demo.c — Silero VAD over a wav file with libedgerun, frame by frame.
 *
 *   vad_demo MODEL.onnx SPEECH.wav [--probs FILE]
 *
 * Reads a PCM wav (16-bit, 16 kHz or 8 kHz, mono or averaged down to mono), runs Silero
 * VAD one frame at a time (512 samples at 16 kHz, 256 at 8 kHz) carrying the recurrent
 * state from each frame to the next, and prints the speech segments and the per-frame
 * latency. Silero v5/v6 (inputs input, state, sr) get the 64-sample context from the
 * previous frame prepended, as silero-vad's own wrapper does (32 at 8 kHz); the legacy
 * model (inputs input, sr, h, c) gets the bare frame.
 *
 * Segments: a probability above 0.5 starts speech; below 0.35 for at least 100 ms ends it
 * (at the first quiet frame); a segment shorter than 250 ms is dropped.
 * --probs FILE writes one probability per line, for comparison with another runtime.
 * Exit 0 on success; 1 with one line on stderr on any error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgerun.h"

#define THRESHOLD 0.5f
#define NEG_THRESHOLD 0.35f
#define MIN_SILENCE_MS 100
#define MIN_SPEECH_MS 250

static void die(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "vad_demo: ");
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  exit(1);
}

static void check(er_status s, const char *what) {
  if (s) {
    if (what) fprintf(stderr, "vad_demo: %s: %s\n", what, er_status_message(s));
    else fprintf(stderr, "vad_demo: %s\n", er_status_message(s));
    er_status_free(s);
    exit(1);
  }
}

/* ---- wav --------------------------------------------------------------- */
static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Reads a 16-bit PCM wav into mono float samples in [-1, 1). Bounds-checked: every chunk
 * size is checked against the bytes actually present. */
static float *read_wav(const char *path, size_t *out_n, int *out_rate) {
  FILE *f = fopen(path, "rb");
  if (!f) die("%s: %s", path, strerror(errno));
  if (fseek(f, 0, SEEK_END) != 0) die("%s: %s", path, "cannot seek");
  long len = ftell(f);
  if (len < 0 || fseek(f, 0, SEEK_SET) != 0) die("%s: %s", path, "cannot seek");
  if (len < 12 || (unsigned long)len > (1ul << 31)) die("%s: %s", path, "not a wav file (size)");
  unsigned char *buf = malloc((size_t)len);
  if (!buf) die("%s: %s", path, "out of memory");
  if (fread(buf, 1, (size_t)len, f) != (size_t)len) die("%s: %s", path, "short read");
  fclose(f);
  size_t n = (size_t)len;
  if (memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0)
    die("%s: %s", path, "not a RIFF/WAVE file");
  int have_fmt = 0, channels = 0, rate = 0, bits = 0;
  const unsigned char *data = NULL;
  size_t data_len = 0;
  size_t pos = 12;
  while (pos + 8 <= n) {
    uint32_t csize = rd32(buf + pos + 4);
    const unsigned char *c = buf + pos + 8;
    size_t avail = n - pos - 8;
    if (memcmp(buf + pos, "fmt ", 4) == 0) {
      if (csize < 16 || csize > avail) die("%s: %s", path, "bad fmt chunk");
      unsigned fmt = rd16(c);
      if (fmt == 0xFFFE && csize >= 40) fmt = rd16(c + 24); /* extensible: subformat GUID */
      if (fmt != 1) die("%s: %s", path, "not PCM (only 16-bit PCM is read)");
      channels = rd16(c + 2);
      rate = (int)rd32(c + 4);
      bits = rd16(c + 14);
      have_fmt = 1;
    } else if (memcmp(buf + pos, "data", 4) == 0) {
      data = c;
      data_len = csize <= avail ? csize : avail; /* tolerate a truncated last chunk */
      break;
    }
    if (csize > avail) die("%s: %s", path, "chunk runs past the end of the file");
    pos += 8 + (size_t)csize + (csize & 1);
  }
  if (!have_fmt) die("%s: %s", path, "no fmt chunk before the data");
  if (!data) die("%s: %s", path, "no data chunk");
  if (bits != 16) die("%s: %s", path, "only 16-bit samples are read");
  if (channels < 1 || channels > 16) die("%s: %s", path, "bad channel count");
  if (rate != 16000 && rate != 8000) die("%s: %s", path, "sample rate must be 16000 or 8000 Hz");
  size_t frames = data_len / (2u * (size_t)channels);
  float *x = malloc((frames ? frames : 1) * sizeof *x);
  if (!x) die("%s: %s", path, "out of memory");
  for (size_t i = 0; i < frames; i++) {
    int32_t acc = 0;
    for (int ch = 0; ch < channels; ch++) acc += (int16_t)rd16(data + 2 * (i * (size_t)channels + (size_t)ch));
    x[i] = (float)acc / (32768.0f * (float)channels);
  }
  free(buf);
  *out_n = frames;
  *out_rate = rate;
  return x;
}

/* ---- model inputs ------------------------------------------------------ */
enum { IN_AUDIO, IN_SR, IN_STATE, IN_H, IN_C, IN_COUNT };

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  const char *model_path = NULL, *wav_path = NULL, *probs_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--probs") == 0 && i + 1 < argc) probs_path = argv[++i];
    else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      printf("usage: vad_demo MODEL.onnx SPEECH.wav [--probs FILE]\n");
      return 0;
    } else if (!model_path) model_path = argv[i];
    else if (!wav_path) wav_path = argv[i];
    else die("unexpected argument %s%s", argv[i], "");
  }
  if (!model_path || !wav_path) die("usage: vad_demo MODEL.onnx SPEECH.wav [--probs FILE]%s%s", "", "");

  size_t nsamples;
  int rate;
  float *audio = read_wav(wav_path, &nsamples, &rate);

  er_model *model;
  check(er_model_load_file(model_path, &model), NULL); /* the message names the file */
  /* find the inputs by name: v5/v6 (input, state, sr) or legacy (input, sr, h, c) */
  int idx[IN_COUNT] = {-1, -1, -1, -1, -1};
  int64_t state_dims[IN_COUNT][3] = {{0}};
  size_t nin = er_model_input_count(model);
  for (size_t i = 0; i < nin; i++) {
    er_tensor_info ti;
    check(er_model_input_info(model, i, &ti), "input info");
    int slot = strcmp(ti.name, "input") == 0 ? IN_AUDIO
               : strcmp(ti.name, "sr") == 0  ? IN_SR
               : strcmp(ti.name, "state") == 0 ? IN_STATE
               : strcmp(ti.name, "h") == 0   ? IN_H
               : strcmp(ti.name, "c") == 0   ? IN_C
                                             : -1;
    if (slot < 0) die("%s: unexpected input '%s' (not a Silero VAD model?)", model_path, ti.name);
    idx[slot] = (int)i;
    if (slot >= IN_STATE) {
      if (ti.rank != 3) die("%s: input '%s' is not rank 3", model_path, ti.name);
      state_dims[slot][0] = ti.dims[0] > 0 ? ti.dims[0] : 2;
      state_dims[slot][1] = 1;
      state_dims[slot][2] = ti.dims[2] > 0 ? ti.dims[2] : (slot == IN_STATE ? 128 : 64);
    }
  }
  int v5 = idx[IN_STATE] >= 0;
  if (idx[IN_AUDIO] < 0 || idx[IN_SR] < 0 || (!v5 && (idx[IN_H] < 0 || idx[IN_C] < 0)))
    die("%s: inputs do not look like Silero VAD (input, state, sr) or (input, sr, h, c)%s", model_path, "");

  er_session *sess;
  check(er_session_create(model, NULL, &sess), "session");

  const size_t frame = rate == 16000 ? 512 : 256;
  const size_t ctx = v5 ? (rate == 16000 ? 64 : 32) : 0;
  float window[64 + 512];
  memset(window, 0, sizeof window);
  float *state[IN_COUNT] = {0};
  size_t state_n[IN_COUNT] = {0};
  for (int s = IN_STATE; s < IN_COUNT; s++) {
    if (idx[s] < 0) continue;
    state_n[s] = (size_t)(state_dims[s][0] * state_dims[s][1] * state_dims[s][2]);
    state[s] = calloc(state_n[s], sizeof(float));
    if (!state[s]) die("out of memory%s%s", "", "");
  }
  const int64_t sr = rate;
  const int64_t audio_dims[2] = {1, (int64_t)(ctx + frame)};
  /* state outputs follow the probability: v5 (output, stateN); legacy (output, hn, cn) */
  const int out_for[IN_COUNT] = {0, 0, 1, 1, 2};

  size_t nframes = nsamples / frame;
  if (nframes == 0) die("%s: shorter than one frame%s", wav_path, "");
  double *lat = malloc(nframes * sizeof *lat);
  FILE *probs = probs_path ? fopen(probs_path, "w") : NULL;
  if (!lat || (probs_path && !probs)) die("cannot write %s%s", probs_path ? probs_path : "", "");

  const size_t min_silence = (size_t)rate * MIN_SILENCE_MS / 1000;
  const size_t min_speech = (size_t)rate * MIN_SPEECH_MS / 1000;
  int triggered = 0;
  size_t seg_start = 0, temp_end = 0, nseg = 0;
  double speech_s = 0;

  for (size_t f = 0; f < nframes; f++) {
    /* window = last ctx samples of the previous frame + this frame */
    memmove(window, window + frame, ctx * sizeof(float));
    memcpy(window + ctx, audio + f * frame, frame * sizeof(float));

    double t0 = now_us();
    check(er_session_set_input(sess, (size_t)idx[IN_AUDIO], ER_F32, audio_dims, 2, window,
                               (ctx + frame) * sizeof(float)), "set input");
    check(er_session_set_input(sess, (size_t)idx[IN_SR], ER_I64, NULL, 0, &sr, sizeof sr), "set sr");
    for (int s = IN_STATE; s < IN_COUNT; s++)
      if (idx[s] >= 0)
        check(er_session_set_input(sess, (size_t)idx[s], ER_F32, state_dims[s], 3, state[s],
                                   state_n[s] * sizeof(float)), "set state");
    check(er_session_run(sess), "run");
    er_tensor_view out;
    check(er_session_get_output(sess, 0, &out), "output");
    if (out.dtype != ER_F32 || out.nbytes < sizeof(float)) die("%s: output 0 is not float%s", model_path, "");
    float p = ((const float *)out.data)[0];
    for (int s = IN_STATE; s < IN_COUNT; s++) {
      if (idx[s] < 0) continue;
      er_tensor_view sv;
      check(er_session_get_output(sess, (size_t)out_for[s], &sv), "state output");
      if (sv.dtype != ER_F32 || sv.nbytes != state_n[s] * sizeof(float))
        die("%s: state output has an unexpected size%s", model_path, "");
      memcpy(state[s], sv.data, sv.nbytes);
    }
    lat[f] = now_us() - t0;
    if (probs) fprintf(probs, "%.6f\n", p);

    size_t cur = f * frame;
    if (p >= THRESHOLD && temp_end) temp_end = 0;
    if (p >= THRESHOLD && !triggered) {
      triggered = 1;
      seg_start = cur;
    } else if (p < NEG_THRESHOLD && triggered) {
      if (!temp_end) temp_end = cur;
      if (cur + frame - temp_end >= min_silence) {
        if (temp_end - seg_start >= min_speech) {
          printf("speech %7.3f - %7.3f s\n", (double)seg_start / rate, (double)temp_end / rate);
          speech_s += (double)(temp_end - seg_start) / rate;
          nseg++;
        }
        triggered = 0;
        temp_end = 0;
      }
    }
  }
  if (triggered && nframes * frame - seg_start >= min_speech) {
    printf("speech %7.3f - %7.3f s\n", (double)seg_start / rate, (double)(nframes * frame) / rate);
    speech_s += (double)(nframes * frame - seg_start) / rate;
    nseg++;
  }
  if (probs) fclose(probs);

  qsort(lat, nframes, sizeof *lat, cmp_double);
  printf("%zu segments, %.2f s of speech in %.2f s of audio\n", nseg, speech_s, (double)nsamples / rate);
  printf("%zu frames of %zu samples (%s, context %zu): latency per frame median %.1f us, p90 %.1f us, "
         "max %.1f us; arena %zu bytes\n",
         nframes, frame, v5 ? "state input" : "legacy h/c inputs", ctx, lat[nframes / 2],
         lat[(size_t)((double)(nframes - 1) * 0.9)], lat[nframes - 1], er_session_arena_bytes(sess));

  free(lat);
  for (int s = 0; s < IN_COUNT; s++) free(state[s]);
  free(audio);
  er_session_destroy(sess);
  er_model_destroy(model);
  return 0;
}
