/* libFuzzer target: .npy parser. */
#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"
#include "io/tensor_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  er_pool pool;
  er_pool_init(&pool);
  er_tensor t;
  er_status s = er_npy_parse(data, size, &pool, &t);
  if (!s) {
    /* touch every byte so ASan sees any overrun of the copy */
    volatile unsigned char acc = 0;
    size_t nb = er_tensor_nbytes(&t);
    for (size_t i = 0; i < nb; i++) acc ^= ((const unsigned char *)t.data)[i];
    (void)acc;
  }
  er_status_free(s);
  er_pool_free(&pool);
  return 0;
}
