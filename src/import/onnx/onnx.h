/* ONNX importer: protobuf wire format read directly from the (mapped) buffer. */
#ifndef ER_IMPORT_ONNX_H
#define ER_IMPORT_ONNX_H
#include "import/model.h"

/* Parse a ModelProto from [data, data+size) into *m (zero it first; the pool is initialised
 * here). The buffer must outlive the model; aligned raw_data is referenced in place.
 * base_dir resolves external data locations (NULL: external data is an error).
 * `what` names the source in error messages (e.g. the file path).
 * Builds the IR graph (topologically sorted, cycles and dangling inputs rejected), resolves
 * every node's op against the kernel registry — an unknown op fails with
 * "unsupported operator OpType (opset N) at node 'name'" — and recurses into subgraphs.
 * On error, *m may hold partial allocations: call er_imported_free. */
er_status er_onnx_import(const void *data, size_t size, const char *base_dir, const char *what,
                         er_imported *m);

/* Map the file `path` and import it (er_onnx_import_ex with `flags`, ER_ONNX_* of
 * onnx_internal.h, 0 normally); external data resolves next to the file. No graph passes
 * run: the IR is the model as written. On error call er_imported_free(m). */
er_status er_onnx_import_file(const char *path, unsigned flags, er_imported *m);

/* Parse a serialized TensorProto (a .pb test-data file). Data is copied into pool memory.
 * *out_name receives the tensor's name ("" if none). */
er_status er_onnx_parse_tensor(const void *data, size_t size, er_pool *pool, er_tensor *out,
                               const char **out_name);

/* Memory-map (read-only) a whole file; falls back to reading it. The mapping is pushed on
 * *list and released by er_imported_free / er_mappings_free. */
er_status er_map_file(const char *path, er_mapping **list, const void **out_data, size_t *out_size);
void er_mappings_free(er_mapping *list);
#endif
