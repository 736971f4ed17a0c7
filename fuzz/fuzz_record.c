/* Fuzz target: the core's record opener after the hand-off, behind the
 * gate a connected session applies. The first input byte picks the suite;
 * the rest is a sequence of datagrams (fuzz_common.h). A datagram whose
 * first byte is odd is a recipe, not bytes: [flags][type][seq: 6][plaintext]
 * that the harness seals with the peer's keys and then mutates as `flags`
 * says (flip a byte, cut the end, duplicate), so that the authenticated
 * paths and the replay window are reached, not only forgeries. Checks: only
 * the exact record the harness sealed opens, once, to its plaintext, and is
 * a replay afterwards. */
#include <stdlib.h>
#include <string.h>

#include <dtlskit/dtlskit.h>

#include "fuzz_common.h"
#include "gate.h"
#include "record.h"

static const uint16_t suites[] = {0xC02F, 0xCCA8, 0xC030, 0xC0AE};

typedef struct run {
    dk__record client, server;
    dk__gate gate;
    bool ready;
} run;

static uint8_t sealed[2 * (16384 + 64)], plain[16384 + 2048 + 64];
/* The genuine record as sealed, before any mutation. */
static uint8_t original[16384 + 64];
static size_t original_len;

static void open_all(run *r, const uint8_t *d, size_t n, const uint8_t *pt, size_t ptlen)
{
    size_t ok = dk__gate_filter(&r->gate, true, d, n);
    for (size_t off = 0; ok - off >= DK__REC_HDR;) {
        const uint8_t *rec = d + off;
        size_t rl = DK__REC_HDR + ((size_t)rec[11] << 8 | rec[12]);
        off += rl;
        if (rec[3] != 0 || rec[4] != 1)
            continue;
        size_t got = 0;
        dk__open_result res = dk__record_open(&r->server, rec, rl, plain, &got);
        if (res == DK__OPEN_OK) {
            /* Only the very record the harness sealed may open. */
            if (!pt || rl != original_len || memcmp(rec, original, rl) != 0 || got != ptlen ||
                memcmp(plain, pt, got) != 0)
                abort();
            if (dk__record_open(&r->server, rec, rl, plain, &got) != DK__OPEN_REPLAY)
                abort(); /* opened twice */
        }
    }
}

static void datagram(void *ctx, const uint8_t *d, size_t n)
{
    run *r = ctx;
    if (n < 8 || !(d[0] & 1)) {
        open_all(r, d, n, NULL, 0);
        return;
    }
    uint8_t flags = d[0], type = d[1];
    uint64_t seq = 0;
    for (int i = 2; i < 8; i++)
        seq = seq << 8 | d[i];
    if (type < 20 || type > 23)
        type = 23;
    size_t ptlen = n - 8 > 16384 ? 16384 : n - 8;
    r->client.write_seq = seq;
    size_t len = 0;
    if (dk__record_seal(&r->client, type, d + 8, ptlen, sealed, &len) != DK_OK)
        return;
    memcpy(original, sealed, len);
    original_len = len;
    if (flags & 2) { /* flip one byte past the header's type */
        sealed[1 + d[1] % (len - 1)] ^= (uint8_t)(flags | 1);
    }
    if ((flags & 4) && len > DK__REC_HDR + 1) { /* cut: the gate stops it */
        len -= 1 + d[2] % (len - DK__REC_HDR - 1);
        if (flags & 16) { /* ... unless the length field agrees */
            sealed[11] = (uint8_t)((len - DK__REC_HDR) >> 8);
            sealed[12] = (uint8_t)(len - DK__REC_HDR);
        }
    }
    if (flags & 8) { /* the same record twice in one datagram */
        memcpy(sealed + len, sealed, len);
        len *= 2;
    }
    open_all(r, sealed, len, d + 8, ptlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static run runs[sizeof suites / sizeof suites[0]];
    if (size < 1)
        return 0;
    dk_init();
    run *r = &runs[data[0] % (sizeof suites / sizeof suites[0])];
    if (!r->ready) {
        dk_bk_secrets sec = {.suite = suites[data[0] % (sizeof suites / sizeof suites[0])]};
        memset(sec.master_secret, 0x42, sizeof sec.master_secret);
        memset(sec.client_random, 0xC1, sizeof sec.client_random);
        memset(sec.server_random, 0x5E, sizeof sec.server_random);
        if (dk__record_init(&r->client, NULL, false, &sec, 0) != DK_OK ||
            dk__record_init(&r->server, NULL, true, &sec, 0) != DK_OK)
            return 0; /* suite not in this backend */
        r->ready = true;
    }
    /* Each input starts from a fresh window and gate; the expanded keys
     * stay. */
    r->server.rx_any = false;
    r->server.rx_top = r->server.rx_bits = 0;
    memset(&r->gate, 0, sizeof r->gate);
    fuzz_each_datagram(data + 1, size - 1, datagram, r);
    return 0;
}
