/* mlp graph MODEL: the computation graph as DOT, or SVG through Graphviz. */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Whether `dot` is an executable file somewhere on PATH. */
static int dot_on_path(void)
{
    const char *path = getenv("PATH");
    char buf[4096];
    while (path != NULL && *path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        if (len > 0 && len < sizeof buf - 5) {
            memcpy(buf, path, len);
            memcpy(buf + len, "/dot", 5);
            if (access(buf, X_OK) == 0) return 1;
        }
        path = colon ? colon + 1 : NULL;
    }
    return 0;
}

/* Feeds the DOT text to `dot -Tsvg -o out`. */
static int write_svg(const mlp_network *net, const char *out)
{
    int fds[2], status;
    pid_t pid;
    FILE *f;
    mlp_status st;

    signal(SIGPIPE, SIG_IGN); /* dot dying must give a message, not kill us */
    if (pipe(fds) != 0) return cli_error(CLI_FAIL, "graph", "pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0) return cli_error(CLI_FAIL, "graph", "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        execlp("dot", "dot", "-Tsvg", "-o", out, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    f = fdopen(fds[1], "w");
    if (f == NULL) {
        close(fds[1]);
        waitpid(pid, &status, 0);
        return cli_error(CLI_FAIL, "graph", "fdopen: %s", strerror(errno));
    }
    st = mlp_graph_write(net, f);
    fclose(f);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return cli_error(CLI_FAIL, "graph", "Graphviz's dot failed to write %s", out);
    if (st != MLP_OK) return cli_lib_error("graph", "writing the graph", st);
    return 0;
}

int cmd_graph(int argc, char **argv)
{
    const char *out = NULL, *pos[1];
    cli_opt opts[] = {
        {"output", 'o', CLI_STR, &out, "FILE", "write to FILE (.svg: rendered by Graphviz's dot)", 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0}};
    size_t n_pos;
    int help, rc = 0;
    mlp_network *net = NULL;
    mlp_status st;

    rc = cli_parse("graph", argc, argv, opts, pos, 1, &n_pos, &help);
    if (rc) return rc;
    if (help) {
        cli_usage(stdout, "graph", "MODEL [-o FILE]",
                  "Writes the forward and backward computation graph of a saved model as\n"
                  "Graphviz DOT, to standard output or FILE; an FILE ending in .svg is\n"
                  "rendered with Graphviz's dot when it is installed.", opts);
        return 0;
    }
    if (n_pos != 1) return cli_error(CLI_USAGE, "graph", "needs a MODEL file (see mlp graph --help)");
    if (out != NULL && *out == '\0') return cli_error(CLI_USAGE, "graph", "-o needs a file name");
    if (out != NULL && ends_with(out, ".svg") && !dot_on_path())
        return cli_error(CLI_FAIL, "graph", "SVG needs Graphviz's dot on PATH "
                         "(apt-get install graphviz); or write DOT with -o FILE.dot");
    st = mlp_load(&net, pos[0]);
    if (st != MLP_OK) return cli_lib_error("graph", pos[0], st);

    if (out == NULL) {
        st = mlp_graph_write(net, stdout);
        if (st != MLP_OK) rc = cli_lib_error("graph", "writing the graph", st);
        else if (fflush(stdout) != 0) rc = cli_error(CLI_FAIL, "graph", "writing to stdout failed");
    } else if (ends_with(out, ".svg")) {
        rc = write_svg(net, out);
    } else {
        FILE *f = fopen(out, "w");
        if (f == NULL) {
            rc = cli_error(CLI_FAIL, "graph", "%s: %s", out, strerror(errno));
        } else {
            st = mlp_graph_write(net, f);
            if ((fclose(f) != 0) | (st != MLP_OK))
                rc = st != MLP_OK ? cli_lib_error("graph", out, st)
                                  : cli_error(CLI_FAIL, "graph", "%s: write failed", out);
        }
    }
    mlp_destroy(net);
    return rc;
}
