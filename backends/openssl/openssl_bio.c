/* OpenSSL backend: the BIO between a session and the core. A write is one
 * datagram handed to the core (a memory BIO would glue datagrams together);
 * a read returns the one datagram the core fed, then "retry". */
#include <openssl/bio.h>
#include <string.h>

#include "openssl_backend.h"
#include "openssl_session.h"

static int bio_write(BIO *b, const char *data, int len)
{
    dk_bk_session *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    /* A send that fails is a datagram lost on the way: the library's
     * retransmission covers it, so report success. */
    (void)s->io.send(s->io.user, (const uint8_t *)data, (size_t)len);
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
    (void)ptr;
    dk_bk_session *s = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return s && s->in ? (long)s->in_len : 0;
    case BIO_CTRL_WPENDING: return 0;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU: return s ? (long)s->mtu : 0;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: return 0; /* the core already took headers off */
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
