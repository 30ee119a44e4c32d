/* edgerun factorize (being written). */
#include <stdio.h>
#include "cli.h"

int cmd_factorize(int argc, char **argv) {
  fprintf(stderr, "edgerun: 'factorize' is not implemented yet\n");
  return EXIT_FAIL;
}
