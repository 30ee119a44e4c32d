#include "import/model.h"

#include <string.h>

#include "import/onnx/onnx.h"

void er_imported_free(er_imported *m) {
  if (!m) return;
  er_pool_free(&m->pool);
  er_mappings_free(m->mappings);
  memset(m, 0, sizeof *m);
}
