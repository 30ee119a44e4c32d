/* edgerun — command line. One file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *usage =
    "usage: edgerun <command> [options]\n"
    "\n"
    "commands:\n"
    "  run MODEL [-i FILE]... [-o DIR]   run a model on tensor files (.npy or .pb)\n"
    "  inspect MODEL [--json]            inputs, outputs, op counts, parameters, opset\n"
    "  bench MODEL [-i FILE]... [options] latency, start-up and memory (see bench --help)\n"
    "  quantize MODEL -o OUT --calib DIR  INT8/INT4 quantization to a standard ONNX QDQ model\n"
    "  prune MODEL -o OUT --sparsity S    magnitude pruning (--structured removes channels)\n"
    "  factorize MODEL -o OUT --rank-ratio R  low-rank (SVD) factorization of Gemm/MatMul\n"
    "  compare A B [--data DIR]           sizes, latency and output agreement of two models\n"
    "\n"
    "Run 'edgerun <command> --help' for a command's options.\n";

int cli_fail(er_status s, int code) {
  fprintf(stderr, "edgerun: %s\n", er_status_message(s));
  er_status_free(s);
  return code;
}

/* One line on stderr: the problem and where to look (full usage only without a message). */
int cli_usage(const char *msg, const char *u) {
  if (!msg) {
    fputs(u, stderr);
    return EXIT_USAGE;
  }
  const char *cmd = strstr(u, "edgerun ");
  int n = 0;
  if (cmd) {
    cmd += 8;
    while (cmd[n] && cmd[n] != ' ' && cmd[n] != '\n') n++;
  }
  if (n && strncmp(cmd, "<command>", 9) != 0)
    fprintf(stderr, "edgerun: %s (see 'edgerun %.*s --help')\n", msg, n, cmd);
  else
    fprintf(stderr, "edgerun: %s (see 'edgerun --help')\n", msg);
  return EXIT_USAGE;
}

int main(int argc, char **argv) {
  if (argc < 2) return cli_usage(NULL, usage);
  const char *cmd = argv[1];
  if (!strcmp(cmd, "run")) return cmd_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "inspect")) return cmd_inspect(argc - 1, argv + 1);
  if (!strcmp(cmd, "bench")) return cmd_bench(argc - 1, argv + 1);
  if (!strcmp(cmd, "quantize")) return cmd_quantize(argc - 1, argv + 1);
  if (!strcmp(cmd, "prune")) return cmd_prune(argc - 1, argv + 1);
  if (!strcmp(cmd, "factorize")) return cmd_factorize(argc - 1, argv + 1);
  if (!strcmp(cmd, "compare")) return cmd_compare(argc - 1, argv + 1);
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(usage, stdout);
    return EXIT_OK;
  }
  if (!strcmp(cmd, "--version")) {
    printf("edgerun %d.%d\n", ER_VERSION_MAJOR, ER_VERSION_MINOR);
    return EXIT_OK;
  }
  fprintf(stderr, "edgerun: unknown command '%s' (see 'edgerun --help')\n", cmd);
  return EXIT_USAGE;
}
