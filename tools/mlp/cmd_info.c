/* mlp info MODEL: architecture, parameter count and training metadata. */
#include "cli.h"

#include <stdlib.h>

int cmd_info(int argc, char **argv)
{
    cli_opt opts[] = {{NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0}};
    const char *pos[1];
    size_t n_pos, i, n_layers;
    int help, rc, kind;
    mlp_network *net = NULL;
    mlp_status st;

    rc = cli_parse("info", argc, argv, opts, pos, 1, &n_pos, &help);
    if (rc) return rc;
    if (help) {
        cli_usage(stdout, "info", "MODEL",
                  "Prints a saved model's architecture, parameter count, settings and\n"
                  "training metadata.", opts);
        return 0;
    }
    if (n_pos != 1) return cli_error(CLI_USAGE, "info", "needs a MODEL file (see mlp info --help)");
    st = mlp_load(&net, pos[0]);
    if (st != MLP_OK) return cli_lib_error("info", pos[0], st);

    n_layers = mlp_num_layers(net);
    printf("model: %s\narchitecture: ", pos[0]);
    for (i = 0; i <= n_layers; i++) printf("%s%zu", i ? "-" : "", mlp_layer_size(net, i));
    printf("\nlayers:\n");
    for (i = 0; i < n_layers; i++) {
        size_t in = mlp_layer_size(net, i), out = mlp_layer_size(net, i + 1);
        printf("  %zu: %zu -> %zu %s, %zu parameters", i, in, out,
               mlp_activation_name(mlp_layer_activation(net, i)), in * out + out);
        if (mlp_get_dropout(net, i) > 0) printf(", dropout %g on its input", mlp_get_dropout(net, i));
        printf("\n");
    }
    printf("parameters: %zu\n", mlp_num_params(net));
    printf("loss: %s\n", mlp_loss_name(mlp_get_loss(net)));
    printf("l2: %g\n", mlp_get_l2(net));
    if (mlp_has_input_scaling(net)) {
        size_t n = mlp_input_size(net);
        float *off = malloc(n * sizeof *off), *sc = malloc(n * sizeof *sc);
        if (off != NULL && sc != NULL && mlp_get_input_scaling(net, off, sc) == MLP_OK) {
            float olo = off[0], ohi = off[0], slo = sc[0], shi = sc[0];
            for (i = 1; i < n; i++) {
                if (off[i] < olo) olo = off[i];
                if (off[i] > ohi) ohi = off[i];
                if (sc[i] < slo) slo = sc[i];
                if (sc[i] > shi) shi = sc[i];
            }
            printf("input scaling: (x - offset) * scale, offset in [%g, %g], scale in [%g, %g]\n",
                   olo, ohi, slo, shi);
        }
        free(off);
        free(sc);
    } else {
        printf("input scaling: none\n");
    }
    printf("seed: %llu\n", (unsigned long long)mlp_seed(net));
    printf("epochs trained: %llu\n", (unsigned long long)mlp_epochs_trained(net));
    printf("optimiser steps: %llu\n", (unsigned long long)mlp_steps_trained(net));
    kind = mlp_optimizer_state_kind(net);
    printf("optimiser state: %s\n",
           kind >= 0 && mlp_optimizer_name((mlp_optimizer)kind) ? mlp_optimizer_name((mlp_optimizer)kind)
                                                                : "none");
    mlp_destroy(net);
    return 0;
}
