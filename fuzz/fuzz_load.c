/* libFuzzer target for the model loader (R9). Besides "no crash, no leak,
 * no undefined behaviour", it checks what must hold for any input:
 * - a failure is a known status and leaves *out alone;
 * - loading through a stream agrees with loading from memory;
 * - a file that loads predicts finite-or-not without touching bad memory,
 *   and saving it again gives back the same bytes (CRC aside: the fuzzing
 *   build skips the CRC check to reach the fields behind it).
 * tests/fuzz_replay.c runs this same function over tests/corpus/. */
#define _POSIX_C_SOURCE 200809L
#include "mlp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                  \
    do {                          \
        if (!(c)) __builtin_trap(); \
    } while (0)

static mlp_status load_stream(const uint8_t *data, size_t size, mlp_network **out)
{
    mlp_status st;
    FILE *f = size ? fmemopen((void *)data, size, "rb") : NULL;
    if (!f) return MLP_ERR_IO;
    st = mlp_load_file(out, f);
    fclose(f);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlp_network *sentinel = (mlp_network *)&size, *net = sentinel, *net2 = sentinel;
    mlp_status st = mlp_load_buffer(&net, data, size), st2;
    size_t n_in, n_out, need = 0, got = 0;
    float *X, *Y;
    unsigned char *img;

    CHECK((unsigned)st < (unsigned)MLP_STATUS_END_);
    CHECK(st == MLP_OK ? net != sentinel : (net == sentinel && mlp_last_error()[0] != '\0'));
    if (size > 0) {
        /* A stream reads only the size the header declares: its verdict is
         * that of the buffer cut to that size. */
        mlp_status want = st;
        uint64_t declared = 0;
        int i;
        if (size >= 32)
            for (i = 7; i >= 0; i--) declared = (declared << 8) | data[24 + i];
        if (declared >= 32 && declared < size) { /* the header is whole in both */
            mlp_network *cut = NULL;
            want = mlp_load_buffer(&cut, data, (size_t)declared);
            mlp_destroy(cut);
        }
        st2 = load_stream(data, size, &net2);
        CHECK(st2 == want || st2 == MLP_ERR_IO);
        if (st2 == MLP_OK) mlp_destroy(net2);
        else CHECK(net2 == sentinel);
    }
    if (st != MLP_OK) return 0;

    n_in = mlp_input_size(net);
    n_out = mlp_output_size(net);
    X = calloc(2 * n_in, sizeof *X);
    Y = calloc(2 * n_out, sizeof *Y);
    CHECK(X && Y);
    CHECK(mlp_forward(net, X, 2, Y) == MLP_OK);

    CHECK(mlp_save_buffer(net, NULL, 0, &need) == MLP_ERR_BUFFER);
    CHECK(need == size);
    img = malloc(need);
    CHECK(img != NULL);
    CHECK(mlp_save_buffer(net, img, need, &got) == MLP_OK && got == need);
    CHECK(memcmp(img, data, size - 4) == 0);
    free(img);
    free(X);
    free(Y);
    mlp_destroy(net);
    return 0;
}
