/* A C99 consumer of libmlp: learns XOR with plain gradient steps
 * (params -= lr * grads) and prints what it learned.
 * Build: see examples/CMakeLists.txt (find_package) or examples/Makefile
 * (pkg-config). Exits 0 when XOR was learned, 1 on any failure. */
#include <mlp.h>

#include <stdio.h>

#define CHECK(call)                                                                    \
    do {                                                                               \
        mlp_status st_ = (call);                                                       \
        if (st_ != MLP_OK) {                                                           \
            fprintf(stderr, "%s failed: %s (%s)\n", #call, mlp_strerror(st_),          \
                    mlp_last_error());                                                 \
            goto fail;                                                                 \
        }                                                                              \
    } while (0)

int main(void)
{
    static const float X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const float T[4] = {0, 1, 1, 0};
    size_t sizes[3] = {2, 8, 1};
    mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    float Y[4];
    double J = 0.0;
    int step, i, right = 0;

    printf("libmlp %s (C consumer)\n", mlp_version());
    CHECK(mlp_create(&net, 2, sizes, acts, 1));
    CHECK(mlp_set_loss(net, MLP_LOSS_SIGMOID_CE));
    for (step = 0; step <= 400; step++) {
        float *p = mlp_params(net);
        const float *g = mlp_grads(net);
        size_t k, n = mlp_num_params(net);
        CHECK(mlp_loss_grad(net, X, 4, T, &J));
        for (k = 0; k < n; k++) p[k] -= 1.0f * g[k];
        if (step % 100 == 0) printf("step %3d  J = %.4f\n", step, J);
    }
    CHECK(mlp_forward(net, X, 4, Y));
    for (i = 0; i < 4; i++) {
        int predicted = Y[i] > 0.0f; /* a positive logit means 1 */
        right += predicted == (T[i] > 0.5f);
        printf("xor(%g, %g) = %d   (logit %+.3f)\n", X[2 * i], X[2 * i + 1], predicted, Y[i]);
    }
    printf("%s\n", right == 4 ? "XOR learned" : "XOR not learned");
    mlp_destroy(net);
    return right == 4 ? 0 : 1;
fail:
    mlp_destroy(net);
    return 1;
}
