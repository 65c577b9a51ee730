/* guise HTTP helpers: validators and conditional requests (see
 * conditional.h). Dates are formatted and parsed by hand because strftime
 * and strptime follow the process locale, and HTTP dates must not.
 */
#include "http/conditional.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const day_short[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const day_long[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};
static const char *const month_short[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void gh_etag_make(char *out, size_t outsz, uint64_t ino, uint64_t size, int64_t mtime_sec,
                  long mtime_nsec)
{
    /* Unsigned arithmetic: wraps (defined) instead of overflowing. */
    uint64_t stamp = (uint64_t)mtime_sec * UINT64_C(1000000000) + (uint64_t)mtime_nsec;

    snprintf(out, outsz, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"", ino, size, stamp);
}

void gh_http_date(char *out, size_t outsz, time_t t)
{
    struct tm tm;
    int n;

    if (outsz == 0)
        return;
    out[0] = '\0';
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
        return;
    n = snprintf(out, outsz, "%s, %02d %s %04d %02d:%02d:%02d GMT", day_short[tm.tm_wday],
                 tm.tm_mday, month_short[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
    if (n < 0 || (size_t)n >= outsz)
        out[0] = '\0';
}

/* --- HTTP-date parsing: a tiny cursor over the exact grammar. --- */

static int lit(const char **p, const char *s)
{
    size_t n = strlen(s);

    if (strncmp(*p, s, n) != 0)
        return 0;
    *p += n;
    return 1;
}

/* Exactly n digits. */
static int digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return 0;
        *v = *v * 10 + (c - '0');
    }
    *p += n;
    return 1;
}

/* One of names (case-sensitive, as the grammar's literals are). */
static int name_of(const char **p, const char *const *names, int count, int *idx)
{
    for (int i = 0; i < count; i++) {
        if (lit(p, names[i])) {
            *idx = i;
            return 1;
        }
    }
    return 0;
}

/* hour ":" minute ":" second */
static int time_of_day(const char **p, struct tm *tm)
{
    return digits(p, 2, &tm->tm_hour) && lit(p, ":") && digits(p, 2, &tm->tm_min) && lit(p, ":") &&
           digits(p, 2, &tm->tm_sec);
}

static int imf_fixdate(const char *p, struct tm *tm)
{
    int wd, year;

    if (!(name_of(&p, day_short, 7, &wd) && lit(&p, ", ") && digits(&p, 2, &tm->tm_mday) &&
          lit(&p, " ") && name_of(&p, month_short, 12, &tm->tm_mon) && lit(&p, " ") &&
          digits(&p, 4, &year) && lit(&p, " ") && time_of_day(&p, tm) && lit(&p, " GMT") &&
          *p == '\0'))
        return 0;
    tm->tm_year = year - 1900;
    return 1;
}

static int rfc850_date(const char *p, struct tm *tm)
{
    int wd, yy, now_year, year;
    struct tm now;
    time_t t = time(NULL);

    if (!(name_of(&p, day_long, 7, &wd) && lit(&p, ", ") && digits(&p, 2, &tm->tm_mday) &&
          lit(&p, "-") && name_of(&p, month_short, 12, &tm->tm_mon) && lit(&p, "-") &&
          digits(&p, 2, &yy) && lit(&p, " ") && time_of_day(&p, tm) && lit(&p, " GMT") &&
          *p == '\0'))
        return 0;
    /* RFC 9110 5.6.7: a two-digit year that looks more than 50 years in
     * the future is the most recent past year with those digits. */
    now_year = gmtime_r(&t, &now) ? now.tm_year + 1900 : 2000;
    year = now_year - now_year % 100 + yy;
    if (year > now_year + 50)
        year -= 100;
    tm->tm_year = year - 1900;
    return 1;
}

static int asctime_date(const char *p, struct tm *tm)
{
    int wd, year;

    if (!(name_of(&p, day_short, 7, &wd) && lit(&p, " ") &&
          name_of(&p, month_short, 12, &tm->tm_mon) && lit(&p, " ")))
        return 0;
    if (*p == ' ') { /* day as SP 1DIGIT */
        p++;
        if (!digits(&p, 1, &tm->tm_mday))
            return 0;
    } else if (!digits(&p, 2, &tm->tm_mday)) {
        return 0;
    }
    if (!(lit(&p, " ") && time_of_day(&p, tm) && lit(&p, " ") && digits(&p, 4, &year) &&
          *p == '\0'))
        return 0;
    tm->tm_year = year - 1900;
    return 1;
}

static int days_in_month(int mon, int year)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return days[mon] + (mon == 1 && leap);
}

int gh_http_date_parse(const char *s, time_t *t)
{
    struct tm tm;

    if (s == NULL)
        return -1;
    memset(&tm, 0, sizeof(tm));
    if (!imf_fixdate(s, &tm) && !rfc850_date(s, &tm) && !asctime_date(s, &tm))
        return -1;
    /* second 60 is a leap second (RFC 5322 allows it); timegm folds it
     * into the next minute. */
    if (tm.tm_mday < 1 || tm.tm_mday > days_in_month(tm.tm_mon, tm.tm_year + 1900) ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    /* Four-digit years fit a 64-bit time_t, so timegm cannot fail here. */
    _Static_assert(sizeof(time_t) >= 8, "time_t must hold year 9999");
    *t = timegm(&tm);
    return 0;
}

/* --- entity-tags --- */

struct etag {
    int weak;
    const char *opaque; /* with its quotes */
    size_t len;
};

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_ows(const char *p)
{
    while (is_ows(*p))
        p++;
    return p;
}

static int blank(const char *s)
{
    return s == NULL || *skip_ows(s) == '\0';
}

/* entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E /
 * obs-text. */
static int parse_etag(const char **p, struct etag *e)
{
    const char *s = *p;

    e->weak = 0;
    if (s[0] == 'W' && s[1] == '/') {
        e->weak = 1;
        s += 2;
    }
    if (*s != '"')
        return 0;
    e->opaque = s++;
    for (;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"')
            break;
        if (c < 0x21 || c == 0x7F)
            return 0; /* also the NUL: an unterminated tag */
    }
    s++;
    e->len = (size_t)(s - e->opaque);
    *p = s;
    return 1;
}

static int opaque_equal(const struct etag *a, const struct etag *b)
{
    return a->len == b->len && memcmp(a->opaque, b->opaque, a->len) == 0;
}

enum list_result { LIST_NO_MATCH, LIST_MATCH, LIST_STAR, LIST_MALFORMED };

/* Matches the representation's etag against a field value "*" /
 * #entity-tag, with strong or weak comparison (RFC 9110 8.8.3.2). */
static enum list_result match_list(const char *field, const char *etag, int strong)
{
    struct etag mine = {0}, theirs = {0};
    const char *p = skip_ows(field);
    int have_mine = 0, matched = 0;

    if (p[0] == '*' && *skip_ows(p + 1) == '\0')
        return LIST_STAR;
    if (etag != NULL) {
        const char *q = etag;
        have_mine = parse_etag(&q, &mine) && *q == '\0';
    }
    for (;;) {
        while (is_ows(*p) || *p == ',')
            p++; /* empty list elements are allowed (RFC 9110 5.6.1.2) */
        if (*p == '\0')
            break;
        if (!parse_etag(&p, &theirs))
            return LIST_MALFORMED;
        if (have_mine && opaque_equal(&mine, &theirs) && (!strong || (!mine.weak && !theirs.weak)))
            matched = 1;
        p = skip_ows(p);
        if (*p != ',' && *p != '\0')
            return LIST_MALFORMED;
    }
    return matched ? LIST_MATCH : LIST_NO_MATCH;
}

static int is_get_or_head(const char *method)
{
    return method != NULL && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
}

enum gh_cond gh_conditional_eval(const char *method, const char *if_match,
                                 const char *if_none_match, const char *if_modified_since,
                                 const char *if_unmodified_since, const char *etag, time_t mtime)
{
    time_t date;

    /* Steps 1 and 2: the client's idea of the current state must hold. */
    if (!blank(if_match)) {
        enum list_result r = match_list(if_match, etag, 1);
        if (r != LIST_MATCH && r != LIST_STAR)
            return GH_COND_PRECONDITION_FAILED;
    } else if (!blank(if_unmodified_since) && gh_http_date_parse(if_unmodified_since, &date) == 0 &&
               mtime > date) {
        return GH_COND_PRECONDITION_FAILED;
    }
    /* Steps 3 and 4: the client's cached copy may still be good. */
    if (!blank(if_none_match)) {
        enum list_result r = match_list(if_none_match, etag, 0);
        if (r == LIST_MATCH || r == LIST_STAR)
            return is_get_or_head(method) ? GH_COND_NOT_MODIFIED : GH_COND_PRECONDITION_FAILED;
    } else if (is_get_or_head(method) && !blank(if_modified_since) &&
               gh_http_date_parse(if_modified_since, &date) == 0 && mtime <= date) {
        return GH_COND_NOT_MODIFIED;
    }
    return GH_COND_PROCEED;
}

int gh_if_range_ok(const char *if_range, const char *etag, time_t mtime)
{
    const char *p;
    time_t date;

    if (if_range == NULL)
        return 1;
    /* Present but empty validates nothing: the full representation. */
    if (blank(if_range))
        return 0;
    p = skip_ows(if_range);
    if (*p == '"' || (p[0] == 'W' && p[1] == '/')) {
        struct etag theirs = {0}, mine = {0};
        const char *q = etag;

        if (!parse_etag(&p, &theirs) || *skip_ows(p) != '\0' || theirs.weak || etag == NULL)
            return 0;
        if (!parse_etag(&q, &mine) || *q != '\0' || mine.weak)
            return 0;
        return opaque_equal(&mine, &theirs);
    }
    return gh_http_date_parse(p, &date) == 0 && date == mtime;
}
