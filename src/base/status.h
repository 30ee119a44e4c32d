/* Internal status helpers (IREE style). */
#ifndef ER_BASE_STATUS_H
#define ER_BASE_STATUS_H
#include "edgerun.h"

#if defined(__GNUC__)
#define ER_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ER_PRINTF(a, b)
#endif

/* Make a status with a printf-style message. Never returns NULL for code != ER_OK
 * (falls back to a static out-of-memory status if allocation fails). */
er_status er_status_new(er_code code, const char *fmt, ...) ER_PRINTF(2, 3);
/* Prefix an existing status's message: "<prefix>: <old message>". Returns s. */
er_status er_status_prefix(er_status s, const char *fmt, ...) ER_PRINTF(2, 3);

#define ER_RETURN_IF_ERROR(expr)       \
  do {                                 \
    er_status er_s_ = (expr);          \
    if (er_s_) return er_s_;           \
  } while (0)

#define ER_ERR(code, ...) er_status_new((code), __VA_ARGS__)
#endif
