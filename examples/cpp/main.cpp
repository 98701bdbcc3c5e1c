// A C++ consumer of libmlp: the handle owned by a std::unique_ptr, errors
// turned into exceptions; learns XOR with plain gradient steps and prints
// what it learned. Exits 0 when XOR was learned.
#include <mlp.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct NetDeleter {
    void operator()(mlp_network *net) const { mlp_destroy(net); }
};
using Net = std::unique_ptr<mlp_network, NetDeleter>;

void check(mlp_status st, const char *what)
{
    if (st != MLP_OK)
        throw std::runtime_error(std::string(what) + ": " + mlp_strerror(st) + " (" +
                                 mlp_last_error() + ")");
}

Net make_net(const std::vector<size_t> &sizes, const std::vector<mlp_activation> &acts,
             uint64_t seed)
{
    mlp_network *raw = nullptr;
    check(mlp_create(&raw, acts.size(), sizes.data(), acts.data(), seed), "mlp_create");
    return Net(raw);
}

} // namespace

int main()
{
    try {
        std::printf("libmlp %s (C++ consumer)\n", mlp_version());
        const std::vector<float> X = {0, 0, 0, 1, 1, 0, 1, 1};
        const std::vector<int32_t> labels = {0, 1, 1, 0};
        Net net = make_net({2, 8, 2}, {MLP_ACT_TANH, MLP_ACT_IDENTITY}, 2);
        check(mlp_set_loss(net.get(), MLP_LOSS_SOFTMAX_CE), "mlp_set_loss");
        const size_t n = mlp_num_params(net.get());
        double J = 0.0;
        for (int step = 0; step <= 400; step++) {
            check(mlp_loss_grad(net.get(), X.data(), 4, labels.data(), &J), "mlp_loss_grad");
            float *p = mlp_params(net.get());
            const float *g = mlp_grads(net.get());
            for (size_t k = 0; k < n; k++) p[k] -= 1.0f * g[k];
            if (step % 100 == 0) std::printf("step %3d  J = %.4f\n", step, J);
        }
        std::vector<float> Y(8);
        check(mlp_forward(net.get(), X.data(), 4, Y.data()), "mlp_forward");
        int right = 0;
        for (int i = 0; i < 4; i++) {
            int predicted = Y[2 * i + 1] > Y[2 * i] ? 1 : 0;
            right += predicted == labels[i];
            std::printf("xor(%g, %g) = %d   (logits %+.3f %+.3f)\n", X[2 * i], X[2 * i + 1],
                        predicted, Y[2 * i], Y[2 * i + 1]);
        }
        std::printf("%s\n", right == 4 ? "XOR learned" : "XOR not learned");
        return right == 4 ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
