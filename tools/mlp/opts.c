/* Option parsing and messages shared by the commands. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Under MPI every process's stderr reaches the same terminal, so each
 * message names the process it comes from (cli_set_rank). */
static int message_rank = -1;

void cli_set_rank(int rank) { message_rank = rank; }

int cli_error(int code, const char *cmd, const char *fmt, ...)
{
    /* One write, so that the lines of several processes never interleave
     * within a line. */
    char msg[2048];
    int n = message_rank >= 0 ? snprintf(msg, sizeof msg, "mlp %s: rank %d: ", cmd, message_rank)
                              : snprintf(msg, sizeof msg, "mlp %s: ", cmd);
    va_list ap;
    if (n < 0 || (size_t)n >= sizeof msg - 2) n = 0;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n - 1, fmt, ap);
    va_end(ap);
    strcat(msg, "\n");
    fputs(msg, stderr);
    return code;
}

int cli_lib_error(const char *cmd, const char *what, mlp_status st)
{
    const char *detail = mlp_last_error();
    if (detail == NULL || *detail == '\0') detail = mlp_strerror(st);
    /* The library's detail says what could not be allocated, not that
     * memory ran out. */
    if (st == MLP_ERR_NOMEM && strstr(detail, "memory") == NULL)
        return cli_error(CLI_FAIL, cmd, "%s: out of memory (%s)", what, detail);
    return cli_error(CLI_FAIL, cmd, "%s: %s", what, detail);
}

int cli_lookup(const char *name, const char *const *names)
{
    int i;
    for (i = 0; names[i] != NULL; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

void cli_join_names(char *buf, size_t cap, const char *(*name_of)(int))
{
    size_t len = 0;
    const char *name;
    int i;
    if (cap == 0) return;
    buf[0] = '\0';
    for (i = 0; (name = name_of(i)) != NULL; i++) {
        int n = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", name);
        if (n < 0 || (size_t)n >= cap - len) {
            if (cap > 4) strcpy(buf + cap - 4, "...");
            return;
        }
        len += (size_t)n;
    }
}

size_t cli_parse_sizes(const char *s, size_t *out, size_t cap)
{
    size_t n = 0;
    while (*s) {
        char *end;
        unsigned long long v;
        if (*s < '0' || *s > '9') return 0;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || v == 0 || v > MLP_MAX_DIM || n == cap) return 0;
        out[n++] = (size_t)v;
        s = end;
        if (*s == ',' || *s == '-' || *s == 'x') {
            s++;
            if (*s == '\0') return 0;
        } else if (*s) {
            return 0;
        }
    }
    return n;
}

int cli_seen(const cli_opt *opts, const char *name)
{
    for (; opts->name != NULL; opts++)
        if (strcmp(opts->name, name) == 0) return opts->seen;
    return 0;
}

static int set_value(const char *cmd, cli_opt *o, const char *v)
{
    char *end;
    errno = 0;
    switch (o->kind) {
    case CLI_STR:
        *(const char **)o->dst = v;
        return 0;
    case CLI_DOUBLE: {
        double d = strtod(v, &end);
        if (*v == '\0' || *end != '\0' || errno || !isfinite(d))
            return cli_error(CLI_USAGE, cmd, "--%s takes a number, not '%s'", o->name, v);
        *(double *)o->dst = d;
        return 0;
    }
    case CLI_SIZE: {
        unsigned long long u;
        if (*v < '0' || *v > '9')
            return cli_error(CLI_USAGE, cmd, "--%s takes a count >= 0, not '%s'", o->name, v);
        u = strtoull(v, &end, 10);
        if (*end != '\0' || errno || u > MLP_MAX_DIM)
            return cli_error(CLI_USAGE, cmd, "--%s takes a count >= 0, not '%s'", o->name, v);
        *(size_t *)o->dst = (size_t)u;
        return 0;
    }
    case CLI_LONG: {
        long l = strtol(v, &end, 10);
        if (*v == '\0' || *end != '\0' || errno)
            return cli_error(CLI_USAGE, cmd, "--%s takes an integer, not '%s'", o->name, v);
        *(long *)o->dst = l;
        return 0;
    }
    case CLI_FLAG:
        *(int *)o->dst = 1;
        return 0;
    }
    return CLI_USAGE;
}

int cli_parse(const char *cmd, int argc, char **argv, cli_opt *opts, const char **pos,
              size_t max_pos, size_t *n_pos, int *help)
{
    int i, only_pos = 0;
    *n_pos = 0;
    *help = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *value = NULL;
        cli_opt *o = NULL;
        size_t name_len;
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (*n_pos == max_pos)
                return cli_error(CLI_USAGE, cmd, "unexpected argument '%s' (see mlp %s --help)",
                                 a, cmd);
            pos[(*n_pos)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help = 1;
            return 0;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            name_len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            for (o = opts; o->name != NULL; o++)
                if (strlen(o->name) == name_len && strncmp(o->name, a + 2, name_len) == 0) break;
            if (eq) value = eq + 1;
        } else {
            for (o = opts; o->name != NULL; o++)
                if (o->short_name != 0 && o->short_name == a[1] && a[2] == '\0') break;
        }
        if (o == NULL || o->name == NULL)
            return cli_error(CLI_USAGE, cmd, "unknown option '%s' (see mlp %s --help)", a, cmd);
        if (o->kind == CLI_FLAG) {
            if (value != NULL)
                return cli_error(CLI_USAGE, cmd, "--%s takes no value", o->name);
        } else if (value == NULL) {
            if (i + 1 >= argc)
                return cli_error(CLI_USAGE, cmd, "--%s needs a value (see mlp %s --help)",
                                 o->name, cmd);
            value = argv[++i];
        }
        if (set_value(cmd, o, value) != 0) return CLI_USAGE;
        o->seen = 1;
    }
    return 0;
}

void cli_usage(FILE *f, const char *cmd, const char *synopsis, const char *about,
               const cli_opt *opts)
{
    fprintf(f, "usage: mlp %s %s\n\n%s\n", cmd, synopsis, about);
    if (opts->name != NULL) fprintf(f, "\noptions:\n");
    for (; opts->name != NULL; opts++) {
        char left[64];
        if (opts->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", opts->short_name, opts->name,
                     opts->arg ? " " : "", opts->arg ? opts->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", opts->name, opts->arg ? " " : "",
                     opts->arg ? opts->arg : "");
        fprintf(f, "  %-28s %s\n", left, opts->help);
    }
    fprintf(f, "  %-28s %s\n", "-h, --help", "show this help");
}
