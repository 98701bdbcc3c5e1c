/* Data files for the reader fuzzers (fuzz_csv, fuzz_idx) and the API
 * fuzzer's data ops: fuzz bytes written to temporary files, gzip-compressed
 * at run time so that the fuzzers reach zlib's decompressor. */
#ifndef MLP_FUZZ_DATA_FILES_H
#define MLP_FUZZ_DATA_FILES_H

#include <stddef.h>
#include <stdint.h>

/* Writes n bytes to path, gzip-compressed when gz, then (gz only) another
 * gzip member of `zeros` zero bytes; 0 on success. */
int fz_write_file(const char *path, const void *p, size_t n, size_t zeros, int gz);

/* The zeros after a bomb's header: past the reader's first 64 KiB read
 * buffer, so that it grows once, and small enough that the whole load and
 * its parts (each decompressing from the start) stay cheap. */
#define FZ_BOMB_ZEROS ((size_t)96 << 10)

/* Builds an IDX images file and (maybe) a labels file from in[0..n):
 * in[0]'s bits pick gzip for each file, no labels, a raw split of the
 * bytes or a well-formed pair (counts, sizes and payload from the bytes,
 * sometimes mismatched, truncated or followed by a stray byte), or a gzip
 * bomb (a header that claims millions of images, then FZ_BOMB_ZEROS
 * zeros). *labels is set to 0 when no labels file was written. */
void fz_idx_files(const uint8_t *in, size_t n, const char *images, const char *labels_path,
                  int *labels);

/* A fresh temporary folder for this process, removed at exit, holding
 * files of the given names (removed with it). */
const char *fz_temp_dir(void);

#endif
