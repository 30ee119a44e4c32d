/* edgerun quantize (being written). */
#include <stdio.h>
#include "cli.h"

int cmd_quantize(int argc, char **argv) {
  fprintf(stderr, "edgerun: 'quantize' is not implemented yet\n");
  return EXIT_FAIL;
}
