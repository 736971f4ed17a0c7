/* Fuzz target: the core's ClientHello parser, cookie check and
 * HelloVerifyRequest writer, through the admission filter a DTLS server
 * installs on a UDP server: exactly what runs for every datagram from an
 * unknown source. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <dtlskit/dtlskit.h>

#include "addr.h"
#include "clienthello.h"
#include "cookie.h"
#include "udp_internal.h"

static dk_udp_server *udp;
static dk_dtls_server *dtls;
static dk__cookie_jar jar;

/* The server and the harness share one fixed secret, without rotation, so
 * that the harness knows each input's right cookie. */
static const char secret[32] = "fuzz_clienthello fixed secret..";

static void setup(void)
{
    if (udp)
        return;
    dk_init();
    udp = dk_udp_server_new(NULL);
    dtls = dk_dtls_server_new(NULL);
    dk_dtls_server_attach(dtls, udp);
    dk_dtls_server_set_cookie_rotation(dtls, 0);
    dk_dtls_server_set_cookie_secret(dtls, secret, sizeof secret);
    dk__cookie_jar_init(&jar);
    jar.interval_ms = 0;
    dk__cookie_jar_set(&jar, secret, sizeof secret, 0);
}

/* Copy of the input with its cookie replaced by the right one, when it
 * carries one of the right length: the valid-cookie path, which random
 * bytes would never reach. */
static uint8_t fixed[65536];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    dk__addr src;
    dk__addr_parse("127.0.0.1", 4242, &src);
    /* The filter as the UDP server calls it (its replies go nowhere: the
     * server is not listening). */
    bool admitted = udp->filter->admit(udp->filter_ctx, udp, &src, data, size);

    dk__client_hello ch;
    if (dk__client_hello_parse(data, size, &ch) != DK__CH_OK) {
        if (admitted) /* only a well-formed ClientHello may pass */
            abort();
        return 0;
    }
    /* Every span lies inside the input. */
    const dk__span *spans[] = {&ch.session_id, &ch.cookie, &ch.cipher_suites,
                               &ch.compression_methods, &ch.extensions};
    for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++)
        if (spans[i]->len && (spans[i]->p < data || spans[i]->p + spans[i]->len > data + size))
            abort();
    uint8_t tid[DK__TRANSPORT_ID_LEN], cookie[DK__COOKIE_LEN], hvr[DK__HVR_LEN(DK__COOKIE_LEN)];
    dk__addr_transport_id(&src, tid);
    if (dk__cookie_mint(&jar.current, tid, &ch, cookie) != DK_OK)
        abort();
    /* With and without the premade current cookie: the same verdict. */
    if (dk__cookie_verify(&jar, tid, &ch, cookie) != dk__cookie_verify(&jar, tid, &ch, NULL))
        abort();
    /* The verdict is the cookie's: admitted exactly when it is the right
     * one (no session exists, so no cap is reached). */
    bool right = ch.cookie.len == DK__COOKIE_LEN && memcmp(ch.cookie.p, cookie, 32) == 0;
    if (admitted != right)
        abort();
    size_t n = dk__hvr_write(&ch, cookie, sizeof cookie, hvr, sizeof hvr);
    /* A parsed ClientHello is always larger than our answer: no amplification. */
    if (n == 0 || n >= size)
        abort();
    /* The same ClientHello with the right cookie is admitted. */
    if (ch.cookie.len == DK__COOKIE_LEN && size <= sizeof fixed) {
        memcpy(fixed, data, size);
        memcpy(fixed + (ch.cookie.p - data), cookie, DK__COOKIE_LEN);
        if (!udp->filter->admit(udp->filter_ctx, udp, &src, fixed, size))
            abort();
    }
    return 0;
}
