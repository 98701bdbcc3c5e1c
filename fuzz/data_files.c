#define _POSIX_C_SOURCE 200809L
#include "data_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* One gzip member holding p[0..n) then `zeros` zero bytes, appended to f.
 * A small window and memory level keep zlib's state (and so the fuzzers'
 * executions) small; the stream is standard gzip all the same. */
static int gz_member(FILE *f, const void *p, size_t n, size_t zeros)
{
    static const unsigned char zero[4096];
    unsigned char out[4096];
    z_stream z;
    int rc = Z_OK, ok = 1;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 16 + 9, 1, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    z.next_in = (unsigned char *)(uintptr_t)p;
    z.avail_in = (unsigned)n;
    while (ok && rc != Z_STREAM_END) {
        if (z.avail_in == 0 && zeros > 0) {
            size_t k = zeros < sizeof zero ? zeros : sizeof zero;
            z.next_in = (unsigned char *)(uintptr_t)zero;
            z.avail_in = (unsigned)k;
            zeros -= k;
        }
        z.next_out = out;
        z.avail_out = sizeof out;
        rc = deflate(&z, z.avail_in == 0 && zeros == 0 ? Z_FINISH : Z_NO_FLUSH);
        ok = rc != Z_STREAM_ERROR && fwrite(out, 1, sizeof out - z.avail_out, f) == sizeof out - z.avail_out;
    }
    deflateEnd(&z);
    return ok;
}

/* The bomb's zeros (FZ_BOMB_ZEROS), compressed once per process. */
static int gz_zeros(FILE *f, size_t zeros)
{
    static unsigned char *cached;
    static size_t cached_n, cached_zeros;
    if (!cached || cached_zeros != zeros) {
        FILE *m;
        free(cached);
        cached = NULL;
        if (!(m = tmpfile())) return 0;
        if (!gz_member(m, NULL, 0, zeros)) return fclose(m), 0;
        cached_n = (size_t)ftell(m);
        rewind(m);
        cached = malloc(cached_n);
        if (!cached || fread(cached, 1, cached_n, m) != cached_n) return fclose(m), 0;
        fclose(m);
        cached_zeros = zeros;
    }
    return fwrite(cached, 1, cached_n, f) == cached_n;
}

int fz_write_file(const char *path, const void *p, size_t n, size_t zeros, int gz)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f) return -1;
    if (gz) ok = gz_member(f, p, n, 0) && (zeros == 0 || gz_zeros(f, zeros));
    else ok = fwrite(p, 1, n, f) == n && zeros == 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static size_t be32(unsigned char *o, size_t v)
{
    o[0] = (unsigned char)(v >> 24), o[1] = (unsigned char)(v >> 16);
    o[2] = (unsigned char)(v >> 8), o[3] = (unsigned char)v;
    return 4;
}

/* An IDX header for `count` items (images: count x r x c, or count x r
 * with two dims; labels: one dim), then `need` payload bytes cycled from
 * rest (mod `mod`). o has room for all of it. */
static size_t idx_build(unsigned char *o, unsigned type, unsigned ndim, size_t count, size_t r,
                        size_t c, size_t need, const uint8_t *rest, size_t rn, unsigned mod)
{
    size_t len = 0, i;
    o[len++] = 0, o[len++] = 0, o[len++] = (unsigned char)type, o[len++] = (unsigned char)ndim;
    len += be32(o + len, count);
    if (ndim >= 2) len += be32(o + len, r);
    if (ndim >= 3) len += be32(o + len, c);
    for (i = 0; i < need; i++) o[len++] = rn ? (unsigned char)(rest[i % rn] % mod) : 0;
    return len;
}

void fz_idx_files(const uint8_t *in, size_t n, const char *images, const char *labels_path,
                  int *labels)
{
    unsigned char img[1024], lab[64];
    unsigned flags = n ? in[0] : 0;
    const uint8_t *p = in + (n ? 1 : 0);
    size_t pn = n ? n - 1 : 0, il, ll, cnt, lcnt, r, c;
    *labels = !(flags & 4);
    if ((flags & 0xF8) == 0xF8 && pn >= 3) { /* the bomb: 784-pixel images, zeros */
        cnt = ((size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2]) + 2;
        il = idx_build(img, 8, 3, cnt, 28, 28, 0, NULL, 0, 1);
        fz_write_file(images, img, il, FZ_BOMB_ZEROS, 1);
        *labels = 0;
        return;
    }
    if (!(flags & 8) || pn < 6) { /* raw: p[0] splits the bytes after it in two */
        il = pn ? p[0] * (pn - 1) / 255 : 0;
        fz_write_file(images, p + 1, il, 0, flags & 1);
        if (*labels) fz_write_file(labels_path, p + 1 + il, pn ? pn - 1 - il : 0, 0, flags & 2);
        return;
    }
    cnt = p[0] % 8, r = 1 + p[1] % 6, c = 1 + p[2] % 6;
    lcnt = cnt + (flags & 64 ? p[4] % 3 : 1); /* one more, as many, or one fewer labels */
    lcnt = lcnt ? lcnt - 1 : 0;
    il = idx_build(img, flags & 32 ? p[3] : 8, flags & 16 ? 2 : 3, cnt, r, c,
                   cnt * r * (flags & 16 ? 1 : c), p + 6, pn - 6, 256);
    ll = idx_build(lab, 8, 1, lcnt, 1, 1, lcnt, p + 6, pn - 6, 12);
    if (flags & 128) il -= (il > 8 ? p[5] % il : 0); /* truncated */
    if (p[5] == 255) img[il++] = 1;                  /* one stray byte */
    fz_write_file(images, img, il, 0, flags & 1);
    if (*labels) fz_write_file(labels_path, lab, ll, 0, flags & 2);
}

static char fz_dir[256];

static void fz_dir_remove(void)
{
    static const char *const names[] = {"m.mlp", "d.csv", "i.idx", "l.idx"};
    char path[320];
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", fz_dir, names[i]);
        unlink(path);
    }
    rmdir(fz_dir);
}

const char *fz_temp_dir(void)
{
    if (!fz_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fz_dir, sizeof fz_dir, "%s/mlp-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fz_dir)) abort();
        atexit(fz_dir_remove);
    }
    return fz_dir;
}
