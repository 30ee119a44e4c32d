/* libFuzzer target: serialized TensorProto (.pb test data) parser. */
#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"
#include "import/onnx/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  er_pool pool;
  er_pool_init(&pool);
  er_tensor t;
  const char *name = NULL;
  er_status s = er_onnx_parse_tensor(data, size, &pool, &t, &name);
  if (!s) {
    /* touch every byte so ASan sees any overrun of the copy */
    volatile unsigned char acc = (unsigned char)name[0];
    size_t nb = er_tensor_nbytes(&t);
    for (size_t i = 0; i < nb; i++) acc ^= ((const unsigned char *)t.data)[i];
    (void)acc;
  }
  er_status_free(s);
  er_pool_free(&pool);
  return 0;
}
