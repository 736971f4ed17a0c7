/* The DTLS calls until the session layer lands (issue 3): each reports
 * DK_ERR_UNAVAILABLE with a clear message, so programs link and fail
 * cleanly. */
#include <dtlskit/dtls.h>

#include "error.h"

#define UNAVAILABLE() DK_FAIL(DK_ERR_UNAVAILABLE, "DTLS sessions are not in this build yet")

const char *dk_dtls_status_name(dk_dtls_status status)
{
    static const char *const names[] = {"disconnected", "handshaking", "connected", "error",
                                        "error (hostname mismatch)"};
    return (unsigned)status < 5 ? names[status] : "unknown";
}

dk_dtls_server *dk_dtls_server_new(dk_err *err)
{
    dk__set_err(err, UNAVAILABLE());
    return NULL;
}
void dk_dtls_server_free(dk_dtls_server *server)
{
    (void)server;
}
dk_err dk_dtls_server_setup(dk_dtls_server *s, const dk_tls_options *o)
{
    return UNAVAILABLE();
}
dk_dtls_peer *dk_dtls_server_take_connection(dk_dtls_server *s, dk_udp_peer *u, dk_err *err)
{
    dk__set_err(err, UNAVAILABLE());
    return NULL;
}
dk_err dk_dtls_server_attach(dk_dtls_server *s, dk_udp_server *u)
{
    return UNAVAILABLE();
}
dk_err dk_dtls_server_set_cookie_secret(dk_dtls_server *s, const void *k, size_t n)
{
    return UNAVAILABLE();
}
dk_err dk_dtls_server_set_cookie_rotation(dk_dtls_server *s, int ms)
{
    return UNAVAILABLE();
}
dk_err dk_dtls_server_set_handshake_timeout(dk_dtls_server *s, int ms)
{
    return UNAVAILABLE();
}
dk_err dk_dtls_server_set_retransmit(dk_dtls_server *s, int a, int b)
{
    return UNAVAILABLE();
}
dk_err dk_dtls_server_set_mtu(dk_dtls_server *s, int mtu)
{
    return UNAVAILABLE();
}
dk_err dk_dtls_server_set_idle_timeout(dk_dtls_server *s, int ms)
{
    return UNAVAILABLE();
}
int dk_dtls_server_get_timeout_ms(const dk_dtls_server *s)
{
    return -1;
}
dk_err dk_dtls_server_get_stats(const dk_dtls_server *s, dk_dtls_server_stats *o)
{
    return UNAVAILABLE();
}
dk_dtls_peer *dk_dtls_peer_new(dk_err *err)
{
    dk__set_err(err, UNAVAILABLE());
    return NULL;
}
void dk_dtls_peer_free(dk_dtls_peer *p)
{
    (void)p;
}
dk_err dk_dtls_peer_connect_to_peer(dk_dtls_peer *p, dk_udp_peer *u, const char *h,
                                    const dk_tls_options *o)
{
    return UNAVAILABLE();
}
dk_err dk_dtls_peer_poll(dk_dtls_peer *p)
{
    return UNAVAILABLE();
}
dk_dtls_status dk_dtls_peer_get_status(const dk_dtls_peer *p)
{
    return DK_DTLS_DISCONNECTED;
}
dk_err dk_dtls_peer_put_packet(dk_dtls_peer *p, const void *d, size_t n)
{
    return UNAVAILABLE();
}
dk_err dk_dtls_peer_get_packet(dk_dtls_peer *p, void *b, size_t c, size_t *n)
{
    return UNAVAILABLE();
}
int dk_dtls_peer_get_available_packet_count(const dk_dtls_peer *p)
{
    return 0;
}
void dk_dtls_peer_disconnect_from_peer(dk_dtls_peer *p)
{
    (void)p;
}
int dk_dtls_peer_get_timeout_ms(const dk_dtls_peer *p)
{
    return -1;
}
int dk_dtls_peer_get_fd(const dk_dtls_peer *p)
{
    return -1;
}
dk_err dk_dtls_peer_get_error(const dk_dtls_peer *p)
{
    return DK_ERR_UNAVAILABLE;
}
const char *dk_dtls_peer_get_error_reason(const dk_dtls_peer *p)
{
    return "";
}
int dk_dtls_peer_get_max_packet_size(const dk_dtls_peer *p)
{
    return 0;
}
dk_err dk_dtls_peer_set_handshake_timeout(dk_dtls_peer *p, int ms)
{
    return UNAVAILABLE();
}
dk_err dk_dtls_peer_set_retransmit(dk_dtls_peer *p, int a, int b)
{
    return UNAVAILABLE();
}
dk_err dk_dtls_peer_set_mtu(dk_dtls_peer *p, int mtu)
{
    return UNAVAILABLE();
}
dk_err dk_dtls_peer_set_idle_timeout(dk_dtls_peer *p, int ms)
{
    return UNAVAILABLE();
}
dk_udp_peer *dk_dtls_peer_get_udp_peer(const dk_dtls_peer *p)
{
    return NULL;
}
dk_cert *dk_dtls_peer_get_peer_certificate(const dk_dtls_peer *p, dk_err *err)
{
    dk__set_err(err, UNAVAILABLE());
    return NULL;
}
const char *dk_dtls_peer_get_cipher(const dk_dtls_peer *p)
{
    return "";
}
