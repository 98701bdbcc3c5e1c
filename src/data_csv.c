/* Numeric CSV. Numbers are parsed here rather than by strtod so that the
 * result never depends on the C locale (a German LC_NUMERIC would read
 * "0.5" as 0); NaN, Inf and hexadecimal forms are refused on purpose. */
#include "data_csv_part.h"
#include "dataset.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct csv_field {
    const char *s;
    size_t len;
} csv_field;

/* Exact powers of ten in double. */
static const double csv_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Parses [+-]digits[.digits][(e|E)[+-]digits] (at least one mantissa
 * digit) spanning the whole field. Returns 0 if it is not such a number. */
static int csv_number(const char *s, size_t len, double *out)
{
    const char *p = s, *end = s + len;
    uint64_t mant = 0;
    long exp10 = 0, e = 0;
    int neg = 0, digits = 0, esign = 1;
    double v;

    if (p < end && (*p == '+' || *p == '-')) neg = (*p++ == '-');
    for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
        if (mant < 100000000000000000ull) mant = mant * 10 + (uint64_t)(*p - '0');
        else exp10++; /* beyond 17 digits: float precision is long gone */
    }
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
            if (mant < 100000000000000000ull) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                exp10--;
            }
        }
    }
    if (digits == 0) return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int edigits = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) esign = (*p++ == '-') ? -1 : 1;
        for (; p < end && *p >= '0' && *p <= '9'; p++, edigits++)
            if (e < 100000) e = e * 10 + (*p - '0');
        if (edigits == 0) return 0;
    }
    if (p != end) return 0;
    exp10 += esign * e;

    /* mant < 2^57; below 2^53 with |exp10| <= 22 one rounding is exact. */
    v = (double)mant;
    if (mant == 0) v = 0.0;
    else if (exp10 >= 0 && exp10 <= 22) v *= csv_pow10[exp10];
    else if (exp10 < 0 && exp10 >= -22) v /= csv_pow10[-exp10];
    else if (exp10 > 400) v = HUGE_VAL;
    else if (exp10 < -400) v = 0.0;
    else v *= pow(10.0, (double)exp10);
    *out = neg ? -v : v;
    return 1;
}

/* Splits one line (without its newline) into fields; returns the count,
 * or -1 for an unterminated quote. Quotes around a field are removed;
 * spaces and tabs around a field are ignored. fields may be NULL (count). */
static long csv_split(const char *line, size_t len, csv_field *fields, size_t cap)
{
    size_t i = 0;
    long n = 0;
    for (;;) {
        const char *s;
        size_t flen;
        while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
        if (i < len && line[i] == '"') {
            s = line + ++i;
            while (i < len && line[i] != '"') i++;
            if (i == len) return -1;
            flen = (size_t)(line + i - s);
            i++;
            while (i < len && line[i] != ',') i++;
        } else {
            s = line + i;
            while (i < len && line[i] != ',') i++;
            flen = (size_t)(line + i - s);
            while (flen > 0 && (s[flen - 1] == ' ' || s[flen - 1] == '\t')) flen--;
        }
        if (fields != NULL && (size_t)n < cap) {
            fields[n].s = s;
            fields[n].len = flen;
        }
        n++;
        if (i >= len) break;
        i++; /* the comma */
    }
    return n;
}

/* The next line of [*pos, size): start and length without "\r\n". */
static int csv_next_line(const char *buf, size_t size, size_t *pos, const char **line,
                         size_t *len)
{
    const char *start, *nl;
    if (*pos >= size) return 0;
    start = buf + *pos;
    nl = memchr(start, '\n', size - *pos);
    *len = nl ? (size_t)(nl - start) : size - *pos;
    *pos += *len + (nl != NULL);
    if (*len > 0 && start[*len - 1] == '\r') (*len)--;
    *line = start;
    return 1;
}

static int csv_blank(const char *line, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t') return 0;
    return 1;
}

/* Reads the whole file into a buffer owned by the caller (*cap bytes
 * allocated). The buffer and, while it grows, its copy stay within
 * max_bytes: a longer file is refused as it arrives. */
static mlp_status csv_slurp(const char *path, size_t max_bytes, char **out, size_t *size,
                            size_t *cap_out)
{
    FILE *f;
    char *buf = NULL;
    size_t cap = 0, have = 0;
    mlp_status st = MLP_OK;

    errno = 0;
    f = fopen(path, "rb");
    if (f == NULL) return mlp__fail(MLP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        if (have == cap) {
            /* under a small bound a smaller first buffer leaves room for the data set */
            size_t next = cap ? cap * 2 : max_bytes / 4 < 65536 ? max_bytes / 4 : 65536;
            char *grown;
            int c = cap ? fgetc(f) : 0; /* grow only for a file that goes on */
            if (c == EOF) {
                if (ferror(f)) st = mlp__fail(MLP_ERR_IO, "%s: read error", path);
                break;
            }
            if (cap) ungetc(c, f);
            if (next < cap) {
                st = mlp__fail(MLP_ERR_TOO_LARGE, "%s: file too large", path);
                break;
            }
            if (next > max_bytes - cap || cap > max_bytes) next = cap < max_bytes ? max_bytes - cap : 0;
            if (next <= cap) { /* the old buffer and a larger one would exceed max_bytes */
                st = mlp__fail(MLP_ERR_TOO_LARGE, "%s: the file goes on past %zu bytes, more than "
                               "the limit of %zu bytes allows", path, have, max_bytes);
                break;
            }
            grown = mlp__malloc(next);
            if (grown == NULL) {
                st = mlp__fail(MLP_ERR_NOMEM, "%s: %zu bytes", path, next);
                break;
            }
            if (have) memcpy(grown, buf, have);
            mlp__free(buf);
            buf = grown;
            cap = next;
        }
        got = fread(buf + have, 1, cap - have, f);
        have += got;
        if (got == 0) {
            if (ferror(f)) st = mlp__fail(MLP_ERR_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st != MLP_OK) {
        mlp__free(buf);
        return st;
    }
    *out = buf;
    *size = have;
    *cap_out = cap;
    return MLP_OK;
}

/* Formats a field for an error message (at most 24 characters). */
static const char *csv_show(const csv_field *f, char *tmp, size_t cap)
{
    size_t n = f->len < cap - 4 ? f->len : cap - 4;
    memcpy(tmp, f->s, n);
    if (n < f->len) memcpy(tmp + n, "...", 4);
    else tmp[n] = '\0';
    return tmp;
}

/* One file being read: its bytes, its shape, and the options. */
typedef struct csv_doc {
    const char *path;
    const char *buf;
    size_t size;
    size_t ncols, rows;  /* columns of the first non-blank line; rows of data */
    size_t first_line;   /* line number of the first non-blank line */
    size_t label;        /* the label's column when has_label */
    int has_label, classes, header;
    csv_field *fields;   /* ncols */
    const char *skip;    /* the header line in buf, or NULL */
    size_t part, parts;  /* parts > 1: buf is one part of the file */
    size_t base;         /* the file offset of buf[0] */
} csv_doc;

/* Where a line is, for a message: its line number in the file, or within
 * a part (whose earlier lines were never read) with its file offset. */
static const char *csv_where(const csv_doc *d, size_t line_no, const char *line, char *tmp,
                             size_t cap)
{
    if (d->parts > 1)
        snprintf(tmp, cap, "line %zu of part %zu of %zu (byte %zu)", line_no, d->part, d->parts,
                 d->base + (size_t)(line - d->buf));
    else
        snprintf(tmp, cap, "line %zu", line_no);
    return tmp;
}

/* Pass 1: the column count from the first non-blank line, and an upper
 * bound on the rows (non-blank lines). */
static mlp_status csv_shape(csv_doc *d)
{
    /* A part's first line, read alone, keeps its line number in the file. */
    size_t pos = 0, len, line_no = d->ncols == 0 && d->first_line ? d->first_line - 1 : 0;
    const char *line;
    while (csv_next_line(d->buf, d->size, &pos, &line, &len)) {
        line_no++;
        if (csv_blank(line, len)) continue;
        if (d->ncols == 0) {
            long n = csv_split(line, len, NULL, 0);
            if (n < 0)
                return mlp__fail(MLP_ERR_FORMAT, "%s: line %zu: unterminated quote", d->path, line_no);
            d->ncols = (size_t)n;
            d->first_line = line_no;
        }
        d->rows++;
    }
    if (d->ncols == 0) return mlp__fail(MLP_ERR_FORMAT, "%s: empty file", d->path);
    return MLP_OK;
}

static mlp_status csv_label_column(csv_doc *d, long label_column)
{
    if (!d->has_label) return MLP_OK;
    if (label_column == -1) d->label = d->ncols - 1;
    else if ((size_t)label_column < d->ncols) d->label = (size_t)label_column;
    else
        return mlp__fail(MLP_ERR_ARGUMENT, "%s: label column %ld, but the file has %zu columns",
                         d->path, label_column, d->ncols);
    if (d->ncols < 2)
        return mlp__fail(MLP_ERR_FORMAT, "%s: one column, so no features beside the label", d->path);
    return MLP_OK;
}

/* The header: given, or detected as a first line with a non-number. The
 * first non-blank line of buf is the file's: every part decides alike. */
static void csv_header(csv_doc *d, int has_header)
{
    size_t pos = 0, len = 0, c;
    const char *line = d->buf; /* pass 1 found a non-blank line */
    double v;
    while (csv_next_line(d->buf, d->size, &pos, &line, &len) && csv_blank(line, len)) {}
    d->header = has_header == 1;
    if (has_header == -1) {
        csv_split(line, len, d->fields, d->ncols);
        for (c = 0; c < d->ncols; c++)
            if (!csv_number(d->fields[c].s, d->fields[c].len, &v)) d->header = 1;
    }
    if (d->header) d->skip = line;
}

/* Field c of line line_no as a finite float value; a class label must also
 * be a whole number in [0, 2^31 - 1). */
static mlp_status csv_value(const csv_doc *d, size_t line_no, const char *line, size_t c,
                            double *v)
{
    const csv_field *f = &d->fields[c];
    char tmp[32], at[96];
    if (!csv_number(f->s, f->len, v))
        return mlp__fail(MLP_ERR_FORMAT, "%s: %s, column %zu: '%s' is not a number", d->path,
                         csv_where(d, line_no, line, at, sizeof at), c + 1, csv_show(f, tmp, sizeof tmp));
    if (!(fabs(*v) <= FLT_MAX))
        return mlp__fail(MLP_ERR_FORMAT, "%s: %s, column %zu: '%s' is out of the float range",
                         d->path, csv_where(d, line_no, line, at, sizeof at), c + 1, csv_show(f, tmp, sizeof tmp));
    if (d->has_label && c == d->label && d->classes &&
        (*v < 0 || *v != floor(*v) || *v > 2147483646.0))
        return mlp__fail(MLP_ERR_FORMAT, "%s: %s, column %zu: class label '%s' is not an "
                         "integer >= 0", d->path, csv_where(d, line_no, line, at, sizeof at), c + 1, csv_show(f, tmp, sizeof tmp));
    return MLP_OK;
}

/* Row r of ds from one line; *max_class grows with its class label. */
static mlp_status csv_row(const csv_doc *d, const char *line, size_t len, size_t line_no,
                          mlp_dataset *ds, size_t r, size_t *max_class)
{
    size_t c, k = 0;
    long n = csv_split(line, len, d->fields, d->ncols);
    char at[96];
    mlp_status st;
    if (n < 0)
        return mlp__fail(MLP_ERR_FORMAT, "%s: %s: unterminated quote", d->path,
                         csv_where(d, line_no, line, at, sizeof at));
    if ((size_t)n != d->ncols)
        return mlp__fail(MLP_ERR_FORMAT, "%s: %s: %ld columns, expected %zu (as on line %zu)",
                         d->path, csv_where(d, line_no, line, at, sizeof at), n, d->ncols,
                         d->first_line);
    for (c = 0; c < d->ncols; c++) {
        double v;
        if ((st = csv_value(d, line_no, line, c, &v)) != MLP_OK) return st;
        if (d->has_label && c == d->label) {
            if (d->classes) {
                ds->classes[r] = (int32_t)v;
                if ((size_t)v > *max_class) *max_class = (size_t)v;
            } else {
                ds->values[r] = (float)v;
            }
        } else {
            ds->features[r * ds->cols + k++] = (float)v;
        }
    }
    return MLP_OK;
}

/* Pass 2: the numbers, into a data set of the shape pass 1 found. */
static mlp_status csv_fill(const csv_doc *d, mlp_dataset *ds)
{
    size_t pos = 0, len, line_no = 0, r = 0, max_class = 0;
    const char *line;
    mlp_status st;
    while (csv_next_line(d->buf, d->size, &pos, &line, &len)) {
        line_no++;
        if (csv_blank(line, len) || line == d->skip) continue;
        if ((st = csv_row(d, line, len, line_no, ds, r, &max_class)) != MLP_OK) return st;
        r++;
    }
    if (d->classes && d->has_label && r > 0) ds->num_classes = max_class + 1;
    return MLP_OK;
}

/* The file's buffer, the field table and the data set of the shape pass 1
 * found, all held at once before the buffer is freed. */
static mlp_status csv_check_limit(const csv_doc *d, size_t buf_cap, size_t max_bytes)
{
    size_t cols = d->ncols, n = buf_cap, part;
    int ok = mlp__mul_ok(cols, sizeof *d->fields, &part) && (n += part) >= part &&
             mlp__mul_ok(d->rows, cols + 1, &part) && mlp__mul_ok(part, sizeof(float), &part) &&
             (n += part) >= part && (n += sizeof(mlp_dataset)) >= sizeof(mlp_dataset);
    if (ok && n <= max_bytes) return MLP_OK;
    return mlp__fail(MLP_ERR_TOO_LARGE, "%s: %zu rows x %zu columns would take more than the "
                     "limit of %zu bytes", d->path, d->rows, cols, max_bytes);
}

mlp_status mlp_dataset_load_csv(mlp_dataset **out, const char *path, int has_header,
                                long label_column, int classes)
{
    return mlp_dataset_load_csv_limit(out, path, has_header, label_column, classes, SIZE_MAX);
}

mlp_status mlp_dataset_load_csv_limit(mlp_dataset **out, const char *path, int has_header,
                                      long label_column, int classes, size_t max_bytes)
{
    char *buf = NULL;
    size_t bytes, buf_cap = 0;
    csv_doc d;
    mlp_dataset *ds = NULL;
    mlp_status st;

    MLP__CHECK_NULL(out);
    MLP__CHECK_NULL(path);
    if (has_header < -1 || has_header > 1)
        return mlp__fail(MLP_ERR_ARGUMENT, "has_header is %d (1, 0 or -1)", has_header);
    if (label_column < -2)
        return mlp__fail(MLP_ERR_ARGUMENT, "label_column is %ld (>= 0, -1 last, -2 none)",
                         label_column);
    memset(&d, 0, sizeof d);
    d.path = path;
    d.has_label = label_column != -2;
    d.classes = classes;

    st = csv_slurp(path, max_bytes, &buf, &d.size, &buf_cap);
    if (st != MLP_OK) return st;
    d.buf = buf;
    if (memchr(buf, '\0', d.size) != NULL) {
        st = mlp__fail(MLP_ERR_FORMAT, "%s: binary data (a NUL byte) in a CSV file", path);
        goto done;
    }
    if ((st = csv_shape(&d)) != MLP_OK || (st = csv_label_column(&d, label_column)) != MLP_OK ||
        (st = csv_check_limit(&d, buf_cap, max_bytes)) != MLP_OK)
        goto done;
    d.fields = mlp__mul_ok(d.ncols, sizeof *d.fields, &bytes) ? mlp__malloc(bytes) : NULL;
    if (d.fields == NULL) {
        st = mlp__fail(MLP_ERR_NOMEM, "%s: %zu columns", path, d.ncols);
        goto done;
    }
    csv_header(&d, has_header);
    if (d.header) d.rows--;
    if (d.rows == 0) {
        st = mlp__fail(MLP_ERR_FORMAT, "%s: no data rows", path);
        goto done;
    }
    st = mlp__dataset_new(d.rows, d.ncols - (size_t)d.has_label, d.has_label && classes,
                          d.has_label && !classes ? 1 : 0, &ds);
    if (st != MLP_OK || (st = csv_fill(&d, ds)) != MLP_OK) goto done;
    *out = ds;
    ds = NULL;

done:
    mlp__free(buf);
    mlp__free(d.fields);
    mlp_dataset_destroy(ds);
    return st;
}

/* The shape and header from the file's first non-blank line (p->head),
 * then the rows of the part's own lines. */
static mlp_status csv_part_parse(csv_doc *d, const mlp__csv_part *p, int has_header,
                                 long label_column, mlp_dataset **out)
{
    size_t bytes, head_at;
    mlp_status st;

    d->buf = p->head;
    d->size = p->head_len;
    d->first_line = p->head_line;
    if ((st = csv_shape(d)) != MLP_OK || (st = csv_label_column(d, label_column)) != MLP_OK)
        return st;
    d->first_line = p->head_line;
    d->fields = mlp__mul_ok(d->ncols, sizeof *d->fields, &bytes) ? mlp__malloc(bytes) : NULL;
    if (d->fields == NULL) return mlp__fail(MLP_ERR_NOMEM, "%s: %zu columns", d->path, d->ncols);
    csv_header(d, has_header);

    /* The part's own lines; the header line only where this part holds it. */
    d->buf = p->buf;
    d->size = p->size;
    d->base = p->base;
    d->rows = 0;
    d->skip = NULL;
    head_at = p->head_off - p->base;
    if (d->header && p->head_off >= p->base && head_at < p->size) d->skip = p->buf + head_at;
    if (p->size > 0 && (st = csv_shape(d)) != MLP_OK) return st;
    if (d->skip != NULL) d->rows--;
    st = mlp__dataset_new_rows(d->rows, d->ncols - (size_t)d->has_label,
                               d->has_label && d->classes, d->has_label && !d->classes ? 1 : 0,
                               out);
    if (st != MLP_OK) return st;
    if ((st = csv_fill(d, *out)) != MLP_OK) {
        mlp_dataset_destroy(*out);
        *out = NULL;
    }
    return st;
}

mlp_status mlp_dataset_load_csv_part(mlp_dataset **out, const char *path, int has_header,
                                     long label_column, int classes, size_t part, size_t parts)
{
    mlp__csv_part p;
    csv_doc d;
    mlp_dataset *ds = NULL;
    mlp_status st;

    MLP__CHECK_NULL(out);
    MLP__CHECK_NULL(path);
    if (parts == 0 || part >= parts)
        return mlp__fail(MLP_ERR_ARGUMENT, "part %zu of %zu (0 <= part < parts)", part, parts);
    if (parts == 1) return mlp_dataset_load_csv(out, path, has_header, label_column, classes);
    if (has_header < -1 || has_header > 1)
        return mlp__fail(MLP_ERR_ARGUMENT, "has_header is %d (1, 0 or -1)", has_header);
    if (label_column < -2)
        return mlp__fail(MLP_ERR_ARGUMENT, "label_column is %ld (>= 0, -1 last, -2 none)",
                         label_column);
    if ((st = mlp__csv_part_read(path, part, parts, &p)) != MLP_OK) return st;
    memset(&d, 0, sizeof d);
    d.path = path;
    d.has_label = label_column != -2;
    d.classes = classes;
    d.part = part;
    d.parts = parts;
    if (p.head == NULL)
        st = mlp__fail(MLP_ERR_FORMAT, "%s: empty file", path);
    else if (memchr(p.head, '\0', p.head_len) != NULL ||
             (p.size > 0 && memchr(p.buf, '\0', p.size) != NULL))
        st = mlp__fail(MLP_ERR_FORMAT, "%s: binary data (a NUL byte) in a CSV file", path);
    else
        st = csv_part_parse(&d, &p, has_header, label_column, &ds);
    if (st == MLP_OK) *out = ds;
    mlp__free(d.fields);
    mlp__csv_part_free(&p);
    return st;
}
