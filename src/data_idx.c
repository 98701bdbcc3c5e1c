/* IDX files (the MNIST family's format), gzip-compressed or plain: zlib's
 * gzread passes plain files through unchanged.
 *
 * Layout: magic (4 bytes: 0, 0, element type, number of dimensions), then
 * one big-endian uint32 per dimension, then the elements in row-major order.
 * Images are type 0x08 (unsigned byte) with 3 dimensions (count x rows x
 * columns; 2, count x features, is taken too), labels type 0x08 with 1. */
#include "dataset.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

#define IDX_UBYTE 0x08
#define IDX_MAX_DIMS 3

typedef struct idx_file {
    gzFile gz;
    const char *path;
    size_t ndim;
    size_t dims[IDX_MAX_DIMS];
    size_t count; /* dims[0] */
    size_t item;  /* product of the other dims: bytes per item */
} idx_file;

/* Reads up to len bytes; returns the number read, or -1 on a zlib error. */
static long long idx_read(gzFile gz, unsigned char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t want = len - done;
        int got;
        if (want > (1u << 30)) want = 1u << 30;
        got = gzread(gz, buf + done, (unsigned)want);
        if (got < 0) return -1;
        if (got == 0) break;
        done += (size_t)got;
    }
    return (long long)done;
}

static mlp_status idx_gz_error(const idx_file *f, const char *what)
{
    int errnum = 0;
    const char *msg = gzerror(f->gz, &errnum);
    if (errnum == Z_ERRNO)
        return mlp__fail(MLP_ERR_IO, "%s: reading %s: %s", f->path, what, strerror(errno));
    return mlp__fail(MLP_ERR_FORMAT, "%s: reading %s: %s", f->path, what,
                     msg && *msg ? msg : "corrupt compressed data");
}

/* Opens path and reads the header; min_dim..max_dim dimensions of ubyte. */
static mlp_status idx_open(idx_file *f, const char *path, const char *kind, size_t min_dim,
                           size_t max_dim)
{
    unsigned char head[4 + 4 * IDX_MAX_DIMS];
    long long got;
    size_t i;

    memset(f, 0, sizeof *f);
    f->path = path;
    errno = 0;
    f->gz = gzopen(path, "rb");
    if (f->gz == NULL)
        return mlp__fail(errno ? MLP_ERR_IO : MLP_ERR_NOMEM, "%s: cannot open: %s", path,
                         errno ? strerror(errno) : "out of memory");
    got = idx_read(f->gz, head, 4);
    if (got < 0) return idx_gz_error(f, "the header");
    if (got < 4)
        return mlp__fail(MLP_ERR_FORMAT, "%s: truncated: %lld of 4 header bytes", path, got);
    if (head[0] != 0 || head[1] != 0 || head[2] != IDX_UBYTE || head[3] < min_dim ||
        head[3] > max_dim)
        return mlp__fail(MLP_ERR_FORMAT,
                         "%s: bad magic 0x%02x%02x%02x%02x for IDX %s (expected 0x000008%02x)",
                         path, head[0], head[1], head[2], head[3], kind, (unsigned)max_dim);
    f->ndim = head[3];
    got = idx_read(f->gz, head + 4, 4 * f->ndim);
    if (got < 0) return idx_gz_error(f, "the header");
    if ((size_t)got < 4 * f->ndim)
        return mlp__fail(MLP_ERR_FORMAT, "%s: truncated: %lld of %zu dimension bytes", path, got,
                         4 * f->ndim);
    f->item = 1;
    for (i = 0; i < f->ndim; i++) {
        const unsigned char *p = head + 4 + 4 * i;
        f->dims[i] = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
        if (f->dims[i] == 0)
            return mlp__fail(MLP_ERR_FORMAT, "%s: dimension %zu is zero", path, i);
        if (i > 0 && !mlp__mul_ok(f->item, f->dims[i], &f->item))
            return mlp__fail(MLP_ERR_SIZE, "%s: dimensions overflow", path);
    }
    f->count = f->dims[0];
    if (f->count > MLP_MAX_DIM || f->item > MLP_MAX_DIM)
        return mlp__fail(MLP_ERR_SIZE, "%s: %zu items of %zu bytes exceed the limit %zu", path,
                         f->count, f->item, MLP_MAX_DIM);
    return MLP_OK;
}

/* Reads exactly len payload bytes into a new buffer, growing it as data
 * actually arrives so that a header claiming a huge size costs nothing
 * before the truncation is found; then insists on end of file. */
static mlp_status idx_payload_n(idx_file *f, size_t len, int check_end, unsigned char **out);

static mlp_status idx_payload(idx_file *f, size_t len, unsigned char **out)
{
    return idx_payload_n(f, len, 1, out);
}

/* The same; with check_end == 0 the stream may go on after len bytes. */
static mlp_status idx_payload_n(idx_file *f, size_t len, int check_end, unsigned char **out)
{
    unsigned char *buf = NULL;
    size_t cap = 0, have = 0;
    unsigned char extra;
    long long got;

    while (have < len) {
        if (have == cap) {
            size_t next = cap ? cap * 2 : (size_t)1 << 16;
            unsigned char *grown;
            if (next > len || next < cap) next = len;
            grown = mlp__malloc(next);
            if (grown == NULL) {
                mlp__free(buf);
                return mlp__fail(MLP_ERR_NOMEM, "%s: %zu bytes of data", f->path, next);
            }
            if (have) memcpy(grown, buf, have);
            mlp__free(buf);
            buf = grown;
            cap = next;
        }
        got = idx_read(f->gz, buf + have, cap - have);
        if (got < 0) {
            mlp__free(buf);
            return idx_gz_error(f, "the data");
        }
        have += (size_t)got;
        if (have < cap) break;
    }
    if (have < len) {
        mlp__free(buf);
        return mlp__fail(MLP_ERR_FORMAT, "%s: truncated: %zu of %zu data bytes", f->path, have,
                         len);
    }
    got = check_end ? idx_read(f->gz, &extra, 1) : 0;
    if (got != 0) {
        mlp__free(buf);
        if (got < 0) return idx_gz_error(f, "the end of the data");
        return mlp__fail(MLP_ERR_FORMAT, "%s: trailing bytes after %zu data bytes", f->path,
                         len);
    }
    *out = buf;
    return MLP_OK;
}

static void idx_close(idx_file *f)
{
    if (f->gz != NULL) gzclose(f->gz);
    f->gz = NULL;
}

/* What the load takes at its peak, from the sizes the headers declare: the
 * bytes read, then the float features and int32 labels built from them while
 * the bytes are still held (5 per byte; a growing buffer and its copy stay
 * below that). A file must end where its header says, so no more arrives. */
static mlp_status idx_check_limit(const idx_file *img, const idx_file *lab, size_t n_bytes,
                                  size_t max_bytes)
{
    size_t n = n_bytes, need;
    if ((lab->gz != NULL && (n += lab->count) < lab->count) || !mlp__mul_ok(n, 5, &need) ||
        (need += sizeof(mlp_dataset)) < sizeof(mlp_dataset) || need > max_bytes)
        return mlp__fail(MLP_ERR_TOO_LARGE,
                         "%s: %zu items of %zu bytes would take more than the limit of %zu bytes",
                         img->path, img->count, img->item, max_bytes);
    return MLP_OK;
}

/* rows x item pixels as floats and, with labels (lbl not NULL), the
 * classes and their count from the largest label. */
static void fill_rows(mlp_dataset *ds, const unsigned char *pix, const unsigned char *lbl,
                      size_t rows, size_t item)
{
    size_t i, max_class = 0;
    for (i = 0; i < rows * item; i++) ds->features[i] = (float)pix[i];
    if (lbl == NULL) return;
    for (i = 0; i < rows; i++) {
        ds->classes[i] = lbl[i];
        if (lbl[i] > max_class) max_class = lbl[i];
    }
    ds->num_classes = max_class + 1;
}

mlp_status mlp_dataset_load_idx(mlp_dataset **out, const char *images_path,
                                const char *labels_path)
{
    return mlp_dataset_load_idx_limit(out, images_path, labels_path, SIZE_MAX);
}

mlp_status mlp_dataset_load_idx_limit(mlp_dataset **out, const char *images_path,
                                      const char *labels_path, size_t max_bytes)
{
    idx_file img = {0}, lab = {0};
    unsigned char *pix = NULL, *lbl = NULL;
    mlp_dataset *ds = NULL;
    size_t n_bytes;
    mlp_status st;

    MLP__CHECK_NULL(out);
    MLP__CHECK_NULL(images_path);

    st = idx_open(&img, images_path, "images", 2, 3);
    if (st != MLP_OK) goto done;
    if (labels_path != NULL) {
        /* Check the labels' header before reading 47 MB of pixels. */
        st = idx_open(&lab, labels_path, "labels", 1, 1);
        if (st != MLP_OK) goto done;
        if (lab.count != img.count) {
            st = mlp__fail(MLP_ERR_FORMAT, "%s holds %zu labels but %s holds %zu images",
                           labels_path, lab.count, images_path, img.count);
            goto done;
        }
    }
    if (!mlp__mul_ok(img.count, img.item, &n_bytes)) {
        st = mlp__fail(MLP_ERR_SIZE, "%s: %zu x %zu bytes overflow", images_path, img.count,
                       img.item);
        goto done;
    }
    st = idx_check_limit(&img, &lab, n_bytes, max_bytes);
    if (st != MLP_OK) goto done;
    st = idx_payload(&img, n_bytes, &pix);
    if (st != MLP_OK) goto done;
    if (labels_path != NULL) {
        st = idx_payload(&lab, lab.count, &lbl);
        if (st != MLP_OK) goto done;
    }
    st = mlp__dataset_new(img.count, img.item, labels_path != NULL, 0, &ds);
    if (st != MLP_OK) goto done;
    fill_rows(ds, pix, lbl, img.count, img.item);
    *out = ds;
    ds = NULL;

done:
    mlp__free(pix);
    mlp__free(lbl);
    idx_close(&img);
    idx_close(&lab);
    mlp_dataset_destroy(ds);
    return st;
}

/* Items [lo, hi) of f's count into *out (NULL when none). Seeking in a
 * plain file is a seek; in a gzip one zlib decompresses and discards. The
 * last part reads to the end, at least one byte, so that truncation and
 * trailing bytes fail a part as they fail the whole load. */
static mlp_status idx_range(idx_file *f, size_t lo, size_t hi, int last, unsigned char **out)
{
    size_t head = 4 + 4 * f->ndim, a = lo * f->item, len = (hi - lo) * f->item;
    int probe = last && len == 0;
    mlp_status st;

    *out = NULL;
    if (!last && len == 0) return MLP_OK;
    if (probe) {
        a = f->count * f->item - 1;
        len = 1;
    }
    if (a > 0 && gzseek(f->gz, (z_off_t)(head + a), SEEK_SET) < 0)
        return idx_gz_error(f, "up to the part");
    st = idx_payload_n(f, len, last, out);
    if (st == MLP_OK && probe) {
        mlp__free(*out);
        *out = NULL;
    }
    return st;
}

/* Both headers, checked as the whole load checks them. */
static mlp_status idx_open_pair(idx_file *img, idx_file *lab, const char *images_path,
                                const char *labels_path)
{
    size_t n_bytes;
    mlp_status st = idx_open(img, images_path, "images", 2, 3);
    if (st != MLP_OK) return st;
    if (labels_path != NULL) {
        st = idx_open(lab, labels_path, "labels", 1, 1);
        if (st != MLP_OK) return st;
        if (lab->count != img->count)
            return mlp__fail(MLP_ERR_FORMAT, "%s holds %zu labels but %s holds %zu images",
                             labels_path, lab->count, images_path, img->count);
    }
    if (!mlp__mul_ok(img->count, img->item, &n_bytes))
        return mlp__fail(MLP_ERR_SIZE, "%s: %zu x %zu bytes overflow", images_path, img->count,
                         img->item);
    return MLP_OK;
}

mlp_status mlp_dataset_load_idx_part(mlp_dataset **out, const char *images_path,
                                     const char *labels_path, size_t part, size_t parts)
{
    idx_file img = {0}, lab = {0};
    unsigned char *pix = NULL, *lbl = NULL;
    mlp_dataset *ds = NULL;
    size_t lo, hi;
    int last = part + 1 == parts;
    mlp_status st;

    MLP__CHECK_NULL(out);
    MLP__CHECK_NULL(images_path);
    if (parts == 0 || part >= parts)
        return mlp__fail(MLP_ERR_ARGUMENT, "part %zu of %zu (0 <= part < parts)", part, parts);
    if (parts == 1) return mlp_dataset_load_idx(out, images_path, labels_path);
    if ((st = idx_open_pair(&img, &lab, images_path, labels_path)) != MLP_OK) goto done;
    /* floor(r n / P) without overflowing r n */
    lo = img.count / parts * part + img.count % parts * part / parts;
    hi = img.count / parts * (part + 1) + img.count % parts * (part + 1) / parts;
    if ((st = idx_range(&img, lo, hi, last, &pix)) != MLP_OK) goto done;
    if (labels_path != NULL && (st = idx_range(&lab, lo, hi, last, &lbl)) != MLP_OK) goto done;
    st = mlp__dataset_new_rows(hi - lo, img.item, labels_path != NULL, 0, &ds);
    if (st != MLP_OK) goto done;
    fill_rows(ds, pix, lbl, hi - lo, img.item);
    *out = ds;
    ds = NULL;

done:
    mlp__free(pix);
    mlp__free(lbl);
    idx_close(&img);
    idx_close(&lab);
    mlp_dataset_destroy(ds);
    return st;
}
