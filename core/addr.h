/* Internal: socket addresses (IPv4, IPv6, IPv4-mapped) and name resolution. */
#ifndef DK_CORE_ADDR_H
#define DK_CORE_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <dtlskit/error.h>

typedef struct dk__addr {
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } u;
    socklen_t len;
} dk__addr;

/* Bytes of a transport id: 16 address bytes (IPv4 as IPv4-mapped IPv6) and
 * the port, big-endian. The same source gives the same id on an IPv4 and on
 * a dual-stack socket. */
#define DK__TRANSPORT_ID_LEN 18

/* Parses an IPv4 or IPv6 literal (an IPv6 one may carry "%iface").
 * DK_ERR_INVALID when `s` is not a literal. */
dk_err dk__addr_parse(const char *s, int port, dk__addr *out);

/* Resolves `host` (name or literal). `family` is AF_UNSPEC, AF_INET or
 * AF_INET6; with `v4mapped` an IPv6 request accepts IPv4 results mapped.
 * Failures are recorded against `func`. */
dk_err dk__addr_resolve(const char *func, const char *host, int port, int family, bool v4mapped,
                        dk__addr *out);

/* The wildcard address of a family. */
void dk__addr_any(int family, int port, dk__addr *out);

/* Converts to what a socket of `family` accepts as destination: IPv4 to
 * IPv4-mapped for AF_INET6, IPv4-mapped back to IPv4 for AF_INET. Returns
 * false when impossible (IPv6 to an IPv4 socket). */
bool dk__addr_for_family(const dk__addr *in, int family, dk__addr *out);

/* Text form ("127.0.0.1", "::1"); IPv4-mapped shown as IPv4. */
void dk__addr_ip_string(const dk__addr *a, char *buf, size_t cap);

int dk__addr_port(const dk__addr *a);

void dk__addr_transport_id(const dk__addr *a, uint8_t out[DK__TRANSPORT_ID_LEN]);

bool dk__addr_equal(const dk__addr *a, const dk__addr *b);

/* Range check for public port arguments. */
static inline bool dk__port_valid(int port)
{
    return port >= 0 && port <= 65535;
}

#endif
