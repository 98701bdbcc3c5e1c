/* Learning-rate schedules and gradient clipping by global norm. */
#include "optim.h"

#include <math.h>

#define MLP__PI 3.14159265358979323846

double mlp__schedule_lr(const mlp__schedule_params *s, uint64_t epoch, uint64_t step,
                        uint64_t total_steps)
{
    switch (s->kind) {
    case MLP_SCHED_STEP: {
        uint64_t k = s->step_epochs > 0 ? epoch / s->step_epochs : 0;
        return s->lr * pow(s->gamma, (double)k);
    }
    case MLP_SCHED_COSINE: {
        double t;
        if (step < s->warmup_steps)
            return s->lr * (double)(step + 1) / (double)s->warmup_steps;
        if (total_steps <= s->warmup_steps)
            return s->lr; /* no plan left to anneal over */
        t = (double)(step - s->warmup_steps) / (double)(total_steps - s->warmup_steps);
        if (t > 1.0) t = 1.0;
        return s->min_lr + (s->lr - s->min_lr) * 0.5 * (1.0 + cos(MLP__PI * t));
    }
    case MLP_SCHED_CONSTANT:
    default:
        return s->lr;
    }
}

double mlp__global_norm(const float *g, size_t n)
{
    /* Eight partial sums: independent chains the compiler can overlap, in
     * an order fixed by n alone, so the result is reproducible. */
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    double sum;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += (double)g[i + k] * (double)g[i + k];
    for (int k = 0; i < n; i++, k++)
        acc[k] += (double)g[i] * (double)g[i];
    sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    return sqrt(sum);
}

float mlp__clip_factor(double norm, double max_norm)
{
    if (max_norm <= 0.0 || !(norm > max_norm))
        return 1.0f;
    return (float)(max_norm / (norm + 1e-6));
}
