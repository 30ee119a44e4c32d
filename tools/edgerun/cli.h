#ifndef ER_CLI_H
#define ER_CLI_H
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
#endif
