/* wolfSSL backend: the session state the core allocates for it, for the
 * handshake only (the core's record layer takes over after it). */
#ifndef DK_WOLFSSL_SESSION_H
#define DK_WOLFSSL_SESSION_H

#include "wolfssl_backend.h"

struct dk_bk_session {
    WOLFSSL *ssl;
    const dk_bk_ctx *ctx; /* for the trust anchors' names */
    dk_bk_io io;
    const uint8_t *in; /* the datagram fed and not yet read, or NULL */
    size_t in_len;
    /* Retransmission timer in milliseconds, run here because wolfSSL
     * counts whole seconds: rto_ms 0 means stopped. */
    unsigned rto_initial_ms, rto_max_ms;
    unsigned rto_ms;
    uint64_t rto_deadline;
    unsigned sent; /* datagrams sent during the current call */
    bool server;
    bool cookie_ok; /* server: wolfSSL accepted the core's cookie */
    bool done;      /* handshake complete */
    /* Client: what the server's certificate must match, a host name or an
     * IP literal (4 or 16 bytes), checked in dk_wolf_verify_cb. */
    char *host; /* allocated for clients only: servers hold many sessions */
    uint8_t ip_len;
    uint8_t ip[16];
    bool leaf_checked; /* the callback matched the leaf against them */
    int verify_err;    /* first certificate verification failure */
    char *mismatch;    /* the names the certificate is for, on a name mismatch */
    /* Server with pre-shared keys: the core refused the client's identity. */
    bool psk_refused;
    /* Client offering a ticket: whether the server resumes, as far as
     * known (dk_wolf_records_verdict), and a datagram with the ServerHello
     * held back from wolfSSL until it is known (wolfssl_io.c). */
    bool ticket_offered;
    int verdict; /* DK_WOLF_* */
    uint8_t *held;
    size_t held_len;
    /* Epoch and sequence number of the last record wolfSSL sent. */
    bool tx_seen;
    uint16_t tx_epoch;
    uint64_t tx_seq;
};

/* I/O callbacks between wolfSSL and the core (wolfssl_io.c). */
int dk_wolf_io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx);
int dk_wolf_io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx);

/* Records wolfSSL sends (wolfssl_records.c): notes the highest epoch and
 * sequence number, which dk_wolf_send_fatal_alert continues. */
void dk_wolf_records_sent(dk_bk_session *s, const uint8_t *d, size_t n);

/* A client that offered a ticket, from the records of a datagram from the
 * server: sets s->verdict when they tell whether the server resumes, and
 * returns whether they hold a ServerHello (wolfssl_records.c). */
#define DK_WOLF_UNKNOWN 0
#define DK_WOLF_RESUMED 1
#define DK_WOLF_FULL    2
bool dk_wolf_records_verdict(dk_bk_session *s, const uint8_t *d, size_t n);

/* Sends a fatal alert in plaintext after the last record wolfSSL sent, for
 * failures where wolfSSL sends none (a missing client certificate). Only
 * possible while the session still writes in epoch 0. */
void dk_wolf_send_fatal_alert(dk_bk_session *s, uint8_t description);

/* A ClientHello wolfSSL 5.5.4 must read otherwise than it hashes
 * (wolfssl_hello.c): an empty server_name host name, which it rejects, or
 * (server `ctx` with tickets) a ticket it will not resume with, which gets
 * no new ticket. init registers a crypto-callback device (from library
 * init). arm: when datagram `d` is such a ClientHello, makes the next
 * wolfSSL call on `ssl` from this thread edit its copy after hashing it,
 * and says which edits (0: none); disarm after that call, true when the
 * copy was edited. */
#define DK_WOLF_HELLO_SNI    1u /* empty server_name renamed */
#define DK_WOLF_HELLO_TICKET 2u /* ticket read as an empty one */
void dk_wolf_hello_init(void);
unsigned dk_wolf_hello_arm(WOLFSSL *ssl, const dk_bk_ctx *ctx, const uint8_t *d, size_t n);
bool dk_wolf_hello_disarm(WOLFSSL *ssl);

/* Certificate verification (wolfssl_verify.c): the callback records the
 * first failure in the session and matches the leaf against the host name
 * or IP literal; the mapping turns a failure into DK_ERR_CERT_VERIFY or
 * DK_ERR_HOSTNAME. */
int dk_wolf_verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store);
dk_err dk_wolf_verify_failure(int code, char *reason, size_t cap);
bool dk_wolf_is_verify_error(int code);

#endif
