#include "base/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct er_status_rec {
  er_code code;
  int is_static;
  char *msg;
};

static struct er_status_rec er_oom_status = {ER_OUT_OF_MEMORY, 1, "out of memory"};

static er_status make_v(er_code code, const char *fmt, va_list ap) {
  er_status s = (er_status)malloc(sizeof(*s));
  if (!s) return &er_oom_status;
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) n = 0;
  s->msg = (char *)malloc((size_t)n + 1);
  if (!s->msg) {
    free(s);
    return &er_oom_status;
  }
  vsnprintf(s->msg, (size_t)n + 1, fmt, ap);
  s->code = code;
  s->is_static = 0;
  return s;
}

er_status er_status_new(er_code code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  er_status s = make_v(code, fmt, ap);
  va_end(ap);
  return s;
}

er_status er_status_prefix(er_status s, const char *fmt, ...) {
  if (!s || s->is_static) return s;
  char pre[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(pre, sizeof pre, fmt, ap);
  va_end(ap);
  size_t a = strlen(pre), b = strlen(s->msg);
  char *m = (char *)malloc(a + 2 + b + 1);
  if (!m) return s;
  memcpy(m, pre, a);
  memcpy(m + a, ": ", 2);
  memcpy(m + a + 2, s->msg, b + 1);
  free(s->msg);
  s->msg = m;
  return s;
}

er_code er_status_code(er_status s) { return s ? s->code : ER_OK; }
const char *er_status_message(er_status s) { return s ? s->msg : ""; }
void er_status_free(er_status s) {
  if (!s || s->is_static) return;
  free(s->msg);
  free(s);
}
