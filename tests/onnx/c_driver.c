/* Runs a C export (`mlp export --format c`) on raw float32 rows:
 *   c_driver IN.f32 ROWS N_OUT OUT.f32
 * Built with -DPREDICT=model_predict, and -DPREDICT_CLASS=
 * model_predict_class for classifiers, whose class must be the index of
 * the largest output (or, for one output, whether it is positive). Linked
 * with the export's object; declares the functions itself, so that one
 * driver object serves every export with the same prefix. */
#include <stdio.h>
#include <stdlib.h>

#define N_IN 5
#define MAX_OUT 16

void PREDICT(const float *x, float *y);
#ifdef PREDICT_CLASS
int PREDICT_CLASS(const float *x);

static int best_class(const float *y, long n_out)
{
    long k;
    int best = 0;
    if (n_out == 1) return y[0] > 0.0f;
    for (k = 1; k < n_out; k++)
        if (y[k] > y[best]) best = (int)k;
    return best;
}
#endif

int main(int argc, char **argv)
{
    FILE *in, *out;
    long rows, n_out, r;
    float x[N_IN], y[MAX_OUT];

    if (argc != 5 || (rows = strtol(argv[2], NULL, 10)) < 1) return 2;
    if ((n_out = strtol(argv[3], NULL, 10)) < 1 || n_out > MAX_OUT) return 2;
    if ((in = fopen(argv[1], "rb")) == NULL || (out = fopen(argv[4], "wb")) == NULL) return 1;
    for (r = 0; r < rows; r++) {
        if (fread(x, sizeof *x, N_IN, in) != N_IN) return 1;
        PREDICT(x, y);
#ifdef PREDICT_CLASS
        if (PREDICT_CLASS(x) != best_class(y, n_out))
            return fprintf(stderr, "class differs at row %ld\n", r), 1;
#endif
        if (fwrite(y, sizeof *y, (size_t)n_out, out) != (size_t)n_out) return 1;
    }
    return fclose(in) != 0 || fclose(out) != 0;
}
