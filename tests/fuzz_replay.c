/* Replays every file of a corpus folder through a fuzz target, in every
 * test run, with gcc and no libFuzzer: MLP_CORPUS_DIR names the folder and
 * the target is linked in (tests/CMakeLists.txt: fuzz_replay for the model
 * loader, fuzz/fuzz_load.c over tests/corpus/; fuzz_replay_api,
 * fuzz_replay_csv and fuzz_replay_idx for fuzz/fuzz_api.c, fuzz_csv.c and
 * fuzz_idx.c over tests/corpus_api/, corpus_csv/ and corpus_idx/). Every
 * file must pass the target's own checks (a broken one traps or aborts):
 * "seed-*" are hand-made, "fuzz-*" are inputs libFuzzer found to reach new
 * code (minimised with -merge=1), and "crash-*" findings are kept as
 * regressions once fixed. For the loader (MLP_REPLAY_PROMISES), a file
 * named "ok-*" must also load and "MLP_ERR_X-*" fail with MLP_ERR_X ("fuzz-*"
 * there have their CRC recomputed so that this CRC-checking build reaches
 * the fields too). */
#define _POSIX_C_SOURCE 200809L
#include "mlp.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef MLP_REPLAY_PROMISES
#define MLP_REPLAY_PROMISES 0
#endif

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, k;
    if (!f) return NULL;
    do {
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap = cap ? 2 * cap : 4096);
            if (!nb) break;
            buf = nb;
        }
        k = fread(buf + n, 1, cap - n, f);
        n += k;
    } while (k > 0);
    fclose(f);
    *size = n;
    return buf;
}

/* The status a file's name promises, MLP_STATUS_END_ if none. */
static mlp_status promised(const char *name)
{
    char prefix[64];
    const char *dash = strchr(name, '-');
    int s;
    if (!strncmp(name, "ok-", 3)) return MLP_OK;
    if (!dash || dash - name >= (long)sizeof prefix) return MLP_STATUS_END_;
    memcpy(prefix, name, (size_t)(dash - name));
    prefix[dash - name] = '\0';
    for (s = 1; s < MLP_STATUS_END_; s++)
        if (!strcmp(prefix, mlp_status_name((mlp_status)s))) return (mlp_status)s;
    return MLP_STATUS_END_;
}

int main(void)
{
    DIR *d = opendir(MLP_CORPUS_DIR);
    struct dirent *e;
    int files = 0, promises = 0, failures = 0;
    if (!d) {
        fprintf(stderr, "fuzz_replay: cannot open %s\n", MLP_CORPUS_DIR);
        return 1;
    }
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        size_t size = 0;
        unsigned char *data;
        mlp_status want;
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", MLP_CORPUS_DIR, e->d_name);
        data = read_file(path, &size);
        if (!data) {
            fprintf(stderr, "fuzz_replay: cannot read %s\n", path);
            failures++;
            continue;
        }
        LLVMFuzzerTestOneInput(data, size); /* traps on a broken check */
        want = MLP_REPLAY_PROMISES ? promised(e->d_name) : MLP_STATUS_END_;
        if (want != MLP_STATUS_END_) {
            mlp_network *net = NULL;
            mlp_status st = mlp_load_buffer(&net, data, size);
            promises++;
            if (st != want) {
                fprintf(stderr, "fuzz_replay: %s: got %s (%s), want %s\n", e->d_name,
                        mlp_status_name(st), mlp_last_error(), mlp_status_name(want));
                failures++;
            }
            mlp_destroy(net);
        }
        free(data);
        files++;
    }
    closedir(d);
    printf("fuzz_replay: %d files of %s replayed, %d with a promised status, %d failures\n",
           files, MLP_CORPUS_DIR, promises, failures);
    if (files == 0 || (MLP_REPLAY_PROMISES && promises == 0)) {
        fprintf(stderr, "fuzz_replay: the corpus is empty\n");
        return 1;
    }
    return failures ? 1 : 0;
}
