/* The in-use state of a network or trainer: the call rule of mlp.h
 * ("Calls on a handle in use"), enforced. A handle is idle, inside one
 * changing call, training (mlp_train or mlp_trainer_step), or paused in
 * the training callback, where reading calls are allowed again. The state
 * is an atomic int, so that a second thread's changing call is refused
 * instead of racing with the first. Internal: not API. */
#ifndef MLP_GUARD_H
#define MLP_GUARD_H

#include "fpmode.h"
#include "internal.h"

enum mlp__use {
    MLP__IDLE = 0,
    MLP__IN_CALL = 1,     /* a changing call runs */
    MLP__TRAINING = 2,    /* mlp_train or mlp_trainer_step runs */
    MLP__IN_CALLBACK = 3  /* mlp_train waits for its callback */
};

/* Whether a call may run now. */
enum mlp__access {
    MLP__CHANGE = 0, /* changes the handle: only when idle */
    MLP__READ = 1    /* uses the handle's scratch but changes nothing the caller
                        sees: also from the training callback */
};

#if defined(__GNUC__)
static inline int mlp__use_load(const int *s) { return __atomic_load_n(s, __ATOMIC_ACQUIRE); }
static inline void mlp__use_store(int *s, int v) { __atomic_store_n(s, v, __ATOMIC_RELEASE); }
static inline int mlp__use_swap(int *s, int from, int to)
{
    return __atomic_compare_exchange_n(s, &from, to, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
#else
static inline int mlp__use_load(const int *s) { return *s; }
static inline void mlp__use_store(int *s, int v) { *s = v; }
static inline int mlp__use_swap(int *s, int from, int to)
{
    if (*s != from) return 0;
    *s = to;
    return 1;
}
#endif

/* Enters a call on a handle whose state is *use. On success *entered says
 * whether this call took the handle (and must mlp__leave it); a READ call
 * from the training callback runs without taking it. what names the handle
 * for the message ("network", "trainer"). */
MLP__HIDDEN mlp_status mlp__enter(int *use, enum mlp__access access, const char *fn,
                                  const char *what, int *entered);
/* Ends a call that mlp__enter let in. */
static inline void mlp__leave(int *use, int entered)
{
    if (entered) mlp__use_store(use, MLP__IDLE);
}

/* The body of a public function that runs `call` (an mlp_status
 * expression) under the rule: returns its status, or MLP_ERR_BUSY. A call
 * that computes runs under MLP__GUARDED_FLUSHED: subnormals flushed
 * (fpmode.h), the caller's mode back on return. */
#define MLP__GUARDED_(handle, access, what, flush, call)                               \
    do {                                                                               \
        mlp_status st_;                                                                \
        mlp__fpmode fp_ = 0;                                                           \
        int in_;                                                                       \
        MLP__CHECK_NULL(handle);                                                       \
        st_ = mlp__enter(&(handle)->use, (access), __func__, (what), &in_);           \
        if (st_ != MLP_OK) return st_;                                                 \
        if (flush) fp_ = mlp__flush_subnormals();                                      \
        st_ = (call);                                                                  \
        if (flush) mlp__fpmode_restore(fp_);                                           \
        mlp__leave(&(handle)->use, in_);                                               \
        return st_;                                                                    \
    } while (0)
#define MLP__GUARDED(handle, access, what, call) MLP__GUARDED_(handle, access, what, 0, call)
#define MLP__GUARDED_FLUSHED(handle, access, what, call)                               \
    MLP__GUARDED_(handle, access, what, 1, call)

#endif /* MLP_GUARD_H */
