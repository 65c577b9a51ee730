/* guise: the seccomp filter that keeps root's ids out of reach.
 *
 * Why kill rather than EPERM: a thread that asks for uid 0 or fsuid 0 is a
 * compromised or broken server, and what it does next cannot be trusted
 * to honour an error - setfsuid() cannot even report one, it returns the
 * previous id either way, so an EPERM would leave the caller believing it
 * switched. SECCOMP_RET_KILL_PROCESS ends every thread at once, before the
 * call takes effect; the kernel writes an audit record (type=SECCOMP, with
 * the system call number and the process), SCMP_FLTATR_CTL_LOG asks it to
 * log the action even without auditd, and systemd reports the service as
 * killed by SIGSYS (status=31/SYS) and restarts it.
 *
 * What the filter cannot see, and how that is covered:
 *  - setgroups(2) takes a pointer to the list; a BPF filter sees only the
 *    pointer. Every setgroups guised makes goes through a user-space check
 *    that refuses a list holding gid 0 (token/creds.c, sandbox/privilege.c),
 *    and tokens cannot hold gid 0 at all (token/token.c).
 *  - io_uring_setup, io_uring_enter and io_uring_register stay allowed:
 *    the token layer's rings need them. What the filter can express is the
 *    register opcode: only the four the token layer uses pass
 *    (IORING_REGISTER_PERSONALITY and its UNREGISTER, RING_FDS and its
 *    UNREGISTER); every other registration (buffers, files, eventfds,
 *    restrictions, worker affinity...) fails with EPERM - not a way to
 *    root, so not a kill, only kernel surface the server does not use. The
 *    filter cannot tell which code path registers a personality, nor see
 *    the thread's credentials, so it cannot tie IORING_REGISTER_PERSONALITY
 *    to the token layer's brief credential switch. What it does guarantee
 *    is that no thread can ever hold uid 0 or fsuid 0, and a personality is
 *    a copy of the registering thread's credentials: no personality can
 *    carry root's ids. io_uring operations themselves never change
 *    credentials.
 *  - Other architectures' system call tables (i386 and x32 on x86-64)
 *    would bypass per-number rules: libseccomp's default bad-architecture
 *    action kills such calls.
 */
#include "sandbox/seccomp_filter.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The calls that set uids or gids, and the positions of their id
 * arguments. The 16-bit "32" variants exist on 32-bit x86 and arm only;
 * names unknown to the native architecture are skipped. */
static const struct {
    const char *name;
    unsigned nargs;
} id_calls[] = {
    {"setuid", 1},      {"setgid", 1},      {"setreuid", 2},   {"setregid", 2},
    {"setresuid", 3},   {"setresgid", 3},   {"setfsuid", 1},   {"setfsgid", 1},
    {"setuid32", 1},    {"setgid32", 1},    {"setreuid32", 2}, {"setregid32", 2},
    {"setresuid32", 3}, {"setresgid32", 3}, {"setfsuid32", 1}, {"setfsgid32", 1},
};

/* io_uring_register opcodes the token layer uses (token/uring.c). */
static bool register_opcode_used(unsigned op)
{
    return op == IORING_REGISTER_PERSONALITY || op == IORING_UNREGISTER_PERSONALITY ||
           op == IORING_REGISTER_RING_FDS || op == IORING_UNREGISTER_RING_FDS;
}

/* EPERM for every other opcode. The opcode may carry
 * IORING_REGISTER_USE_REGISTERED_RING (bit 31), hence the mask; opcodes
 * from 64 on do not exist (the kernel's own table ends far below). */
static int restrict_io_uring_register(scmp_filter_ctx ctx)
{
    int nr = seccomp_syscall_resolve_name("io_uring_register");
    if (nr == __NR_SCMP_ERROR || nr < 0)
        return 0;
    for (unsigned op = 0; op < 64; op++) {
        if (register_opcode_used(op))
            continue;
        struct scmp_arg_cmp cmp = {
            .arg = 1, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0x7fffffffu, .datum_b = op};
        int rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, &cmp);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int guise_seccomp_install(char *why, size_t whysz)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        snprintf(why, whysz, "seccomp_init failed");
        return -1;
    }
    int rc = 0;
    /* no_new_privs: an exec'd set-user-ID program would otherwise start
     * with euid 0 without any call the filter could stop. */
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
    /* No thread should exist yet; TSYNC makes sure any that does gets the
     * filter too, or the load fails. */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1); /* best effort: kernel >= 4.14 */
    for (size_t i = 0; rc == 0 && i < sizeof(id_calls) / sizeof(id_calls[0]); i++) {
        int nr = seccomp_syscall_resolve_name(id_calls[i].name);
        if (nr == __NR_SCMP_ERROR || nr < 0)
            continue; /* not a system call of this architecture */
        /* One rule per argument (rules are ORed): any id argument 0 kills.
         * The kernel reads ids as 32 bits, so only the low half counts:
         * 0x100000000 must not pass for something other than 0. -1
         * ("leave unchanged") is 0xffffffff and passes. */
        for (unsigned a = 0; rc == 0 && a < id_calls[i].nargs; a++) {
            struct scmp_arg_cmp cmp = {
                .arg = a, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffffu, .datum_b = 0};
            rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_KILL_PROCESS, nr, 1, &cmp);
        }
    }
    if (rc == 0)
        rc = restrict_io_uring_register(ctx);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
        snprintf(why, whysz, "cannot install the seccomp filter: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

int guise_seccomp_mode(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return -1;
    char line[256];
    int mode = -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "Seccomp: %d", &mode) == 1)
            break;
    }
    fclose(f);
    return mode;
}
