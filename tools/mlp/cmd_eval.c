/* mlp eval MODEL: loss and accuracy of a saved model on a data set. */
#include "cli.h"

#include <math.h>

/* The weighted mean loss and accuracy, sum w_i x_i / sum w_i, row by row
 * (mlp_evaluate averages without weights). */
static int weighted_eval(mlp_network *net, const cli_weighted *w, const void *targets)
{
    size_t i, n_out = mlp_output_size(net);
    int classes = cli_loss_wants_classes(mlp_get_loss(net));
    double sw = 0, sl = 0, sa = 0;
    for (i = 0; i < w->rows; i++) {
        const void *t = classes ? (const void *)((const int32_t *)targets + i)
                                : (const void *)((const float *)targets + i * n_out);
        double l = NAN, a = NAN;
        mlp_status st;
        if (w->w[i] == 0.0f) continue;
        st = mlp_evaluate(net, w->X + i * w->cols, 1, t, &l, &a);
        if (st != MLP_OK) return cli_lib_error("eval", "evaluating", st);
        sw += w->w[i];
        sl += w->w[i] * l;
        sa += w->w[i] * a;
    }
    printf("weighted loss: %.6f\n", sl / sw);
    if (classes) printf("weighted accuracy: %.2f%%\n", 100 * sa / sw);
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    const char *data = NULL, *labels = NULL, *header = "auto", *pos[1];
    const char *max_bytes = NULL;
    long label_col = -1, weight_col = -2;
    cli_opt opts[] = {
        {"data", 'd', CLI_STR, &data, "FILE", "CSV or IDX images (default: the Fashion-MNIST test set)", 0},
        {"labels", 0, CLI_STR, &labels, "FILE", "IDX labels for --data", 0},
        {"header", 0, CLI_STR, &header, "auto|yes|no", "CSV header line (default auto)", 0},
        {"label-column", 0, CLI_LONG, &label_col, "N", "CSV column of the target, from 0 (-1 = last, default)", 0},
        {"weight-column", 0, CLI_LONG, &weight_col, "N", "CSV column of each row's weight (as in mlp train),\n"
         "                               from 0 (-1 = last): taken out of the features, and\n"
         "                               the weighted loss and accuracy are printed too", 0},
        {"max-data-bytes", 0, CLI_STR, &max_bytes, "N", "refuse data that would take more than N bytes\n"
         "                               to load (suffix K, M or G; default: half the\n"
         "                               physical memory; 0: no bound)", 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0}};
    cli_weighted w = {0};
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
    if (weight_col < -1 && cli_seen(opts, "weight-column"))
        return cli_error(CLI_USAGE, "eval", "--weight-column must be >= -1");
    if (weight_col != -2 && (data == NULL || labels != NULL))
        return cli_error(CLI_USAGE, "eval", "--weight-column needs CSV --data");
    if (max_bytes != NULL && cli_max_data_bytes_option("eval", max_bytes) != 0) return CLI_USAGE;
    st = mlp_load(&net, pos[0]);
    if (st != MLP_OK) return cli_lib_error("eval", pos[0], st);
    if (data == NULL) rc = cli_load_fashion("eval", 1, &ds);
    else rc = cli_load_data("eval", data, labels, header, label_col,
                            cli_loss_wants_classes(mlp_get_loss(net)), &ds);
    if (rc == 0 && weight_col != -2) rc = cli_take_weights("eval", ds, weight_col, label_col, 1, &w);
    if (rc) goto done;
    targets = cli_targets_cols("eval", net, ds, w.X ? w.cols : mlp_dataset_cols(ds));
    if (targets == NULL) {
        rc = CLI_FAIL;
        goto done;
    }
    mlp_reserve(net, 1024); /* speed only: a failure leaves smaller chunks */
    st = mlp_evaluate(net, w.X ? w.X : mlp_dataset_features(ds), mlp_dataset_rows(ds), targets,
                      &loss, &acc);
    if (st != MLP_OK) {
        rc = cli_lib_error("eval", "evaluating", st);
        goto done;
    }
    printf("rows: %zu\nloss: %.6f\n", mlp_dataset_rows(ds), loss);
    if (!isnan(acc)) printf("accuracy: %.2f%%\n", 100 * acc);
    if (w.w != NULL) rc = weighted_eval(net, &w, targets);

done:
    cli_weighted_free(&w);
    mlp_dataset_destroy(ds);
    mlp_destroy(net);
    return rc;
}
