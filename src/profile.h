/* The trainer's timing hooks (mlp_trainer_set_profile). Internal: not API.
 * net->prof points at the trainer's sums while it trains with profiling
 * on, else it is NULL and a hook costs one test. */
#ifndef MLP_PROFILE_H
#define MLP_PROFILE_H

#include "network.h"

#include <time.h>

static inline double mlp__now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The start of a timed part: 0 when profiling is off. */
static inline double mlp__prof_start(const mlp_network *net)
{
    return net->prof ? mlp__now_s() : 0.0;
}

static inline void mlp__prof_add(const mlp_network *net, mlp_profile_part part, double t0)
{
    if (net->prof) net->prof[part] += mlp__now_s() - t0;
}

#endif /* MLP_PROFILE_H */
