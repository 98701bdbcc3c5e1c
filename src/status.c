/* Status codes, their texts, and the thread-local detail of the last failure. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

#if defined(__GNUC__)
#define MLP__THREAD_LOCAL __thread
#else
#define MLP__THREAD_LOCAL _Thread_local
#endif

/* Per thread, like errno: no state is shared between threads. */
static MLP__THREAD_LOCAL char last_error[512];

const char *mlp_strerror(mlp_status status)
{
    switch (status) {
#define MLP__STATUS_TEXT(name, value, text) \
    case name:                              \
        return text;
        MLP_STATUS_LIST(MLP__STATUS_TEXT)
#undef MLP__STATUS_TEXT
    default:
        return "unknown status";
    }
}

const char *mlp_status_name(mlp_status status)
{
    switch (status) {
#define MLP__STATUS_NAME(name, value, text) \
    case name:                              \
        return #name;
        MLP_STATUS_LIST(MLP__STATUS_NAME)
#undef MLP__STATUS_NAME
    default:
        return "MLP_ERR_UNKNOWN";
    }
}

const char *mlp_last_error(void) { return last_error; }

void mlp__clear_error(void) { last_error[0] = '\0'; }

mlp_status mlp_set_last_error(mlp_status status, const char *message)
{
    return mlp__fail(status, "%s", message ? message : "");
}

mlp_status mlp__fail(mlp_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

const char *mlp_version(void) { return MLP_VERSION_STRING; }

unsigned mlp_version_number(void) { return MLP_VERSION_NUMBER; }
