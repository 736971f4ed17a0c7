/* Test relay: a UDP hop between one client and a server on loopback. It
 * forwards datagrams both ways and can hold the server's datagrams to glue
 * them into one (several DTLS records in one datagram), switch to another
 * server between two datagrams, or drop, duplicate, reorder and delay
 * datagrams with a seeded generator (reproducible impairments). */
#ifndef DK_TEST_RELAY_H
#define DK_TEST_RELAY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct tu_impair {
    double loss;      /* probability a datagram is dropped */
    double duplicate; /* probability it is sent twice */
    double reorder;   /* probability it is held back behind the next one */
    int delay_ms;     /* fixed delay added to every datagram */
    /* counters */
    uint64_t seen, dropped, duplicated, reordered;
} tu_impair;

typedef struct tu_relay tu_relay;

/* A relay listening on 127.0.0.1 (or ::1 when ipv6) towards server_ip:port. */
tu_relay *tu_relay_new(const char *server_ip, int server_port, bool ipv6, uint32_t seed);
int tu_relay_port(const tu_relay *r);
/* Moves what is waiting (both directions) and releases due delayed
 * datagrams. Never blocks. */
void tu_relay_step(tu_relay *r);
/* Server-to-client datagrams are held until tu_relay_release_glued(). */
void tu_relay_hold_down(tu_relay *r, bool hold);
/* Sends every held datagram to the client as one datagram; returns how
 * many were glued. */
int tu_relay_release_glued(tu_relay *r);
/* Drops every held datagram (a lost flight); returns how many. */
int tu_relay_discard_glued(tu_relay *r);
/* Calls `fn` with every datagram the relay receives, before impairments. */
void tu_relay_tap(tu_relay *r, void (*fn)(void *user, bool up, const uint8_t *d, size_t n),
                  void *user);
/* Sends the next client datagrams to another server. */
void tu_relay_retarget(tu_relay *r, const char *server_ip, int server_port);
/* Impairments per direction (up: client to server). */
tu_impair *tu_relay_up(tu_relay *r);
tu_impair *tu_relay_down(tu_relay *r);
/* Largest datagram seen in a direction (before impairments). */
size_t tu_relay_largest(const tu_relay *r, bool up);
/* Counts of datagrams forwarded up and down. */
uint64_t tu_relay_count(const tu_relay *r, bool up);
void tu_relay_free(tu_relay *r);

#endif
