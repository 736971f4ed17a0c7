/* Socket address helpers. */
#include "addr.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void set_v4(dk__addr *out, const struct in_addr *ip, int port)
{
    memset(out, 0, sizeof *out);
    out->u.in4.sin_family = AF_INET;
    out->u.in4.sin_port = htons((uint16_t)port);
    out->u.in4.sin_addr = *ip;
    out->len = sizeof out->u.in4;
}

static void set_v6(dk__addr *out, const struct in6_addr *ip, int port, uint32_t scope)
{
    memset(out, 0, sizeof *out);
    out->u.in6.sin6_family = AF_INET6;
    out->u.in6.sin6_port = htons((uint16_t)port);
    out->u.in6.sin6_addr = *ip;
    out->u.in6.sin6_scope_id = scope;
    out->len = sizeof out->u.in6;
}

dk_err dk__addr_parse(const char *s, int port, dk__addr *out)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (!s)
        return DK_ERR_INVALID;
    if (inet_pton(AF_INET, s, &a4) == 1) {
        set_v4(out, &a4, port);
        return DK_OK;
    }
    char tmp[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    const char *pct = strchr(s, '%');
    uint32_t scope = 0;
    if (pct) {
        size_t n = (size_t)(pct - s);
        if (n >= INET6_ADDRSTRLEN)
            return DK_ERR_INVALID;
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        scope = if_nametoindex(pct + 1);
        if (!scope)
            return DK_ERR_INVALID;
        s = tmp;
    }
    if (inet_pton(AF_INET6, s, &a6) == 1) {
        set_v6(out, &a6, port, scope);
        return DK_OK;
    }
    return DK_ERR_INVALID;
}

dk_err dk__addr_resolve(const char *func, const char *host, int port, int family, bool v4mapped,
                        dk__addr *out)
{
    if (!host || !*host)
        return dk__fail(DK_ERR_INVALID, func, "host is empty");
    if (dk__addr_parse(host, port, out) == DK_OK) {
        if (family == AF_UNSPEC || out->u.sa.sa_family == family)
            return DK_OK;
        dk__addr conv;
        if (dk__addr_for_family(out, family, &conv) && (v4mapped || family == AF_INET)) {
            *out = conv;
            return DK_OK;
        }
        return dk__fail(DK_ERR_INVALID, func, "'%s' is not an %s address", host,
                        family == AF_INET ? "IPv4" : "IPv6");
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = (family == AF_INET6 && v4mapped) ? AF_UNSPEC : family;
    hints.ai_socktype = SOCK_DGRAM;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res)
        return dk__fail(DK_ERR_RESOLVE, func, "cannot resolve '%s': %s", host,
                        rc ? gai_strerror(rc) : "no address");
    dk_err result = DK_ERR_RESOLVE;
    /* Prefer an address of the requested family, then a convertible one. */
    for (int pass = 0; pass < 2 && result != DK_OK; pass++) {
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            dk__addr a;
            if (ai->ai_family == AF_INET)
                set_v4(&a, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, port);
            else if (ai->ai_family == AF_INET6) {
                const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(void *)ai->ai_addr;
                set_v6(&a, &s6->sin6_addr, port, s6->sin6_scope_id);
            } else
                continue;
            if (family == AF_UNSPEC || ai->ai_family == family) {
                *out = a;
                result = DK_OK;
                break;
            }
            if (pass == 1 && dk__addr_for_family(&a, family, out)) {
                result = DK_OK;
                break;
            }
        }
    }
    freeaddrinfo(res);
    if (result != DK_OK)
        return dk__fail(DK_ERR_RESOLVE, func, "'%s' has no %s address", host,
                        family == AF_INET ? "IPv4" : "IPv6");
    return DK_OK;
}

void dk__addr_any(int family, int port, dk__addr *out)
{
    if (family == AF_INET) {
        struct in_addr any = {.s_addr = htonl(INADDR_ANY)};
        set_v4(out, &any, port);
    } else {
        set_v6(out, &in6addr_any, port, 0);
    }
}

static bool is_v4mapped(const struct in6_addr *a)
{
    return memcmp(a->s6_addr, v4mapped_prefix, sizeof v4mapped_prefix) == 0;
}

bool dk__addr_for_family(const dk__addr *in, int family, dk__addr *out)
{
    int have = in->u.sa.sa_family;
    if (have == family) {
        *out = *in;
        return true;
    }
    if (have == AF_INET && family == AF_INET6) {
        struct in6_addr m = IN6ADDR_ANY_INIT;
        memcpy(m.s6_addr, v4mapped_prefix, 12);
        memcpy(m.s6_addr + 12, &in->u.in4.sin_addr, 4);
        set_v6(out, &m, dk__addr_port(in), 0);
        return true;
    }
    if (have == AF_INET6 && family == AF_INET && is_v4mapped(&in->u.in6.sin6_addr)) {
        struct in_addr v4;
        memcpy(&v4, in->u.in6.sin6_addr.s6_addr + 12, 4);
        set_v4(out, &v4, dk__addr_port(in));
        return true;
    }
    return false;
}

void dk__addr_ip_string(const dk__addr *a, char *buf, size_t cap)
{
    char tmp[INET6_ADDRSTRLEN];
    tmp[0] = '\0';
    if (a->u.sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &a->u.in4.sin_addr, tmp, sizeof tmp);
    } else if (a->u.sa.sa_family == AF_INET6) {
        if (is_v4mapped(&a->u.in6.sin6_addr))
            inet_ntop(AF_INET, a->u.in6.sin6_addr.s6_addr + 12, tmp, sizeof tmp);
        else
            inet_ntop(AF_INET6, &a->u.in6.sin6_addr, tmp, sizeof tmp);
    }
    snprintf(buf, cap, "%s", tmp);
}

int dk__addr_port(const dk__addr *a)
{
    if (a->u.sa.sa_family == AF_INET)
        return ntohs(a->u.in4.sin_port);
    if (a->u.sa.sa_family == AF_INET6)
        return ntohs(a->u.in6.sin6_port);
    return 0;
}

void dk__addr_transport_id(const dk__addr *a, uint8_t out[DK__TRANSPORT_ID_LEN])
{
    memset(out, 0, DK__TRANSPORT_ID_LEN);
    if (a->u.sa.sa_family == AF_INET) {
        memcpy(out, v4mapped_prefix, 12);
        memcpy(out + 12, &a->u.in4.sin_addr, 4);
        memcpy(out + 16, &a->u.in4.sin_port, 2);
    } else if (a->u.sa.sa_family == AF_INET6) {
        memcpy(out, &a->u.in6.sin6_addr, 16);
        memcpy(out + 16, &a->u.in6.sin6_port, 2);
    }
}

bool dk__addr_equal(const dk__addr *a, const dk__addr *b)
{
    uint8_t ia[DK__TRANSPORT_ID_LEN], ib[DK__TRANSPORT_ID_LEN];
    dk__addr_transport_id(a, ia);
    dk__addr_transport_id(b, ib);
    return memcmp(ia, ib, sizeof ia) == 0;
}
