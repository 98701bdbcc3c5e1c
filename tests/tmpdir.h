/* One temporary folder per test program, under $TMPDIR (else /tmp), for
 * the suites that write files: made and removed as a CMocka group's setup
 * and teardown, with paths and files inside it. */
#ifndef MLP_TEST_TMPDIR_H
#define MLP_TEST_TMPDIR_H

#include <stddef.h>

/* CMocka group setup and teardown: mkdtemp, and removing the folder with
 * everything below it (0, or -1 on failure). */
int tmpdir_setup(void **state);
int tmpdir_teardown(void **state);
/* The folder's path (empty before tmpdir_setup). */
const char *tmpdir_root(void);
/* root/name, in one of four rotating buffers: valid for three more calls
 * of tmpdir_path or tmpdir_write. */
const char *tmpdir_path(const char *name);
/* Writes len bytes to root/name (gzip-compressed when gz), asserting each
 * call; returns its path as tmpdir_path does. */
const char *tmpdir_write(const char *name, const void *data, size_t len, int gz);

#endif
