/* mlp export MODEL -o OUT: a saved model as ONNX or as C source. */
#include "cli.h"
#include "export_c.h"
#include "onnx.h"

#include <ctype.h>
#include <string.h>

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int is_identifier(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_') return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return 0;
    return 1;
}

static int export_onnx(const mlp_network *net, const char *out)
{
#ifdef MLP_HAVE_ONNX
    return cli_onnx_export("export", net, out);
#else
    (void)net;
    (void)out;
    return cli_error(CLI_FAIL, "export",
                     "this mlp was built without ONNX support (it needs protobuf-c and onnx.proto: "
                     "libprotobuf-c-dev, protobuf-c-compiler and libonnx-dev); rebuild with them");
#endif
}

int cmd_export(int argc, char **argv)
{
    const char *out = NULL, *format = NULL, *prefix = "model", *quantize = NULL, *pos[1];
    cli_opt opts[] = {
        {"out", 'o', CLI_STR, &out, "PATH", "the file to write (required)", 0},
        {"format", 0, CLI_STR, &format, "FMT",
         "onnx or c (default: c when PATH ends in .c, else onnx)", 0},
        {"prefix", 0, CLI_STR, &prefix, "NAME",
         "C export: the name before _predict (default: model)", 0},
        {"quantize", 0, CLI_STR, &quantize, "KIND",
         "C export: int8 stores weights as int8 with a float scale per row", 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0}};
    size_t n_pos;
    int help, rc, c_format;
    mlp_network *net = NULL;
    mlp_status st;

    rc = cli_parse("export", argc, argv, opts, pos, 1, &n_pos, &help);
    if (rc) return rc;
    if (help) {
        cli_usage(stdout, "export", "MODEL -o PATH [--format onnx|c]",
                  "Writes a saved model as an ONNX file (opset 13, see docs/ONNX.md), or\n"
                  "as one C99 source file and its header for embedded targets: PATH and\n"
                  "PATH with .h for .c (see docs/C_EXPORT.md).", opts);
        return 0;
    }
    if (n_pos != 1 || out == NULL)
        return cli_error(CLI_USAGE, "export", "needs a MODEL and -o PATH (see mlp export --help)");
    if (format == NULL) format = has_suffix(out, ".c") ? "c" : "onnx";
    if (strcmp(format, "onnx") != 0 && strcmp(format, "c") != 0)
        return cli_error(CLI_USAGE, "export", "unknown --format '%s' (onnx or c)", format);
    c_format = strcmp(format, "c") == 0;
    if (quantize != NULL && (!c_format || strcmp(quantize, "int8") != 0))
        return cli_error(CLI_USAGE, "export", "--quantize takes int8, with --format c only");
    if (!is_identifier(prefix))
        return cli_error(CLI_USAGE, "export", "--prefix '%s' is not a C identifier", prefix);
    st = mlp_load(&net, pos[0]);
    if (st != MLP_OK) return cli_lib_error("export", pos[0], st);
    rc = c_format ? cli_export_c("export", net, out, prefix, quantize != NULL) : export_onnx(net, out);
    mlp_destroy(net);
    return rc;
}
