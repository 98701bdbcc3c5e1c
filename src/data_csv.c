/* Numeric CSV. Numbers are parsed here rather than by strtod so that the
 * result never depends on the C locale (a German LC_NUMERIC would read
 * "0.5" as 0); NaN, Inf and hexadecimal forms are refused on purpose. */
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

/* Reads the whole file into a NUL-free buffer owned by the caller. */
static mlp_status csv_slurp(const char *path, char **out, size_t *size)
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
            size_t next = cap ? cap * 2 : 65536;
            char *grown;
            if (next < cap) {
                st = mlp__fail(MLP_ERR_TOO_LARGE, "%s: file too large", path);
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

mlp_status mlp_dataset_load_csv(mlp_dataset **out, const char *path, int has_header,
                                long label_column, int classes)
{
    char *buf = NULL, tmp[32];
    size_t size = 0, pos, len, rows = 0, ncols = 0, label = 0, r = 0, max_class = 0;
    size_t line_no = 0, first_line = 0;
    const char *line;
    csv_field *fields = NULL;
    mlp_dataset *ds = NULL;
    int has_label = label_column != -2, header = 0;
    mlp_status st;

    MLP__CHECK_NULL(out);
    MLP__CHECK_NULL(path);
    if (has_header < -1 || has_header > 1)
        return mlp__fail(MLP_ERR_ARGUMENT, "has_header is %d (1, 0 or -1)", has_header);
    if (label_column < -2)
        return mlp__fail(MLP_ERR_ARGUMENT, "label_column is %ld (>= 0, -1 last, -2 none)",
                         label_column);

    st = csv_slurp(path, &buf, &size);
    if (st != MLP_OK) return st;
    if (memchr(buf, '\0', size) != NULL) {
        st = mlp__fail(MLP_ERR_FORMAT, "%s: binary data (a NUL byte) in a CSV file", path);
        goto done;
    }

    /* Pass 1: the column count from the first non-blank line, the header,
     * and an upper bound on the rows (non-blank lines). */
    pos = 0;
    while (csv_next_line(buf, size, &pos, &line, &len)) {
        long n;
        line_no++;
        if (csv_blank(line, len)) continue;
        if (ncols == 0) {
            n = csv_split(line, len, NULL, 0);
            if (n < 0) {
                st = mlp__fail(MLP_ERR_FORMAT, "%s: line %zu: unterminated quote", path, line_no);
                goto done;
            }
            ncols = (size_t)n;
            first_line = line_no;
        }
        rows++;
    }
    if (ncols == 0) {
        st = mlp__fail(MLP_ERR_FORMAT, "%s: empty file", path);
        goto done;
    }
    if (has_label) {
        if (label_column == -1) label = ncols - 1;
        else if ((size_t)label_column < ncols) label = (size_t)label_column;
        else {
            st = mlp__fail(MLP_ERR_ARGUMENT, "%s: label column %ld, but the file has %zu columns",
                           path, label_column, ncols);
            goto done;
        }
        if (ncols < 2) {
            st = mlp__fail(MLP_ERR_FORMAT, "%s: one column, so no features beside the label",
                           path);
            goto done;
        }
    }
    fields = mlp__mul_ok(ncols, sizeof *fields, &len) ? mlp__malloc(len) : NULL;
    if (fields == NULL) {
        st = mlp__fail(MLP_ERR_NOMEM, "%s: %zu columns", path, ncols);
        goto done;
    }

    /* The header: given, or detected as a first line with a non-number. */
    header = has_header == 1;
    if (has_header == -1) {
        size_t c;
        double v;
        pos = 0;
        while (csv_next_line(buf, size, &pos, &line, &len) && csv_blank(line, len)) {}
        csv_split(line, len, fields, ncols);
        for (c = 0; c < ncols; c++)
            if (!csv_number(fields[c].s, fields[c].len, &v)) header = 1;
    }
    if (header) rows--;
    if (rows == 0) {
        st = mlp__fail(MLP_ERR_FORMAT, "%s: no data rows", path);
        goto done;
    }

    st = mlp__dataset_new(rows, ncols - (size_t)has_label, has_label && classes,
                          has_label && !classes ? 1 : 0, &ds);
    if (st != MLP_OK) goto done;

    /* Pass 2: the numbers. */
    pos = 0;
    line_no = 0;
    while (csv_next_line(buf, size, &pos, &line, &len)) {
        size_t c, k = 0;
        long n;
        line_no++;
        if (csv_blank(line, len) || (header && line_no == first_line)) continue;
        n = csv_split(line, len, fields, ncols);
        if (n < 0) {
            st = mlp__fail(MLP_ERR_FORMAT, "%s: line %zu: unterminated quote", path, line_no);
            goto done;
        }
        if ((size_t)n != ncols) {
            st = mlp__fail(MLP_ERR_FORMAT, "%s: line %zu: %ld columns, expected %zu (as on line "
                           "%zu)", path, line_no, n, ncols, first_line);
            goto done;
        }
        for (c = 0; c < ncols; c++) {
            double v;
            if (!csv_number(fields[c].s, fields[c].len, &v)) {
                st = mlp__fail(MLP_ERR_FORMAT, "%s: line %zu, column %zu: '%s' is not a number",
                               path, line_no, c + 1, csv_show(&fields[c], tmp, sizeof tmp));
                goto done;
            }
            if (!(fabs(v) <= FLT_MAX)) {
                st = mlp__fail(MLP_ERR_FORMAT, "%s: line %zu, column %zu: '%s' is out of the "
                               "float range", path, line_no, c + 1,
                               csv_show(&fields[c], tmp, sizeof tmp));
                goto done;
            }
            if (has_label && c == label) {
                if (classes) {
                    if (v < 0 || v != floor(v) || v > 2147483646.0) {
                        st = mlp__fail(MLP_ERR_FORMAT, "%s: line %zu, column %zu: class label "
                                       "'%s' is not an integer >= 0", path, line_no, c + 1,
                                       csv_show(&fields[c], tmp, sizeof tmp));
                        goto done;
                    }
                    ds->classes[r] = (int32_t)v;
                    if ((size_t)v > max_class) max_class = (size_t)v;
                } else {
                    ds->values[r] = (float)v;
                }
            } else {
                ds->features[r * ds->cols + k++] = (float)v;
            }
        }
        r++;
    }
    if (classes && has_label) ds->num_classes = max_class + 1;
    *out = ds;
    ds = NULL;

done:
    mlp__free(buf);
    mlp__free(fields);
    mlp_dataset_destroy(ds);
    return st;
}
