/* Unit tests of the plug-in host: every branch of the failure model. */
#include <guise/host.h>

#include <guise/host_props.h>
#include "core/workers.h"
#include "plugins/builtin.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- captured events ---- */
static struct {
    int n;
    enum guise_event_level level[64];
    char source[64][64];
    char msg[64][512];
    guise_result code[64];
} ev;

static void capture(const struct guise_event *e, void *arg)
{
    if (ev.n >= 64)
        return;
    ev.level[ev.n] = e->level;
    snprintf(ev.source[ev.n], 64, "%s", e->source);
    snprintf(ev.msg[ev.n], 512, "%s", e->message);
    ev.code[ev.n] = e->code;
    ev.n++;
}

/* ---- a scriptable test plug-in ---- */
static guise_result fake_enable_result, fake_authz_result;
static int fake_log_error_on_authorize;
static int fake_decision;

static guise_result fake_init(const struct guise_host_services *host, const guise_props *props,
                              void **out)
{
    if (guise_props_get(props, "bad"))
        return guise_props_fail(props, "bad", "is bad");
    *out = (void *)host;
    return GUISE_S_OK;
}
static guise_result fake_enable(void *p)
{
    return fake_enable_result;
}
static void fake_shutdown(void *p)
{
}
static guise_result fake_authorize(void *plugin, uint32_t event, const struct guise_identity *who,
                                   const struct guise_request_info *req, guise_authz_done_fn done,
                                   void *cookie)
{
    const struct guise_host_services *host = plugin;
    if (fake_log_error_on_authorize) {
        host->log_event(host->host, GUISE_EVENT_ERROR, 7, GUISE_E_FAIL, "backend is gone");
        return GUISE_E_PLUGIN_ERROR_REPORTED;
    }
    if (fake_authz_result != GUISE_S_OK)
        return fake_authz_result;
    done((enum guise_authz_decision)fake_decision, GUISE_S_OK, cookie);
    return GUISE_S_OK;
}
static const struct guise_property_spec fake_props[] = {
    {"good", 0, ""}, {"bad", 0, ""}, {NULL, 0, NULL}};
static const struct guise_authz_ops fake_authz = {GUISE_AUTHZ_READ, 1, fake_authorize};
static const struct guise_plugin_descriptor fake_desc = {
    .abi_major = GUISE_ABI_MAJOR,
    .kind = GUISE_PLUGIN_AUTHORIZATION,
    .name = "fake",
    .package = "Fake",
    .properties = fake_props,
    .init = fake_init,
    .enable = fake_enable,
    .shutdown = fake_shutdown,
    .authz = &fake_authz,
};

static guise_eventlog *log_;
static guise_host *host_;

static int setup(void **state)
{
    memset(&ev, 0, sizeof ev);
    fake_enable_result = fake_authz_result = GUISE_S_OK;
    fake_log_error_on_authorize = 0;
    fake_decision = GUISE_AUTHZ_ALLOW;
    assert_int_equal(guise_eventlog_new(GUISE_SINK_NONE, 8, &log_), GUISE_S_OK);
    guise_eventlog_set_hook(log_, capture, NULL);
    struct guise_host_options o = {.log = log_};
    assert_int_equal(guise_host_new(&o, &host_), GUISE_S_OK);
    assert_int_equal(guise_host_add_type(host_, &fake_desc), GUISE_S_OK);
    return 0;
}

static int teardown(void **state)
{
    guise_host_free(host_);
    guise_eventlog_free(log_);
    return 0;
}

static void test_result_names(void **state)
{
    assert_int_equal(GUISE_S_OK, 0);
    assert_int_equal((uint32_t)GUISE_E_PLUGIN_ERROR_REPORTED, 0xC00D157Du);
    assert_string_equal(guise_result_name(GUISE_E_PLUGIN_ERROR_REPORTED),
                        "GUISE_E_PLUGIN_ERROR_REPORTED");
    assert_string_equal(guise_result_name(GUISE_E_ACCESSDENIED), "GUISE_E_ACCESSDENIED");
    assert_string_equal(guise_result_name(GUISE_E_INVALIDARG), "GUISE_E_INVALIDARG");
    assert_string_equal(guise_result_name(GUISE_E_OUTOFMEMORY), "GUISE_E_OUTOFMEMORY");
    assert_string_equal(guise_result_name(GUISE_E_POINTER), "GUISE_E_POINTER");
    assert_string_equal(guise_result_name(GUISE_E_NOTIMPL), "GUISE_E_NOTIMPL");
    assert_string_equal(guise_result_name(GUISE_RESULT_FROM_ERRNO(13)), "errno:EACCES");
    assert_int_equal(guise_result_errno(GUISE_RESULT_FROM_ERRNO(2)), 2);
    assert_int_equal(guise_result_errno(GUISE_E_FAIL), 0);
    assert_string_equal(guise_result_name((guise_result)0x80001234), "0x80001234");
}

static void test_props(void **state)
{
    guise_props *p = guise_props_new("x.conf");
    guise_props_add(p, "a", "1", 3);
    guise_props_add(p, "a", "2", 4);
    guise_props_add(p, "n", "abc", 5);
    assert_string_equal(guise_props_get(p, "a"), "2");
    assert_int_equal(guise_props_count(p, "a"), 2);
    assert_string_equal(guise_props_at(p, "a", 0), "1");
    unsigned long v;
    assert_int_equal(guise_props_uint(p, "a", 0, 0, 10, &v), GUISE_S_OK);
    assert_int_equal(v, 2);
    assert_int_equal(guise_props_uint(p, "n", 0, 0, 10, &v), GUISE_E_INVALIDARG);
    assert_string_equal(guise_props_error(p), "x.conf:5: key 'n': 'abc' is not a number");
    assert_int_equal(guise_props_uint(p, "a", 0, 5, 10, &v), GUISE_E_INVALIDARG);
    bool b;
    assert_int_equal(guise_props_bool(p, "missing", true, &b), GUISE_S_OK);
    assert_true(b);
    guise_props_free(p);
}

static void test_diagnostics_ring(void **state)
{
    for (int i = 0; i < 12; i++)
        guise_eventlog_write(log_, i % 3 == 2 ? GUISE_EVENT_INFORMATION : GUISE_EVENT_WARNING, "t",
                             (uint32_t)i, GUISE_S_OK, "event %d", i);
    struct guise_diag_entry d[16];
    size_t n = guise_eventlog_diagnostics(log_, d, 16);
    assert_int_equal(n, 8);                        /* bounded: capacity 8, informations excluded */
    assert_string_equal(d[0].message, "event 10"); /* newest first */
    assert_true(d[0].seq > d[1].seq);
    assert_int_equal(ev.n, 12); /* the hook sees every event */
    guise_eventlog_clear_diagnostics(log_);
    assert_int_equal(guise_eventlog_diagnostics(log_, d, 16), 0);
}

static void test_abi_and_descriptor_checks(void **state)
{
    struct guise_plugin_descriptor d = fake_desc;
    d.name = "other";
    d.abi_major = GUISE_ABI_MAJOR + 1;
    assert_int_equal(guise_host_add_type(host_, &d), GUISE_E_ABI_MISMATCH);
    d.abi_major = GUISE_ABI_MAJOR;
    d.authz = NULL;
    assert_int_equal(guise_host_add_type(host_, &d), GUISE_E_INVALIDARG);
    assert_int_equal(guise_host_add_type(host_, &fake_desc), GUISE_E_INVALIDARG); /* duplicate */
}

static void test_unknown_property_refused(void **state)
{
    guise_props *p = guise_props_new("g.conf");
    guise_props_add(p, "nope", "1", 12);
    char err[512];
    guise_plugin *pl = NULL;
    assert_int_equal(guise_host_instantiate(host_, "fake", NULL, p, &pl, err, sizeof err),
                     GUISE_E_INVALIDARG);
    assert_string_equal(err, "g.conf:12: key 'nope': unknown property of plug-in 'fake'");
    p = guise_props_new("g.conf");
    guise_props_add(p, "bad", "1", 9);
    assert_int_equal(guise_host_instantiate(host_, "fake", NULL, p, &pl, err, sizeof err),
                     GUISE_E_INVALIDARG);
    assert_string_equal(err, "g.conf:9: key 'bad': is bad");
    assert_int_equal(guise_host_instantiate(host_, "nosuch", NULL, NULL, &pl, err, sizeof err),
                     GUISE_E_NOT_FOUND);
}

static guise_plugin *make_fake(void)
{
    guise_plugin *p = NULL;
    char err[256];
    assert_int_equal(guise_host_instantiate(host_, "fake", NULL, NULL, &p, err, sizeof err),
                     GUISE_S_OK);
    return p;
}

static int decisions, last_decision;
static void on_authz(enum guise_authz_decision d, guise_result code, void *cookie)
{
    decisions++;
    last_decision = d;
    assert_ptr_equal(cookie, &decisions); /* the cookie comes back unaltered */
}

static void test_enable_disable_states(void **state)
{
    guise_plugin *p = make_fake();
    assert_int_equal(guise_plugin_state_of(p), GUISE_PLUGIN_DISABLED);
    struct guise_request_info req = {0};
    struct guise_identity who = {0};
    /* disabled instances are never called */
    assert_int_equal(guise_plugin_authorize(p, GUISE_AUTHZ_READ, &who, &req, on_authz, &decisions),
                     GUISE_E_UNEXPECTED);
    assert_int_equal(guise_plugin_enable(p), GUISE_S_OK);
    assert_int_equal(guise_plugin_state_of(p), GUISE_PLUGIN_ENABLED);
    decisions = 0;
    fake_decision = GUISE_AUTHZ_DENY;
    assert_int_equal(guise_plugin_authorize(p, GUISE_AUTHZ_READ, &who, &req, on_authz, &decisions),
                     GUISE_S_OK);
    assert_int_equal(decisions, 1);
    assert_int_equal(last_decision, GUISE_AUTHZ_DENY);
    assert_int_equal(guise_plugin_disable(p), GUISE_S_OK);
    assert_int_equal(guise_plugin_state_of(p), GUISE_PLUGIN_DISABLED);
}

static void test_method_failure_is_logged_and_fails_closed(void **state)
{
    guise_plugin *p = make_fake();
    guise_plugin_enable(p);
    guise_scope *s = NULL;
    assert_int_equal(guise_scope_new(host_, "lectures", NULL, 0, &p, 1, &s), GUISE_S_OK);
    assert_false(guise_scope_critical(s));
    fake_authz_result = GUISE_E_OUTOFMEMORY;
    struct guise_request_info req = {0};
    struct guise_identity who = {0};
    ev.n = 0;
    assert_int_equal(guise_plugin_authorize(p, GUISE_AUTHZ_READ, &who, &req, on_authz, &decisions),
                     GUISE_E_OUTOFMEMORY);
    /* the host logged plug-in, method, code and its name */
    assert_true(ev.n >= 1);
    assert_int_equal(ev.level[0], GUISE_EVENT_ERROR);
    assert_non_null(strstr(ev.msg[0], "'fake' method authorize failed with GUISE_E_OUTOFMEMORY"));
    char msg[512];
    assert_int_equal(guise_plugin_last_error(p, msg, sizeof msg), GUISE_E_OUTOFMEMORY);
    assert_int_equal(guise_plugin_state_of(p), GUISE_PLUGIN_ERROR);
    assert_true(guise_scope_critical(s));
    struct guise_diag_entry d[8];
    assert_true(guise_eventlog_diagnostics(log_, d, 8) >= 1);
    /* re-enabling the scope clears it */
    fake_authz_result = GUISE_S_OK;
    assert_int_equal(guise_scope_reenable(s), GUISE_S_OK);
    assert_false(guise_scope_critical(s));
    assert_int_equal(guise_plugin_state_of(p), GUISE_PLUGIN_ENABLED);
    /* a scope cannot be re-enabled while its plug-in cannot */
    guise_plugin_report_failure(p, "authorize", GUISE_E_FAIL);
    fake_enable_result = GUISE_E_FAIL;
    assert_int_not_equal(guise_scope_reenable(s), GUISE_S_OK);
    assert_true(guise_scope_critical(s));
}

static void test_error_reported_is_not_logged_twice(void **state)
{
    guise_plugin *p = make_fake();
    guise_plugin_enable(p);
    guise_scope *s = NULL;
    guise_scope_new(host_, "srv", NULL, 0, &p, 1, &s);
    fake_log_error_on_authorize = 1;
    struct guise_request_info req = {0};
    struct guise_identity who = {0};
    ev.n = 0;
    assert_int_equal(guise_plugin_authorize(p, GUISE_AUTHZ_READ, &who, &req, on_authz, &decisions),
                     GUISE_E_PLUGIN_ERROR_REPORTED);
    int errors = 0;
    for (int i = 0; i < ev.n; i++)
        errors += ev.level[i] == GUISE_EVENT_ERROR && strcmp(ev.source[i], "fake") == 0;
    assert_int_equal(errors, 1); /* only the plug-in's own */
    char msg[512];
    /* the object model still shows it */
    assert_int_equal(guise_plugin_last_error(p, msg, sizeof msg), GUISE_E_PLUGIN_ERROR_REPORTED);
    assert_int_equal(guise_plugin_state_of(p), GUISE_PLUGIN_ERROR);
    assert_true(guise_scope_critical(s));
}

static void test_plugin_logging_error_is_disabled(void **state)
{
    guise_plugin *p = make_fake();
    fake_enable_result = GUISE_E_ACCESSDENIED;
    assert_int_equal(guise_plugin_enable(p), GUISE_E_ACCESSDENIED);
    assert_int_equal(guise_plugin_state_of(p), GUISE_PLUGIN_ERROR);
    guise_scope *s = NULL;
    guise_scope_new(host_, "late", NULL, 0, &p, 1, &s);
    assert_true(guise_scope_critical(s)); /* listing a failed instance starts critical */
}

static char *module_path(const char *rel)
{
    static char buf[1024];
    const char *b = getenv("GUISE_BUILD_DIR");
    snprintf(buf, sizeof buf, "%s/%s", b ? b : "build", rel);
    return buf;
}

static void test_load_example_module(void **state)
{
    char err[512];
    assert_int_equal(guise_host_load_module(host_,
                                            module_path("examples/hello-plugin/guise-hello.so"),
                                            err, sizeof err),
                     GUISE_S_OK);
    const struct guise_plugin_descriptor *d = guise_host_find_type(host_, "hello");
    assert_non_null(d);
    assert_string_equal(d->authn->protocol, "Hello");
    guise_props *p = guise_props_new("h.conf");
    guise_props_add(p, "secret", "short", 2);
    guise_plugin *pl;
    assert_int_equal(guise_host_instantiate(host_, "hello", NULL, p, &pl, err, sizeof err),
                     GUISE_E_INVALIDARG);
    assert_string_equal(err, "h.conf:2: key 'secret': must be at least 8 characters");
}

static void test_abi_mismatch_module_refused(void **state)
{
    char err[512];
    assert_int_equal(guise_host_load_module(host_, module_path("tests/unit/core/guise-future.so"),
                                            err, sizeof err),
                     GUISE_E_ABI_MISMATCH);
    assert_non_null(strstr(err, "guise-future.so"));
    char want[128];
    snprintf(want, sizeof want, "built for guise plug-in ABI %d.0; this server speaks ABI %d.%d",
             GUISE_ABI_MAJOR + 1, GUISE_ABI_MAJOR, GUISE_ABI_MINOR);
    assert_non_null(strstr(err, want));
    assert_int_equal(guise_host_load_module(host_, "/nonexistent/x.so", err, sizeof err),
                     GUISE_E_NOT_FOUND);
    assert_non_null(strstr(err, "/nonexistent/x.so"));
}

/* A module built for ABI 1.0 loads; the members 1.1 added read as absent. */
static void test_older_minor_module_loads(void **state)
{
    char err[512];
    assert_int_equal(guise_host_load_module(host_, module_path("tests/unit/core/guise-minor0.so"),
                                            err, sizeof err),
                     GUISE_S_OK);
    const struct guise_plugin_descriptor *d = guise_host_find_type(host_, "old-minor");
    assert_non_null(d);
    assert_int_equal(d->abi_minor, 0);
    assert_null(d->next);
    guise_plugin *pl;
    assert_int_equal(guise_host_instantiate(host_, "old-minor", NULL, NULL, &pl, err, sizeof err),
                     GUISE_S_OK);
    assert_int_equal(guise_plugin_enable(pl), GUISE_S_OK);
    assert_int_equal(guise_plugin_disable(pl), GUISE_S_OK);
}

/* One entry point, two plug-in types; a module whose chain clashes with a
 * registered name registers nothing at all. */
static void test_module_with_several_descriptors(void **state)
{
    char err[512];
    const char *path = module_path("tests/unit/core/guise-multi.so");
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", path);
    assert_int_equal(guise_host_load_module(host_, saved, err, sizeof err), GUISE_S_OK);
    assert_non_null(guise_host_find_type(host_, "multi-a"));
    assert_non_null(guise_host_find_type(host_, "multi-b"));
    /* Loading it again: multi-a is taken, so neither is registered twice
     * and the module is unloaded again. */
    assert_int_equal(guise_host_load_module(host_, saved, err, sizeof err), GUISE_E_INVALIDARG);
    assert_non_null(strstr(err, "multi-a"));
    guise_plugin *a, *b;
    assert_int_equal(guise_host_instantiate(host_, "multi-a", NULL, NULL, &a, err, sizeof err),
                     GUISE_S_OK);
    assert_int_equal(guise_host_instantiate(host_, "multi-b", NULL, NULL, &b, err, sizeof err),
                     GUISE_S_OK);
}

static int jobs_done;
static void job(void *arg)
{
    __atomic_add_fetch(&jobs_done, 1, __ATOMIC_SEQ_CST);
}

static void test_workers(void **state)
{
    struct guise_workers *w;
    assert_int_equal(guise_workers_new(3, 16, &w), GUISE_S_OK);
    int accepted = 0;
    for (int i = 0; i < 1000; i++)
        while (guise_workers_submit(w, job, NULL) != GUISE_S_OK)
            usleep(100);
    accepted = 1000;
    /* Wait for the queue to empty: the counter counts finished jobs only. */
    while (guise_workers_pending(w) != 0)
        usleep(100);
    assert_int_equal(guise_workers_completed(w), accepted);
    assert_int_equal(__atomic_load_n(&jobs_done, __ATOMIC_SEQ_CST), accepted);
    guise_workers_free(w); /* drains */
    assert_int_equal(jobs_done, accepted);
}

static void test_builtins_register(void **state)
{
    for (size_t i = 0; guise_builtin_plugins[i]; i++)
        assert_int_equal(guise_host_add_type(host_, guise_builtin_plugins[i]), GUISE_S_OK);
    assert_non_null(guise_host_find_type(host_, "anonymous"));
    assert_true(guise_host_find_type(host_, "anonymous")->authn->flags & GUISE_AUTH_ANONYMOUS);
    /* ip works at server level only */
    assert_false(guise_host_find_type(host_, "ip")->authz->point_level_allowed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_names),
        cmocka_unit_test(test_props),
        cmocka_unit_test_setup_teardown(test_diagnostics_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi_and_descriptor_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_property_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_disable_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_failure_is_logged_and_fails_closed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_error_reported_is_not_logged_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_logging_error_is_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_example_module, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi_mismatch_module_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_minor_module_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_module_with_several_descriptors, setup, teardown),
        cmocka_unit_test(test_workers),
        cmocka_unit_test_setup_teardown(test_builtins_register, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
