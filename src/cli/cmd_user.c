/*
 * cmd_user.c - `sbems user`: accounts from the command line (the first
 * admin, scripts, recovery when nobody can sign in), and the first-start
 * admin of the daemon.
 *
 *   sbems user add NAME --role admin[,operator] [--grant building:hq,...]
 *                  [--password-stdin]
 *   sbems user passwd NAME [--password-stdin]
 *   sbems user list
 *   sbems user disable NAME
 *
 * A password read from standard input is final (the operator chose it); a
 * generated one is printed once and must be changed at first sign-in.
 * Works while the daemon runs (the account tables take concurrent writers);
 * a running daemon sees role changes made here after at most its cache
 * (it is dropped on changes made through the API only) - restart it or
 * use the API to change a signed-in user's roles.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/password.h"
#include "cli/cli.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "db/appdb.h"

static struct sb_pw_params pw_params(const struct sb_config *cfg)
{
    struct sb_pw_params p = sb_pw_params_default();
    if (cfg->auth_password_cost == SB_CONF_PWCOST_MODERATE) {
        p.opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
        p.memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
    } else if (cfg->auth_password_cost == SB_CONF_PWCOST_MIN) {
        p.opslimit = crypto_pwhash_OPSLIMIT_MIN;
        p.memlimit = crypto_pwhash_MEMLIMIT_MIN;
    }
    return p;
}

static void random_password(char *out, size_t cap)
{
    unsigned char b[12];
    randombytes_buf(b, sizeof(b));
    sodium_bin2base64(out, cap, b, sizeof(b), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* One line from stdin without its newline. */
static int read_password(char *out, size_t cap)
{
    if (!fgets(out, (int)cap, stdin))
        return SB_EINVAL;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

int sb_cli_open_appdb(const struct sb_config *cfg, struct sb_appdb **db, char *where,
                      size_t wherelen, char *err, size_t errlen)
{
    if (cfg->store_appdb == SB_CONF_BACKEND_POSTGRES) {
        snprintf(where, wherelen, "the PostgreSQL application tables (store.url)");
        return sb_appdb_pg_open(cfg->store_url, db, err, errlen);
    }
    snprintf(where, wherelen, "%s/sbems.db", cfg->data_dir);
    return sb_appdb_sqlite_open(where, db, err, errlen);
}

static int open_db(const struct sb_config *cfg, struct sb_appdb **db)
{
    char where[4200], err[256] = "";
    int rc = sb_cli_open_appdb(cfg, db, where, sizeof(where), err, sizeof(err));
    if (rc)
        fprintf(stderr, "sbems user: cannot open %s: %s\n", where, err[0] ? err : sb_strerror(rc));
    return rc;
}

int sb_cli_first_admin(struct sb_cli *c, struct sb_appdb *db)
{
    int64_t n = 0;
    char pw[64], h[SB_PW_HASH_MAX], path[4200];
    struct sb_pw_params p = pw_params(&c->cfg);
    struct sb_user u;
    int rc = sb_appdb_user_count(db, &n);

    if (rc || n > 0)
        return rc;
    random_password(pw, sizeof(pw));
    memset(&u, 0, sizeof(u));
    snprintf(u.username, sizeof(u.username), "admin");
    u.roles = SB_ROLE_ADMIN;
    u.must_change_pw = 1;
    u.created_ms = u.updated_ms = sb_now_ms();
    if ((rc = sb_pw_hash(&p, pw, h)))
        return rc;
    snprintf(u.pw_hash, sizeof(u.pw_hash), "%s", h);
    /* Nodes sharing a PostgreSQL application database may start together:
     * the first creates the admin, the others find it exists. */
    if ((rc = sb_appdb_user_create(db, &u)))
        return rc == SB_EEXIST ? 0 : rc;
    /* The secret goes to a 0600 file, never to the log (as Jenkins does). */
    snprintf(path, sizeof(path), "%s/initial-admin-password", c->cfg.data_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        dprintf(fd, "%s\n", pw);
        close(fd);
    }
    printf("first start: created user \"admin\"; its one-time password is in %s "
           "(change it at first sign-in)\n", path);
    sodium_memzero(pw, sizeof(pw));
    return 0;
}

/* "building:hq,site:campus" into grants. */
static int parse_grants(const char *s, struct sb_grant *g, size_t cap, size_t *n)
{
    char buf[4096];
    *n = 0;
    if (!s)
        return 0;
    snprintf(buf, sizeof(buf), "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(t, ':');
        if (!colon || *n == cap)
            return SB_EINVAL;
        *colon = '\0';
        if (strcmp(t, "site") && strcmp(t, "building"))
            return SB_EINVAL;
        snprintf(g[*n].kind, sizeof(g[0].kind), "%s", t);
        snprintf(g[*n].slug, sizeof(g[0].slug), "%s", colon + 1);
        (*n)++;
    }
    return 0;
}

static int parse_roles(const char *s, uint32_t *roles)
{
    char buf[256];
    *roles = 0;
    snprintf(buf, sizeof(buf), "%s", s ? s : "");
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int b = sb_role_parse(t);
        if (b < 0)
            return SB_EINVAL;
        *roles |= (uint32_t)b;
    }
    return *roles ? 0 : SB_EINVAL;
}

static int user_add(struct sb_cli *c, struct sb_appdb *db, const char *name, const char *role,
                    const char *grant, int from_stdin)
{
    struct sb_user u;
    struct sb_grant g[64];
    size_t ng;
    char pw[300], err[200], h[SB_PW_HASH_MAX];
    struct sb_pw_params p = pw_params(&c->cfg);
    int rc;

    memset(&u, 0, sizeof(u));
    if (parse_roles(role, &u.roles)) {
        fprintf(stderr, "sbems user add: --role is admin, manager, operator or viewer "
                        "(comma-separated)\n");
        return 2;
    }
    if (parse_grants(grant, g, 64, &ng)) {
        fprintf(stderr, "sbems user add: --grant is kind:slug[,kind:slug], kind site or building\n");
        return 2;
    }
    if (from_stdin) {
        if (read_password(pw, sizeof(pw)) || sb_pw_policy(pw, name, err, sizeof(err))) {
            fprintf(stderr, "sbems user add: %s\n", from_stdin ? err : "no password");
            return 2;
        }
    } else {
        random_password(pw, sizeof(pw));
        u.must_change_pw = 1;
    }
    snprintf(u.username, sizeof(u.username), "%s", name);
    u.created_ms = u.updated_ms = sb_now_ms();
    if ((rc = sb_pw_hash(&p, pw, h)) == 0) {
        snprintf(u.pw_hash, sizeof(u.pw_hash), "%s", h);
        rc = sb_appdb_user_create(db, &u);
    }
    if (rc == 0 && ng)
        rc = sb_appdb_grants_set(db, u.id, g, ng);
    if (rc) {
        fprintf(stderr, "sbems user add: %s\n",
                rc == SB_EEXIST ? "that username is taken" :
                rc == SB_EINVAL ? "bad username (1-64 of A-Z a-z 0-9 . _ @ + -) or grant slug" :
                sb_strerror(rc));
        return 1;
    }
    printf("created user %s (id %lld)\n", u.username, (long long)u.id);
    if (!from_stdin)
        printf("temporary password (change at first sign-in): %s\n", pw);
    sodium_memzero(pw, sizeof(pw));
    return 0;
}

static int user_passwd(struct sb_cli *c, struct sb_appdb *db, const char *name, int from_stdin)
{
    struct sb_user u;
    char pw[300], err[200], h[SB_PW_HASH_MAX];
    struct sb_pw_params p = pw_params(&c->cfg);
    int rc = sb_appdb_user_by_name(db, name, &u);
    if (rc) {
        fprintf(stderr, "sbems user passwd: no user %s\n", name);
        return 1;
    }
    if (from_stdin) {
        if (read_password(pw, sizeof(pw)) || sb_pw_policy(pw, name, err, sizeof(err))) {
            fprintf(stderr, "sbems user passwd: %s\n", err);
            return 2;
        }
    } else {
        random_password(pw, sizeof(pw));
    }
    int64_t now = sb_now_ms();
    if ((rc = sb_pw_hash(&p, pw, h)) || (rc = sb_appdb_user_set_password(db, u.id, h, !from_stdin, now)) ||
        (rc = sb_appdb_rt_revoke_user(db, u.id, now))) {
        fprintf(stderr, "sbems user passwd: %s\n", sb_strerror(rc));
        return 1;
    }
    if (!from_stdin)
        printf("temporary password (change at first sign-in): %s\n", pw);
    else
        printf("password of %s changed\n", name);
    sodium_memzero(pw, sizeof(pw));
    return 0;
}

static int user_list(struct sb_appdb *db)
{
    struct sb_user v[100];
    size_t n = 0;
    int64_t after = 0, next = 0;
    printf("%-6s %-24s %-28s %s\n", "id", "username", "roles", "state");
    do {
        if (sb_appdb_user_list(db, after, 100, v, &n, &next))
            return 1;
        for (size_t i = 0; i < n; i++) {
            char roles[64] = "";
            for (uint32_t b = 1; b <= SB_ROLE_VIEWER; b <<= 1)
                if (v[i].roles & b)
                    snprintf(roles + strlen(roles), sizeof(roles) - strlen(roles), "%s%s",
                             roles[0] ? "," : "", sb_role_name(b));
            printf("%-6lld %-24s %-28s %s\n", (long long)v[i].id, v[i].username, roles,
                   v[i].disabled ? "disabled" : v[i].must_change_pw ? "must change password"
                                                                    : "active");
        }
        after = next;
    } while (next);
    return 0;
}

static int user_disable(struct sb_appdb *db, const char *name)
{
    struct sb_user u;
    int rc = sb_appdb_user_by_name(db, name, &u);
    if (rc) {
        fprintf(stderr, "sbems user disable: no user %s\n", name);
        return 1;
    }
    u.disabled = 1;
    u.updated_ms = sb_now_ms();
    if ((rc = sb_appdb_user_update(db, &u)) || (rc = sb_appdb_rt_revoke_user(db, u.id, u.updated_ms))) {
        fprintf(stderr, "sbems user disable: %s\n", sb_strerror(rc));
        return 1;
    }
    printf("disabled %s\n", name);
    return 0;
}

int sb_cmd_user(int argc, char **argv)
{
    struct sb_cli c;
    const char *role = NULL, *grant = NULL, *stdin_pw = NULL;
    const struct sb_cli_opt opts[] = {
        { "role", 1, &role, "roles: admin, manager, operator, viewer (comma-separated)" },
        { "grant", 1, &grant, "scope: site:SLUG or building:SLUG (comma-separated)" },
        { "password-stdin", 0, &stdin_pw, "read the password from standard input" },
        { NULL, 0, NULL, NULL },
    };
    struct sb_appdb *db = NULL;
    int rc = sb_cli_parse(&c, argc, argv, opts,
                          "add NAME --role ROLE[,ROLE] [--grant KIND:SLUG,...] [--password-stdin]\n"
                          "       sbems user passwd NAME [--password-stdin]\n"
                          "       sbems user list | sbems user disable NAME\n"
                          "Manage the accounts that may sign in to the API.");
    if (rc) {
        rc = rc == 1 ? 0 : 2;
        goto out;
    }
    const char *sub = c.argc > 0 ? c.argv[0] : "";
    const char *name = c.argc > 1 ? c.argv[1] : NULL;
    if ((strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0 || strcmp(sub, "disable") == 0) &&
        !name) {
        fprintf(stderr, "sbems user %s: NAME is required\n", sub);
        rc = 2;
        goto out;
    }
    if (strcmp(sub, "add") && strcmp(sub, "passwd") && strcmp(sub, "list") && strcmp(sub, "disable")) {
        fprintf(stderr, "sbems user: add, passwd, list or disable (see --help)\n");
        rc = 2;
        goto out;
    }
    if (open_db(&c.cfg, &db)) {
        rc = 1;
        goto out;
    }
    if (strcmp(sub, "add") == 0)
        rc = user_add(&c, db, name, role, grant, stdin_pw != NULL);
    else if (strcmp(sub, "passwd") == 0)
        rc = user_passwd(&c, db, name, stdin_pw != NULL);
    else if (strcmp(sub, "list") == 0)
        rc = user_list(db);
    else
        rc = user_disable(db, name);
out:
    sb_appdb_close(db);
    sb_cli_release(&c);
    return rc;
}
