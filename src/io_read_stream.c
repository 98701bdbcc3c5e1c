/* Loading a model from a caller's stream or a path. Bytes are read in
 * growing chunks up to the size the header declares, so that a header
 * lying about the size cannot make the loader allocate much more than the
 * bytes actually there. */
#include "io_format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define FIRST_CHUNK ((size_t)1 << 16)

/* Reads the header, then up to `want` bytes in all (fewer at EOF) into a
 * new buffer (*buf, *have). */
static mlp_status slurp(FILE *f, int one_more, unsigned char **buf, size_t *have,
                        size_t *declared)
{
    unsigned char head[MLP__FMT_HEADER_LEN], *p;
    size_t got, cap, want, n;
    uint64_t file_size;
    mlp_status st;

    got = fread(head, 1, sizeof head, f);
    if (got < sizeof head && ferror(f))
        return mlp__fail(MLP_ERR_IO, "reading the model header failed: %s", strerror(errno));
    if ((st = mlp__model_check_header(head, got, &file_size)) != MLP_OK) return st;
    *declared = (size_t)file_size;
    /* by path, one byte past the model tells trailing garbage apart */
    want = (one_more && *declared < SIZE_MAX) ? *declared + 1 : *declared;

    cap = want < FIRST_CHUNK ? want : FIRST_CHUNK;
    if ((p = mlp__malloc(cap)) == NULL)
        return mlp__fail(MLP_ERR_NOMEM, "out of memory for a %zu-byte read buffer", cap);
    memcpy(p, head, got);
    n = got;
    while (n < want) {
        size_t k;
        if (n == cap) { /* grow by doubling, never past what is wanted */
            size_t ncap = cap > want / 2 ? want : 2 * cap;
            unsigned char *np = mlp__malloc(ncap);
            if (!np) {
                mlp__free(p);
                return mlp__fail(MLP_ERR_NOMEM, "out of memory for a %zu-byte read buffer", ncap);
            }
            memcpy(np, p, n);
            mlp__free(p);
            p = np;
            cap = ncap;
        }
        k = fread(p + n, 1, cap - n, f);
        n += k;
        if (k == 0) {
            if (ferror(f)) {
                mlp__free(p);
                return mlp__fail(MLP_ERR_IO, "reading the model failed: %s", strerror(errno));
            }
            break; /* EOF */
        }
    }
    *buf = p;
    *have = n;
    return MLP_OK;
}

/* One model from the stream's current position; the stream is left just
 * after it (several models may follow each other) and is never closed. */
mlp_status mlp_load_file(mlp_network **out, FILE *f)
{
    unsigned char *buf = NULL;
    size_t have = 0, declared = 0;
    mlp_status st;
    MLP__CHECK_NULL(out);
    MLP__CHECK_NULL(f);
    if ((st = slurp(f, 0, &buf, &have, &declared)) != MLP_OK) return st;
    st = mlp_load_buffer(out, buf, have);
    mlp__free(buf);
    return st;
}

/* By path the file must hold exactly one model: the same verdicts as
 * mlp_load_buffer on the file's bytes. */
mlp_status mlp_load(mlp_network **out, const char *path)
{
    unsigned char *buf = NULL;
    size_t have = 0, declared = 0;
    FILE *f;
    mlp_status st;
    MLP__CHECK_NULL(out);
    MLP__CHECK_NULL(path);
    f = fopen(path, "rb");
    if (!f) return mlp__fail(MLP_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    st = slurp(f, 1, &buf, &have, &declared);
    fclose(f);
    if (st != MLP_OK) return st;
    st = mlp_load_buffer(out, buf, have);
    mlp__free(buf);
    return st;
}
