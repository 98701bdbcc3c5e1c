/* Networks and helpers shared by the model-file tests (test build). */
#ifndef MLP_TEST_IO_FIXTURE_H
#define MLP_TEST_IO_FIXTURE_H

#include "network.h"

#include <stddef.h>

/* Shapes used across the tests. */
enum io_fixture_kind {
    IO_NET_FULL,    /* 5-7-4-3, softmax CE, l2, dropout, scaling, Adam state, counters */
    IO_NET_TINY,    /* 1-1 identity, nothing else: the smallest file */
    IO_NET_DEEP,    /* 6 layers of mixed widths and every activation */
    IO_NET_KINDS_
};

/* Builds one of the networks above (deterministic). NULL on failure. */
mlp_network *io_fixture_net(enum io_fixture_kind kind);
/* The file image of net in a malloc'd buffer (free()); NULL on failure. */
unsigned char *io_fixture_image(const mlp_network *net, size_t *size);
/* Recomputes the trailing CRC of a file image. */
void io_fixture_fix_crc(unsigned char *img, size_t size);
/* Fills X (rows x n_in) with a fixed pattern. */
void io_fixture_inputs(float *X, size_t rows, size_t n_in);
/* A fresh temporary folder (mkdtemp) and removing it with its files. */
char *io_fixture_tmpdir(void);
void io_fixture_rmdir(char *dir);
/* Number of entries in a folder, "." and ".." excluded (-1 on error). */
int io_fixture_count_entries(const char *dir);

#endif
