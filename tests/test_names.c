/* The names of the training enums and the trainer options' defaults and
 * ranges: every value round-trips through its name, unknown names and NULL
 * are refused, and mlp_option_info says exactly what mlp_trainer_set
 * accepts and what mlp_trainer_create starts from. */
#include <mlp.h>

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

/* One enum's functions behind int-typed wrappers, so one test covers all. */
typedef struct enum_api {
    const char *what;
    int count;
    const char *(*name)(int);
    mlp_status (*parse)(const char *, int *);
    mlp_status unknown_status; /* what parsing an unknown name gives */
} enum_api;

static const char *opt_name(int v) { return mlp_optimizer_name((mlp_optimizer)v); }
static const char *sched_name(int v) { return mlp_schedule_name((mlp_schedule)v); }
static const char *stop_name(int v) { return mlp_stop_reason_name((mlp_stop_reason)v); }
static const char *option_name(int v) { return mlp_option_name((mlp_option)v); }

/* Each parse writes its own enum type; *out stays -1 unless it succeeds. */
#define PARSE_WRAPPER(fn, parse, type)                 \
    static mlp_status fn(const char *name, int *out)   \
    {                                                  \
        type v = (type)-1;                             \
        mlp_status st = parse(name, &v);                \
        *out = (int)v;                                 \
        return st;                                     \
    }
PARSE_WRAPPER(opt_parse, mlp_optimizer_parse, mlp_optimizer)
PARSE_WRAPPER(sched_parse, mlp_schedule_parse, mlp_schedule)
PARSE_WRAPPER(stop_parse, mlp_stop_reason_parse, mlp_stop_reason)
PARSE_WRAPPER(option_parse, mlp_option_parse, mlp_option)

static const enum_api apis[] = {
    {"optimizer", MLP_OPT_COUNT_, opt_name, opt_parse, MLP_ERR_OPTION},
    {"schedule", MLP_SCHED_COUNT_, sched_name, sched_parse, MLP_ERR_OPTION},
    {"stop reason", MLP_STOP_COUNT_, stop_name, stop_parse, MLP_ERR_ARGUMENT},
    {"option", MLP_OPTION_COUNT_, option_name, option_parse, MLP_ERR_OPTION},
};

static void test_names_round_trip(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof apis / sizeof apis[0]; k++) {
        const enum_api *a = &apis[k];
        for (int v = 0; v < a->count; v++) {
            const char *s = a->name(v);
            int back = -1;
            if (s == NULL || *s == '\0')
                fail_msg("%s %d has no name", a->what, v);
            assert_int_equal(a->parse(s, &back), MLP_OK);
            if (back != v)
                fail_msg("%s \"%s\" parses to %d, not %d", a->what, s, back, v);
            for (int w = 0; w < v; w++)
                if (strcmp(a->name(w), s) == 0)
                    fail_msg("%s %d and %d share the name \"%s\"", a->what, w, v, s);
        }
        /* Past the end and below 0: NULL, so callers can count names. */
        assert_null(a->name(a->count));
        assert_null(a->name(-1));
    }
}

static void test_names_refused(void **state)
{
    static const char *const bad[] = {"", "SGD", "adam ", "no_such_name", "learning-rate"};
    (void)state;
    for (size_t k = 0; k < sizeof apis / sizeof apis[0]; k++) {
        const enum_api *a = &apis[k];
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            int out = -1;
            if (a->parse(bad[i], &out) != a->unknown_status)
                fail_msg("%s \"%s\" was not refused with %s", a->what, bad[i],
                         mlp_status_name(a->unknown_status));
            assert_int_equal(out, -1); /* OUT untouched on failure */
            assert_non_null(strstr(mlp_last_error(), bad[i]));
        }
        {
            int out = -1;
            assert_int_equal(a->parse(NULL, &out), MLP_ERR_NULL);
            assert_int_equal(out, -1);
        }
    }
    /* A NULL OUT parameter with a good name. */
    assert_int_equal(mlp_optimizer_parse("adam", NULL), MLP_ERR_NULL);
    assert_int_equal(mlp_schedule_parse("cosine", NULL), MLP_ERR_NULL);
    assert_int_equal(mlp_stop_reason_parse("callback", NULL), MLP_ERR_NULL);
    assert_int_equal(mlp_option_parse("epochs", NULL), MLP_ERR_NULL);
}

/* The names the documentation and the Python binding have always used. */
static void test_names_spelled(void **state)
{
    mlp_option o;
    (void)state;
    assert_string_equal(mlp_optimizer_name(MLP_OPT_ADAMW), "adamw");
    assert_string_equal(mlp_schedule_name(MLP_SCHED_COSINE), "cosine");
    assert_string_equal(mlp_stop_reason_name(MLP_STOP_EARLY), "early_stopping");
    assert_string_equal(mlp_option_name(MLP_OPTION_CALLBACK_EVERY_BATCH), "callback_every_batch");
    assert_int_equal(mlp_option_parse("learning_rate", &o), MLP_OK);
    assert_int_equal(o, MLP_OPTION_LEARNING_RATE);
}

static mlp_trainer *new_trainer(mlp_network **net)
{
    size_t sizes[] = {2, 3, 1};
    mlp_activation acts[] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_trainer *tr = NULL;
    assert_int_equal(mlp_create(net, 2, sizes, acts, 1), MLP_OK);
    assert_int_equal(mlp_trainer_create(*net, &tr), MLP_OK);
    return tr;
}

static void expect_set(mlp_trainer *tr, mlp_option o, double v, int accepted)
{
    mlp_status st = mlp_trainer_set(tr, o, v);
    if (accepted && st != MLP_OK)
        fail_msg("%s = %.17g refused: %s", mlp_option_name(o), v, mlp_last_error());
    if (!accepted && st != MLP_ERR_OPTION)
        fail_msg("%s = %.17g not refused (status %s)", mlp_option_name(o), v, mlp_status_name(st));
}

/* Values at, inside and beyond one end of the range. dir: +1 for min (the
 * inside is above it), -1 for max. */
static void check_end(mlp_trainer *tr, mlp_option o, double end, int open, int integer, int dir)
{
    double inward = integer ? end + dir : nextafter(end, dir * HUGE_VAL);
    /* end - dir may round back to end beyond 2^53: then the next double. */
    double outward = integer && end - dir != end ? end - dir : nextafter(end, -dir * HUGE_VAL);
    if (isinf(end)) {
        /* An infinite end is open: the largest finite double is inside. */
        assert_true(open);
        expect_set(tr, o, end, 0);
        expect_set(tr, o, -dir * DBL_MAX, 1);
        return;
    }
    expect_set(tr, o, end, !open);
    expect_set(tr, o, outward, 0);
    if (open)
        expect_set(tr, o, inward, 1);
}

static void test_option_info(void **state)
{
    mlp_network *net = NULL;
    mlp_trainer *tr = new_trainer(&net);
    (void)state;
    for (int i = 0; i < MLP_OPTION_COUNT_; i++) {
        mlp_option o = (mlp_option)i;
        double def = NAN, lo = NAN, hi = NAN, got = NAN;
        int flags = -1, integer;
        assert_int_equal(mlp_option_info(o, &def, &lo, &hi, &flags), MLP_OK);
        assert_true(flags >= 0 && flags <= (MLP_OPTINFO_INTEGER | MLP_OPTINFO_MIN_OPEN |
                                            MLP_OPTINFO_MAX_OPEN));
        integer = (flags & MLP_OPTINFO_INTEGER) != 0;
        /* A fresh trainer on a fresh network starts from the defaults. */
        assert_int_equal(mlp_trainer_get(tr, o, &got), MLP_OK);
        if (got != def)
            fail_msg("%s: trainer starts at %g, mlp_option_info says %g", mlp_option_name(o), got, def);
        assert_true(lo < hi);
        assert_false(integer && (lo != floor(lo) || hi != floor(hi)));
        check_end(tr, o, lo, (flags & MLP_OPTINFO_MIN_OPEN) != 0, integer, +1);
        check_end(tr, o, hi, (flags & MLP_OPTINFO_MAX_OPEN) != 0, integer, -1);
        expect_set(tr, o, NAN, 0);
        if (integer && hi - lo >= 1)
            expect_set(tr, o, lo + 0.5, 0);
        expect_set(tr, o, def, 1); /* the default is a value it takes */
        assert_int_equal(mlp_trainer_get(tr, o, &got), MLP_OK);
        assert_true(got == def);
    }
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

static void test_option_info_args(void **state)
{
    double def = -7, lo = -7, hi = -7;
    int flags = -7;
    (void)state;
    /* Every OUT parameter may be NULL. */
    assert_int_equal(mlp_option_info(MLP_OPTION_EPOCHS, NULL, NULL, NULL, NULL), MLP_OK);
    assert_int_equal(mlp_option_info(MLP_OPTION_EPOCHS, &def, NULL, NULL, &flags), MLP_OK);
    assert_true(def == 10 && flags == MLP_OPTINFO_INTEGER);
    def = -7;
    flags = -7;
    /* Unknown options: refused, nothing written. */
    assert_int_equal(mlp_option_info(MLP_OPTION_COUNT_, &def, &lo, &hi, &flags), MLP_ERR_OPTION);
    assert_int_equal(mlp_option_info((mlp_option)-1, &def, &lo, &hi, &flags), MLP_ERR_OPTION);
    assert_true(def == -7 && lo == -7 && hi == -7 && flags == -7);
}

static void test_stop_reason_enum(void **state)
{
    mlp_network *net = NULL;
    mlp_trainer *tr = new_trainer(&net);
    (void)state;
    assert_int_equal(mlp_trainer_stop_reason(tr), MLP_STOP_COMPLETED);
    assert_int_equal(mlp_trainer_stop_reason(NULL), MLP_STOP_COMPLETED);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_names_refused),
        cmocka_unit_test(test_names_spelled),
        cmocka_unit_test(test_option_info),
        cmocka_unit_test(test_option_info_args),
        cmocka_unit_test(test_stop_reason_enum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
