/* edgerun compare (being written). */
#include <stdio.h>
#include "cli.h"

int cmd_compare(int argc, char **argv) {
  fprintf(stderr, "edgerun: 'compare' is not implemented yet\n");
  return EXIT_FAIL;
}
