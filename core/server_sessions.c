/* The sessions a DTLS server tracks in admission mode: list, timers and
 * attention queue (see server_sessions.h). */
#include <stddef.h>

#include "dtls_internal.h"
#include "server_sessions.h"
#include "udp_internal.h"

#define PEER_OF_TIMER(n) ((dk_dtls_peer *)(void *)((char *)(n)-offsetof(dk_dtls_peer, trk.timer)))

void dk__sessions_init(dk__sessions *set, dk_dtls_server *server)
{
    set->server = server;
    set->head = NULL;
    set->att_head = set->att_tail = NULL;
    dk__heap_init(&set->timers);
}

void dk__sessions_destroy(dk__sessions *set)
{
    while (set->head) /* the sessions live on, untracked */
        dk__sessions_remove(set->head);
    dk__heap_destroy(&set->timers);
}

void dk__sessions_add(dk__sessions *set, dk_dtls_peer *p)
{
    p->trk.set = set;
    p->trk.next = set->head;
    if (set->head)
        set->head->trk.prev = p;
    set->head = p;
    p->udp->owner = p;
    p->trk.reported = DK_DTLS_HANDSHAKING;
}

static void attention_remove(dk__sessions *s, dk_dtls_peer *p)
{
    if (!p->trk.in_attention)
        return;
    dk_dtls_peer *prev = NULL;
    for (dk_dtls_peer *q = s->att_head; q; prev = q, q = q->trk.att_next) {
        if (q != p)
            continue;
        if (prev)
            prev->trk.att_next = p->trk.att_next;
        else
            s->att_head = p->trk.att_next;
        if (s->att_tail == p)
            s->att_tail = prev;
        break;
    }
    p->trk.att_next = NULL;
    p->trk.in_attention = false;
}

void dk__sessions_remove(dk_dtls_peer *p)
{
    dk__sessions *s = p->trk.set;
    if (!s)
        return;
    attention_remove(s, p);
    dk__heap_set(&s->timers, &p->trk.timer, 0);
    if (p->trk.prev)
        p->trk.prev->trk.next = p->trk.next;
    else
        s->head = p->trk.next;
    if (p->trk.next)
        p->trk.next->trk.prev = p->trk.prev;
    p->trk.prev = p->trk.next = NULL;
    if (p->udp)
        p->udp->owner = NULL;
    p->trk.set = NULL;
}

dk_dtls_server *dk__sessions_server(const dk_dtls_peer *p)
{
    return p->trk.set ? p->trk.set->server : NULL;
}

void dk__sessions_touch(dk_dtls_peer *p, uint64_t now, uint64_t deadline)
{
    dk__sessions *s = p->trk.set;
    if (!s)
        return;
    /* A timer still due right after its session ran comes back no sooner
     * than 1 ms later: a backend that keeps saying "now" cannot make the
     * server spin. */
    if (deadline && deadline <= now)
        deadline = now + 1;
    (void)dk__heap_set(&s->timers, &p->trk.timer, deadline);
    if (!p->trk.in_attention && (p->app.count || p->status != p->trk.reported)) {
        p->trk.in_attention = true;
        p->trk.att_next = NULL;
        if (s->att_tail)
            s->att_tail->trk.att_next = p;
        else
            s->att_head = p;
        s->att_tail = p;
    }
}

void dk__sessions_mark_new(dk_dtls_peer *p)
{
    p->trk.reported = (dk_dtls_status)-1;
}

void dk__sessions_mark_reported(dk_dtls_peer *p)
{
    p->trk.reported = p->status;
}

bool dk__sessions_waiting(const dk__sessions *set)
{
    return set->att_head != NULL;
}

int dk__sessions_hand_over(dk__sessions *s, dk_dtls_peer **ready, int max)
{
    int n = 0;
    while (n < max && s->att_head) {
        dk_dtls_peer *p = s->att_head;
        s->att_head = p->trk.att_next;
        if (!s->att_head)
            s->att_tail = NULL;
        p->trk.att_next = NULL;
        p->trk.in_attention = false;
        p->trk.reported = p->status;
        ready[n++] = p;
    }
    return n;
}

uint64_t dk__sessions_next_deadline(const dk__sessions *set)
{
    const dk__heap_node *top = dk__heap_top(&set->timers);
    return top ? top->deadline : 0;
}

int dk__sessions_take_due(dk__sessions *set, uint64_t now, dk_dtls_peer **due, int max)
{
    int n = 0;
    const dk__heap_node *top;
    while (n < max && (top = dk__heap_top(&set->timers)) && top->deadline <= now) {
        dk_dtls_peer *p = PEER_OF_TIMER(top);
        dk__heap_set(&set->timers, &p->trk.timer, 0);
        due[n++] = p;
    }
    return n;
}

dk_dtls_peer *dk__sessions_first(const dk__sessions *set)
{
    return set->head;
}

dk_dtls_peer *dk__sessions_next(const dk_dtls_peer *p)
{
    return p->trk.next;
}
