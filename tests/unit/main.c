#include <stdio.h>
#include <string.h>

#include "test.h"

typedef struct { const char *name, *file; er_test_fn fn; } entry;
static entry tests[4096];
static int n_tests;

void er_test_register(const char *name, const char *file, er_test_fn fn) {
  if (n_tests < (int)(sizeof tests / sizeof tests[0])) tests[n_tests++] = (entry){name, file, fn};
}

int main(int argc, char **argv) {
  const char *filter = argc > 1 ? argv[1] : NULL;
  int passed = 0, failed = 0;
  for (int i = 0; i < n_tests; i++) {
    if (filter && !strstr(tests[i].name, filter) && !strstr(tests[i].file, filter)) continue;
    int f = 0;
    tests[i].fn(&f);
    if (f) {
      failed++;
      fprintf(stderr, "FAIL %s (%s)\n", tests[i].name, tests[i].file);
    } else {
      passed++;
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
