/* Loading a model from a caller's stream or a path. The stream is read to
 * the end of the one model it holds (the size the header declares), in
 * growing chunks, so that a header lying about the size cannot make the
 * loader allocate much more than the bytes actually there. */
#include "io_format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define FIRST_CHUNK ((size_t)1 << 16)

mlp_status mlp_load_file(mlp_network **out, FILE *f)
{
    unsigned char head[MLP__FMT_HEADER_LEN], *buf = NULL;
    size_t got, have, cap, size;
    uint64_t file_size;
    mlp_status st;
    MLP__CHECK_NULL(out);
    MLP__CHECK_NULL(f);

    got = fread(head, 1, sizeof head, f);
    if (got < sizeof head && ferror(f))
        return mlp__fail(MLP_ERR_IO, "reading the model header failed: %s", strerror(errno));
    if ((st = mlp__model_check_header(head, got, &file_size)) != MLP_OK) return st;
    size = (size_t)file_size;

    cap = size < FIRST_CHUNK ? size : FIRST_CHUNK;
    if ((buf = mlp__malloc(cap)) == NULL)
        return mlp__fail(MLP_ERR_NOMEM, "out of memory for a %zu-byte read buffer", cap);
    memcpy(buf, head, got);
    have = got;
    while (have < size) {
        size_t k;
        if (have == cap) { /* grow by doubling, never past the declared size */
            size_t ncap = cap > size / 2 ? size : 2 * cap;
            unsigned char *nb = mlp__malloc(ncap);
            if (!nb) {
                st = mlp__fail(MLP_ERR_NOMEM, "out of memory for a %zu-byte read buffer", ncap);
                goto out;
            }
            memcpy(nb, buf, have);
            mlp__free(buf);
            buf = nb;
            cap = ncap;
        }
        k = fread(buf + have, 1, cap - have, f);
        have += k;
        if (k == 0) {
            st = ferror(f) ? mlp__fail(MLP_ERR_IO, "reading the model failed: %s", strerror(errno))
                           : mlp__fail(MLP_ERR_TRUNCATED, "the file has %zu of its %zu bytes",
                                       have, size);
            goto out;
        }
    }
    st = mlp_load_buffer(out, buf, size);
out:
    mlp__free(buf);
    return st;
}

mlp_status mlp_load(mlp_network **out, const char *path)
{
    FILE *f;
    mlp_network *net = NULL;
    mlp_status st;
    MLP__CHECK_NULL(out);
    MLP__CHECK_NULL(path);
    f = fopen(path, "rb");
    if (!f) return mlp__fail(MLP_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    st = mlp_load_file(&net, f);
    /* By path, the file must hold exactly one model. */
    if (st == MLP_OK && fgetc(f) != EOF) {
        mlp_destroy(net);
        st = mlp__fail(MLP_ERR_CORRUPT, "%s: bytes of garbage follow the model", path);
    } else if (st == MLP_OK && ferror(f)) {
        mlp_destroy(net);
        st = mlp__fail(MLP_ERR_IO, "reading %s failed: %s", path, strerror(errno));
    }
    fclose(f);
    if (st == MLP_OK) *out = net;
    return st;
}
