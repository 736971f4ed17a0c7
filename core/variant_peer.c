/* PacketPeer's put_var() and get_var() for UDP and DTLS peers: one value
 * per packet, over the peers' public put_packet() and get_packet(). */
#include <stdlib.h>

#include "error.h"
#include "variant_internal.h"

typedef struct packet_io {
    dk_err (*put)(void *peer, const void *data, size_t len);
    dk_err (*get)(void *peer, void *buf, size_t cap, size_t *len);
    size_t (*max)(void *peer); /* the largest packet put() takes now */
} packet_io;

static dk_err udp_put(void *p, const void *data, size_t len)
{
    return dk_udp_peer_put_packet(p, data, len);
}

static dk_err udp_get(void *p, void *buf, size_t cap, size_t *len)
{
    return dk_udp_peer_get_packet(p, buf, cap, len);
}

static size_t udp_max(void *p)
{
    (void)p;
    return DK_UDP_MAX_DATAGRAM;
}

static dk_err dtls_put(void *p, const void *data, size_t len)
{
    return dk_dtls_peer_put_packet(p, data, len);
}

static dk_err dtls_get(void *p, void *buf, size_t cap, size_t *len)
{
    return dk_dtls_peer_get_packet(p, buf, cap, len);
}

static size_t dtls_max(void *p)
{
    /* Before the handshake put_packet() says DK_ERR_STATE, which matters
     * more than the size. */
    if (dk_dtls_peer_get_status(p) != DK_DTLS_CONNECTED)
        return DK_UDP_MAX_DATAGRAM;
    int m = dk_dtls_peer_get_max_packet_size(p);
    return m > 0 ? (size_t)m : 0;
}

static const packet_io udp_io = {udp_put, udp_get, udp_max};
static const packet_io dtls_io = {dtls_put, dtls_get, dtls_max};

static dk_err put_var(const char *func, const packet_io *io, void *peer, const dk_variant *value,
                      dk_var_version version)
{
    if (!peer)
        return dk__fail(DK_ERR_INVALID, func, "peer is NULL");
    uint8_t small[1536]; /* most messages: no allocation */
    size_t len = 0, max = io->max(peer);
    dk_err e = dk__variant_encode(func, value, version, small, sizeof small, &len);
    if (e != DK_OK && e != DK_ERR_BUFFER_TOO_SMALL)
        return e;
    if (len > max)
        return dk__fail(DK_ERR_TOO_BIG, func,
                        "the value takes %zu bytes; a packet carries at most %zu", len, max);
    if (e == DK_OK)
        return io->put(peer, small, len);
    uint8_t *buf = malloc(len);
    if (!buf)
        return dk__fail(DK_ERR_NOMEM, func, "out of memory");
    e = dk__variant_encode(func, value, version, buf, len, &len);
    if (e == DK_OK)
        e = io->put(peer, buf, len);
    free(buf);
    return e;
}

static dk_err get_var(const char *func, const packet_io *io, void *peer, dk_var_version version,
                      dk_variant **out)
{
    if (!out)
        return dk__fail(DK_ERR_INVALID, func, "out is NULL");
    *out = NULL;
    if (!peer)
        return dk__fail(DK_ERR_INVALID, func, "peer is NULL");
    /* Checked before a packet is taken: a bad call must not eat one. */
    if (version != DK_VAR_GODOT4 && version != DK_VAR_GODOT3)
        return dk__fail(DK_ERR_INVALID, func, "version %d is not a dk_var_version", (int)version);
    /* The size first (a 0-byte packet is taken here and fails below). */
    size_t len = 0;
    uint8_t *buf = NULL;
    dk_err e = io->get(peer, NULL, 0, &len);
    if (e == DK_ERR_BUFFER_TOO_SMALL) {
        buf = malloc(len);
        if (!buf)
            return dk__fail(DK_ERR_NOMEM, func, "no memory for a %zu-byte packet (still queued)",
                            len);
        e = io->get(peer, buf, len, &len);
    }
    if (e == DK_OK)
        e = dk__variant_decode(func, buf, len, version, out, NULL);
    free(buf);
    return e;
}

dk_err dk_udp_peer_put_var(dk_udp_peer *peer, const dk_variant *value, dk_var_version version)
{
    return put_var(__func__, &udp_io, peer, value, version);
}

dk_err dk_udp_peer_get_var(dk_udp_peer *peer, dk_var_version version, dk_variant **out)
{
    return get_var(__func__, &udp_io, peer, version, out);
}

dk_err dk_dtls_peer_put_var(dk_dtls_peer *peer, const dk_variant *value, dk_var_version version)
{
    return put_var(__func__, &dtls_io, peer, value, version);
}

dk_err dk_dtls_peer_get_var(dk_dtls_peer *peer, dk_var_version version, dk_variant **out)
{
    return get_var(__func__, &dtls_io, peer, version, out);
}
