/* The bytes of one part of a CSV file, for loading a file in shards.
 *
 * Part r of P owns the lines that start in the byte range
 * [floor(r S / P), floor((r + 1) S / P)) of a file of S bytes, a line
 * starting at offset 0 or just after a '\n'. The parts therefore cover every
 * byte exactly once, and a part reads only its own lines (plus the file's
 * first non-blank line, which decides the columns and the header for all). */
#include "data_csv_part.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CSV_PART_CHUNK 65536

/* floor(r S / P) without overflowing r S. */
static size_t csv_part_cut(size_t size, size_t r, size_t parts)
{
    return size / parts * r + size % parts * r / parts;
}

static int csv_part_blank(const char *s, size_t len)
{
    size_t i;
    if (len > 0 && s[len - 1] == '\r') len--;
    for (i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t') return 0;
    return 1;
}

/* Appends to p->buf up to and including the next '\n' (or to the end of the
 * file); with keep == 0 the bytes are counted in *skipped but not kept. */
static mlp_status csv_part_to_newline(FILE *f, const char *path, mlp__csv_part *p, int keep,
                                      size_t *skipped)
{
    char tmp[CSV_PART_CHUNK];
    for (;;) {
        int c = getc(f);
        size_t n = 0;
        if (c == EOF) break;
        tmp[n++] = (char)c;
        while (c != '\n' && n < sizeof tmp && (c = getc(f)) != EOF) tmp[n++] = (char)c;
        if (keep) {
            mlp_status st = mlp__csv_part_append(p, tmp, n, path);
            if (st != MLP_OK) return st;
        } else {
            *skipped += n;
        }
        if (c == '\n' || c == EOF) break;
    }
    if (ferror(f)) return mlp__fail(MLP_ERR_IO, "%s: read error", path);
    return MLP_OK;
}

mlp_status mlp__csv_part_append(mlp__csv_part *p, const char *s, size_t n, const char *path)
{
    if (p->size + n > p->cap || p->buf == NULL) {
        size_t next = p->cap ? p->cap : CSV_PART_CHUNK;
        char *grown;
        while (next < p->size + n && next * 2 > next) next *= 2;
        if (next < p->size + n) return mlp__fail(MLP_ERR_TOO_LARGE, "%s: part too large", path);
        grown = mlp__malloc(next);
        if (grown == NULL) return mlp__fail(MLP_ERR_NOMEM, "%s: %zu bytes", path, next);
        if (p->size) memcpy(grown, p->buf, p->size);
        mlp__free(p->buf);
        p->buf = grown;
        p->cap = next;
    }
    if (n) memcpy(p->buf + p->size, s, n);
    p->size += n;
    return MLP_OK;
}

/* The file's first non-blank line into p->head (without its '\n'). */
static mlp_status csv_part_head(FILE *f, const char *path, mlp__csv_part *p)
{
    mlp__csv_part line;
    size_t off = 0, line_no = 0;
    mlp_status st = MLP_OK;
    memset(&line, 0, sizeof line);
    while (st == MLP_OK) {
        line.size = 0;
        if ((st = csv_part_to_newline(f, path, &line, 1, NULL)) != MLP_OK || line.size == 0) break;
        line_no++;
        if (!csv_part_blank(line.buf, line.size - (line.buf[line.size - 1] == '\n'))) {
            /* Without its '\n' only: the parser strips one '\r' itself, as
             * from every other line (stripping it here too made "8\r\r" a
             * number in a part but not in the whole load). */
            p->head_len = line.size - (line.buf[line.size - 1] == '\n');
            p->head = line.buf;
            p->head_line = line_no;
            p->head_off = off;
            return MLP_OK;
        }
        off += line.size;
    }
    mlp__free(line.buf);
    return st;
}

/* The part's lines: from the first line starting at or after lo to the end
 * of the last line starting before hi. */
static mlp_status csv_part_body(FILE *f, const char *path, size_t lo, size_t hi,
                                mlp__csv_part *p)
{
    size_t start = lo > 0 ? lo - 1 : 0, want;
    mlp_status st;
    if (fseeko(f, (off_t)start, SEEK_SET) != 0)
        return mlp__fail(MLP_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
    if (lo > 0 && (st = csv_part_to_newline(f, path, p, 0, &start)) != MLP_OK) return st;
    p->base = start;
    if (start >= hi) return MLP_OK; /* a line from an earlier part covers the range */
    want = hi - start;
    /* The range's size at once (plus a line's slack), not by doubling, so
     * that a part's buffer is its bytes rather than up to twice them. */
    p->buf = mlp__malloc(want + CSV_PART_CHUNK);
    if (p->buf == NULL) return mlp__fail(MLP_ERR_NOMEM, "%s: %zu bytes", path, want);
    p->cap = want + CSV_PART_CHUNK;
    while (p->size < want) {
        char tmp[CSV_PART_CHUNK];
        size_t n = want - p->size < sizeof tmp ? want - p->size : sizeof tmp;
        size_t got = fread(tmp, 1, n, f);
        if ((st = mlp__csv_part_append(p, tmp, got, path)) != MLP_OK) return st;
        if (got < n) {
            if (ferror(f)) return mlp__fail(MLP_ERR_IO, "%s: read error", path);
            return MLP_OK; /* the file shrank: its end ends the part */
        }
    }
    if (p->buf[p->size - 1] == '\n') return MLP_OK;
    return csv_part_to_newline(f, path, p, 1, NULL);
}

void mlp__csv_part_free(mlp__csv_part *p)
{
    mlp__free(p->head);
    mlp__free(p->buf);
    memset(p, 0, sizeof *p);
}

mlp_status mlp__csv_part_read(const char *path, size_t part, size_t parts, mlp__csv_part *p)
{
    FILE *f;
    off_t end;
    size_t size;
    mlp_status st;

    memset(p, 0, sizeof *p);
    errno = 0;
    f = fopen(path, "rb");
    if (f == NULL) return mlp__fail(MLP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseeko(f, 0, SEEK_END) != 0 || (end = ftello(f)) < 0 || fseeko(f, 0, SEEK_SET) != 0) {
        st = mlp__fail(MLP_ERR_IO, "%s: cannot seek (a part needs a regular file): %s", path,
                       strerror(errno));
        goto done;
    }
    size = (size_t)end;
    if ((st = csv_part_head(f, path, p)) != MLP_OK || p->head == NULL) goto done;
    st = csv_part_body(f, path, csv_part_cut(size, part, parts),
                       csv_part_cut(size, part + 1, parts), p);
done:
    fclose(f);
    if (st != MLP_OK) mlp__csv_part_free(p);
    return st;
}
