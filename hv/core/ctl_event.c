/*
 * ctl_event.c - the control protocol's events (docs/control-protocol.md
 * "Events"): one line whenever a domain's state changes, whoever changed
 * it -- a command, the guest itself, a crash, the run loop's end action.
 *
 * Rather than a hook in every place that changes a state, the channel
 * compares each domain with what it last reported, between exits: a state
 * lives in struct domain alone (domain.h), so this sees every change that
 * lasts until the next poll, and nothing outside the channel has to know
 * that events exist.  A reset builds the domain again and counts it in
 * domain->restarts, which is how a RESET shows; a domain made at run time
 * is one the channel has not seen, by number or by serial (CREATED).
 */
#include "klib.h"

#include "ctl.h"
#include "hv.h"

/* Write one event line: {"event": NAME, "data": {"domain": N, ...}}, with
 * the reason and code of an end where there is one. */
static void emit_event(const char *name, const struct domain *d, const char *reason,
                       ctl_emit_fn emit, void *ctx)
{
    char line[DOMAIN_WHY_LEN + 160];
    struct json_out o;
    json_out_init(&o, line, sizeof(line));
    json_obj_begin(&o);
    json_key(&o, CTL_KEY_EVENT);
    json_put_str(&o, name);
    json_key(&o, CTL_KEY_DATA);
    json_obj_begin(&o);
    json_key(&o, CTL_ARG_DOMAIN);
    json_put_u64(&o, d->id);
    /* A new domain is announced with its name, as query-domains gives it. */
    if (!strcmp(name, CTL_EV_CREATED)) {
        char dn[16];
        json_key(&o, CTL_ARG_NAME);
        json_put_str(&o, domain_name(d, dn, sizeof(dn)));
    }
    if (reason) {
        json_key(&o, "reason");
        json_put_str(&o, reason);
    }
    if (d->state == DOMAIN_SHUTDOWN && d->shutdown_reason == DOMAIN_POWEROFF && reason) {
        json_key(&o, "code");
        json_put_u64(&o, d->exit_code);
    }
    json_obj_end(&o);
    json_obj_end(&o);
    if (json_out_ok(&o))
        emit(ctx, line, o.len);
}

void ctl_event_emit(const char *name, const struct domain *d, ctl_emit_fn emit, void *ctx)
{
    emit_event(name, d, NULL, emit, ctx);
}

/* The event for a change from `was` to the domain's state now, or none. */
static void state_event(const struct ctl_events *ev, int was, const struct domain *d,
                        ctl_emit_fn emit, void *ctx)
{
    switch (d->state) {
    case DOMAIN_PAUSED:
        emit_event(CTL_EV_STOP, d, NULL, emit, ctx);
        break;
    case DOMAIN_RUNNING:
        /* From paused: a cont.  (From created: the start, no event.) */
        if (was == DOMAIN_PAUSED)
            emit_event(CTL_EV_RESUME, d, NULL, emit, ctx);
        break;
    case DOMAIN_SHUTDOWN:
        emit_event(CTL_EV_SHUTDOWN, d,
                   d->shutdown_reason == DOMAIN_REBOOT ? "guest-reset" : "guest-shutdown", emit,
                   ctx);
        break;
    case DOMAIN_CRASHED:
    case DOMAIN_FAILED:
        emit_event(CTL_EV_CRASHED, d, d->why, emit, ctx);
        break;
    case DOMAIN_DYING:
        /* Destroyed: by `quit`, or by a front-end; an end already
         * reported (shutdown, crash) is not reported twice. */
        if (was < DOMAIN_SHUTDOWN)
            emit_event(CTL_EV_SHUTDOWN, d, ev->quitting ? "host-qmp-quit" : "destroyed", emit, ctx);
        break;
    default:
        break;
    }
}

/* The slot that remembers domain `id`, a free one, or NULL when full. */
static struct ctl_seen *slot(struct ctl_events *ev, unsigned id)
{
    struct ctl_seen *free_slot = NULL;
    for (unsigned i = 0; i < CTL_EVENT_DOMAINS; i++) {
        if (ev->seen[i].valid && ev->seen[i].id == id)
            return &ev->seen[i];
        if (!ev->seen[i].valid && !free_slot)
            free_slot = &ev->seen[i];
    }
    return free_slot;
}

void ctl_events_poll(struct ctl_events *ev, struct host *h, ctl_emit_fn emit, void *ctx)
{
    for (const struct domain *d = h->domains; d; d = d->next) {
        struct ctl_seen *s = slot(ev, d->id);
        if (!s)
            continue;
        if (!s->valid || s->serial != d->serial) {
            /* First sight: nothing to compare with.  After the first poll
             * that is a domain made at run time (domain-create), perhaps
             * in the place of one destroyed before. */
            if (ev->primed)
                emit_event(CTL_EV_CREATED, d, NULL, emit, ctx);
            *s = (struct ctl_seen){true, d->id, d->serial, d->state, d->restarts};
            continue;
        }
        if (d->restarts != s->restarts)
            emit_event(CTL_EV_RESET, d, NULL, emit, ctx);
        else if ((int)d->state != s->state)
            state_event(ev, s->state, d, emit, ctx);
        s->state = d->state;
        s->restarts = d->restarts;
    }
    ev->primed = true;
}
