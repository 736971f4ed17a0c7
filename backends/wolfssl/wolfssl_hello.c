/* wolfSSL backend: ClientHellos wolfSSL 5.5.4 must read otherwise than it
 * hashes them.
 *
 * An empty server_name host name, as Godot 3 clients send when they connect
 * without one: wolfSSL 5.5.4's TLSX_SNI_Parse() rejects a zero-length host
 * name with BUFFER_ERROR ("malformed buffer input error") before it looks
 * at any SNI option, and Debian's build (WOLFSSL_ALWAYS_KEEP_SNI) parses the
 * extension even when the server never asked for SNI: no setting avoids it.
 *
 * A session ticket the server will not resume with (not sealed with the
 * core's keys, expired, malformed): wolfSSL 5.5.4 then runs a full
 * handshake without issuing a new ticket (its REJECT answer), or fails the
 * handshake (a length it does not expect). Read as an empty SessionTicket
 * extension, the ticket gets a full handshake and a new ticket, as RFC 5077
 * 3.2 has it.
 *
 * Rewriting the datagram before wolfSSL reads it would change the handshake
 * transcript, so both Finished messages would fail. wolfSSL hashes a
 * handshake message into the transcript before it parses it, and in
 * between it checks the DTLS cookie with an HMAC whose inputs point into
 * its own copy of the message. During that one call the session uses a
 * crypto-callback device of ours: when the HMAC is fed the ClientHello's
 * random, the callback edits wolfSSL's copy: the empty server_name
 * extension is renamed to a GREASE type (RFC 8701), which every TLS stack
 * ignores; the SessionTicket extension is cut to length 0, followed by a
 * GREASE extension over the ticket's bytes. The transcript keeps the bytes
 * the client sent; the parser skips the server name, as OpenSSL and mbedTLS
 * do with an empty one, and sees a client asking for a ticket. */
#include "wolfssl_session.h"

#include <string.h>

#include <wolfssl/wolfcrypt/cryptocb.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

/* Our device id for wc_CryptoCb_RegisterDevice ("dkwh"). */
#define DK_WOLF_DEVID 0x646b7768

#define HS_HDR 12
#define RAN_SZ 32
/* Two GREASE types (RFC 8701), so that both edits never make two
 * extensions of one type. */
#define GREASE_SNI    0x0a0a
#define GREASE_TICKET 0x1a1a
#define EXT_SNI       0x0000
#define EXT_TICKET    0x0023
#define SNI_EMPTY_LEN 5 /* list length (2), name type (1), name length (2) */

/* One edit of wolfSSL's copy: `len` bytes at `off` in the body. */
typedef struct hello_patch {
    size_t off;
    uint8_t len;
    uint8_t bytes[8];
} hello_patch;

/* The ClientHello being handed to wolfSSL by this thread: its body (from
 * client_version to the end) in the datagram the core fed, and the edits
 * to make in wolfSSL's copy of it. The core calls a session from one
 * thread at a time, and only during that call is this set. */
static _Thread_local struct {
    WOLFSSL *ssl;
    const uint8_t *body;
    size_t len;
    hello_patch patch[2];
    int npatch;
    unsigned what; /* DK_WOLF_HELLO_* */
    bool patched;
} pending;

static unsigned get16(const uint8_t *p)
{
    return (unsigned)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Renames the extension at `off` to GREASE type `grease`. */
static void add_rename(size_t off, unsigned grease, unsigned what)
{
    pending.what |= what;
    hello_patch *p = &pending.patch[pending.npatch++];
    p->off = off;
    p->len = 2;
    put16(p->bytes, grease);
}

/* The SessionTicket extension at `off` (with `elen` bytes of data) read as
 * an empty one, its data as a GREASE extension; with fewer than 4 bytes
 * (no room for the GREASE header), the extension is renamed. */
static void add_drop_ticket(size_t off, unsigned elen)
{
    if (elen < 4) {
        add_rename(off, GREASE_TICKET, DK_WOLF_HELLO_TICKET);
        return;
    }
    pending.what |= DK_WOLF_HELLO_TICKET;
    hello_patch *p = &pending.patch[pending.npatch++];
    p->off = off + 2;
    p->len = 6;
    put16(p->bytes, 0);                 /* SessionTicket, length 0 */
    put16(p->bytes + 2, GREASE_TICKET); /* then GREASE over the ticket */
    put16(p->bytes + 4, elen - 4);
}

/* Walks the extensions of a ClientHello body and plans the edits: an empty
 * server_name host name, and (server `ctx` with tickets) a ticket it will
 * not resume with. False when the body does not parse or needs none. */
static bool plan(const uint8_t *body, size_t len, const dk_bk_ctx *ctx)
{
    size_t i = 2 + RAN_SZ;        /* client_version, random */
    for (int v = 0; v < 2; v++) { /* session_id, cookie */
        if (i >= len)
            return false;
        i += 1 + body[i];
    }
    if (i + 2 > len)
        return false;
    i += 2 + get16(body + i); /* cipher_suites */
    if (i >= len)
        return false;
    i += 1 + body[i]; /* compression_methods */
    if (i + 2 > len || i + 2 + get16(body + i) != len)
        return false;
    pending.npatch = 0;
    pending.what = 0;
    bool sni = false, ticket = false;
    for (i += 2; i + 4 <= len;) {
        unsigned type = get16(body + i), elen = get16(body + i + 2);
        const uint8_t *e = body + i + 4;
        if (i + 4 + elen > len)
            return false;
        if (type == EXT_SNI && !sni) {
            sni = true;
            if (elen == SNI_EMPTY_LEN && get16(e) == 3 && e[2] == 0 /* host_name */ &&
                get16(e + 3) == 0)
                add_rename(i, GREASE_SNI, DK_WOLF_HELLO_SNI);
        } else if (type == EXT_TICKET && !ticket) {
            ticket = true;
            if (elen > 0 && ctx && ctx->ticket_key && !dk_wolf_ticket_acceptable(ctx, e, elen))
                add_drop_ticket(i, elen);
        }
        i += 4 + elen;
    }
    return pending.npatch > 0;
}

/* The crypto callback: never does any crypto itself (wolfCrypt falls back
 * to software), only edits the ClientHello once it has been hashed. */
static int crypto_cb(int devId, wc_CryptoInfo *info, void *ctx)
{
    (void)devId;
    (void)ctx;
    if (!pending.ssl || pending.patched || info->algo_type != WC_ALGO_TYPE_HMAC)
        return CRYPTOCB_UNAVAILABLE;
    const uint8_t *in = info->hmac.in;
    /* The cookie HMAC takes client_version, then random: a 32-byte match
     * with our random places the body exactly, and the whole of it must
     * match too before a byte is written. */
    if (!in || info->hmac.inSz != RAN_SZ || memcmp(in, pending.body + 2, RAN_SZ) != 0 ||
        memcmp(in - 2, pending.body, pending.len) != 0)
        return CRYPTOCB_UNAVAILABLE;
    /* wolfSSL's input buffer is writable; the pointer is const only in the
     * callback's signature. */
    uint8_t *body = (uint8_t *)(uintptr_t)(in - 2);
    for (int i = 0; i < pending.npatch; i++)
        memcpy(body + pending.patch[i].off, pending.patch[i].bytes, pending.patch[i].len);
    pending.patched = true;
    /* Nothing else in this session goes through the callback. */
    (void)wolfSSL_SetDevId(pending.ssl, INVALID_DEVID);
    return CRYPTOCB_UNAVAILABLE;
}

/* Set once by library init, read-only afterwards. */
static bool registered;

void dk_wolf_hello_init(void)
{
    /* Without the device the workaround is off, nothing else changes. */
    registered = wc_CryptoCb_RegisterDevice(DK_WOLF_DEVID, crypto_cb, NULL) == 0;
}

unsigned dk_wolf_hello_arm(WOLFSSL *ssl, const dk_bk_ctx *ctx, const uint8_t *d, size_t n)
{
    /* One unfragmented ClientHello in the datagram's first record. */
    dk_bk_record r;
    if (!registered || !d || !dk_bk_record_next(d, n, &r) || !r.whole ||
        r.type != DK_BK_CT_HANDSHAKE || r.len < HS_HDR || r.fragment[0] != 1)
        return 0;
    const uint8_t *hs = r.fragment, *frag = hs + 6; /* fragment_offset, fragment_length */
    size_t blen = (size_t)hs[1] << 16 | get16(hs + 2);
    if (r.len != HS_HDR + blen || frag[0] || get16(frag + 1) || frag[3] != hs[1] ||
        get16(frag + 4) != get16(hs + 2))
        return 0;
    const uint8_t *body = hs + HS_HDR;
    if (!plan(body, blen, ctx) || wolfSSL_SetDevId(ssl, DK_WOLF_DEVID) != WOLFSSL_SUCCESS) {
        memset(&pending, 0, sizeof pending);
        return 0;
    }
    pending.ssl = ssl;
    pending.body = body;
    pending.len = blen;
    pending.patched = false;
    return pending.what;
}

bool dk_wolf_hello_disarm(WOLFSSL *ssl)
{
    bool patched = pending.patched;
    (void)wolfSSL_SetDevId(ssl, INVALID_DEVID);
    memset(&pending, 0, sizeof pending);
    return patched;
}
