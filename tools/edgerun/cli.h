#ifndef ER_CLI_H
#define ER_CLI_H
#include <stdio.h>
#include "edgerun.h"

int cmd_run(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_factorize(int argc, char **argv);
int cmd_compare(int argc, char **argv);

/* Exit codes */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_MODEL = 3, EXIT_INPUT = 4 };

/* Print "edgerun: <msg>" for a status on stderr, free it, return code. */
int cli_fail(er_status s, int code);
int cli_usage(const char *msg, const char *usage);

/* Read tensor file `path` (.npy or .pb) and bind it to model input k. bfloat16, float8 and
 * 4-bit inputs accept their bit patterns (uint16/uint8/int8 .npy), as numpy has no such types. */
struct er_pool;
er_status cli_bind_input_file(er_model *m, er_session *s, size_t k, const char *path,
                              struct er_pool *pool);

/* ---- helpers shared by the subcommands (input.c) ---- */
struct er_tensor;
/* Bind an in-memory tensor to model input k (bit patterns accepted as for files). */
er_status cli_bind_input_tensor(er_model *m, er_session *s, size_t k, struct er_tensor *t);
/* Seeded random data for an input (floats in [-1,1), integers 1; symbolic dims = 1) in pool
 * memory. */
er_status cli_random_tensor(const er_tensor_info *info, uint64_t *seed, struct er_pool *pool,
                            struct er_tensor *out);
/* Parse a whole number / a number in [lo, hi]; 1 on success. */
int cli_parse_int(const char *s, int lo, int hi, int *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);
uint64_t cli_now_ns(void); /* monotonic clock */
/* "what [####......] done/total" on stderr when it is a terminal (cleared at done >= total);
 * nothing otherwise. */
void cli_progress(const char *what, int done, int total);
/* Load a model a tool wrote and plan it (static shapes); on failure remove the file and
 * say so (the tool made a model edgerun cannot run: a bug). */
er_status cli_check_written(const char *path);
/* s as a JSON string literal (quoted, escaped). */
void cli_json_str(FILE *f, const char *s);
#endif
