/* mlp: train, evaluate and inspect multilayer perceptrons (libmlp). */
#include "cli.h"

#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mlp COMMAND [options]\n\n"
            "commands:\n"
            "  train          train a network (default: Fashion-MNIST) and save it\n"
            "  eval MODEL     loss and accuracy of a saved model on a data set\n"
            "  predict MODEL  the class (or output values) for each input row\n"
            "  info MODEL     architecture, parameter count and training metadata\n"
            "  graph MODEL    the computation graph as Graphviz DOT (or SVG)\n"
            "  export MODEL   the model as ONNX or as C source for embedded targets\n"
            "  import FILE    an ONNX chain of dense layers as a model\n\n"
            "`mlp COMMAND --help` describes each command; `mlp --version` the version.\n");
}

/* The versions, OpenBLAS's configuration, and the core type that would
 * use this CPU's vector units when OpenBLAS fell back to its SSE kernels. */
static void print_version(void)
{
    printf("mlp %s (libmlp %s)\n", MLP_VERSION_STRING, mlp_version());
    printf("OpenBLAS: %s\n", mlp_blas_config());
    cli_print_blas_hint();
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } cmds[] = {{"train", cmd_train}, {"eval", cmd_eval}, {"predict", cmd_predict},
                {"info", cmd_info}, {"graph", cmd_graph},
                {"export", cmd_export}, {"import", cmd_import}};
    size_t i;

    if (argc < 2) {
        fprintf(stderr, "mlp: missing command: train, eval, predict, info, graph, export or import "
                        "(see mlp --help)\n");
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        print_version();
        return 0;
    }
    for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "mlp: unknown command '%s' (see mlp --help)\n", argv[1]);
    return CLI_USAGE;
}
