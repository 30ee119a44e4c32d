/*
 * edgerun.h — the one public header of libedgerun.
 *
 * Ownership: every object created by er_*_create / er_*_load is released by the
 * matching er_*_destroy. Pointers returned by getters stay valid until the owning
 * object is destroyed (or, for session outputs, until the next er_session_run).
 *
 * Errors: every fallible call returns er_status. NULL means success; anything else
 * carries a code and a readable message and must be released with er_status_free.
 * There is no global state: two models or sessions never share mutable data.
 */
#ifndef EDGERUN_H
#define EDGERUN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ER_VERSION_MAJOR 0
#define ER_VERSION_MINOR 1
#define ER_MAX_RANK 8

/* ---- status ------------------------------------------------------------ */
typedef enum er_code {
  ER_OK = 0,
  ER_INVALID_ARGUMENT = 1, /* caller passed something wrong (shape, type, index) */
  ER_OUT_OF_MEMORY = 2,
  ER_UNSUPPORTED = 3,      /* valid model, feature not implemented */
  ER_INVALID_MODEL = 4,    /* model file is corrupt or violates the ONNX spec */
  ER_IO = 5,               /* file could not be read or written */
  ER_OUT_OF_RANGE = 6,     /* index or value outside what the op allows */
  ER_INTERNAL = 7,
  ER_NEEDS_DATA = 8        /* internal: shape depends on tensor values not yet known */
} er_code;

typedef struct er_status_rec *er_status; /* NULL == success */

er_code er_status_code(er_status s);        /* ER_OK for NULL */
const char *er_status_message(er_status s); /* "" for NULL */
void er_status_free(er_status s);

/* ---- element types (values equal ONNX TensorProto.DataType) ------------- */
typedef enum er_dtype {
  ER_UNDEFINED = 0, ER_F32 = 1, ER_U8 = 2, ER_I8 = 3, ER_U16 = 4, ER_I16 = 5,
  ER_I32 = 6, ER_I64 = 7, ER_STRING = 8, ER_BOOL = 9, ER_F16 = 10, ER_F64 = 11,
  ER_U32 = 12, ER_U64 = 13, ER_C64 = 14, ER_C128 = 15, ER_BF16 = 16,
  ER_F8E4M3FN = 17, ER_F8E4M3FNUZ = 18, ER_F8E5M2 = 19, ER_F8E5M2FNUZ = 20,
  ER_U4 = 21, ER_I4 = 22, ER_F4E2M1 = 23
} er_dtype;

const char *er_dtype_name(er_dtype t);

/* ---- model ----------------------------------------------------------- */
typedef struct er_model er_model;

typedef struct er_tensor_info {
  const char *name;
  er_dtype dtype;
  int rank;                          /* -1 if the model gives no shape */
  int64_t dims[ER_MAX_RANK];         /* -1 for a symbolic or unknown dimension */
  const char *dim_names[ER_MAX_RANK];/* symbolic name (e.g. "batch") or NULL */
} er_tensor_info;

/* Load an ONNX model. External data files are resolved next to `path`.
 * The file is memory-mapped; weights are used in place where aligned. */
er_status er_model_load_file(const char *path, er_model **out_model);
/* Load from memory. The buffer must outlive the model (it is not copied).
 * `base_dir` resolves external data (may be NULL: external data is then an error). */
er_status er_model_load_buffer(const void *data, size_t size, const char *base_dir,
                               er_model **out_model);
void er_model_destroy(er_model *model);

/* Graph inputs exclude inputs that are backed by an initializer. */
size_t er_model_input_count(const er_model *model);
size_t er_model_output_count(const er_model *model);
er_status er_model_input_info(const er_model *model, size_t index, er_tensor_info *out_info);
er_status er_model_output_info(const er_model *model, size_t index, er_tensor_info *out_info);

/* ---- session ----------------------------------------------------------- */
typedef struct er_session er_session;

typedef struct er_session_options {
  void *arena;        /* optional caller-owned arena for the main graph (NULL: the session
                         allocates); If branches planned statically get their own at plan time */
  size_t arena_bytes; /* its size */
  int threads;        /* 0 = default */
} er_session_options;

/* The model must outlive the session. opts may be NULL. A model may serve several
 * sessions, also on different threads; one session is used by one thread at a time.
 * Memory: weights a kernel packs when the session plans are not kept twice — their pages
 * in the mapped file (or in the importer's copy, while the model has one session) are
 * released and read back only if something plans again. */
er_status er_session_create(er_model *model, const er_session_options *opts,
                            er_session **out_session);
void er_session_destroy(er_session *session);

/* Copy an input tensor into the session. Shapes may change between runs; a new
 * shape re-plans the session (allocation happens there, never inside run). */
er_status er_session_set_input(er_session *session, size_t index, er_dtype dtype,
                               const int64_t *dims, int rank, const void *data,
                               size_t nbytes);
er_status er_session_run(er_session *session);

typedef struct er_tensor_view {
  er_dtype dtype;
  int rank;
  int64_t dims[ER_MAX_RANK];
  const void *data; /* owned by the session; valid until the next run */
  size_t nbytes;
} er_tensor_view;

er_status er_session_get_output(er_session *session, size_t index, er_tensor_view *out_view);
/* Bytes of the planned arena, If branches' included (0 before the first plan, or when
 * shapes are only known while running). */
size_t er_session_arena_bytes(const er_session *session);

#ifdef __cplusplus
}
#endif
#endif /* EDGERUN_H */
