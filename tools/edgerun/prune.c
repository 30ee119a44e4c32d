/* edgerun prune (being written). */
#include <stdio.h>
#include "cli.h"

int cmd_prune(int argc, char **argv) {
  fprintf(stderr, "edgerun: 'prune' is not implemented yet\n");
  return EXIT_FAIL;
}
