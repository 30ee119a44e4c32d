/* Minimal test framework: TEST(name) { CHECK(cond); CHECK_NEAR(a, b, tol); }
 * Tests self-register; tests/unit/main.c runs them and prints "N passed, N failed". */
#ifndef ER_TEST_H
#define ER_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*er_test_fn)(int *failed);
void er_test_register(const char *name, const char *file, er_test_fn fn);

#define TEST(name)                                                              \
  static void test_##name(int *er_failed_);                                     \
  __attribute__((constructor)) static void reg_##name(void) {                   \
    er_test_register(#name, __FILE__, test_##name);                             \
  }                                                                             \
  static void test_##name(int *er_failed_)

#define CHECK(cond)                                                             \
  do {                                                                          \
    if (!(cond)) {                                                              \
      fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      *er_failed_ = 1;                                                          \
    }                                                                           \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                   \
  do {                                                                          \
    double a_ = (double)(a), b_ = (double)(b);                                  \
    if (!(fabs(a_ - b_) <= (tol))) {                                            \
      fprintf(stderr, "  %s:%d: %s = %g, expected %g (tol %g)\n", __FILE__,     \
              __LINE__, #a, a_, b_, (double)(tol));                             \
      *er_failed_ = 1;                                                          \
    }                                                                           \
  } while (0)

/* Check an er_status is NULL (success); prints the message otherwise. */
#define CHECK_OK(expr)                                                          \
  do {                                                                          \
    er_status s_ = (expr);                                                      \
    if (s_) {                                                                   \
      fprintf(stderr, "  %s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr,    \
              er_status_message(s_));                                           \
      er_status_free(s_);                                                       \
      *er_failed_ = 1;                                                          \
    }                                                                           \
  } while (0)

/* Check an er_status is an error with the given code; frees it. */
#define CHECK_ERR(expr, code)                                                   \
  do {                                                                          \
    er_status s_ = (expr);                                                      \
    if (er_status_code(s_) != (code)) {                                         \
      fprintf(stderr, "  %s:%d: %s: expected code %d, got %d (%s)\n", __FILE__,  \
              __LINE__, #expr, (int)(code), (int)er_status_code(s_),            \
              er_status_message(s_));                                           \
      *er_failed_ = 1;                                                          \
    }                                                                           \
    er_status_free(s_);                                                         \
  } while (0)
#endif
