/* The `mlp` command line, run as a child process: exit codes and one-line
 * messages on bad input, and a train / info / eval / predict / graph round
 * trip on small CSV files made in a temporary folder. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <mlp.h>

#include "tmpdir.h"

#ifndef MLP_CLI_PATH
#error "MLP_CLI_PATH must name the mlp binary"
#endif

/* What a run left behind. */
static int status;
static char out[1 << 16], err[1 << 12];

static void read_all(const char *file, char *buf, size_t cap)
{
    FILE *f = fopen(file, "rb");
    size_t n = 0;
    if (f != NULL) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

/* Runs mlp with the arguments (NULL-terminated) in the temporary folder,
 * with env_kv ("NAME=value", may be NULL) added to the environment. */
static int run_env(const char *env_kv, ...)
{
    const char *argv[48];
    char out_file[600], err_file[600];
    va_list ap;
    int argc = 0;
    pid_t pid;

    argv[argc++] = MLP_CLI_PATH;
    va_start(ap, env_kv);
    while ((argv[argc] = va_arg(ap, const char *)) != NULL) argc++;
    va_end(ap);
    snprintf(out_file, sizeof out_file, "%s/.stdout", tmpdir_root());
    snprintf(err_file, sizeof err_file, "%s/.stderr", tmpdir_root());
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0 || chdir(tmpdir_root()) != 0) _exit(126);
        dup2(o, 1);
        dup2(e, 2);
        if (env_kv != NULL) {
            char name[64];
            size_t eq = strcspn(env_kv, "=");
            if (eq >= sizeof name) _exit(126);
            memcpy(name, env_kv, eq);
            name[eq] = '\0';
            setenv(name, env_kv + eq + 1, 1);
        }
        execv(MLP_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* never a crash */
    if (!WIFEXITED(status)) fail_msg("%s %s: killed by signal %d", argv[1], argc > 2 ? argv[2] : "",
                                     WTERMSIG(status));
    read_all(out_file, out, sizeof out);
    read_all(err_file, err, sizeof err);
    return WEXITSTATUS(status);
}

#define run(...) run_env(NULL, __VA_ARGS__, (const char *)NULL)

/* A failure: the exit code, and exactly one line on stderr naming what. */
static void expect_error(int rc, int code, const char *what)
{
    const char *nl = strchr(err, '\n');
    if (rc != code) fail_msg("exit %d, expected %d; stderr: %s", rc, code, err);
    if (strncmp(err, "mlp", 3) != 0 || nl == NULL || nl[1] != '\0')
        fail_msg("stderr is not one line starting with 'mlp': '%s'", err);
    if (strstr(err, what) == NULL) fail_msg("stderr '%s' does not mention '%s'", err, what);
}

static void write_text(const char *name, const char *text)
{
    FILE *f = fopen(tmpdir_path(name), "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Two classes split by x0 + x1 > 0 (a margin around the line left empty),
 * from a fixed LCG; with_labels writes the class as the last column. */
static void write_blobs(const char *name, int rows, uint32_t seed, int with_labels)
{
    FILE *f = fopen(tmpdir_path(name), "w");
    int i = 0;
    assert_non_null(f);
    fprintf(f, with_labels ? "x0,x1,class\n" : "x0,x1\n");
    while (i < rows) {
        double a, b;
        seed = seed * 1664525u + 1013904223u;
        a = (double)(seed >> 8) / (1 << 24) * 20 - 10;
        seed = seed * 1664525u + 1013904223u;
        b = (double)(seed >> 8) / (1 << 24) * 20 - 10;
        if (a + b > -2 && a + b < 2) continue;
        fprintf(f, "%.3f,%.3f", 100 + a, b * 0.01); /* raw units: the model scales */
        if (with_labels) fprintf(f, ",%d", a + b > 0);
        fputc('\n', f);
        i++;
    }
    assert_int_equal(fclose(f), 0);
}

/* ---- bad arguments and bad files ------------------------------------- */

static void test_bad_arguments(void **state)
{
    expect_error(run_env(NULL, (const char *)NULL), 2, "missing command");
    expect_error(run("frobnicate"), 2, "unknown command 'frobnicate'");
    expect_error(run("train", "--bogus"), 2, "unknown option '--bogus'");
    expect_error(run("train", "--epochs"), 2, "--epochs needs a value");
    expect_error(run("train", "--epochs", "ten"), 2, "--epochs takes a count");
    expect_error(run("train", "--epochs=-3"), 2, "--epochs takes a count");
    expect_error(run("train", "--lr", "1e999"), 2, "--lr takes a number");
    expect_error(run("train", "--lr", "fast"), 2, "--lr takes a number");
    expect_error(run("train", "--optimizer", "sgdx"), 2, "unknown optimizer 'sgdx'");
    expect_error(run("train", "--schedule", "linear"), 2, "unknown schedule");
    expect_error(run("train", "--activation", "swish"), 2, "unknown activation 'swish'");
    expect_error(run("train", "--loss", "hinge"), 2, "unknown loss 'hinge'");
    expect_error(run("train", "--hidden", "12,,4"), 2, "--hidden takes sizes");
    expect_error(run("train", "--hidden", "0"), 2, "--hidden takes sizes");
    expect_error(run("train", "--layers", "784"), 2, "--layers takes sizes");
    expect_error(run("train", "--dropout", "1"), 2, "dropout");
    expect_error(run("train", "--validation", "1.5"), 2, "--validation");
    expect_error(run("train", "--batch-size", "0"), 2, "--batch-size");
    expect_error(run("train", "--seed", "-1"), 2, "--seed");
    expect_error(run("train", "--quiet=yes"), 2, "--quiet takes no value");
    expect_error(run("train", "extra"), 2, "unexpected argument 'extra'");
    expect_error(run("eval"), 2, "needs a MODEL");
    expect_error(run("predict", "m.mlp"), 2, "needs --data");
    expect_error(run("info", "a.mlp", "b.mlp"), 2, "unexpected argument 'b.mlp'");
    expect_error(run("graph", "-x"), 2, "unknown option '-x'");
}

/* The library's names joined as the CLI lists them: "a, b, c". */
static void join(char *buf, size_t cap, int schedules)
{
    const char *name;
    size_t len = 0;
    int i;
    buf[0] = '\0';
    for (i = 0; (name = schedules ? mlp_schedule_name((mlp_schedule)i)
                                  : mlp_optimizer_name((mlp_optimizer)i)) != NULL; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", name);
}

/* --help and the messages list every optimiser and schedule the library has. */
static void test_names_from_library(void **state)
{
    char list[512], want[600];
    join(list, sizeof list, 0);
    assert_non_null(strstr(list, "adamw"));
    assert_int_equal(run("train", "--help"), 0);
    snprintf(want, sizeof want, "%s (default adamw)", list);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "unknown optimizer 'sgdx' (%s)", list);
    expect_error(run("train", "--optimizer", "sgdx"), 2, want);
    join(list, sizeof list, 1);
    snprintf(want, sizeof want, "%s (default cosine)", list);
    assert_int_equal(run("train", "--help"), 0);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "unknown schedule 'linear' (%s)", list);
    expect_error(run("train", "--schedule", "linear"), 2, want);
}

static void test_bad_files(void **state)
{
    write_text("bad.csv", "a,b,class\n1,2,0\n3,x,1\n");
    write_text("ragged.csv", "1,2,0\n3,1\n");
    write_text("neg.csv", "1,2,0\n3,4,-1\n");
    write_text("empty.csv", "");
    write_text("corrupt.mlp", "this is not a model file, not even close\n");

    expect_error(run("train", "--data", "missing.csv"), 1, "missing.csv");
    expect_error(run("train", "--data", "bad.csv"), 1, "line 3, column 2");
    expect_error(run("train", "--data", "ragged.csv"), 1, "line 2");
    expect_error(run("train", "--data", "neg.csv"), 1, "class label");
    expect_error(run("train", "--data", "empty.csv"), 1, "empty");
    expect_error(run("train", "--data", "bad.csv", "--header", "maybe"), 2, "--header");
    expect_error(run("train", "--data", "corrupt.mlp", "--labels", "bad.csv"), 1, "magic");
    expect_error(run_env("MLP_FASHION_MNIST_DIR=/nonexistent/fashion", "train", (const char *)NULL),
                 1, "apt-get install dataset-fashion-mnist");
    expect_error(run_env("MLP_FASHION_MNIST_DIR=/nonexistent/fashion", "eval", "corrupt.mlp",
                         (const char *)NULL), 1, "corrupt.mlp");

    expect_error(run("info", "missing.mlp"), 1, "missing.mlp");
    expect_error(run("info", "corrupt.mlp"), 1, "corrupt.mlp");
    expect_error(run("eval", "corrupt.mlp", "--data", "bad.csv"), 1, "corrupt.mlp");
    expect_error(run("predict", "corrupt.mlp", "--data", "bad.csv"), 1, "corrupt.mlp");
    expect_error(run("graph", "corrupt.mlp"), 1, "corrupt.mlp");
    expect_error(run("graph", "empty.csv"), 1, "empty.csv");
}

/* ---- a round trip ------------------------------------------------------ */

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void test_round_trip(void **state)
{
    char text[1 << 16], c_out[1 << 16];
    double acc = 0;
    const char *p, *hint;
    int i, agree = 0;

    write_blobs("train.csv", 400, 1, 1);
    write_blobs("test.csv", 200, 2, 1);
    write_blobs("inputs.csv", 50, 3, 0);

    /* train: --help first */
    assert_int_equal(run("train", "--help"), 0);
    assert_non_null(strstr(out, "usage: mlp train"));
    assert_non_null(strstr(out, "--hidden"));

    assert_int_equal(run("train", "--data", "train.csv", "--test", "test.csv", "--hidden", "8",
                         "--epochs", "15", "--batch-size", "16", "--lr", "0.01", "--dropout", "0",
                         "--input-dropout", "0", "--validation", "0.1", "--seed", "3",
                         "--threads", "1", "-o", "m.mlp"), 0);
    p = strstr(out, "test accuracy: ");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "test accuracy: %lf%%", &acc), 1);
    if (acc < 95) fail_msg("test accuracy %.2f%% on a separable problem\n%s", acc, out);
    {
        /* not a terminal: one plain line per epoch */
        int epochs = 0;
        for (p = out; (p = strstr(p, "\nepoch ")) != NULL; p++) epochs++;
        assert_int_equal(epochs, 15);
        assert_non_null(strstr(out, "\nepoch 15/15  loss "));
    }
    assert_null(strstr(out, "\r")); /* not a terminal: plain lines, no bar */

    assert_non_null(strstr(out, "threads: 1\n"));
    expect_error(run("train", "--data", "train.csv", "--augment", "flip"), 2, "square images");
    expect_error(run("train", "--data", "train.csv", "--augment", "sideways"), 2, "--augment");
    /* 2 x 2 "images" whose class is which column is bright: mirroring keeps
     * the class of the rows (top/bottom), so training still succeeds */
    {
        FILE *f = fopen(tmpdir_path("img.csv"), "w");
        assert_non_null(f);
        for (i = 0; i < 64; i++)
            fprintf(f, i % 2 ? "200,200,0,0,1\n" : "0,0,200,200,0\n");
        fclose(f);
        assert_int_equal(run("train", "--data", "img.csv", "--augment", "flip", "--hidden", "4",
                             "--epochs", "20", "--batch-size", "8", "--lr", "0.02", "--dropout", "0",
                             "--input-dropout", "0", "--validation", "0.25", "--threads", "1",
                             "-o", "img.mlp"), 0);
        assert_non_null(strstr(out, "augment flip"));
        assert_non_null(strstr(out, "val_acc 100.00%"));
    }

    /* the learning curve files beside the model */
    read_all(tmpdir_path("m-curve.csv"), text, sizeof text);
    assert_int_equal(strncmp(text, "epoch,train_loss,", 17), 0);
    assert_int_equal(count_lines(text), 16);
    read_all(tmpdir_path("m-curve.svg"), text, sizeof text);
    assert_non_null(strstr(text, "<svg"));
    assert_non_null(strstr(text, "<polyline"));
    assert_non_null(strstr(text, "</svg>"));

    /* info */
    assert_int_equal(run("info", "m.mlp"), 0);
    assert_non_null(strstr(out, "architecture: 2-8-2"));
    assert_non_null(strstr(out, "parameters: 42\n"));
    assert_non_null(strstr(out, "loss: softmax_cross_entropy"));
    assert_non_null(strstr(out, "epochs trained: 15"));
    assert_non_null(strstr(out, "optimiser state: adamw\n"));
    assert_non_null(strstr(out, "input scaling: (x - offset)"));

    /* eval agrees with the accuracy train reported */
    assert_int_equal(run("eval", "m.mlp", "--data", "test.csv"), 0);
    p = strstr(out, "accuracy: ");
    assert_non_null(p);
    {
        double acc2;
        assert_int_equal(sscanf(p, "accuracy: %lf%%", &acc2), 1);
        assert_float_equal(acc2, acc, 0.005);
    }

    /* predict: one class per row, right on (nearly) every row; the file
     * with labels gives the same classes as the one without. */
    assert_int_equal(run("predict", "m.mlp", "--data", "inputs.csv"), 0);
    assert_int_equal(count_lines(out), 50);
    snprintf(c_out, sizeof c_out, "%s", out);
    write_blobs("inputs_labelled.csv", 50, 3, 1);
    assert_int_equal(run("predict", "m.mlp", "--data", "inputs_labelled.csv", "-o", "pred.txt"), 0);
    read_all(tmpdir_path("pred.txt"), text, sizeof text);
    assert_string_equal(text, c_out);
    read_all(tmpdir_path("inputs_labelled.csv"), text, sizeof text);
    p = strchr(text, '\n') + 1;
    for (i = 0; i < 50; i++) {
        int label = p[strcspn(p, "\n") - 1] - '0';
        agree += c_out[2 * i] - '0' == label;
        p = strchr(p, '\n') + 1;
    }
    if (agree < 47) fail_msg("predict agrees with %d of 50 labels", agree);
    assert_int_equal(run("predict", "m.mlp", "--data", "inputs.csv", "--probabilities"), 0);
    assert_int_equal(count_lines(out), 50);
    assert_non_null(strchr(out, ','));
    /* output does not depend on the locale (a German one writes 0,5) */
    assert_int_equal(run_env("LC_ALL=de_DE.UTF-8", "predict", "m.mlp", "--data", "inputs.csv",
                             "--probabilities", (const char *)NULL), 0);
    snprintf(text, sizeof text, "%s", out);
    assert_int_equal(run("predict", "m.mlp", "--data", "inputs.csv", "--probabilities"), 0);
    assert_string_equal(text, out);
    expect_error(run("predict", "m.mlp", "--data", "bad_cols.csv"), 1, "bad_cols.csv");
    write_text("bad_cols.csv", "1,2,3,4\n");
    expect_error(run("predict", "m.mlp", "--data", "bad_cols.csv"), 1, "4 columns");

    /* graph: DOT to stdout, to a file, and SVG through Graphviz */
    assert_int_equal(run("graph", "m.mlp"), 0);
    assert_int_equal(strncmp(out, "digraph", 7), 0);
    assert_int_equal(run("graph", "m.mlp", "-o", "g.dot"), 0);
    read_all(tmpdir_path("g.dot"), text, sizeof text);
    assert_int_equal(strncmp(text, "digraph", 7), 0);
    assert_int_equal(run("graph", "m.mlp", "-o", "g.svg"), 0);
    read_all(tmpdir_path("g.svg"), text, sizeof text);
    if (strstr(text, "<svg") == NULL)
        fail_msg("no SVG from Graphviz (scripts/deps.sh installs graphviz): %s", err);
    expect_error(run_env("PATH=/nonexistent", "graph", "m.mlp", "-o", "h.svg", (const char *)NULL),
                 1, "apt-get install graphviz");

    /* every command's --help */
    assert_int_equal(run("eval", "--help"), 0);
    assert_non_null(strstr(out, "usage: mlp eval"));
    assert_int_equal(run("predict", "--help"), 0);
    assert_non_null(strstr(out, "usage: mlp predict"));
    assert_int_equal(run("info", "--help"), 0);
    assert_non_null(strstr(out, "usage: mlp info"));
    assert_int_equal(run("graph", "--help"), 0);
    assert_non_null(strstr(out, "usage: mlp graph"));
    assert_int_equal(run("--help"), 0);
    assert_non_null(strstr(out, "usage: mlp COMMAND"));
    assert_int_equal(run("--version"), 0);
    assert_non_null(strstr(out, "mlp 0."));
    assert_non_null(strstr(out, "\nOpenBLAS: "));
    /* the hint where OpenBLAS fell back to SSE (test_blas checks when: under
     * valgrind the child and this process may see different CPUs) */
    if ((hint = strstr(out, "OPENBLAS_CORETYPE=")) != NULL)
        assert_true(strncmp(hint + 18, "SkylakeX ", 9) == 0 || strncmp(hint + 18, "Haswell ", 8) == 0);

    /* a model file cut short is refused with one line */
    {
        FILE *f = fopen(tmpdir_path("m.mlp"), "rb");
        size_t n;
        assert_non_null(f);
        n = fread(text, 1, sizeof text, f);
        fclose(f);
        f = fopen(tmpdir_path("cut.mlp"), "wb");
        assert_non_null(f);
        fwrite(text, 1, n / 2, f);
        fclose(f);
        expect_error(run("info", "cut.mlp"), 1, "cut.mlp");
        expect_error(run("eval", "cut.mlp", "--data", "test.csv"), 1, "cut.mlp");
    }
}

/* Regression: float targets, mse, values printed per row. */
static void test_regression(void **state)
{
    FILE *f = fopen(tmpdir_path("reg.csv"), "w");
    int i, lines;
    assert_non_null(f);
    fprintf(f, "y,x\n");
    for (i = 0; i < 200; i++) fprintf(f, "%g,%g\n", 3.0 * (i % 20) / 20 - 1, (double)(i % 20) / 20);
    fclose(f);
    assert_int_equal(run("train", "--data", "reg.csv", "--task", "regress", "--label-column", "0",
                         "--hidden", "8", "--epochs", "30", "--lr", "0.01", "--batch-size", "16",
                         "--dropout", "0",
                         "--input-dropout", "0", "--validation", "0", "--threads", "1", "-o",
                         "r.mlp", "--plot", "none", "--curve-csv", "none", "-q"), 0);
    assert_null(strstr(out, "epoch"));
    assert_false(access(tmpdir_path("r-curve.csv"), F_OK) == 0);
    assert_int_equal(run("info", "r.mlp"), 0);
    assert_non_null(strstr(out, "loss: mse"));
    assert_non_null(strstr(out, "architecture: 1-8-1"));
    write_text("xs.csv", "0.5\n0\n");
    assert_int_equal(run("predict", "r.mlp", "--data", "xs.csv"), 0);
    lines = count_lines(out);
    assert_int_equal(lines, 2);
    {
        double y0, y1;
        assert_int_equal(sscanf(out, "%lf\n%lf", &y0, &y1), 2);
        assert_float_equal(y0, 0.5, 0.25);
        assert_float_equal(y1, -1.0, 0.25);
    }
    expect_error(run("train", "--data", "reg.csv", "--task", "regress", "--label-column", "0",
                     "--loss", "softmax_cross_entropy"), 2, "does not fit");
}

/* The full-batch optimisers by name, with their options. */
static void test_full_batch_optimizers(void **state)
{
    static const char *const opts[2] = {"lbfgs", "irprop"};
    FILE *f = fopen(tmpdir_path("xor.csv"), "w");
    int i;
    (void)state;
    assert_non_null(f);
    for (i = 0; i < 40; i++) fprintf(f, "%d,%d,%d\n", i % 2, (i / 2) % 2, (i % 2) ^ ((i / 2) % 2));
    fclose(f);
    for (i = 0; i < 2; i++) {
        assert_int_equal(run("train", "--data", "xor.csv", "--header", "no", "--hidden", "8",
                             "--activation", "tanh", "--optimizer", opts[i], "--epochs", "300",
                             "--tol", "1e-6", "--max-fun", "2000", "--dropout", "0",
                             "--input-dropout", "0", "--validation", "0", "--threads", "1",
                             "-o", "x.mlp", "--plot", "none", "--curve-csv", "none", "-q"), 0);
        assert_int_equal(run("info", "x.mlp"), 0);
        assert_non_null(strstr(out, opts[i]));
        assert_int_equal(run("eval", "x.mlp", "--data", "xor.csv", "--header", "no"), 0);
        assert_non_null(strstr(out, "accuracy: 100.00%"));
    }
    expect_error(run("train", "--data", "xor.csv", "--optimizer", "lbfgs", "--tol", "-1"), 2, "tol");
}

/* ---- per-row weights and the data bound ------------------------------ */

/* 40 noisy rows (x0, x1, class) from a fixed LCG; weight(i) < 0 leaves row
 * i out. The weighted file puts the weight in column 1, between x0 and x1;
 * the plain file repeats row i weight(i) times instead. */
static void write_weighted(const char *weighted, const char *plain, int (*weight)(int))
{
    FILE *fw = fopen(tmpdir_path(weighted), "w"), *fp = fopen(tmpdir_path(plain), "w");
    uint32_t seed = 7;
    int i, k;
    assert_non_null(fw);
    assert_non_null(fp);
    fprintf(fw, "x0,w,x1,class\n");
    fprintf(fp, "x0,x1,class\n");
    for (i = 0; i < 40; i++) {
        double a, b;
        int c;
        seed = seed * 1664525u + 1013904223u;
        a = (double)(seed >> 8) / (1 << 24) * 4 - 2;
        seed = seed * 1664525u + 1013904223u;
        b = (double)(seed >> 8) / (1 << 24) * 4 - 2;
        c = (a + b > 0) ^ (i % 7 == 0); /* label noise: the optimum is finite */
        fprintf(fw, "%.4f,%d,%.4f,%d\n", a, weight(i), b, c);
        for (k = 0; k < weight(i); k++) fprintf(fp, "%.4f,%.4f,%d\n", a, b, c);
    }
    assert_int_equal(fclose(fw), 0);
    assert_int_equal(fclose(fp), 0);
}

static int weight_two(int i) { return i < 6 ? 2 : 1; }
static int weight_zero(int i) { return i >= 32 ? 0 : 1; }

/* Full-batch gradient descent (one batch of all rows per epoch, so the
 * shuffle cannot matter): the weighted and the repeated rows give the same
 * gradients at every step, so the same trajectory to float rounding, with
 * no need to converge. weight_col: the option's value or NULL. */
static int train_full_batch(const char *data, const char *model, const char *weight_col)
{
    return run("train", "--data", data, "--hidden", "4", "--activation", "tanh", "--optimizer",
               "sgd", "--lr", "0.3", "--schedule", "constant", "--batch-size", "64", "--epochs",
               "200", "--scale", "none", "--dropout", "0", "--input-dropout", "0", "--validation",
               "0", "--threads", "1", "-o", model, "--plot", "none", "--curve-csv", "none", "-q",
               weight_col ? "--weight-column" : NULL, weight_col);
}

/* The two saved models give the same outputs on a grid of inputs. */
static void expect_same_model(const char *a, const char *b)
{
    mlp_network *na = NULL, *nb = NULL;
    float X[50 * 2], Ya[50 * 2], Yb[50 * 2];
    int i;
    assert_int_equal(mlp_load(&na, tmpdir_path(a)), MLP_OK);
    assert_int_equal(mlp_load(&nb, tmpdir_path(b)), MLP_OK);
    for (i = 0; i < 50; i++) {
        X[2 * i] = (float)(i % 10) * 0.4f - 2.0f;
        X[2 * i + 1] = (float)(i / 10) * 0.8f - 2.0f;
    }
    assert_int_equal(mlp_forward(na, X, 50, Ya), MLP_OK);
    assert_int_equal(mlp_forward(nb, X, 50, Yb), MLP_OK);
    for (i = 0; i < 100; i++)
        if (!(fabsf(Ya[i] - Yb[i]) <= 1e-5f))
            fail_msg("%s and %s differ at %d: %.8g vs %.8g", a, b, i, Ya[i], Yb[i]);
    mlp_destroy(na);
    mlp_destroy(nb);
}

static void test_weight_column(void **state)
{
    char pw[sizeof out], pp[sizeof out];
    double wl = 0, pl = 1;
    (void)state;
    /* a weight of 2 is the row twice; a weight of 0 is the row left out */
    write_weighted("w2.csv", "dup.csv", weight_two);
    assert_int_equal(train_full_batch("w2.csv", "w2.mlp", "1"), 0);
    assert_int_equal(train_full_batch("dup.csv", "dup.mlp", NULL), 0);
    expect_same_model("w2.mlp", "dup.mlp");
    write_weighted("w0.csv", "cut.csv", weight_zero);
    assert_int_equal(train_full_batch("w0.csv", "w0.mlp", "1"), 0);
    assert_int_equal(train_full_batch("cut.csv", "cut.mlp", NULL), 0);
    expect_same_model("w0.mlp", "cut.mlp");
    assert_int_equal(run("info", "w2.mlp"), 0); /* the usual model file */
    assert_non_null(strstr(out, "architecture: 2-4-2"));

    /* eval: the weighted loss is the loss on the duplicated rows */
    assert_int_equal(run("eval", "w2.mlp", "--data", "w2.csv", "--weight-column", "1"), 0);
    assert_non_null(strstr(out, "rows: 40"));
    assert_non_null(strstr(out, "weighted accuracy: "));
    assert_int_equal(sscanf(strstr(out, "weighted loss: "), "weighted loss: %lf", &wl), 1);
    assert_int_equal(run("eval", "w2.mlp", "--data", "dup.csv"), 0);
    assert_int_equal(sscanf(strstr(out, "\nloss: "), "\nloss: %lf", &pl), 1);
    assert_float_equal(wl, pl, 1e-5);
    expect_error(run("eval", "w2.mlp", "--data", "w2.csv"), 1, "features");

    /* predict: the weight column is left out like the label */
    assert_int_equal(run("predict", "w2.mlp", "--data", "w2.csv", "--weight-column", "1", "-p"), 0);
    strcpy(pw, out);
    assert_int_equal(count_lines(pw), 40);
    write_weighted("w1.csv", "one.csv", weight_zero);
    assert_int_equal(run("predict", "w2.mlp", "--data", "w1.csv", "--weight-column", "1", "-p"), 0);
    strcpy(pw, out);
    assert_int_equal(run("predict", "w2.mlp", "--data", "one.csv", "-p"), 0);
    strcpy(pp, out);
    assert_int_equal(count_lines(pw), 40);
    assert_int_equal(strncmp(pw, pp, strlen(pp)), 0); /* the first 32 rows match */
}

static void test_weight_column_errors(void **state)
{
    (void)state;
    write_text("neg.csv", "a,w,y\n1,1,0\n2,-0.5,1\n3,1,1\n");
    expect_error(run("train", "--data", "neg.csv", "--weight-column", "1", "-o", "none", "-q"), 1,
                 "row 2: weight -0.5");
    write_text("zero.csv", "a,w,y\n1,0,0\n2,0,1\n");
    expect_error(run("train", "--data", "zero.csv", "--weight-column", "1", "-o", "none", "-q"), 1,
                 "every weight");
    write_text("nan.csv", "a,w,y\n1,nan,0\n2,1,1\n");
    expect_error(run("train", "--data", "nan.csv", "--weight-column", "1", "-o", "none", "-q"), 1,
                 "not a number");
    expect_error(run("eval", "none.mlp", "--data", "neg.csv", "--weight-column", "-3"), 2,
                 "--weight-column");
    write_text("ok.csv", "a,w,y\n1,1,0\n2,1,1\n");
    expect_error(run("train", "--data", "ok.csv", "--weight-column", "2", "-o", "none", "-q"), 2,
                 "label column");
    expect_error(run("train", "--data", "ok.csv", "--weight-column", "5", "-o", "none", "-q"), 2,
                 "has 3 columns");
    expect_error(run("train", "--weight-column", "1", "-q"), 2, "CSV");
    expect_error(run("train", "--data", "ok.csv", "--max-data-bytes", "10x", "-q"), 2,
                 "--max-data-bytes");
}

/* An IDX file whose header declares 2000 images of 28 x 28 (1.5 MB of
 * pixels, about 8 MB to load) is refused under 4 MB and loads under 16M. */
static void test_max_data_bytes(void **state)
{
    static const unsigned char img_head[16] = {0, 0, 8, 3, 0, 0, 0x07, 0xd0, 0, 0, 0, 28, 0, 0, 0, 28};
    static const unsigned char lab_head[8] = {0, 0, 8, 1, 0, 0, 0x07, 0xd0};
    FILE *fi = fopen(tmpdir_path("img.idx"), "wb"), *fl = fopen(tmpdir_path("lab.idx"), "wb");
    int i;
    (void)state;
    assert_non_null(fi);
    assert_non_null(fl);
    fwrite(img_head, 1, sizeof img_head, fi);
    fwrite(lab_head, 1, sizeof lab_head, fl);
    for (i = 0; i < 2000 * 784; i++) fputc(i % 251, fi);
    for (i = 0; i < 2000; i++) fputc(i % 2, fl);
    assert_int_equal(fclose(fi), 0);
    assert_int_equal(fclose(fl), 0);
    expect_error(run("train", "--data", "img.idx", "--labels", "lab.idx", "--max-data-bytes", "4M",
                     "-o", "none", "-q"), 1, "--max-data-bytes");
    assert_non_null(strstr(err, "limit of 4194304 bytes"));
    assert_int_equal(run("train", "--data", "img.idx", "--labels", "lab.idx", "--max-data-bytes",
                         "16M", "--hidden", "none", "--epochs", "1", "--validation", "0",
                         "--threads", "1", "-o", "none", "--plot", "none", "--curve-csv", "none",
                         "-q"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_names_from_library),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_regression),
        cmocka_unit_test(test_full_batch_optimizers),
        cmocka_unit_test(test_weight_column),
        cmocka_unit_test(test_weight_column_errors),
        cmocka_unit_test(test_max_data_bytes),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
