/* Crypto floor: the server's private-key operations of one DTLS 1.2
 * handshake, timed per TLS library on the thread CPU clock.
 *
 *   ecdsa_p256_sign  ECDSA P-256 signature of a SHA-256 digest
 *   rsa2048_sign     RSA-2048 PKCS#1 v1.5 signature of a SHA-256 digest
 *   ecdh_p256        a server's ECDHE work: one P-256 key pair generated,
 *                    the client's encoded public key imported (and checked
 *                    as the library's TLS code does), one shared secret
 *   ecdh_x25519      the same with X25519, for clients that prefer it
 *
 * The client public keys come from a pool of fresh keys made outside the
 * timed region, each used once: no library may cache a peer's point.
 * Each operation is checked once (signature verifies, both sides of the key
 * exchange agree), warmed up, then run for --ms milliseconds.
 *
 *   crypto_floor [--ms 500] [--ec-key FILE] [--rsa-key FILE]
 *
 * The keys default to tests/certs/server.key (EC P-256) and
 * tests/certs/rsa.key (RSA-2048), relative to the current directory.
 * Prints one line per operation on stdout: `floor OP US_PER_OP`.
 *
 * Build (one per library):
 *   cc -O2 -g -std=gnu11 -DLIB_OPENSSL bench/crypto_floor.c -o floor_openssl \
 *      $(pkg-config --cflags --libs libcrypto)
 *   cc -O2 -g -std=gnu11 -DLIB_MBEDTLS bench/crypto_floor.c -o floor_mbedtls -lmbedcrypto
 *   cc -O2 -g -std=gnu11 -DLIB_WOLFSSL bench/crypto_floor.c -o floor_wolfssl \
 *      $(pkg-config --cflags --libs wolfssl)
 *   cc -O2 -g -std=gnu11 -DLIB_GNUTLS bench/crypto_floor.c -o floor_gnutls \
 *      $(pkg-config --cflags --libs gnutls hogweed nettle gmp)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(LIB_OPENSSL) + defined(LIB_MBEDTLS) + defined(LIB_WOLFSSL) + defined(LIB_GNUTLS) != 1
#error "define exactly one of LIB_OPENSSL, LIB_MBEDTLS, LIB_WOLFSSL, LIB_GNUTLS"
#endif

static const char *ec_key_file = "tests/certs/server.key";
static const char *rsa_key_file = "tests/certs/rsa.key";

/* A fixed SHA-256 digest: what the handshake signs is a hash too. */
static const unsigned char digest[32] = {
    0x9f, 0x86, 0xd0, 0x81, 0x88, 0x4c, 0x7d, 0x65, 0x9a, 0x2f, 0xea, 0xa0, 0xc5, 0x5a, 0xd0, 0x15,
    0xa3, 0xbf, 0x4f, 0x1b, 0x2b, 0x0b, 0x82, 0x2c, 0xd1, 0x5d, 0x6c, 0x15, 0xb0, 0xf0, 0x0a, 0x08,
};

static void die(const char *what)
{
    fprintf(stderr, "crypto_floor: %s\n", what);
    exit(1);
}

/* ---- peer key pools ---------------------------------------------------------- */

#define POOL 256
enum curve { P256, X25519 };

struct pool {
    enum curve curve;
    size_t len; /* encoded public key: 65 bytes (P-256), 32 (X25519) */
    int left;   /* keys not used yet; refilled outside the timing */
    unsigned char key[POOL][65];
};

static struct pool pool_p256 = {P256, 65, 0, {{0}}};
static struct pool pool_x25519 = {X25519, 32, 0, {{0}}};

static unsigned char secret[66];
static size_t secret_len;

/* ---- library adapters ------------------------------------------------------ *
 * Each library provides lib_init(), op_ecdsa_p256_sign(), op_rsa2048_sign(),
 * peer_fill() (fresh public keys into a pool), ecdh() (the server's ECDHE
 * work against one encoded client key; own_pub, when not NULL, receives the
 * server's public key) and lib_check(). */

#if defined(LIB_OPENSSL)
#define LIB_NAME "openssl"
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

static EVP_PKEY *ec_key, *rsa_key;
static EVP_PKEY_CTX *ec_sign_ctx, *rsa_sign_ctx, *gen_ctx[2];
static unsigned char sig[512];
static size_t sig_len;

static EVP_PKEY *load_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k)
        die("cannot read a private key");
    return k;
}

static EVP_PKEY_CTX *sign_ctx(EVP_PKEY *k, int padding)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
    if (!ctx || EVP_PKEY_sign_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
        (padding && EVP_PKEY_CTX_set_rsa_padding(ctx, padding) != 1))
        die("signing context");
    return ctx;
}

static EVP_PKEY_CTX *keygen_ctx(int type)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(type, NULL);
    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 ||
        (type == EVP_PKEY_EC &&
         EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) != 1))
        die("keygen context");
    return ctx;
}

static void lib_init(void)
{
    ec_key = load_key(ec_key_file);
    rsa_key = load_key(rsa_key_file);
    ec_sign_ctx = sign_ctx(ec_key, 0);
    rsa_sign_ctx = sign_ctx(rsa_key, RSA_PKCS1_PADDING);
    gen_ctx[P256] = keygen_ctx(EVP_PKEY_EC);
    gen_ctx[X25519] = keygen_ctx(EVP_PKEY_X25519);
}

static bool sign_with(EVP_PKEY_CTX *ctx)
{
    sig_len = sizeof sig;
    return EVP_PKEY_sign(ctx, sig, &sig_len, digest, sizeof digest) == 1;
}

static bool op_ecdsa_p256_sign(void)
{
    return sign_with(ec_sign_ctx);
}

static bool op_rsa2048_sign(void)
{
    return sign_with(rsa_sign_ctx);
}

static bool encode_pub(EVP_PKEY *k, unsigned char *out, size_t len)
{
    unsigned char *p = NULL;
    size_t n = EVP_PKEY_get1_encoded_public_key(k, &p);
    bool ok = n == len;
    if (ok)
        memcpy(out, p, n);
    OPENSSL_free(p);
    return ok;
}

static void peer_fill(struct pool *pl)
{
    for (int i = 0; i < POOL; i++) {
        EVP_PKEY *k = NULL;
        if (EVP_PKEY_keygen(gen_ctx[pl->curve], &k) != 1 || !encode_pub(k, pl->key[i], pl->len))
            die("peer keys");
        EVP_PKEY_free(k);
    }
    pl->left = POOL;
}

/* As OpenSSL's TLS server does it: generate from the group's parameters,
 * import the client's encoded point into a key with the same parameters,
 * derive (EVP_PKEY_derive_set_peer checks the peer key). */
static bool ecdh_own(enum curve c, const unsigned char *peer_pub, size_t len, EVP_PKEY **own)
{
    EVP_PKEY *k = NULL, *peer = EVP_PKEY_new();
    EVP_PKEY_CTX *d = NULL;
    secret_len = sizeof secret;
    bool ok =
        peer && EVP_PKEY_keygen(gen_ctx[c], &k) == 1 && EVP_PKEY_copy_parameters(peer, k) == 1 &&
        EVP_PKEY_set1_encoded_public_key(peer, peer_pub, len) == 1 &&
        (d = EVP_PKEY_CTX_new(k, NULL)) != NULL && EVP_PKEY_derive_init(d) == 1 &&
        EVP_PKEY_derive_set_peer(d, peer) == 1 && EVP_PKEY_derive(d, secret, &secret_len) == 1;
    EVP_PKEY_CTX_free(d);
    EVP_PKEY_free(peer);
    if (own && ok)
        *own = k;
    else
        EVP_PKEY_free(k);
    return ok;
}

static bool ecdh(enum curve c, const unsigned char *peer_pub, size_t len)
{
    return ecdh_own(c, peer_pub, len, NULL);
}

static bool verify_with(EVP_PKEY *k, int padding)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
    bool ok = ctx && EVP_PKEY_verify_init(ctx) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
              (!padding || EVP_PKEY_CTX_set_rsa_padding(ctx, padding) == 1) &&
              EVP_PKEY_verify(ctx, sig, sig_len, digest, sizeof digest) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static bool agree(enum curve c, size_t len)
{
    EVP_PKEY *peer = NULL, *own = NULL;
    unsigned char enc[65], mine[66];
    if (EVP_PKEY_keygen(gen_ctx[c], &peer) != 1 || !encode_pub(peer, enc, len) ||
        !ecdh_own(c, enc, len, &own))
        return false;
    size_t mine_len = secret_len;
    memcpy(mine, secret, secret_len);
    /* The client's side: its private key with the server's public key. */
    EVP_PKEY_CTX *d = EVP_PKEY_CTX_new(peer, NULL);
    secret_len = sizeof secret;
    bool ok = d && EVP_PKEY_derive_init(d) == 1 && EVP_PKEY_derive_set_peer(d, own) == 1 &&
              EVP_PKEY_derive(d, secret, &secret_len) == 1 && secret_len == mine_len &&
              memcmp(secret, mine, mine_len) == 0;
    EVP_PKEY_CTX_free(d);
    EVP_PKEY_free(own);
    EVP_PKEY_free(peer);
    return ok;
}

static bool lib_check(void)
{
    return op_ecdsa_p256_sign() && verify_with(ec_key, 0) && op_rsa2048_sign() &&
           verify_with(rsa_key, RSA_PKCS1_PADDING) && agree(P256, 65) && agree(X25519, 32);
}

#elif defined(LIB_MBEDTLS)
#define LIB_NAME "mbedtls"
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_pk_context ec_key, rsa_key;
static unsigned char sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
static size_t sig_len;
static mbedtls_ecp_group grp[2];

static void lib_init(void)
{
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0)
        die("mbedtls_ctr_drbg_seed");
    mbedtls_pk_init(&ec_key);
    mbedtls_pk_init(&rsa_key);
    if (mbedtls_pk_parse_keyfile(&ec_key, ec_key_file, NULL) != 0 ||
        mbedtls_pk_parse_keyfile(&rsa_key, rsa_key_file, NULL) != 0)
        die("cannot read a private key");
    mbedtls_ecp_group_init(&grp[P256]);
    mbedtls_ecp_group_init(&grp[X25519]);
    if (mbedtls_ecp_group_load(&grp[P256], MBEDTLS_ECP_DP_SECP256R1) != 0 ||
        mbedtls_ecp_group_load(&grp[X25519], MBEDTLS_ECP_DP_CURVE25519) != 0)
        die("mbedtls_ecp_group_load");
}

/* mbedtls_pk_sign: deterministic ECDSA for EC keys, PKCS#1 v1.5 for RSA
 * keys, as in the TLS 1.2 handshake. */
static bool op_ecdsa_p256_sign(void)
{
    return mbedtls_pk_sign(&ec_key, MBEDTLS_MD_SHA256, digest, sizeof digest, sig, &sig_len,
                           mbedtls_ctr_drbg_random, &drbg) == 0;
}

static bool op_rsa2048_sign(void)
{
    return mbedtls_pk_sign(&rsa_key, MBEDTLS_MD_SHA256, digest, sizeof digest, sig, &sig_len,
                           mbedtls_ctr_drbg_random, &drbg) == 0;
}

/* A fresh key pair; its public key encoded into out when out is not NULL. */
static bool keypair(enum curve c, mbedtls_mpi *d, mbedtls_ecp_point *q, unsigned char *out,
                    size_t len)
{
    size_t n = 0;
    return mbedtls_ecdh_gen_public(&grp[c], d, q, mbedtls_ctr_drbg_random, &drbg) == 0 &&
           (!out || (mbedtls_ecp_point_write_binary(&grp[c], q, MBEDTLS_ECP_PF_UNCOMPRESSED, &n,
                                                    out, len) == 0 &&
                     n == len));
}

static void peer_fill(struct pool *pl)
{
    mbedtls_mpi d;
    mbedtls_ecp_point q;
    mbedtls_mpi_init(&d);
    mbedtls_ecp_point_init(&q);
    for (int i = 0; i < POOL; i++)
        if (!keypair(pl->curve, &d, &q, pl->key[i], pl->len))
            die("peer keys");
    mbedtls_mpi_free(&d);
    mbedtls_ecp_point_free(&q);
    pl->left = POOL;
}

/* As mbedTLS's TLS server does it (mbedtls_ecdh_make_params,
 * mbedtls_ecdh_read_public, mbedtls_ecdh_calc_secret): generate, read and
 * check the client's point, compute the shared secret. */
static bool ecdh_own(enum curve c, const unsigned char *peer_pub, size_t len, unsigned char *own)
{
    mbedtls_mpi d, z;
    mbedtls_ecp_point q, qp;
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&z);
    mbedtls_ecp_point_init(&q);
    mbedtls_ecp_point_init(&qp);
    bool ok =
        keypair(c, &d, &q, own, len) &&
        mbedtls_ecp_point_read_binary(&grp[c], &qp, peer_pub, len) == 0 &&
        mbedtls_ecp_check_pubkey(&grp[c], &qp) == 0 &&
        mbedtls_ecdh_compute_shared(&grp[c], &z, &qp, &d, mbedtls_ctr_drbg_random, &drbg) == 0 &&
        mbedtls_mpi_write_binary(&z, secret, mbedtls_mpi_size(&grp[c].P)) == 0;
    secret_len = mbedtls_mpi_size(&grp[c].P);
    mbedtls_mpi_free(&d);
    mbedtls_mpi_free(&z);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_point_free(&qp);
    return ok;
}

static bool ecdh(enum curve c, const unsigned char *peer_pub, size_t len)
{
    return ecdh_own(c, peer_pub, len, NULL);
}

static bool agree(enum curve c, size_t len)
{
    mbedtls_mpi d, z;
    mbedtls_ecp_point q, qs;
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&z);
    mbedtls_ecp_point_init(&q);
    mbedtls_ecp_point_init(&qs);
    unsigned char enc[65], own[65], other[66];
    size_t n = mbedtls_mpi_size(&grp[c].P);
    bool ok =
        keypair(c, &d, &q, enc, len) && ecdh_own(c, enc, len, own) &&
        mbedtls_ecp_point_read_binary(&grp[c], &qs, own, len) == 0 &&
        mbedtls_ecdh_compute_shared(&grp[c], &z, &qs, &d, mbedtls_ctr_drbg_random, &drbg) == 0 &&
        mbedtls_mpi_write_binary(&z, other, n) == 0 && secret_len == n &&
        memcmp(other, secret, n) == 0;
    mbedtls_mpi_free(&d);
    mbedtls_mpi_free(&z);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_point_free(&qs);
    return ok;
}

static bool lib_check(void)
{
    return op_ecdsa_p256_sign() &&
           mbedtls_pk_verify(&ec_key, MBEDTLS_MD_SHA256, digest, sizeof digest, sig, sig_len) ==
               0 &&
           op_rsa2048_sign() &&
           mbedtls_pk_verify(&rsa_key, MBEDTLS_MD_SHA256, digest, sizeof digest, sig, sig_len) ==
               0 &&
           agree(P256, 65) && agree(X25519, 32);
}

#elif defined(LIB_WOLFSSL)
#define LIB_NAME "wolfssl"
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/curve25519.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

static WC_RNG rng;
static ecc_key ec_key;
static RsaKey rsa_key;
static unsigned char sig[512];
static word32 sig_len;

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t cap = 1 << 16;
    unsigned char *buf = malloc(cap + 1);
    if (!buf)
        die("out of memory");
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static word32 load_der(const char *path, unsigned char **der)
{
    size_t pem_len;
    unsigned char *pem = read_file(path, &pem_len);
    *der = malloc(pem_len);
    if (!*der)
        die("out of memory");
    int n = wc_KeyPemToDer(pem, (int)pem_len, *der, (int)pem_len, NULL);
    free(pem);
    if (n <= 0)
        die("cannot read a private key");
    return (word32)n;
}

static void lib_init(void)
{
    if (wolfCrypt_Init() != 0 || wc_InitRng(&rng) != 0)
        die("wolfCrypt init");
    unsigned char *der;
    word32 len = load_der(ec_key_file, &der), idx = 0;
    if (wc_ecc_init(&ec_key) != 0 || wc_EccPrivateKeyDecode(der, &idx, &ec_key, len) != 0)
        die("cannot decode the EC key");
    free(der);
    wc_ecc_set_rng(&ec_key, &rng);
    len = load_der(rsa_key_file, &der);
    idx = 0;
    if (wc_InitRsaKey(&rsa_key, NULL) != 0 || wc_RsaPrivateKeyDecode(der, &idx, &rsa_key, len) != 0)
        die("cannot decode the RSA key");
    free(der);
    wc_RsaSetRNG(&rsa_key, &rng);
}

static bool op_ecdsa_p256_sign(void)
{
    sig_len = sizeof sig;
    return wc_ecc_sign_hash(digest, sizeof digest, sig, &sig_len, &rng, &ec_key) == 0;
}

/* PKCS#1 v1.5: DigestInfo(SHA-256, digest), then the private-key operation,
 * as wolfSSL's TLS code does. */
static bool op_rsa2048_sign(void)
{
    unsigned char enc[MAX_ENCODED_SIG_SZ];
    word32 enc_len = wc_EncodeSignature(enc, digest, sizeof digest, SHA256h);
    int n = wc_RsaSSL_Sign(enc, enc_len, sig, sizeof sig, &rsa_key, &rng);
    sig_len = n > 0 ? (word32)n : 0;
    return n > 0;
}

static void peer_fill(struct pool *pl)
{
    for (int i = 0; i < POOL; i++) {
        word32 n = (word32)pl->len;
        bool ok;
        if (pl->curve == P256) {
            ecc_key k;
            ok = wc_ecc_init(&k) == 0 && wc_ecc_make_key_ex(&rng, 32, &k, ECC_SECP256R1) == 0 &&
                 wc_ecc_export_x963(&k, pl->key[i], &n) == 0;
            wc_ecc_free(&k);
        } else {
            curve25519_key k;
            ok = wc_curve25519_init(&k) == 0 &&
                 wc_curve25519_make_key(&rng, CURVE25519_KEYSIZE, &k) == 0 &&
                 wc_curve25519_export_public_ex(&k, pl->key[i], &n, EC25519_LITTLE_ENDIAN) == 0;
            wc_curve25519_free(&k);
        }
        if (!ok || n != pl->len)
            die("peer keys");
    }
    pl->left = POOL;
}

/* As wolfSSL's TLS server does it: make the ephemeral key, import the
 * client's point (X25519: check it first), compute the shared secret. */
static bool ecdh_own(enum curve c, const unsigned char *peer_pub, size_t len, unsigned char *own)
{
    word32 n = sizeof secret, own_len = (word32)len;
    bool ok;
    if (c == P256) {
        ecc_key k, peer;
        ok = wc_ecc_init(&k) == 0 && wc_ecc_init(&peer) == 0 &&
             wc_ecc_make_key_ex(&rng, 32, &k, ECC_SECP256R1) == 0 &&
             wc_ecc_import_x963_ex(peer_pub, (word32)len, &peer, ECC_SECP256R1) == 0 &&
             wc_ecc_set_rng(&k, &rng) == 0 && wc_ecc_shared_secret(&k, &peer, secret, &n) == 0 &&
             (!own || wc_ecc_export_x963(&k, own, &own_len) == 0);
        wc_ecc_free(&k);
        wc_ecc_free(&peer);
    } else {
        curve25519_key k, peer;
        ok =
            wc_curve25519_init(&k) == 0 && wc_curve25519_init(&peer) == 0 &&
            wc_curve25519_make_key(&rng, CURVE25519_KEYSIZE, &k) == 0 &&
            wc_curve25519_check_public(peer_pub, (word32)len, EC25519_LITTLE_ENDIAN) == 0 &&
            wc_curve25519_import_public_ex(peer_pub, (word32)len, &peer, EC25519_LITTLE_ENDIAN) ==
                0 &&
            wc_curve25519_shared_secret_ex(&k, &peer, secret, &n, EC25519_LITTLE_ENDIAN) == 0 &&
            (!own || wc_curve25519_export_public_ex(&k, own, &own_len, EC25519_LITTLE_ENDIAN) == 0);
        wc_curve25519_free(&k);
        wc_curve25519_free(&peer);
    }
    secret_len = n;
    return ok;
}

static bool ecdh(enum curve c, const unsigned char *peer_pub, size_t len)
{
    return ecdh_own(c, peer_pub, len, NULL);
}

static bool agree_p256(void)
{
    ecc_key peer, srv;
    unsigned char enc[65], own[65], other[66];
    word32 n = sizeof enc, m = sizeof other;
    bool ok = wc_ecc_init(&peer) == 0 && wc_ecc_init(&srv) == 0 &&
              wc_ecc_make_key_ex(&rng, 32, &peer, ECC_SECP256R1) == 0 &&
              wc_ecc_export_x963(&peer, enc, &n) == 0 && ecdh_own(P256, enc, n, own) &&
              wc_ecc_import_x963_ex(own, n, &srv, ECC_SECP256R1) == 0 &&
              wc_ecc_set_rng(&peer, &rng) == 0 &&
              wc_ecc_shared_secret(&peer, &srv, other, &m) == 0 && m == secret_len &&
              memcmp(other, secret, m) == 0;
    wc_ecc_free(&peer);
    wc_ecc_free(&srv);
    return ok;
}

static bool agree_x25519(void)
{
    curve25519_key peer, srv;
    unsigned char enc[32], own[32], other[32];
    word32 n = sizeof enc, m = sizeof other;
    bool ok = wc_curve25519_init(&peer) == 0 && wc_curve25519_init(&srv) == 0 &&
              wc_curve25519_make_key(&rng, CURVE25519_KEYSIZE, &peer) == 0 &&
              wc_curve25519_export_public_ex(&peer, enc, &n, EC25519_LITTLE_ENDIAN) == 0 &&
              ecdh_own(X25519, enc, n, own) &&
              wc_curve25519_import_public_ex(own, n, &srv, EC25519_LITTLE_ENDIAN) == 0 &&
              wc_curve25519_shared_secret_ex(&peer, &srv, other, &m, EC25519_LITTLE_ENDIAN) == 0 &&
              m == secret_len && memcmp(other, secret, m) == 0;
    wc_curve25519_free(&peer);
    wc_curve25519_free(&srv);
    return ok;
}

static bool lib_check(void)
{
    int verified = 0;
    if (!op_ecdsa_p256_sign() ||
        wc_ecc_verify_hash(sig, sig_len, digest, sizeof digest, &verified, &ec_key) != 0 ||
        !verified)
        return false;
    unsigned char plain[512], enc[MAX_ENCODED_SIG_SZ];
    word32 enc_len = wc_EncodeSignature(enc, digest, sizeof digest, SHA256h);
    if (!op_rsa2048_sign() ||
        wc_RsaSSL_Verify(sig, sig_len, plain, sizeof plain, &rsa_key) != (int)enc_len ||
        memcmp(plain, enc, enc_len) != 0)
        return false;
    return agree_p256() && agree_x25519();
}
#elif defined(LIB_GNUTLS)
#define LIB_NAME "gnutls"
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/bignum.h>
#include <nettle/curve25519.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>

/* Signatures through GnuTLS's abstract keys, as its TLS code signs
 * (gnutls_privkey_sign_hash2, the signature allocated and freed each
 * time). GnuTLS 3.7 has no public key-exchange call: the ECDHE work is
 * done with Nettle, which GnuTLS calls for it (lib/nettle/pk.c): a key
 * pair from its key generator (GNUTLS_RND_KEY), the client's point set
 * (and checked to be on the curve) or, for X25519, the raw 32 bytes, one
 * point multiplication, and an all-zero X25519 result refused. */
static gnutls_privkey_t ec_key, rsa_key;
static gnutls_datum_t sig;
static mpz_t mx, my;

static void rnd_key(void *ctx, size_t n, uint8_t *out)
{
    (void)ctx;
    if (gnutls_rnd(GNUTLS_RND_KEY, out, n) < 0)
        die("gnutls_rnd");
}

static gnutls_privkey_t load_key(const char *path)
{
    gnutls_datum_t pem;
    gnutls_privkey_t k;
    if (gnutls_load_file(path, &pem) < 0)
        die("cannot read a private key");
    if (gnutls_privkey_init(&k) < 0 ||
        gnutls_privkey_import_x509_raw(k, &pem, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
        die("cannot decode a private key");
    gnutls_free(pem.data);
    return k;
}

static void lib_init(void)
{
    if (gnutls_global_init() < 0)
        die("gnutls_global_init");
    ec_key = load_key(ec_key_file);
    rsa_key = load_key(rsa_key_file);
    mpz_init(mx);
    mpz_init(my);
}

static bool sign_with(gnutls_privkey_t k, gnutls_sign_algorithm_t algo)
{
    const gnutls_datum_t hash = {(unsigned char *)digest, sizeof digest};
    gnutls_free(sig.data);
    sig.data = NULL;
    return gnutls_privkey_sign_hash2(k, algo, 0, &hash, &sig) == 0;
}

static bool op_ecdsa_p256_sign(void)
{
    return sign_with(ec_key, GNUTLS_SIGN_ECDSA_SHA256);
}

static bool op_rsa2048_sign(void)
{
    return sign_with(rsa_key, GNUTLS_SIGN_RSA_SHA256);
}

/* A P-256 point as 0x04 || x || y. */
static bool encode_point(const struct ecc_point *p, unsigned char out[65])
{
    ecc_point_get(p, mx, my);
    if (nettle_mpz_sizeinbase_256_u(mx) > 32 || nettle_mpz_sizeinbase_256_u(my) > 32)
        return false;
    out[0] = 4;
    nettle_mpz_get_str_256(32, out + 1, mx);
    nettle_mpz_get_str_256(32, out + 33, my);
    return true;
}

/* One key pair: P-256 (own public key encoded into pub, 65 bytes) or
 * X25519 (priv 32 bytes, pub 32 bytes). */
static bool keypair(enum curve c, struct ecc_scalar *key, unsigned char *priv, unsigned char *pub)
{
    if (c == X25519) {
        rnd_key(NULL, CURVE25519_SIZE, priv);
        curve25519_mul_g(pub, priv);
        return true;
    }
    struct ecc_point p;
    ecc_point_init(&p, nettle_get_secp_256r1());
    ecdsa_generate_keypair(&p, key, NULL, rnd_key);
    bool ok = encode_point(&p, pub);
    ecc_point_clear(&p);
    return ok;
}

static void peer_fill(struct pool *pl)
{
    for (int i = 0; i < POOL; i++) {
        struct ecc_scalar k;
        unsigned char priv[CURVE25519_SIZE];
        if (pl->curve == P256)
            ecc_scalar_init(&k, nettle_get_secp_256r1());
        bool ok = keypair(pl->curve, &k, priv, pl->key[i]);
        if (pl->curve == P256)
            ecc_scalar_clear(&k);
        if (!ok)
            die("peer keys");
    }
    pl->left = POOL;
}

/* The shared secret of the private key (key or priv) with an encoded
 * public key, into `secret`. */
static bool derive(enum curve c, const struct ecc_scalar *key, const unsigned char *priv,
                   const unsigned char *peer_pub, size_t len)
{
    if (c == X25519) {
        static const unsigned char zero[CURVE25519_SIZE];
        if (len != CURVE25519_SIZE)
            return false;
        curve25519_mul(secret, priv, peer_pub);
        secret_len = CURVE25519_SIZE;
        return memcmp(secret, zero, sizeof zero) != 0;
    }
    if (len != 65 || peer_pub[0] != 4)
        return false;
    struct ecc_point peer, r;
    ecc_point_init(&peer, nettle_get_secp_256r1());
    ecc_point_init(&r, nettle_get_secp_256r1());
    nettle_mpz_set_str_256_u(mx, 32, peer_pub + 1);
    nettle_mpz_set_str_256_u(my, 32, peer_pub + 33);
    bool ok = ecc_point_set(&peer, mx, my) == 1; /* 0: not on the curve */
    if (ok) {
        ecc_point_mul(&r, key, &peer);
        ecc_point_get(&r, mx, NULL);
        ok = nettle_mpz_sizeinbase_256_u(mx) <= 32;
        nettle_mpz_get_str_256(32, secret, mx);
        secret_len = 32;
    }
    ecc_point_clear(&r);
    ecc_point_clear(&peer);
    return ok;
}

static bool ecdh_own(enum curve c, const unsigned char *peer_pub, size_t len, unsigned char *own)
{
    struct ecc_scalar k;
    unsigned char priv[CURVE25519_SIZE], pub[65];
    if (c == P256)
        ecc_scalar_init(&k, nettle_get_secp_256r1());
    bool ok = keypair(c, &k, priv, pub) && derive(c, &k, priv, peer_pub, len);
    if (c == P256)
        ecc_scalar_clear(&k);
    if (ok && own)
        memcpy(own, pub, len);
    return ok;
}

static bool ecdh(enum curve c, const unsigned char *peer_pub, size_t len)
{
    return ecdh_own(c, peer_pub, len, NULL);
}

static bool agree(enum curve c, size_t len)
{
    struct ecc_scalar k;
    unsigned char priv[CURVE25519_SIZE], enc[65], own[65], mine[66];
    if (c == P256)
        ecc_scalar_init(&k, nettle_get_secp_256r1());
    bool ok = keypair(c, &k, priv, enc) && ecdh_own(c, enc, len, own);
    size_t mine_len = secret_len;
    memcpy(mine, secret, sizeof mine);
    /* The client's side: its private key with the server's public key. */
    ok = ok && derive(c, &k, priv, own, len) && secret_len == mine_len &&
         memcmp(secret, mine, mine_len) == 0;
    if (c == P256)
        ecc_scalar_clear(&k);
    return ok;
}

static bool verify_with(gnutls_privkey_t k, gnutls_sign_algorithm_t algo)
{
    const gnutls_datum_t hash = {(unsigned char *)digest, sizeof digest};
    gnutls_pubkey_t pub;
    bool ok = gnutls_pubkey_init(&pub) == 0 && gnutls_pubkey_import_privkey(pub, k, 0, 0) == 0 &&
              gnutls_pubkey_verify_hash2(pub, algo, 0, &hash, &sig) >= 0;
    gnutls_pubkey_deinit(pub);
    return ok;
}

static bool lib_check(void)
{
    return op_ecdsa_p256_sign() && verify_with(ec_key, GNUTLS_SIGN_ECDSA_SHA256) &&
           op_rsa2048_sign() && verify_with(rsa_key, GNUTLS_SIGN_RSA_SHA256) && agree(P256, 65) &&
           agree(X25519, 32);
}
#endif

/* ---- AES-128-GCM seal of one record's plaintext (the record floor of the
 * data path: a DTLS record costs one seal to send and one open to read).
 * Nonce and 13 bytes of additional data as in a DTLS 1.2 record. */
static size_t gcm_len;
static unsigned char gcm_in[2048], gcm_out[2048], gcm_tag[16], gcm_iv[12], gcm_aad[13];
static const unsigned char gcm_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

#if defined(LIB_OPENSSL)
static EVP_CIPHER_CTX *gcm_ctx;
static bool op_aes128gcm(void)
{
    int n;
    if (!gcm_ctx) {
        gcm_ctx = EVP_CIPHER_CTX_new();
        if (!gcm_ctx || !EVP_EncryptInit_ex(gcm_ctx, EVP_aes_128_gcm(), NULL, gcm_key, NULL))
            return false;
    }
    gcm_iv[11]++;
    return EVP_EncryptInit_ex(gcm_ctx, NULL, NULL, NULL, gcm_iv) &&
           EVP_EncryptUpdate(gcm_ctx, NULL, &n, gcm_aad, sizeof gcm_aad) &&
           EVP_EncryptUpdate(gcm_ctx, gcm_out, &n, gcm_in, (int)gcm_len) &&
           EVP_EncryptFinal_ex(gcm_ctx, gcm_out + n, &n) &&
           EVP_CIPHER_CTX_ctrl(gcm_ctx, EVP_CTRL_GCM_GET_TAG, 16, gcm_tag);
}
#elif defined(LIB_MBEDTLS)
#include <mbedtls/gcm.h>
static mbedtls_gcm_context gcm;
static bool gcm_ready;
static bool op_aes128gcm(void)
{
    if (!gcm_ready) {
        mbedtls_gcm_init(&gcm);
        if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, gcm_key, 128) != 0)
            return false;
        gcm_ready = true;
    }
    gcm_iv[11]++;
    return mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, gcm_len, gcm_iv, sizeof gcm_iv,
                                     gcm_aad, sizeof gcm_aad, gcm_in, gcm_out, 16, gcm_tag) == 0;
}
#elif defined(LIB_WOLFSSL)
#include <wolfssl/wolfcrypt/aes.h>
static Aes gcm;
static bool gcm_ready;
static bool op_aes128gcm(void)
{
    if (!gcm_ready) {
        if (wc_AesInit(&gcm, NULL, INVALID_DEVID) != 0 ||
            wc_AesGcmSetKey(&gcm, gcm_key, sizeof gcm_key) != 0)
            return false;
        gcm_ready = true;
    }
    gcm_iv[11]++;
    return wc_AesGcmEncrypt(&gcm, gcm_out, gcm_in, (word32)gcm_len, gcm_iv, sizeof gcm_iv, gcm_tag,
                            sizeof gcm_tag, gcm_aad, sizeof gcm_aad) == 0;
}
#elif defined(LIB_GNUTLS)
static gnutls_aead_cipher_hd_t gcm;
static bool op_aes128gcm(void)
{
    if (!gcm) {
        const gnutls_datum_t key = {(unsigned char *)gcm_key, sizeof gcm_key};
        if (gnutls_aead_cipher_init(&gcm, GNUTLS_CIPHER_AES_128_GCM, &key) < 0)
            return false;
    }
    gcm_iv[11]++;
    size_t out_len = sizeof gcm_out; /* ciphertext and tag */
    return gnutls_aead_cipher_encrypt(gcm, gcm_iv, sizeof gcm_iv, gcm_aad, sizeof gcm_aad,
                                      sizeof gcm_tag, gcm_in, gcm_len, gcm_out, &out_len) == 0;
}
#endif

static bool op_ecdh_from(struct pool *pl)
{
    const unsigned char *peer = pl->key[--pl->left];
    return ecdh(pl->curve, peer, pl->len);
}

static bool op_ecdh_p256(void)
{
    return op_ecdh_from(&pool_p256);
}

static bool op_ecdh_x25519(void)
{
    return op_ecdh_from(&pool_x25519);
}

/* ---- the measurement ------------------------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Runs `op` for `ms` milliseconds of timed work (the loop's own clock
 * reads are cheap) and reports thread CPU time per operation. Refilling the
 * peer key pool is left out of the timing. */
static void measure(const char *name, bool (*op)(void), struct pool *pl, long ms)
{
    for (int i = 0; i < 10; i++) { /* warm-up: tables, caches, precomputation */
        if (pl && !pl->left)
            peer_fill(pl);
        if (!op())
            die(name);
    }
    uint64_t budget = (uint64_t)ms * 1000000u, wall = 0, cpu = 0;
    long n = 0;
    while (wall < budget) {
        if (pl && !pl->left)
            peer_fill(pl);
        int chunk = pl ? pl->left : 64;
        uint64_t w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        for (int i = 0; i < chunk && wall + clock_ns(CLOCK_MONOTONIC) - w0 < budget; i++) {
            if (!op())
                die(name);
            n++;
        }
        cpu += clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
        wall += clock_ns(CLOCK_MONOTONIC) - w0;
    }
    fprintf(stderr, "%s: %s: %ld operations\n", LIB_NAME, name, n);
    printf("floor %s %.2f\n", name, (double)cpu / 1000.0 / (double)n);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    long ms = 500;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(a, "--ms"))
            ms = atol(v);
        else if (v && !strcmp(a, "--ec-key"))
            ec_key_file = v;
        else if (v && !strcmp(a, "--rsa-key"))
            rsa_key_file = v;
        else {
            fprintf(stderr, "usage: %s [--ms 500] [--ec-key FILE] [--rsa-key FILE]\n", argv[0]);
            return 2;
        }
    }
    if (ms < 1)
        ms = 1;
    lib_init();
    if (!lib_check())
        die("self-check failed");
    measure("ecdsa_p256_sign", op_ecdsa_p256_sign, NULL, ms);
    measure("rsa2048_sign", op_rsa2048_sign, NULL, ms);
    measure("ecdh_p256", op_ecdh_p256, &pool_p256, ms);
    measure("ecdh_x25519", op_ecdh_x25519, &pool_x25519, ms);
    gcm_len = 64;
    measure("aes128gcm_64", op_aes128gcm, NULL, ms);
    gcm_len = 1200;
    measure("aes128gcm_1200", op_aes128gcm, NULL, ms);
    return 0;
}
