/*
 * ctl.c - the control protocol's dispatcher: one request line in, one
 * reply line out (docs/control-protocol.md "Requests, replies, errors").
 *
 * Everything about a request that is not a command's own business is
 * decided here, once, before any handler runs: the line must be a JSON
 * object, "execute" a string naming a row of ctl_commands[], "arguments"
 * an object holding only arguments that row lists, and nothing else but an
 * "id" at the top.  So a handler never sees a malformed request, and a
 * request that is refused has changed nothing.
 *
 * The reply is written into the caller's buffer.  A handler that fails
 * after writing part of its return value loses that part: the buffer is
 * started again with the error, so no half reply ever leaves.
 */
#include <stdarg.h>

#include "klib.h"

#include "ctl.h"
#include "hv.h"

/* Room for one request's tokens: a request has a handful of values; a line
 * with more is refused as a whole (json.h: "too many values"). */
#define CTL_TOKENS 256

/* The row of command `i` (a string token), or NULL. */
static const struct ctl_cmd *find_command(const struct json_doc *doc, int i)
{
    for (const struct ctl_cmd *c = ctl_commands; c->name; c++)
        if (json_str_eq(doc, i, c->name))
            return c;
    /* The snapshot and device commands, where hv is built with them
     * (ctl_snap.c, ctl_dev.c). */
    for (const struct ctl_cmd *c = ctl_snapshot_commands; c && c->name; c++)
        if (json_str_eq(doc, i, c->name))
            return c;
    for (const struct ctl_cmd *c = ctl_device_commands; c && c->name; c++)
        if (json_str_eq(doc, i, c->name))
            return c;
    /* And those that make and destroy domains (ctl_domain.c). */
    for (const struct ctl_cmd *c = ctl_domain_commands; c && c->name; c++)
        if (json_str_eq(doc, i, c->name))
            return c;
    /* And console input (ctl_console.c). */
    for (const struct ctl_cmd *c = ctl_console_commands; c && c->name; c++)
        if (json_str_eq(doc, i, c->name))
            return c;
    /* And guest memory into a file (ctl_mem.c). */
    for (const struct ctl_cmd *c = ctl_memory_commands; c && c->name; c++)
        if (json_str_eq(doc, i, c->name))
            return c;
    return NULL;
}

int ctl_error(struct ctl_req *r, const char *cls, const char *fmt, ...)
{
    va_list ap;
    /* The first error raised is the one reported. */
    if (r->err_class)
        return -1;
    r->err_class = cls;
    va_start(ap, fmt);
    kvsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    return -1;
}

/* Does `cmd` take an argument named by key token `k`? */
static bool takes(const struct ctl_cmd *cmd, const struct json_doc *doc, int k)
{
    for (const char *const *a = cmd->args; a && *a; a++)
        if (json_str_eq(doc, k, *a))
            return true;
    return false;
}

/* A key token's text for a message: decoded if it is plain, else "?". */
static const char *key_text(const struct json_doc *doc, int k, char *buf, size_t size)
{
    if (json_str_copy(doc, k, buf, size) < 0)
        return "?";
    return buf;
}

/* The request's shape: an object with "execute" naming a command, at most
 * "arguments" (an object of arguments the command takes) and "id" besides.
 * 0 with *cmd set, or an error. */
static int check_request(struct ctl_req *r, const struct ctl_cmd **cmd)
{
    const struct json_doc *doc = r->doc;
    char name[64];
    if (doc->tok[0].type != JSON_OBJECT)
        return ctl_error(r, CTL_ERR_GENERIC, "a request must be a JSON object, not %s",
                         json_type_name(doc->tok[0].type));
    for (int k = json_first(doc, 0); k >= 0; k = json_member_next(doc, 0, k)) {
        if (!json_str_eq(doc, k, CTL_KEY_EXECUTE) && !json_str_eq(doc, k, CTL_KEY_ARGUMENTS) &&
            !json_str_eq(doc, k, CTL_KEY_ID))
            return ctl_error(r, CTL_ERR_GENERIC, "request member '%s' is unexpected",
                             key_text(doc, k, name, sizeof(name)));
    }
    int ex = json_get(doc, 0, CTL_KEY_EXECUTE);
    if (ex < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "a request needs \"execute\" naming a command");
    if (doc->tok[ex].type != JSON_STRING)
        return ctl_error(r, CTL_ERR_GENERIC, "\"execute\" must be a string, not %s",
                         json_type_name(doc->tok[ex].type));
    *cmd = find_command(doc, ex);
    if (!*cmd)
        return ctl_error(r, CTL_ERR_COMMAND_NOT_FOUND, "The command %s has not been found",
                         key_text(doc, ex, name, sizeof(name)));
    r->args = json_get(doc, 0, CTL_KEY_ARGUMENTS);
    if (r->args >= 0 && doc->tok[r->args].type != JSON_OBJECT)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "\"arguments\" must be an object, not %s",
                         json_type_name(doc->tok[r->args].type));
    for (int k = json_first(doc, r->args); k >= 0; k = json_member_next(doc, r->args, k)) {
        if (!takes(*cmd, doc, k))
            return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "%s takes no argument '%s'",
                             (*cmd)->name, key_text(doc, k, name, sizeof(name)));
    }
    return 0;
}

/* Finish the reply with the request's id, if it had one, and the closing
 * brace. */
static void put_id(struct json_out *o, const struct json_doc *doc)
{
    int id = doc ? json_get(doc, 0, CTL_KEY_ID) : -1;
    if (id >= 0) {
        json_key(o, CTL_KEY_ID);
        json_put_tok(o, doc, id);
    }
    json_obj_end(o);
}

/* The error reply's start: {"error": {"class": ..., "desc": ...}. */
static void put_error_member(struct json_out *o, const struct ctl_req *r)
{
    json_obj_begin(o);
    json_key(o, CTL_KEY_ERROR);
    json_obj_begin(o);
    json_key(o, CTL_KEY_CLASS);
    json_put_str(o, r->err_class);
    json_key(o, CTL_KEY_DESC);
    json_put_str(o, r->err);
    json_obj_end(o);
}

/* The error reply for r's error. */
static void put_error(struct json_out *o, const struct ctl_req *r, const struct json_doc *doc)
{
    put_error_member(o, r);
    put_id(o, doc);
}

/* The error reply to a line that is not JSON.  Its id is given back when
 * it can still be found (a plain integer in the outermost object, the
 * ids hvkit's own front-ends send), so that the one who asked need not
 * wait for an answer that never names it. */
static void put_error_unread(struct json_out *o, const struct ctl_req *r, const char *line,
                             size_t len)
{
    uint64_t id;
    put_error_member(o, r);
    if (json_scan_u64(line, len, CTL_KEY_ID, &id) == 0) {
        json_key(o, CTL_KEY_ID);
        json_put_u64(o, id);
    }
    json_obj_end(o);
}

/* Run the handler with the reply started as {"return": ; 0, or -1 with
 * the error in r. */
static int run(struct ctl_req *r, const struct ctl_cmd *cmd)
{
    json_obj_begin(r->out);
    json_key(r->out, CTL_KEY_RETURN);
    if (cmd->fn(r) < 0) {
        /* A handler that failed without saying why still gets a reply. */
        return ctl_error(r, CTL_ERR_GENERIC, "%s failed", cmd->name);
    }
    put_id(r->out, r->doc);
    if (!json_out_ok(r->out))
        return ctl_error(r, CTL_ERR_GENERIC, "the reply to %s does not fit in %u bytes", cmd->name,
                         (unsigned)r->out->size);
    return 0;
}

size_t ctl_handle(struct host *h, const char *line, size_t len, char *buf, size_t size,
                  struct ctl_after *after)
{
    static struct json_tok tok[CTL_TOKENS];
    struct json_doc doc;
    struct json_out out;
    struct ctl_req r = {.host = h, .args = -1, .out = &out, .after = after};
    char why[128];
    const struct ctl_cmd *cmd = NULL;

    memset(after, 0, sizeof(*after));
    json_out_init(&out, buf, size);
    if (json_parse(&doc, line, len, tok, CTL_TOKENS, CTL_DEPTH_MAX, why, sizeof(why)) < 0) {
        ctl_error(&r, CTL_ERR_GENERIC, "JSON parse error: %s", why);
        json_out_init(&out, buf, size);
        put_error_unread(&out, &r, line, len);
        return out.len;
    }
    r.doc = &doc;
    if (check_request(&r, &cmd) == 0 && run(&r, cmd) == 0)
        return out.len;
    /* Refused or failed: start the reply again as an error, and undo what
     * the command asked to follow. */
    memset(after, 0, sizeof(*after));
    json_out_init(&out, buf, size);
    put_error(&out, &r, &doc);
    if (!json_out_ok(&out)) {
        /* Only an id too large for the buffer gets here: answer without it. */
        json_out_init(&out, buf, size);
        put_error(&out, &r, NULL);
    }
    return out.len;
}

/* ---- Arguments ------------------------------------------------------------- */

/* The token of argument `name`, or -1. */
static int arg(const struct ctl_req *r, const char *name)
{
    return r->args >= 0 ? json_get(r->doc, r->args, name) : -1;
}

int ctl_arg_u64(struct ctl_req *r, const char *name, bool required, uint64_t def, uint64_t *v)
{
    int t = arg(r, name);
    if (t < 0) {
        if (required)
            return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "argument '%s' is missing", name);
        *v = def;
        return 0;
    }
    if (json_u64(r->doc, t, v) < 0)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "argument '%s' must be an integer from 0 to 2^64-1", name);
    return 0;
}

int ctl_arg_str(struct ctl_req *r, const char *name, char *buf, size_t size)
{
    int t = arg(r, name);
    if (t < 0)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "argument '%s' is missing", name);
    if (r->doc->tok[t].type != JSON_STRING || json_str_copy(r->doc, t, buf, size) < 0 || !buf[0])
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "argument '%s' must be a string of 1 to %zu bytes", name, size - 1);
    return 0;
}

int ctl_arg_bool(struct ctl_req *r, const char *name, bool def, bool *v)
{
    int t = arg(r, name);
    if (t < 0) {
        *v = def;
        return 0;
    }
    if (json_bool(r->doc, t, v) < 0)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "argument '%s' must be true or false", name);
    return 0;
}

int ctl_arg_domain(struct ctl_req *r, struct domain **d)
{
    uint64_t id;
    if (ctl_arg_u64(r, CTL_ARG_DOMAIN, false, 0, &id) < 0)
        return -1;
    for (struct domain *x = r->host->domains; x; x = x->next) {
        if (x->id == id) {
            *d = x;
            return 0;
        }
    }
    return ctl_error(r, CTL_ERR_DEVICE_NOT_FOUND, "no domain %llu (hv has %u)",
                     (unsigned long long)id, r->host->nr_domains);
}

int ctl_arg_vcpu(struct ctl_req *r, struct vcpu **v)
{
    struct domain *d;
    uint64_t cpu;
    if (ctl_arg_domain(r, &d) < 0 || ctl_arg_u64(r, CTL_ARG_CPU, false, 0, &cpu) < 0)
        return -1;
    if (cpu >= d->nr_vcpus)
        return ctl_error(r, CTL_ERR_DEVICE_NOT_FOUND, "domain %u has no CPU %llu (it has %u)",
                         d->id, (unsigned long long)cpu, d->nr_vcpus);
    /* A domain that has ended and given its memory back has no state left
     * to read. */
    if (d->torn_down)
        return ctl_error(r, CTL_ERR_GENERIC, "domain %u has ended (%s) and is gone", d->id,
                         domain_state_name(d->state));
    *v = d->vcpu[cpu];
    return 0;
}
