/* mlp eval MODEL: loss and accuracy of a saved model on a data set. */
#include "cli.h"

#include <math.h>

int cmd_eval(int argc, char **argv)
{
    const char *data = NULL, *labels = NULL, *header = "auto", *pos[1];
    long label_col = -1;
    cli_opt opts[] = {
        {"data", 'd', CLI_STR, &data, "FILE", "CSV or IDX images (default: the Fashion-MNIST test set)", 0},
        {"labels", 0, CLI_STR, &labels, "FILE", "IDX labels for --data", 0},
        {"header", 0, CLI_STR, &header, "auto|yes|no", "CSV header line (default auto)", 0},
        {"label-column", 0, CLI_LONG, &label_col, "N", "CSV column of the target, from 0 (-1 = last, default)", 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0}};
    size_t n_pos;
    int help, rc;
    mlp_network *net = NULL;
    mlp_dataset *ds = NULL;
    const void *targets;
    double loss = NAN, acc = NAN;
    mlp_status st;

    rc = cli_parse("eval", argc, argv, opts, pos, 1, &n_pos, &help);
    if (rc) return rc;
    if (help) {
        cli_usage(stdout, "eval", "MODEL [--data FILE [--labels FILE]]",
                  "Prints the mean loss and the accuracy of a saved model on a data set\n"
                  "given in raw units (the model applies its own input scaling).", opts);
        return 0;
    }
    if (n_pos != 1) return cli_error(CLI_USAGE, "eval", "needs a MODEL file (see mlp eval --help)");
    if (label_col < -1) return cli_error(CLI_USAGE, "eval", "--label-column must be >= -1");
    st = mlp_load(&net, pos[0]);
    if (st != MLP_OK) return cli_lib_error("eval", pos[0], st);
    if (data == NULL) rc = cli_load_fashion("eval", 1, &ds);
    else rc = cli_load_data("eval", data, labels, header, label_col,
                            cli_loss_wants_classes(mlp_get_loss(net)), &ds);
    if (rc) goto done;
    targets = cli_targets("eval", net, ds);
    if (targets == NULL) {
        rc = CLI_FAIL;
        goto done;
    }
    mlp_reserve(net, 1024); /* speed only: a failure leaves smaller chunks */
    st = mlp_evaluate(net, mlp_dataset_features(ds), mlp_dataset_rows(ds), targets, &loss, &acc);
    if (st != MLP_OK) {
        rc = cli_lib_error("eval", "evaluating", st);
        goto done;
    }
    printf("rows: %zu\nloss: %.6f\n", mlp_dataset_rows(ds), loss);
    if (!isnan(acc)) printf("accuracy: %.2f%%\n", 100 * acc);

done:
    mlp_dataset_destroy(ds);
    mlp_destroy(net);
    return rc;
}
