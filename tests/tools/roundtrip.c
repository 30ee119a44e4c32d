/* Test helper for tests/tools/onnx_write.sh: import a model as written (no graph passes,
 * unsupported ops allowed) and write it back with the ONNX writer.
 *   roundtrip IN.onnx OUT.onnx */
#include <stdio.h>

#include "export/onnx_write.h"
#include "import/onnx/onnx_internal.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: roundtrip IN.onnx OUT.onnx\n");
    return 2;
  }
  er_imported m;
  er_status s = er_onnx_import_file(argv[1], ER_ONNX_NO_OP_RESOLVE, &m);
  if (!s) s = er_onnx_write_file(&m, argv[2]);
  er_imported_free(&m);
  if (s) {
    fprintf(stderr, "roundtrip: %s\n", er_status_message(s));
    er_status_free(s);
    return 1;
  }
  return 0;
}
