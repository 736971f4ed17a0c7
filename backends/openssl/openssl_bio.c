/* OpenSSL backend: the BIO between a session and the core. Writes collect
 * in a datagram until OpenSSL flushes (the end of a flight) or the next
 * record would pass the MTU: a flight of four handshake messages leaves as
 * one datagram rather than four. OpenSSL plans for this: it sizes each
 * fragment to what BIO_wpending() says is left of the datagram. A read
 * returns the one datagram the core fed, then "retry". */
#include <openssl/bio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "openssl_backend.h"
#include "openssl_session.h"

/* The datagram being filled lives in a per-thread buffer: it is always sent
 * before a session call returns, so no session keeps one while idle. */
static pthread_key_t pack_key;
static pthread_once_t pack_once = PTHREAD_ONCE_INIT;

static void pack_key_init(void)
{
    (void)pthread_key_create(&pack_key, free);
}

static uint8_t *pack_buffer(void)
{
    pthread_once(&pack_once, pack_key_init);
    uint8_t *p = pthread_getspecific(pack_key);
    if (!p) {
        p = malloc(DK_OSSL_PACK_MAX);
        if (p && pthread_setspecific(pack_key, p) != 0) {
            free(p);
            p = NULL;
        }
    }
    return p;
}

void dk_ossl_flush(dk_bk_session *s)
{
    if (!s->pack_len)
        return;
    s->io.send(s->io.user, s->pack, s->pack_len);
    s->pack_len = 0;
}

static int bio_write(BIO *b, const char *data, int len)
{
    dk_bk_session *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    size_t n = (size_t)len;
    if (s->pack_len && s->pack_len + n > s->mtu)
        dk_ossl_flush(s);
    if (n > s->mtu || n > DK_OSSL_PACK_MAX || !(s->pack = pack_buffer())) {
        dk_ossl_flush(s);                                 /* keep the order */
        s->io.send(s->io.user, (const uint8_t *)data, n); /* alone */
        return len;
    }
    memcpy(s->pack + s->pack_len, data, n);
    s->pack_len += n;
    return len;
}

static int bio_read(BIO *b, char *buf, int cap)
{
    dk_bk_session *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!s->in) {
        BIO_set_retry_read(b);
        return -1;
    }
    /* Like recv() on a UDP socket: a short buffer truncates the datagram. */
    size_t n = s->in_len < (size_t)cap ? s->in_len : (size_t)cap;
    memcpy(buf, s->in, n);
    s->in = NULL;
    s->in_len = 0;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    dk_bk_session *s = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        if (s)
            dk_ossl_flush(s);
        return 1;
    case BIO_CTRL_PENDING: return s && s->in ? (long)s->in_len : 0;
    case BIO_CTRL_WPENDING: return s ? (long)s->pack_len : 0;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU: return s ? (long)s->mtu : 0;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: return 0; /* the core already took headers off */
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
        if (s && ptr)
            dk_ossl_timer_moved(s, ptr);
        return 0;
    default: return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *method;

BIO_METHOD *dk_ossl_bio_method(void)
{
    if (!method) {
        method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dtlskit datagram");
        if (method) {
            BIO_meth_set_write(method, bio_write);
            BIO_meth_set_read(method, bio_read);
            BIO_meth_set_ctrl(method, bio_ctrl);
            BIO_meth_set_create(method, bio_create);
        }
    }
    return method;
}
