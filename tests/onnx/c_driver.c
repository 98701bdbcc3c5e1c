/* Runs a C export (`mlp export --format c`) on raw float32 rows:
 *   c_driver IN.f32 ROWS OUT.f32
 * Built with -DPREFIX_H="model.h" -DPREDICT=model_predict, and
 * -DPREDICT_CLASS=model_predict_class for classifiers, whose class must be
 * the index of the largest output (or, for one output, its sign). */
#include PREFIX_H

#include <stdio.h>
#include <stdlib.h>

#define N_IN 5
#define MAX_OUT 16

int main(int argc, char **argv)
{
    FILE *in, *out;
    long rows, r;
    int k;
    float x[N_IN], y[MAX_OUT];

    if (argc != 4 || (rows = strtol(argv[2], NULL, 10)) < 1) return 2;
    if ((in = fopen(argv[1], "rb")) == NULL || (out = fopen(argv[3], "wb")) == NULL) return 1;
    for (r = 0; r < rows; r++) {
        if (fread(x, sizeof *x, N_IN, in) != N_IN) return 1;
        PREDICT(x, y);
#ifdef PREDICT_CLASS
        {
            int best = 0;
            for (k = 1; k < N_OUTPUTS; k++)
                if (y[k] > y[best]) best = k;
            if (N_OUTPUTS == 1) best = y[0] > 0.0f;
            if (PREDICT_CLASS(x) != best) return fprintf(stderr, "class differs at row %ld\n", r), 1;
        }
#endif
        if (fwrite(y, sizeof *y, N_OUTPUTS, out) != N_OUTPUTS) return 1;
    }
    (void)k;
    return fclose(in) != 0 || fclose(out) != 0;
}
