/* Trainer options (options.c): the one table of their names, defaults and
 * valid ranges, which the trainer uses to initialise and validate them.
 * Internal: not API. */
#ifndef MLP_OPTIONS_H
#define MLP_OPTIONS_H

#include "internal.h"

/* The default of a known option (mlp_option_info's default_value). */
MLP__HIDDEN double mlp__option_default(mlp_option option);

/* MLP_OK if option is known and takes value; MLP_ERR_OPTION with a message
 * naming the option and its range otherwise. */
MLP__HIDDEN mlp_status mlp__option_check(mlp_option option, double value);

#endif /* MLP_OPTIONS_H */
