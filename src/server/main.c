/* guised: command line, start-up, signals (reload, drain), sd_notify. */
#include "live/live.h"
#include "server/broadcast_config.h"
#include "server/accesslog.h"
#include "server/assets.h"
#include "server/privilege.h"
#include "server/server.h"
#include "server/statedir.h"
#include "server/stats.h"
#include "server/throttle.h"

#include "admin/admin.h"

#include "core/workers.h"
#include "http/mime.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "Usage: guised [-t] -c FILE\n"
               "  -c, --config FILE   configuration file (default /etc/guise/guised.conf)\n"
               "  -t, --test          check the configuration and exit: 0 good, 1 bad\n"
               "  -V, --version       print the version and exit\n"
               "  -h, --help          this help\n"
               "Runs in the foreground. SIGHUP reloads the configuration and reopens the\n"
               "access log; SIGTERM and SIGINT drain requests and exit.\n");
}

#define DEFAULT_STATE_DIR "/var/lib/guise"

/* The state directory is created when missing (a fresh machine). For
 * `guised -t` it is only checked, and the plug-ins get a scratch copy
 * (*scratch, removed at exit) so that a test writes nothing. */
static int prepare_state_dir(struct guise_config *cfg, bool test_only, bool checked, char **scratch,
                             char *err, size_t errsz)
{
    const char *dir = cfg->state_dir ? cfg->state_dir : DEFAULT_STATE_DIR;
    char why[768];
    if (!test_only) {
        if (statedir_ensure(dir, why, sizeof why) == 0)
            return 0;
        snprintf(err, errsz, "%s: %s", cfg->file, why);
        return -1;
    }
    /* checked: missing, and found creatable by root before the switch to
     * the service account (server/privilege.h) */
    if ((!checked && statedir_check(dir, why, sizeof why) != 0) ||
        !(*scratch = statedir_scratch(dir, why, sizeof why))) {
        snprintf(err, errsz, "%s: %s", cfg->file, why);
        return -1;
    }
    char *copy = strdup(*scratch);
    if (!copy) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    free(cfg->state_dir);
    cfg->state_dir = copy;
    return 0;
}

/* Builds the first generation or a reload's; logs and returns NULL on error. */
static struct gen *load_generation(struct server *srv, const char *path, char *err, size_t errsz)
{
    err[0] = '\0';
    struct guise_config *cfg = guise_config_load(path, err, errsz);
    if (!cfg)
        return NULL;
    if (prepare_state_dir(cfg, false, false, NULL, err, errsz) != 0) {
        guise_config_free(cfg);
        return NULL;
    }
    if (admin_state_apply_config(srv, cfg, err, errsz) != 0) {
        guise_config_free(cfg);
        return NULL;
    }
    struct gen *g = gen_build(srv, cfg, err, errsz);
    if (g)
        admin_state_apply_gen(srv, g);
    return g;
}

/* SIGHUP and the admin API's reload: 0, or -1 with why in err. */
static int reload(struct server *srv, char *err, size_t errsz)
{
    pthread_mutex_lock(&srv->reload_lock);
    sd_notify(0, "RELOADING=1");
    int rc = 0;
    struct gen *g = load_generation(srv, srv->config_path, err, errsz);
    if (!g) {
        rc = -1;
        guise_eventlog_write(srv->log, GUISE_EVENT_ERROR, "server", GUISE_EV_CONFIG_REJECTED,
                             GUISE_E_INVALIDARG,
                             "reload refused, the running configuration stays: %s", err);
    } else {
        struct gen *old = server_current_gen(srv);
        const char *oa = old->cfg->admin_listen, *na = g->cfg->admin_listen;
        if (old->cfg->impersonation != g->cfg->impersonation ||
            old->cfg->nlisten != g->cfg->nlisten || (oa == NULL) != (na == NULL) ||
            (oa && strcmp(oa, na) != 0))
            guise_eventlog_write(srv->log, GUISE_EVENT_WARNING, "server", GUISE_EV_CONFIG_RELOADED,
                                 GUISE_S_OK,
                                 "listen addresses (admin-listen too) and impersonation change "
                                 "only on restart");
        gen_unref(old);
        guise_eventlog_set_sink(srv->log, (enum guise_event_sink)g->cfg->event_sink);
        struct throttle_policy tp = {g->cfg->fail_delay_ms, g->cfg->lockout_after,
                                     g->cfg->lockout_seconds};
        throttle_set_policy(srv->throttle, &tp);
        server_install_gen(srv, g);
        guise_eventlog_write(srv->log, GUISE_EVENT_INFORMATION, "server", GUISE_EV_CONFIG_RELOADED,
                             GUISE_S_OK, "configuration %s reloaded", srv->config_path);
    }
    if (accesslog_reopen(srv->access) != 0)
        guise_eventlog_write(srv->log, GUISE_EVENT_WARNING, "server", GUISE_EV_IO_ERROR,
                             GUISE_RESULT_FROM_ERRNO(errno), "cannot reopen the access log");
    sd_notify(0, "READY=1");
    pthread_mutex_unlock(&srv->reload_lock);
    return rc;
}

/* Waits up to timeout_ms until the worker pool runs no job: true when idle. */
static bool wait_workers(struct guise_workers *w, unsigned timeout_ms)
{
    for (unsigned waited = 0; guise_workers_pending(w) > 0; waited += 20) {
        if (waited >= timeout_ms)
            return false;
        usleep(20000);
    }
    return true;
}

/* SIGTERM, the first half of shutdown: stop accepting and let requests
 * finish; let the worker pool finish the plug-ins' jobs (a PAM check ends
 * at pam-timeout); answer every request still waiting for a plug-in with
 * 503 and resume its connection (libmicrohttpd must never be stopped with
 * a suspended connection); wait until those answers are sent. Returns
 * false when a job still runs: it may touch its request and connection at
 * any time, so nothing may be freed and the process ends at once. */
static bool stop_serving(struct server *srv, unsigned timeout_ms)
{
    http_quiesce(srv, timeout_ms);
    bool idle = wait_workers(srv->workers, timeout_ms);
    size_t n = http_answer_waiting(srv);
    if (n)
        guise_eventlog_write(srv->log, GUISE_EVENT_WARNING, "server", GUISE_EV_SERVER_STOPPING,
                             GUISE_S_OK,
                             "stopping: %zu request(s) still waiting answered now (503 for "
                             "a plug-in call, a delayed 401 as it was)",
                             n);
    if (n) /* a client that stopped reading has had its time in the drain */
        http_wait_idle(srv, timeout_ms);
    if (!idle)
        guise_eventlog_write(srv->log, GUISE_EVENT_WARNING, "server", GUISE_EV_SERVER_STOPPING,
                             GUISE_S_OK,
                             "stopping: %zu plug-in job(s) still running after %u ms; exiting "
                             "without freeing what they use",
                             guise_workers_pending(srv->workers), timeout_ms);
    return idle;
}

/* A plug-in call that never completed (its request was answered by
 * stop_serving) keeps its instance: freeing the host would wait for it
 * forever (the host drains calls before a plug-in's disable), and freeing
 * without waiting would free what the call may still use. Like a job still
 * running, it ends the process at once. */
static bool calls_still_running(struct server *srv)
{
    struct gen *g = srv->current;
    unsigned n = 0;
    for (size_t i = 0; g && i < guise_host_plugin_count(g->host); i++)
        n += guise_plugin_calls_in_flight(guise_host_plugin_at(g->host, i));
    if (n)
        guise_eventlog_write(srv->log, GUISE_EVENT_WARNING, "server", GUISE_EV_SERVER_STOPPING,
                             GUISE_S_OK,
                             "stopping: %u plug-in call(s) never completed; exiting without "
                             "freeing what they use",
                             n);
    return n != 0;
}

/* Every connection holds a socket and, while it is answered, the content
 * file: max-connections per listener needs about twice as many descriptors.
 * The soft limit is often 1024 while the hard one is far higher, so raise the
 * soft limit to the hard one, and say so when even that is too low: past it,
 * accept(2) and open(2) fail with EMFILE (connections wait in the backlog,
 * answers are 500). */
static void raise_fd_limit(guise_eventlog *log, const struct guise_config *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    unsigned long long need = 2ull * cfg->max_connections * (cfg->nlisten ? cfg->nlisten : 1) + 64;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
        guise_eventlog_write(log, GUISE_EVENT_WARNING, "server", GUISE_EV_IO_ERROR,
                             GUISE_RESULT_FROM_ERRNO(EMFILE),
                             "open-file limit %llu is below the %llu descriptors that "
                             "max-connections = %u needs (a socket and a file per "
                             "connection): raise LimitNOFILE (ulimit -n) or lower "
                             "max-connections",
                             (unsigned long long)rl.rlim_cur, need, cfg->max_connections);
}

int main(int argc, char **argv)
{
    const char *config = "/etc/guise/guised.conf";
    bool test_only = false;
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"test", no_argument, NULL, 't'},
                                             {"version", no_argument, NULL, 'V'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    /* Keys other subsystems add to [publishing-point] sections. */
    if (broadcast_config_register() != 0) {
        fprintf(stderr, "guised: cannot register the broadcast point keys\n");
        return 1;
    }
    int opt;
    while ((opt = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            break;
        case 't':
            test_only = true;
            break;
        case 'V':
            printf("guised %s (plug-in ABI %d.%d)\n", GUISE_VERSION, GUISE_ABI_MAJOR,
                   GUISE_ABI_MINOR);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    /* Signals are taken synchronously by the main thread (sigwait): block
     * them before any thread exists so every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct server srv = {.config_path = config, .reload = reload};
    pthread_mutex_init(&srv.gen_lock, NULL);
    pthread_mutex_init(&srv.reload_lock, NULL);
    pthread_mutex_init(&srv.conns_lock, NULL);
    clock_gettime(CLOCK_REALTIME, &srv.started);
    char err[1024] = "";
    int status = 1;
    struct gen *g = NULL;
    bool http_started = false, admin_started = false;
    /* main.c alone knows both the server and the admin interface. */
    struct admin *admin = NULL;
    char *scratch = NULL; /* guised -t: the plug-ins' state directory */
    /* -t: the real state directory, for the check of the server's own
     * files (the plug-ins run on the scratch copy). */
    char *real_state = NULL;
    /* Subsystems with publishing-point keys of their own register them
     * here, before the first file is read (guise_config_register_point_keys,
     * server/config_keys.h); a reload parses them the same way. */
    struct guise_config *cfg = guise_config_load(config, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "guised: %s\n", err);
        if (test_only)
            fprintf(stderr, "guised: configuration file %s test failed\n", config);
        return 1;
    }
    /* The public /.guise/ files, read before the privilege switch (the data
     * dir need not be readable by the service account). Once per process: a
     * reload keeps them. */
    assets_load(cfg->assets_dir, stderr);
    /* Never root by construction: the seccomp filter and the switch to the
     * service account come before any thread exists (server/privilege.h). */
    bool state_checked = false;
    if (server_privilege_enter(config, cfg, cfg->state_dir ? cfg->state_dir : DEFAULT_STATE_DIR,
                               test_only, &state_checked, err, sizeof err) != 0) {
        fprintf(stderr, "guised: %s\n", err);
        if (test_only)
            fprintf(stderr, "guised: configuration file %s test failed\n", config);
        guise_config_free(cfg);
        return 1;
    }
    if (guise_eventlog_new((enum guise_event_sink)cfg->event_sink, 256, &srv.log) != GUISE_S_OK) {
        guise_config_free(cfg);
        return 1;
    }
    if (!assets_have_hlsjs())
        guise_eventlog_write(srv.log, GUISE_EVENT_WARNING, "server", GUISE_EV_SERVER_STARTED,
                             GUISE_S_OK,
                             "no hls.min.js in the assets directory: HLS player pages use the "
                             "browser's native HLS only");
    if (guise_workers_new(cfg->workers, 4096, &srv.workers) != GUISE_S_OK) {
        fprintf(stderr, "guised: cannot start %u workers\n", cfg->workers);
        guise_config_free(cfg);
        goto out;
    }
    gh_mime_load("/etc/mime.types");
    struct throttle_policy tp = {cfg->fail_delay_ms, cfg->lockout_after, cfg->lockout_seconds};
    srv.throttle = throttle_new(&tp, 4096);
    enum guise_imp_mode mode = cfg->impersonation;
    if (test_only && cfg->state_dir && !(real_state = strdup(cfg->state_dir))) {
        fprintf(stderr, "guised: out of memory\n");
        guise_config_free(cfg);
        goto out;
    }
    if (prepare_state_dir(cfg, test_only, state_checked, &scratch, err, sizeof err) != 0) {
        fprintf(stderr, "guised: %s\n", err);
        if (test_only)
            fprintf(stderr, "guised: configuration file %s test failed\n", config);
        guise_config_free(cfg);
        goto out;
    }
    if (admin_state_apply_config(&srv, cfg, err, sizeof err) != 0) {
        fprintf(stderr, "guised: %s\n", err);
        guise_config_free(cfg);
        goto out;
    }
    cfg->check_only = test_only;
    g = gen_build(&srv, cfg, err, sizeof err); /* takes cfg */
    if (!g) {
        fprintf(stderr, "guised: %s\n", err);
        if (test_only)
            fprintf(stderr, "guised: configuration file %s test failed\n", config);
        goto out;
    }
    admin_state_apply_gen(&srv, g);
    if (test_only) {
        /* A plug-in that cannot enable (missing user file, bad keytab) would
         * put its scopes in the critical-error state: the file is not good. */
        bool plugins_ok = true;
        for (size_t i = 0; i < guise_host_plugin_count(g->host); i++) {
            guise_plugin *p = guise_host_plugin_at(g->host, i);
            if (guise_plugin_state_of(p) != GUISE_PLUGIN_ERROR)
                continue;
            char msg[512];
            guise_plugin_last_error(p, msg, sizeof msg);
            fprintf(stderr, "guised: %s: plug-in '%s' cannot be enabled: %s\n", config,
                    guise_plugin_name(p), msg);
            plugins_ok = false;
        }
        free(g->cfg->state_dir); /* the scratch copy's name: check the real one */
        g->cfg->state_dir = real_state;
        real_state = NULL;
        if (server_privilege_check_files(config, g->cfg, stderr) != 0)
            plugins_ok = false;
        if (!plugins_ok) {
            fprintf(stderr, "guised: configuration file %s test failed\n", config);
            goto out;
        }
        printf("guised: configuration file %s test is successful\n", config);
        status = 0;
        goto out;
    }
    const char *why = NULL;
    if (guise_imp_new(mode, &srv.imp, &why) != GUISE_S_OK) {
        fprintf(stderr,
                "guised: %s:%d: key 'impersonation': impersonation '%s' is unavailable: %s\n"
                "guised: run as root (or with CAP_SETUID and CAP_SETGID), or set "
                "impersonation = off to serve everything with the server's own rights\n",
                config, g->cfg->impersonation_line, guise_imp_mode_name(mode),
                why ? why : "unknown reason");
        goto out;
    }
    raise_fd_limit(srv.log, g->cfg);
    srv.access = accesslog_open(g->cfg->access_log, srv.log);
    if (!srv.access) {
        fprintf(stderr, "guised: %s: key 'access-log': %s: %s\n", config, g->cfg->access_log,
                strerror(errno));
        goto out;
    }
    srv.stats = stats_new();
    srv.live = live_hub_new(srv.log);
    server_install_gen(&srv, g);
    g = NULL; /* the server holds it now */
    /* The admin listener first: once content is served, it is there too. */
    if (admin_start(&srv, srv.current->cfg, &admin, err, sizeof err) != 0) {
        fprintf(stderr, "guised: %s\n", err);
        goto out;
    }
    admin_started = true;
    if (http_start(&srv, srv.current->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "guised: %s\n", err);
        goto out;
    }
    http_started = true;
    guise_eventlog_write(srv.log, GUISE_EVENT_INFORMATION, "server", GUISE_EV_SERVER_STARTED,
                         GUISE_S_OK, "guised %s started (impersonation: %s, %zu listener(s))",
                         GUISE_VERSION, guise_imp_mode_name(guise_imp_mode_of(srv.imp)),
                         srv.ndaemons);
    sd_notify(0, "READY=1");

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(&srv, err, sizeof err);
            continue;
        }
        break;
    }
    sd_notify(0, "STOPPING=1");
    guise_eventlog_write(srv.log, GUISE_EVENT_INFORMATION, "server", GUISE_EV_SERVER_STOPPING,
                         GUISE_S_OK, "stopping: draining requests");
    status = 0;
out:
    /* One teardown for every path, so sanitizer runs see no leak even when
     * start-up fails: stop serving (above), then libmicrohttpd, then the
     * threads that may still complete a call (workers, timers), then free. */
    if (admin_started)
        admin_stop(admin);
    /* Publishers are answered, listeners get the stream's end, recordings
     * are closed: then the requests can drain. */
    if (srv.live)
        live_hub_stop_all(srv.live, "the server is stopping", 5000);
    if (http_started && (!stop_serving(&srv, srv.current->cfg->shutdown_timeout * 1000u) ||
                         calls_still_running(&srv)))
        _exit(status);
    http_stop(&srv);
    live_hub_free(srv.live);
    guise_workers_free(srv.workers);
    throttle_free(srv.throttle);
    gen_unref(g);
    assets_free();
    server_install_gen(&srv, NULL);
    http_free_orphans(&srv);
    stats_free(srv.stats);
    accesslog_close(srv.access);
    guise_imp_free(srv.imp);
    gh_mime_free();
    guise_eventlog_free(srv.log);
    statedir_scratch_remove(scratch);
    free(real_state);
    return status;
}
