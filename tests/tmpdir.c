/* The test suites' temporary folder (tmpdir.h). */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */
#include "tmpdir.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

static char root[512];

int tmpdir_setup(void **state)
{
    const char *base = getenv("TMPDIR");
    (void)state;
    if (!base || !*base) base = "/tmp";
    if (snprintf(root, sizeof root, "%s/mlp_test_XXXXXX", base) >= (int)sizeof root) return -1;
    return mkdtemp(root) == NULL ? -1 : 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int tmpdir_teardown(void **state)
{
    (void)state;
    /* depth first (a folder after its files), not following links */
    return nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

const char *tmpdir_root(void) { return root; }

const char *tmpdir_path(const char *name)
{
    static char buf[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", root, name);
    return buf[k];
}

const char *tmpdir_write(const char *name, const void *data, size_t len, int gz)
{
    const char *path = tmpdir_path(name);
    if (gz) {
        gzFile g = gzopen(path, "wb");
        assert_non_null(g);
        if (len) assert_int_equal(gzwrite(g, data, (unsigned)len), (int)len);
        assert_int_equal(gzclose(g), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
    }
    return path;
}
