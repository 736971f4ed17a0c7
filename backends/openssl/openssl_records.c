/* OpenSSL backend: empty application records. OpenSSL's DTLS writer
 * returns early for 0 bytes (do_dtls1_write: "if (len == 0 &&
 * !create_empty_fragment) return 0"), so an empty record, a keepalive,
 * cannot come from SSL_write. The session writes one byte instead and the
 * BIO swaps that record for an empty one encrypted here under the same
 * epoch, sequence number and nonce: OpenSSL's counters move on as for any
 * record, and the one-byte ciphertext never leaves, so no nonce is used
 * twice on the wire. The write key is derived from the master secret as
 * OpenSSL derived it (RFC 5246 6.3); only the AEAD suites the contexts
 * allow are handled: AES-GCM (RFC 5288) and ChaCha20-Poly1305 (RFC 7905). */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/objects.h>
#include <string.h>

#include "openssl_backend.h"
#include "openssl_session.h"

#define HEADER              13 /* type, version, epoch, sequence number, length */
#define TAG                 16
#define EXPLICIT            8 /* AES-GCM explicit nonce */
#define RT_APPLICATION_DATA 23

/* This side's write key and IV (4 bytes for AES-GCM, 12 for ChaCha20). */
typedef struct write_keys {
    uint8_t key[32], iv[12];
    size_t key_len, iv_len;
} write_keys;

static bool derive(SSL *ssl, bool server, const EVP_CIPHER *cipher, bool gcm, write_keys *k)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    const EVP_MD *md = c ? SSL_CIPHER_get_handshake_digest(c) : NULL;
    SSL_SESSION *sess = SSL_get_session(ssl);
    uint8_t ms[SSL_MAX_MASTER_KEY_LENGTH];
    size_t ms_len = sess ? SSL_SESSION_get_master_key(sess, ms, sizeof ms) : 0;
    int key_len = EVP_CIPHER_get_key_length(cipher);
    if (!md || !ms_len || key_len <= 0 || (size_t)key_len > sizeof k->key)
        return false;
    k->key_len = (size_t)key_len;
    k->iv_len = gcm ? 4 : 12;
    /* seed = "key expansion" + server_random + client_random */
    uint8_t seed[13 + 2 * SSL3_RANDOM_SIZE];
    memcpy(seed, "key expansion", 13);
    if (SSL_get_server_random(ssl, seed + 13, SSL3_RANDOM_SIZE) != SSL3_RANDOM_SIZE ||
        SSL_get_client_random(ssl, seed + 13 + SSL3_RANDOM_SIZE, SSL3_RANDOM_SIZE) !=
            SSL3_RANDOM_SIZE)
        return false;
    /* key_block: client key, server key, client IV, server IV (AEAD
     * suites have no MAC keys). */
    uint8_t block[2 * 32 + 2 * 12];
    size_t block_len = 2 * k->key_len + 2 * k->iv_len;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_PRF, NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, ms, ms_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof seed),
        OSSL_PARAM_construct_end(),
    };
    bool ok = kctx && EVP_KDF_derive(kctx, block, block_len, params) == 1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    if (ok) {
        size_t side = server ? 1 : 0;
        memcpy(k->key, block + side * k->key_len, k->key_len);
        memcpy(k->iv, block + 2 * k->key_len + side * k->iv_len, k->iv_len);
    }
    OPENSSL_cleanse(ms, sizeof ms);
    OPENSSL_cleanse(block, sizeof block);
    return ok;
}

/* AEAD over no plaintext: only the tag, over `aad`. */
static bool seal_empty(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t nonce[12],
                       const uint8_t aad[13], uint8_t tag[TAG])
{
    EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
    int outl = 0;
    uint8_t none[1];
    bool ok = cc && EVP_EncryptInit_ex(cc, cipher, NULL, NULL, NULL) == 1 &&
              EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
              EVP_EncryptInit_ex(cc, NULL, NULL, key, nonce) == 1 &&
              EVP_EncryptUpdate(cc, NULL, &outl, aad, 13) == 1 &&
              EVP_EncryptFinal_ex(cc, none, &outl) == 1 &&
              EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_GET_TAG, TAG, tag) == 1;
    EVP_CIPHER_CTX_free(cc);
    return ok;
}

size_t dk_ossl_empty_record(dk_bk_session *s, const uint8_t *rec, size_t n,
                            uint8_t out[DK_OSSL_EMPTY_MAX])
{
    if (n < HEADER || rec[0] != RT_APPLICATION_DATA)
        return 0;
    const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);
    int nid = c ? SSL_CIPHER_get_cipher_nid(c) : NID_undef;
    EVP_CIPHER *cipher = nid != NID_undef ? EVP_CIPHER_fetch(NULL, OBJ_nid2sn(nid), NULL) : NULL;
    if (!cipher)
        return 0;
    bool gcm = EVP_CIPHER_get_mode(cipher) == EVP_CIPH_GCM_MODE;
    bool chacha = nid == NID_chacha20_poly1305;
    write_keys k;
    size_t len = 0;
    if ((gcm || chacha) && (!gcm || n >= HEADER + EXPLICIT) &&
        derive(s->ssl, s->server, cipher, gcm, &k)) {
        /* Additional data: epoch and sequence number, type, version,
         * plaintext length 0 (RFC 5246 6.2.3.3, RFC 6347 4.1.2.1). */
        uint8_t aad[13];
        memcpy(aad, rec + 3, 8);
        memcpy(aad + 8, rec, 3);
        aad[11] = aad[12] = 0;
        uint8_t nonce[12];
        memcpy(out, rec, HEADER);
        size_t body = 0;
        if (gcm) {
            /* fixed IV + the explicit nonce OpenSSL chose for this record */
            memcpy(nonce, k.iv, 4);
            memcpy(nonce + 4, rec + HEADER, EXPLICIT);
            memcpy(out + HEADER, rec + HEADER, EXPLICIT);
            body = EXPLICIT;
        } else {
            /* IV xor the 64-bit epoch and sequence number */
            memcpy(nonce, k.iv, 12);
            for (int i = 0; i < 8; i++)
                nonce[4 + i] ^= rec[3 + i];
        }
        if (seal_empty(cipher, k.key, nonce, aad, out + HEADER + body)) {
            len = HEADER + body + TAG;
            out[11] = (uint8_t)((len - HEADER) >> 8);
            out[12] = (uint8_t)(len - HEADER);
        }
        OPENSSL_cleanse(&k, sizeof k);
    }
    EVP_CIPHER_free(cipher);
    return len;
}
