/* Internal: the sessions a DTLS server keeps track of in admission mode,
 * for dk_dtls_server_poll(): the list of them, the timer of each, and the
 * attention queue (sessions with packets to read or a status the caller
 * has not seen yet, handed over by the next poll). One place owns these
 * links, so that the server and the session only call the functions below;
 * the session's other fields stay the session's. */
#ifndef DK_CORE_SERVER_SESSIONS_H
#define DK_CORE_SERVER_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <dtlskit/dtls.h>

#include "timer_heap.h"

typedef struct dk__sessions dk__sessions;

/* A session's membership, embedded in dk_dtls_peer: intrusive, so that
 * tracking allocates nothing. */
typedef struct dk__sessions_link {
    dk__sessions *set; /* NULL: not tracked */
    dk_dtls_peer *prev, *next;
    dk_dtls_peer *att_next;
    bool in_attention;
    dk_dtls_status reported; /* status when last handed to the caller */
    dk__heap_node timer;
} dk__sessions_link;

/* Embedded in dk_dtls_server. */
struct dk__sessions {
    dk_dtls_server *server; /* the owner, which a session's restart needs */
    dk_dtls_peer *head;
    dk_dtls_peer *att_head, *att_tail;
    dk__heap timers;
};

void dk__sessions_init(dk__sessions *set, dk_dtls_server *server);

/* The server goes away: every session stops being tracked and lives on. */
void dk__sessions_destroy(dk__sessions *set);

/* Tracks a session that was just taken: it gets the datagrams of its UDP
 * peer through the UDP server's ready list, and counts as reported
 * handshaking. */
void dk__sessions_add(dk__sessions *set, dk_dtls_peer *p);

/* Stops tracking (session freed, or server going away). No-op when not
 * tracked. */
void dk__sessions_remove(dk_dtls_peer *p);

/* The server tracking `p`, or NULL. */
dk_dtls_server *dk__sessions_server(const dk_dtls_peer *p);

/* Sets a tracked session's timer to `deadline` (0: none) and queues it for
 * attention when it has packets or a new status. No-op when not tracked. */
void dk__sessions_touch(dk_dtls_peer *p, uint64_t now, uint64_t deadline);

/* The caller has never seen the session: the next touch queues it. */
void dk__sessions_mark_new(dk_dtls_peer *p);

/* The caller knows the session's current status (it changed it). */
void dk__sessions_mark_reported(dk_dtls_peer *p);

/* Whether some session waits for the caller's attention. */
bool dk__sessions_waiting(const dk__sessions *set);

/* Stores in `ready` up to `max` sessions that need the caller, oldest
 * first, each counted as reported with its current status. */
int dk__sessions_hand_over(dk__sessions *set, dk_dtls_peer **ready, int max);

/* The earliest timer of a tracked session, or 0. */
uint64_t dk__sessions_next_deadline(const dk__sessions *set);

/* Stores in `due` up to `max` sessions whose timer is due at `now`, their
 * timers cleared: each then runs once, whatever its new deadline. */
int dk__sessions_take_due(dk__sessions *set, uint64_t now, dk_dtls_peer **due, int max);

/* Iteration over the tracked sessions (the list may not change meanwhile). */
dk_dtls_peer *dk__sessions_first(const dk__sessions *set);
dk_dtls_peer *dk__sessions_next(const dk_dtls_peer *p);

#endif
