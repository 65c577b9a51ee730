/* Test helper: the content tree and accounts the impersonation tests use.
 *
 * A root directory holding files and directories of several owners, modes
 * and POSIX ACLs, symlinks in and out of it, a file next to it that no
 * escape may ever reach, and a table of what each account must be allowed.
 */
#ifndef GUISE_TEST_IMP_FIXTURE_H
#define GUISE_TEST_IMP_FIXTURE_H

#include <guise/token.h>

#include <stdbool.h>
#include <stddef.h>

/* Columns of the expectation table, in this order. */
enum {
    TOK_ALICE,  /* 2001, groups alice, media */
    TOK_BOB,    /* 2002 */
    TOK_CAROL,  /* 2003, groups carol, media, staff */
    TOK_DAVE,   /* 2004 */
    TOK_ERIN,   /* 2005, groups erin, media */
    TOK_FRANK,  /* 2006, groups frank, staff */
    TOK_MEDIA,  /* group account media: nobody + 2100 */
    TOK_NOBODY, /* 65534 */
    NTOK
};

/* One open and the answer for each token: '+' opens, 'A' EACCES,
 * 'N' ENOENT, 'X' EXDEV (escape), 'L' ELOOP. */
struct expect {
    const char *path;
    int flags;
    const char want[NTOK + 1];
};

extern const struct expect fixture_table[];
extern const size_t fixture_table_len;
/* Paths that leave the root: EXDEV for every token and for the server. */
extern const char *const fixture_escapes[];
extern const size_t fixture_escapes_len;

struct fixture {
    char outer[64];    /* temporary directory holding root and outside.txt */
    char root[96];     /* the content root */
    char outside[128]; /* must never be opened */
    int root_fd;       /* O_PATH | O_DIRECTORY on root */
    guise_token_store *store;
    guise_token *tok[NTOK];
    const char *tok_name[NTOK];
};

extern struct fixture fx;

/* Exits with 77 ("SKIP: ...") unless the process can impersonate. */
void fixture_require_root(void);
/* Builds the tree and resolves the tokens; aborts the test on failure. */
int fixture_setup(void **state);
int fixture_teardown(void **state);

/* errno for a table character (0 for '+'). */
int fixture_errno(char want);
/* Records the calling thread's credentials as the server's. */
void fixture_save_server_creds(void);
/* True when the calling thread's fsuid, fsgid and groups are the server's,
 * as saved by fixture_setup. */
bool fixture_creds_are_servers(void);
/* Opens, checks the answer and closes; returns true when the kernel's
 * answer is the expected one (and prints a line otherwise). */
bool fixture_check_open(guise_imp *imp, int tok, const struct expect *e);

#endif
