/* Read-only accessors for the training metadata a network carries. */
#include "network.h"

uint64_t mlp_seed(const mlp_network *net) { return net ? net->seed : 0; }
uint64_t mlp_epochs_trained(const mlp_network *net) { return net ? net->epochs_trained : 0; }
uint64_t mlp_steps_trained(const mlp_network *net) { return net ? net->steps : 0; }
int mlp_optimizer_state_kind(const mlp_network *net) { return net ? net->opt_kind : -1; }
