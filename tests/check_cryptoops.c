/* Godot's Crypto, HashingContext and HMACContext (crypto_ops.h) on the
 * backend compiled in: published vectors for every hash and HMAC, one-shot
 * against incremental, signatures and RSA encryption both ways and against
 * values the openssl command made (tests/certs/fixed-values.sh), the
 * constant-time comparison, and every bad input. A hash the library build
 * lacks is skipped, vector by vector, with a printed "SKIP:" line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define M448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define M896                                                                                       \
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmno" \
    "p"                                                                                            \
    "qrsmnopqrstnopqrstu"
#define MILLION_A NULL /* one million 'a', fed in chunks */

static const char *type_name(dk_hash_type t)
{
    static const char *names[] = {"?", "MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"};
    return t >= DK_HASH_MD5 && t <= DK_HASH_SHA512 ? names[t] : "?";
}

/* Whether the library build has `t`; prints the skip when not. */
static bool have_hash(dk_hash_type t, bool hmac, const char *what)
{
    dk_err err = DK_OK;
    if (hmac) {
        dk_hmac_free(dk_hmac_start(t, "k", 1, &err));
    } else {
        dk_hash_free(dk_hash_start(t, &err));
    }
    if (err == DK_ERR_UNAVAILABLE) {
        printf("SKIP: %s%s %s: backend %s's library build lacks it\n", hmac ? "HMAC-" : "",
               type_name(t), what, dk_backend_name());
        return false;
    }
    ck_assert_msg(err == DK_OK, "%s: %s", type_name(t), dk_last_error());
    return true;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    ck_assert_uint_le(n, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want, const char *what)
{
    char buf[2 * DK_HASH_MAX_SIZE + 1];
    ck_assert_uint_le(len, DK_HASH_MAX_SIZE);
    for (size_t i = 0; i < len; i++)
        snprintf(buf + 2 * i, 3, "%02x", got[i]);
    buf[2 * len] = '\0';
    ck_assert_msg(strcmp(buf, want) == 0, "%s: got %s, want %s", what, buf, want);
}

/* ---------------------------------------------------------------- random */

START_TEST(random_bytes)
{
    uint8_t a[5000] = {0}, b[5000] = {0}, zero[5000] = {0};
    /* Longer than one request to mbedTLS's DRBG (1024 bytes): every
     * 1000-byte stretch is filled, and differs between two draws. */
    ck_assert_dk_ok(dk_random_bytes(a, sizeof a));
    ck_assert_dk_ok(dk_random_bytes(b, sizeof b));
    for (size_t off = 0; off < sizeof a; off += 1000) {
        ck_assert_msg(memcmp(a + off, zero, 1000) != 0, "bytes %zu+ not filled", off);
        ck_assert_msg(memcmp(a + off, b + off, 1000) != 0, "bytes %zu+ repeat", off);
    }
    ck_assert_dk_ok(dk_random_bytes(a, 1));
    /* Bad input changes nothing. */
    memcpy(b, a, sizeof a);
    ck_assert_int_eq(dk_random_bytes(NULL, 16), DK_ERR_INVALID);
    ck_assert_int_eq(dk_random_bytes(a, 0), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "dk_random_bytes"));
    ck_assert(memcmp(a, b, sizeof a) == 0);
}
END_TEST

/* --------------------------------------------------------------- hashing */

static const struct {
    dk_hash_type type;
    const char *msg; /* MILLION_A: one million 'a' */
    const char *hex;
} hash_vectors[] = {
    /* RFC 1321 appendix A.5 (MD5), FIPS 180-2 appendices and the NIST
     * examples (SHA-1, SHA-2): empty, "abc", the 448-bit and 896-bit
     * messages, one million 'a'. */
    {DK_HASH_MD5, "", "d41d8cd98f00b204e9800998ecf8427e"},
    {DK_HASH_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72"},
    {DK_HASH_MD5, M448, "8215ef0796a20bcaaae116d3876c664a"},
    {DK_HASH_MD5, M896, "03dd8807a93175fb062dfb55dc7d359c"},
    {DK_HASH_MD5, MILLION_A, "7707d6ae4e027c70eea2a935c2296f21"},
    {DK_HASH_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {DK_HASH_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {DK_HASH_SHA1, M448, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    {DK_HASH_SHA1, M896, "a49b2446a02c645bf419f995b67091253a04a259"},
    {DK_HASH_SHA1, MILLION_A, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
    {DK_HASH_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {DK_HASH_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {DK_HASH_SHA256, M448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {DK_HASH_SHA256, M896, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    {DK_HASH_SHA256, MILLION_A, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    {DK_HASH_SHA384, "",
     "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b"
     "95b"},
    {DK_HASH_SHA384, "abc",
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c82"
     "5a7"},
    {DK_HASH_SHA384, M448,
     "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c84"
     "52b"},
    {DK_HASH_SHA384, M896,
     "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746"
     "039"},
    {DK_HASH_SHA384, MILLION_A,
     "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8"
     "985"},
    {DK_HASH_SHA512, "",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877ee"
     "c2f63b931bd47417a81a538327af927da3e"},
    {DK_HASH_SHA512, "abc",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3fee"
     "bbd454d4423643ce80e2a9ac94fa54ca49f"},
    {DK_HASH_SHA512, M448,
     "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789"
     "ca031ad85c7a71dd70354ec631238ca3445"},
    {DK_HASH_SHA512, M896,
     "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b54"
     "33ac7d329eeb6dd26545e96e55b874be909"},
    {DK_HASH_SHA512, MILLION_A,
     "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c"
     "31beb009c5c2c49aa2e4eadb217ad8cc09b"},
};

/* Hashes `msg` incrementally, `chunk` bytes at a time. */
static void hash_chunks(dk_hash_type t, const uint8_t *msg, size_t len, size_t chunk, uint8_t *out,
                        size_t *out_len)
{
    dk_err err = DK_ERR_INTERNAL;
    dk_hash_ctx *c = dk_hash_start(t, &err);
    ck_assert_msg(c != NULL && err == DK_OK, "%s", dk_last_error());
    for (size_t off = 0; off < len; off += chunk)
        ck_assert_dk_ok(dk_hash_update(c, msg + off, len - off < chunk ? len - off : chunk));
    ck_assert_dk_ok(dk_hash_finish(c, out, DK_HASH_MAX_SIZE, out_len));
    dk_hash_free(c);
}

START_TEST(hash_vectors_all)
{
    static uint8_t million[1000000];
    memset(million, 'a', sizeof million);
    int done = 0;
    for (size_t i = 0; i < sizeof hash_vectors / sizeof *hash_vectors; i++) {
        dk_hash_type t = hash_vectors[i].type;
        char what[64];
        snprintf(what, sizeof what, "%s vector %zu", type_name(t), i);
        if (!have_hash(t, false, what))
            continue;
        uint8_t out[DK_HASH_MAX_SIZE];
        size_t len = 0;
        if (!hash_vectors[i].msg) {
            /* Through incremental updates only: chunks that straddle
             * blocks in every way. */
            hash_chunks(t, million, sizeof million, 1000, out, &len);
            ck_assert_uint_eq(len, dk_hash_size(t));
            assert_hex(out, len, hash_vectors[i].hex, what);
            hash_chunks(t, million, sizeof million, 4099, out, &len);
            assert_hex(out, len, hash_vectors[i].hex, what);
            done++;
            continue;
        }
        const uint8_t *m = (const uint8_t *)hash_vectors[i].msg;
        size_t n = strlen(hash_vectors[i].msg);
        ck_assert_dk_ok(dk_hash_digest(t, m, n, out, sizeof out, &len));
        ck_assert_uint_eq(len, dk_hash_size(t));
        assert_hex(out, len, hash_vectors[i].hex, what);
        /* Byte by byte, and with no update at all for the empty one. */
        hash_chunks(t, m, n, 1, out, &len);
        assert_hex(out, len, hash_vectors[i].hex, what);
        done++;
    }
    printf("hash: %d vectors checked\n", done);
    ck_assert_int_gt(done, 0);
}
END_TEST

/* ------------------------------------------------------------------ HMAC */

typedef struct hmac_case {
    const uint8_t *key;
    size_t key_len;
    const char *msg;
} hmac_case;

static uint8_t k0b[20], kaa[131], k0c[20], k1_25[25];

static void fill_keys(void)
{
    memset(k0b, 0x0b, sizeof k0b);
    memset(kaa, 0xaa, sizeof kaa);
    memset(k0c, 0x0c, sizeof k0c);
    for (int i = 0; i < 25; i++)
        k1_25[i] = (uint8_t)(i + 1);
}

static char dd50[51], cd50[51];

static hmac_case rfc4231_case(int n)
{
    memset(dd50, 0xdd, 50);
    memset(cd50, 0xcd, 50);
    switch (n) {
    case 1: return (hmac_case){k0b, 20, "Hi There"};
    case 2: return (hmac_case){(const uint8_t *)"Jefe", 4, "what do ya want for nothing?"};
    case 3: return (hmac_case){kaa, 20, dd50};
    case 4: return (hmac_case){k1_25, 25, cd50};
    case 6: return (hmac_case){kaa, 131, "Test Using Larger Than Block-Size Key - Hash Key First"};
    case 7:
        return (hmac_case){kaa, 131,
                           "This is a test using a larger than block-size key and a larger "
                           "than block-size data. The key needs to be hashed before being used "
                           "by the HMAC algorithm."};
    }
    ck_abort_msg("no case %d", n);
    return (hmac_case){0};
}

/* RFC 2202: keys of 16 bytes for MD5 and 20 for SHA-1 in cases 1, 3, 5. */
static hmac_case rfc2202_case(int n, bool md5)
{
    size_t short_len = md5 ? 16 : 20;
    memset(dd50, 0xdd, 50);
    memset(cd50, 0xcd, 50);
    switch (n) {
    case 1: return (hmac_case){k0b, short_len, "Hi There"};
    case 2: return (hmac_case){(const uint8_t *)"Jefe", 4, "what do ya want for nothing?"};
    case 3: return (hmac_case){kaa, short_len, dd50};
    case 4: return (hmac_case){k1_25, 25, cd50};
    case 5: return (hmac_case){k0c, short_len, "Test With Truncation"};
    case 6: return (hmac_case){kaa, 80, "Test Using Larger Than Block-Size Key - Hash Key First"};
    case 7:
        return (hmac_case){kaa, 80,
                           "Test Using Larger Than Block-Size Key and Larger Than One "
                           "Block-Size Data"};
    }
    ck_abort_msg("no case %d", n);
    return (hmac_case){0};
}

static const struct {
    dk_hash_type type;
    int tc;
    const char *hex;
} rfc4231[] =
    {
        /* RFC 4231 section 4: test cases 1-4, 6 and 7 (5 truncates). */
        /* case 1 */
        {DK_HASH_SHA256, 1, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {DK_HASH_SHA384, 1,
         "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b"
         "2fa9cb6"},
        {DK_HASH_SHA512, 1,
         "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274ea"
         "ea3f4e4be9d914eeb61f1702e696c203a126854"},
        /* case 2 */
        {DK_HASH_SHA256, 2, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {DK_HASH_SHA384, 2,
         "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecf"
         "ab21649"},
        {DK_HASH_SHA512, 2,
         "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f"
         "8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
        /* case 3 */
        {DK_HASH_SHA256, 3, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {DK_HASH_SHA384, 3,
         "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e10"
         "1a34f27"},
        {DK_HASH_SHA512, 3,
         "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47"
         "e67c807b946a337bee8942674278859e13292fb"},
        /* case 4 */
        {DK_HASH_SHA256, 4, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {DK_HASH_SHA384, 4,
         "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c"
         "674cffb"},
        {DK_HASH_SHA512, 4,
         "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc"
         "5788063a5f19741120c4f2de2adebeb10a298dd"},
        /* case 6 */
        {DK_HASH_SHA256, 6, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {DK_HASH_SHA384, 6,
         "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df16"
         "3f44952"},
        {DK_HASH_SHA512, 6,
         "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215"
         "d6a1e5295e64f73f63f0aec8b915a985d786598"},
        /* case 7 */
        {DK_HASH_SHA256, 7, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
        {DK_HASH_SHA384, 7,
         "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110"
         "c46523e"},
        {DK_HASH_SHA512, 7,
         "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c"
         "3e4de15134676fb6de0446065c97440fa8c6a58"},
},
  rfc2202[] = {
      /* RFC 2202 sections 2 (HMAC-MD5) and 3 (HMAC-SHA-1). */
      {DK_HASH_MD5, 1, "9294727a3638bb1c13f48ef8158bfc9d"},
      {DK_HASH_MD5, 2, "750c783e6ab0b503eaa86e310a5db738"},
      {DK_HASH_MD5, 3, "56be34521d144c88dbb8c733f0e8b3f6"},
      {DK_HASH_MD5, 4, "697eaf0aca3a3aea3a75164746ffaa79"},
      {DK_HASH_MD5, 5, "56461ef2342edc00f9bab995690efd4c"},
      {DK_HASH_MD5, 6, "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
      {DK_HASH_MD5, 7, "6f630fad67cda0ee1fb1f562db3aa53e"},
      {DK_HASH_SHA1, 1, "b617318655057264e28bc0b6fb378c8ef146be00"},
      {DK_HASH_SHA1, 2, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
      {DK_HASH_SHA1, 3, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
      {DK_HASH_SHA1, 4, "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
      {DK_HASH_SHA1, 5, "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
      {DK_HASH_SHA1, 6, "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
      {DK_HASH_SHA1, 7, "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
};

static void check_hmac(dk_hash_type t, hmac_case c, const char *hex, const char *what)
{
    uint8_t out[DK_HASH_MAX_SIZE];
    size_t len = 0, n = strlen(c.msg);
    ck_assert_dk_ok(dk_hmac_digest(t, c.key, c.key_len, c.msg, n, out, sizeof out, &len));
    ck_assert_uint_eq(len, dk_hash_size(t));
    assert_hex(out, len, hex, what);
    /* Incremental, 7 bytes at a time. */
    dk_err err = DK_ERR_INTERNAL;
    dk_hmac_ctx *h = dk_hmac_start(t, c.key, c.key_len, &err);
    ck_assert_msg(h && err == DK_OK, "%s", dk_last_error());
    for (size_t off = 0; off < n; off += 7)
        ck_assert_dk_ok(dk_hmac_update(h, c.msg + off, n - off < 7 ? n - off : 7));
    memset(out, 0, sizeof out);
    ck_assert_dk_ok(dk_hmac_finish(h, out, sizeof out, &len));
    assert_hex(out, len, hex, what);
    dk_hmac_free(h);
}

START_TEST(hmac_vectors)
{
    fill_keys();
    int done = 0;
    char what[64];
    for (size_t i = 0; i < sizeof rfc4231 / sizeof *rfc4231; i++) {
        snprintf(what, sizeof what, "RFC 4231 case %d", rfc4231[i].tc);
        if (!have_hash(rfc4231[i].type, true, what))
            continue;
        check_hmac(rfc4231[i].type, rfc4231_case(rfc4231[i].tc), rfc4231[i].hex, what);
        done++;
    }
    for (size_t i = 0; i < sizeof rfc2202 / sizeof *rfc2202; i++) {
        snprintf(what, sizeof what, "RFC 2202 case %d", rfc2202[i].tc);
        if (!have_hash(rfc2202[i].type, true, what))
            continue;
        check_hmac(rfc2202[i].type, rfc2202_case(rfc2202[i].tc, rfc2202[i].type == DK_HASH_MD5),
                   rfc2202[i].hex, what);
        done++;
    }
    printf("hmac: %d vectors checked\n", done);
    ck_assert_int_gt(done, 0);
}
END_TEST

/* The key counts: the same message under keys differing in their last bit
 * (and in length) gives different MACs, and a hash is no HMAC. */
START_TEST(hmac_uses_key)
{
    uint8_t k1[32], k2[32], a[DK_HASH_MAX_SIZE], b[DK_HASH_MAX_SIZE];
    size_t la = 0, lb = 0;
    memset(k1, 0x42, sizeof k1);
    memcpy(k2, k1, sizeof k2);
    k2[31] ^= 1;
    for (dk_hash_type t = DK_HASH_MD5; t <= DK_HASH_SHA512; t++) {
        if (!have_hash(t, true, "key check"))
            continue;
        ck_assert_dk_ok(dk_hmac_digest(t, k1, sizeof k1, "msg", 3, a, sizeof a, &la));
        ck_assert_dk_ok(dk_hmac_digest(t, k2, sizeof k2, "msg", 3, b, sizeof b, &lb));
        ck_assert(memcmp(a, b, la) != 0);
        ck_assert_dk_ok(dk_hmac_digest(t, k1, 31, "msg", 3, b, sizeof b, &lb));
        ck_assert(memcmp(a, b, la) != 0);
        ck_assert_dk_ok(dk_hash_digest(t, "msg", 3, b, sizeof b, &lb));
        ck_assert(memcmp(a, b, la) != 0);
        /* Two contexts at once keep their own keys. */
        dk_hmac_ctx *h1 = dk_hmac_start(t, k1, sizeof k1, NULL);
        dk_hmac_ctx *h2 = dk_hmac_start(t, k2, sizeof k2, NULL);
        ck_assert(h1 && h2);
        ck_assert_dk_ok(dk_hmac_update(h2, "msg", 3));
        ck_assert_dk_ok(dk_hmac_update(h1, "msg", 3));
        ck_assert_dk_ok(dk_hmac_finish(h1, b, sizeof b, &lb));
        ck_assert(memcmp(a, b, la) == 0);
        dk_hmac_free(h1);
        dk_hmac_free(h2); /* unfinished */
    }
}
END_TEST

/* ------------------------------------------------- one-shot = incremental */

START_TEST(split_points)
{
    uint8_t data[1000], key[100];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i ^ 0x5c);
    static const size_t cuts[] = {0,   1,   55,  56,  63,  64,  65,  111,
                                  112, 127, 128, 129, 500, 999, 1000};
    size_t ncuts = sizeof cuts / sizeof *cuts;
    for (dk_hash_type t = DK_HASH_MD5; t <= DK_HASH_SHA512; t++) {
        if (!have_hash(t, false, "split points") || !have_hash(t, true, "split points"))
            continue;
        uint8_t whole[DK_HASH_MAX_SIZE], whole_mac[DK_HASH_MAX_SIZE], got[DK_HASH_MAX_SIZE];
        size_t len = 0;
        ck_assert_dk_ok(dk_hash_digest(t, data, sizeof data, whole, sizeof whole, &len));
        ck_assert_dk_ok(dk_hmac_digest(t, key, sizeof key, data, sizeof data, whole_mac,
                                       sizeof whole_mac, &len));
        for (size_t i = 0; i < ncuts; i++)
            for (size_t j = i; j < ncuts; j++) {
                size_t a = cuts[i], b = cuts[j];
                dk_hash_ctx *h = dk_hash_start(t, NULL);
                dk_hmac_ctx *m = dk_hmac_start(t, key, sizeof key, NULL);
                ck_assert(h && m);
                ck_assert_dk_ok(dk_hash_update(h, data, a));
                ck_assert_dk_ok(dk_hash_update(h, data + a, b - a));
                ck_assert_dk_ok(dk_hash_update(h, data + b, sizeof data - b));
                ck_assert_dk_ok(dk_hmac_update(m, data, a));
                ck_assert_dk_ok(dk_hmac_update(m, data + a, b - a));
                ck_assert_dk_ok(dk_hmac_update(m, data + b, sizeof data - b));
                ck_assert_dk_ok(dk_hash_finish(h, got, sizeof got, &len));
                ck_assert_msg(memcmp(got, whole, len) == 0, "%s split %zu/%zu", type_name(t), a, b);
                ck_assert_dk_ok(dk_hmac_finish(m, got, sizeof got, &len));
                ck_assert_msg(memcmp(got, whole_mac, len) == 0, "HMAC-%s split %zu/%zu",
                              type_name(t), a, b);
                dk_hash_free(h);
                dk_hmac_free(m);
            }
    }
}
END_TEST

/* ------------------------------------------------------ context misuse */

START_TEST(context_states)
{
    uint8_t out[DK_HASH_MAX_SIZE], want[DK_HASH_MAX_SIZE];
    size_t len = 0;
    dk_err err = DK_OK;
    ck_assert_uint_eq(dk_hash_size(DK_HASH_MD5), 16);
    ck_assert_uint_eq(dk_hash_size(DK_HASH_SHA1), 20);
    ck_assert_uint_eq(dk_hash_size(DK_HASH_SHA256), 32);
    ck_assert_uint_eq(dk_hash_size(DK_HASH_SHA384), 48);
    ck_assert_uint_eq(dk_hash_size(DK_HASH_SHA512), 64);
    ck_assert_uint_eq(dk_hash_size((dk_hash_type)0), 0);
    ck_assert_uint_eq(dk_hash_size((dk_hash_type)6), 0);

    /* Unknown types. */
    ck_assert_ptr_null(dk_hash_start((dk_hash_type)0, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "unknown hash type"));
    ck_assert_ptr_null(dk_hash_start((dk_hash_type)99, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_hmac_start((dk_hash_type)-1, "k", 1, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_int_eq(dk_hash_digest((dk_hash_type)7, "x", 1, out, sizeof out, &len),
                     DK_ERR_INVALID);
    ck_assert_int_eq(dk_hmac_digest((dk_hash_type)7, "k", 1, "x", 1, out, sizeof out, &len),
                     DK_ERR_INVALID);

    /* HMAC keys: NULL, empty, too long. */
    ck_assert_ptr_null(dk_hmac_start(DK_HASH_SHA256, NULL, 4, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_hmac_start(DK_HASH_SHA256, "k", 0, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "empty"));
    static uint8_t big[DK_HMAC_KEY_MAX + 1];
    ck_assert_ptr_null(dk_hmac_start(DK_HASH_SHA256, big, sizeof big, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    dk_hmac_ctx *hm = dk_hmac_start(DK_HASH_SHA256, big, DK_HMAC_KEY_MAX, &err);
    ck_assert_msg(hm != NULL, "%s", dk_last_error());
    dk_hmac_free(hm);
    ck_assert_int_eq(dk_hmac_digest(DK_HASH_SHA256, NULL, 1, "x", 1, out, sizeof out, &len),
                     DK_ERR_INVALID);
    ck_assert_int_eq(dk_hmac_digest(DK_HASH_SHA256, "k", 0, "x", 1, out, sizeof out, &len),
                     DK_ERR_INVALID);

    /* NULL contexts and buffers. */
    ck_assert_int_eq(dk_hash_update(NULL, "x", 1), DK_ERR_INVALID);
    ck_assert_int_eq(dk_hash_finish(NULL, out, sizeof out, &len), DK_ERR_INVALID);
    ck_assert_int_eq(dk_hmac_update(NULL, "x", 1), DK_ERR_INVALID);
    ck_assert_int_eq(dk_hmac_finish(NULL, out, sizeof out, &len), DK_ERR_INVALID);
    dk_hash_free(NULL);
    dk_hmac_free(NULL);
    ck_assert_int_eq(dk_hash_digest(DK_HASH_SHA256, NULL, 3, out, sizeof out, &len),
                     DK_ERR_INVALID);
    ck_assert_int_eq(dk_hash_digest(DK_HASH_SHA256, "abc", 3, NULL, 64, &len), DK_ERR_INVALID);
    ck_assert_int_eq(dk_hash_digest(DK_HASH_SHA256, "abc", 3, out, 64, NULL), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_hash_digest(DK_HASH_SHA256, NULL, 0, out, sizeof out, &len));

    /* A bad call in the middle changes nothing; a short buffer keeps the
     * context running and says how much is needed. */
    ck_assert_dk_ok(dk_hash_digest(DK_HASH_SHA256, "abc", 3, want, sizeof want, &len));
    dk_hash_ctx *h = dk_hash_start(DK_HASH_SHA256, &err);
    ck_assert_ptr_nonnull(h);
    ck_assert_dk_ok(dk_hash_update(h, "a", 1));
    ck_assert_int_eq(dk_hash_update(h, NULL, 5), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_hash_update(h, NULL, 0));
    ck_assert_dk_ok(dk_hash_update(h, "bc", 2));
    len = 0;
    ck_assert_int_eq(dk_hash_finish(h, out, 31, &len), DK_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(len, 32);
    ck_assert_int_eq(dk_hash_finish(h, NULL, 64, &len), DK_ERR_INVALID);
    ck_assert_int_eq(dk_hash_finish(h, out, 64, NULL), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_hash_finish(h, out, sizeof out, &len));
    ck_assert_uint_eq(len, 32);
    ck_assert(memcmp(out, want, 32) == 0);
    /* Finished: nothing more but free. */
    ck_assert_int_eq(dk_hash_update(h, "x", 1), DK_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "finished"));
    ck_assert_int_eq(dk_hash_finish(h, out, sizeof out, &len), DK_ERR_STATE);
    dk_hash_free(h);

    dk_hmac_ctx *m = dk_hmac_start(DK_HASH_SHA1, "key", 3, &err);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(dk_hmac_finish(m, out, 19, &len), DK_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(len, 20);
    ck_assert_dk_ok(dk_hmac_finish(m, out, 20, &len));
    ck_assert_int_eq(dk_hmac_update(m, "x", 1), DK_ERR_STATE);
    ck_assert_int_eq(dk_hmac_finish(m, out, sizeof out, &len), DK_ERR_STATE);
    dk_hmac_free(m);

    /* One-shot with a short buffer: the size needed, nothing written. */
    memset(out, 0x77, sizeof out);
    len = 0;
    ck_assert_int_eq(dk_hash_digest(DK_HASH_SHA512, "abc", 3, out, 63, &len),
                     DK_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(len, 64);
    ck_assert_int_eq(dk_hmac_digest(DK_HASH_SHA384, "k", 1, "abc", 3, out, 47, &len),
                     DK_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(len, 48);
    for (size_t i = 0; i < sizeof out; i++)
        ck_assert_uint_eq(out[i], 0x77);
}
END_TEST

/* ------------------------------------------------------------ signatures */

static const char msg_text[] = "dtlskit crypto ops"; /* what fixed-values.sh signs */

static void hash_of(dk_hash_type t, const void *msg, size_t n, uint8_t *out, size_t *len)
{
    ck_assert_dk_ok(dk_hash_digest(t, msg, n, out, DK_HASH_MAX_SIZE, len));
}

static dk_key *public_copy(const dk_key *k)
{
    dk_err err = DK_OK;
    char *pem = dk_key_save_to_string(k, true, &err);
    ck_assert_msg(pem != NULL, "%s", dk_last_error());
    dk_key *pub = dk_key_load_from_string(pem, NULL, true, &err);
    ck_assert_msg(pub != NULL, "%s", dk_last_error());
    ck_assert(dk_key_is_public_only(pub));
    dk_free(pem);
    return pub;
}

/* Signs with every SHA-2 size and checks what must and must not verify. */
static void sign_and_verify(dk_key *k, dk_key *wrong, const char *what)
{
    dk_key *pub = public_copy(k);
    for (dk_hash_type t = DK_HASH_SHA256; t <= DK_HASH_SHA512; t++) {
        uint8_t h[DK_HASH_MAX_SIZE];
        size_t hl = 0;
        hash_of(t, msg_text, strlen(msg_text), h, &hl);
        void *sig = NULL;
        size_t sl = 0;
        ck_assert_dk_ok(dk_key_sign(k, t, h, hl, &sig, &sl));
        ck_assert_msg(sig && sl > 0, "%s", what);
        uint8_t *s = sig;
        if (dk_key_get_type(k) == DK_KEY_RSA)
            ck_assert_uint_eq(sl, (size_t)dk_key_get_bits(k) / 8);
        else
            ck_assert_uint_eq(s[0], 0x30); /* DER SEQUENCE */
        ck_assert_dk_ok(dk_key_verify(k, t, h, hl, sig, sl));
        ck_assert_dk_ok(dk_key_verify(pub, t, h, hl, sig, sl));
        /* One flipped bit anywhere in the hash or the signature. ECDSA
         * uses only as many leftmost bits of the hash as the curve's order
         * has (SEC 1 section 4.1.3): the rest of a longer hash is no part
         * of the signature. */
        size_t used = hl * 8;
        if (dk_key_get_type(k) == DK_KEY_EC && (size_t)dk_key_get_bits(k) < used)
            used = (size_t)dk_key_get_bits(k);
        for (size_t bit = 0; bit < used; bit += 61) {
            h[bit / 8] ^= (uint8_t)(1u << bit % 8);
            ck_assert_msg(dk_key_verify(pub, t, h, hl, sig, sl) == DK_ERR_SIGNATURE,
                          "%s %s: hash bit %zu", what, type_name(t), bit);
            h[bit / 8] ^= (uint8_t)(1u << bit % 8);
        }
        for (size_t bit = 0; bit < sl * 8; bit += 37) {
            s[bit / 8] ^= (uint8_t)(1u << bit % 8);
            ck_assert_msg(dk_key_verify(pub, t, h, hl, sig, sl) == DK_ERR_SIGNATURE,
                          "%s %s: signature bit %zu", what, type_name(t), bit);
            s[bit / 8] ^= (uint8_t)(1u << bit % 8);
        }
        ck_assert_ptr_nonnull(strstr(dk_last_error(), "does not verify"));
        /* Truncated, or with a byte more. */
        ck_assert_int_eq(dk_key_verify(pub, t, h, hl, sig, sl - 1), DK_ERR_SIGNATURE);
        uint8_t *longer = malloc(sl + 1);
        memcpy(longer, sig, sl);
        longer[sl] = 0;
        ck_assert_int_eq(dk_key_verify(pub, t, h, hl, longer, sl + 1), DK_ERR_SIGNATURE);
        free(longer);
        /* Under another hash type of the same message, another key. */
        uint8_t h2[DK_HASH_MAX_SIZE];
        size_t hl2 = 0;
        dk_hash_type other = t == DK_HASH_SHA256 ? DK_HASH_SHA384 : DK_HASH_SHA256;
        hash_of(other, msg_text, strlen(msg_text), h2, &hl2);
        ck_assert_int_eq(dk_key_verify(pub, other, h2, hl2, sig, sl), DK_ERR_SIGNATURE);
        ck_assert_int_eq(dk_key_verify(wrong, t, h, hl, sig, sl), DK_ERR_SIGNATURE);
        /* The original still verifies: nothing was changed. */
        ck_assert_dk_ok(dk_key_verify(pub, t, h, hl, sig, sl));
        dk_free(sig);
    }
    dk_key_free(pub);
}

START_TEST(sign_rsa)
{
    dk_key *k = tu_key("fixed-rsa.key"), *other = tu_key("fixed-rsa-other.key");
    sign_and_verify(k, other, "RSA-2048");
    /* An EC key does not verify an RSA signature. */
    dk_key *ec = tu_key("fixed-p256.key");
    sign_and_verify(k, ec, "RSA-2048 vs EC");
    dk_key_free(ec);
    dk_key_free(other);
    dk_key_free(k);
}
END_TEST

START_TEST(sign_ec)
{
    dk_key *p256 = tu_key("fixed-p256.key"), *p384 = tu_key("fixed-p384.key");
    dk_key *rsa = tu_key("fixed-rsa.key");
    sign_and_verify(p256, p384, "P-256");
    sign_and_verify(p384, p256, "P-384");
    sign_and_verify(p256, rsa, "P-256 vs RSA");
    if (dk_backend_caps() & DK_CAP_KEYGEN_EC) {
        dk_err err = DK_OK;
        dk_key *g256 = dk_key_generate_ec(DK_EC_P256, &err);
        dk_key *g384 = dk_key_generate_ec(DK_EC_P384, &err);
        ck_assert_msg(g256 && g384, "%s", dk_last_error());
        sign_and_verify(g256, p256, "generated P-256");
        sign_and_verify(g384, p384, "generated P-384");
        dk_key_free(g256);
        dk_key_free(g384);
    } else {
        printf("SKIP: signatures with generated EC keys: backend %s lacks DK_CAP_KEYGEN_EC\n",
               dk_backend_name());
    }
    dk_key_free(rsa);
    dk_key_free(p384);
    dk_key_free(p256);
}
END_TEST

/* ---------------------------------------- values from the openssl command */

/* tests/certs/fixed-values.sh: `openssl dgst -sha256 -sign fixed-rsa.key`
 * of "dtlskit crypto ops". PKCS#1 v1.5 is deterministic: every backend
 * must produce these bytes exactly. */
static const char rsa_sig_hex[] =
    "11a6907e190f23dc43066cd8d27aba22bb5bb234950929a14e909809cd9dce39"
    "207424de2eec5572da9e26ee32904d62494f23d129d08f234c6991bb15a82b2c"
    "a1be36415481107e2ae66e834921a2732c890d8c9d0a3b8c62c554f84eaec880"
    "c4739674dcb9ad2c5a008da54d0d819cb13b4e679cd073a07ec1d22769d2b584"
    "7b928d332337f63a003eacf0d499093dd79f736d19b870c549bc0ee11b3573d3"
    "1ac3e6c1758356c9ce33fef1f82dc7af94356826489990c7aaecedb43a611960"
    "20137397e3381a4534a6165fd467c9d19e0ccdcfe862ebe0749f0f81b86a68c2"
    "ccd2ae01dbaf901d40c9eeacd4099ad3ccb71070c80092a43f8ee29e37763932";

/* ECDSA signatures of the same message by the openssl command. */
static const struct {
    const char *key;
    dk_hash_type type;
    const char *hex;
} ec_sigs[] = {
    {"fixed-p256.key", DK_HASH_SHA256,
     "304402205874935339d5a3b377d148512b6b5cc4ccee88d6f72ab1828bc10162"
     "1b6e6639022041701b6046f101d7db744d64abd814fa7bbd5e1e0c245bbe7ee0"
     "fe3fb1481b40"},
    {"fixed-p256.key", DK_HASH_SHA384,
     "3046022100e85637b1ab6dfa4b66f8994504320242e4514701e6c96bc6024a12"
     "4718a16c08022100f1bdddad6f15e56541c769c4b598ce36a65c4c9bb3093f8b"
     "4be195507a942642"},
    {"fixed-p384.key", DK_HASH_SHA512,
     "3065023007728a3d0347ac00cda8917c6c40e5f1eec7bc4914c57fcc558173e1"
     "4189a0824602efc72775d5c4170e7d8da6eaaf72023100dc3aba77f1013f6f62"
     "f435d5259c749287df7f255df2065ceed31f29fac3d5604bd6335dae8cb72de3"
     "8bd35fc81dd8af"},
};

/* `openssl pkeyutl -encrypt -inkey fixed-rsa.key -pkeyopt
 * rsa_padding_mode:pkcs1` of "secret message". */
static const char rsa_ct_hex[] = "5cfbfe1cbc10aa5e36fcfcf8e0ca77e83be0337aef11bed5c24234e136863871"
                                 "1c3501eda7bdbb0dc964ce5f1b9fb340442b924a9443a9d1d45f7a36fe71a950"
                                 "30f15837bcd76cc02d3bb59377fd6ee96fd2621dd9bf0ec4e752476e5597d11b"
                                 "939c7e867d2924d5f71795ef622e0cd1ed826bdbe709447dead92eea87e8734f"
                                 "6e055d754ee6e0cc67bf0526cdb1563c716a8cad1943c07cbbe284b5c686a1d5"
                                 "08c634ca4a75c20627828f878dfb0cba3f2fde78a96346c98e8798a172869526"
                                 "056ad9bd87617d5e2e91c1505434b7e43fb2065a9ec60f687eb6b8b1d00c98f1"
                                 "7b9a253cd0e2826149fc6f24656076aabd777e25c13b92fb4d43035f8ddd9115";

START_TEST(pinned_rsa_signature)
{
    dk_key *k = tu_key("fixed-rsa.key");
    uint8_t want[512], h[DK_HASH_MAX_SIZE];
    size_t wl = unhex(rsa_sig_hex, want, sizeof want), hl = 0;
    hash_of(DK_HASH_SHA256, msg_text, strlen(msg_text), h, &hl);
    void *sig = NULL;
    size_t sl = 0;
    ck_assert_dk_ok(dk_key_sign(k, DK_HASH_SHA256, h, hl, &sig, &sl));
    ck_assert_uint_eq(sl, wl);
    ck_assert_msg(memcmp(sig, want, wl) == 0, "RSA signature differs from openssl's");
    dk_free(sig);
    dk_key *pub = public_copy(k);
    ck_assert_dk_ok(dk_key_verify(pub, DK_HASH_SHA256, h, hl, want, wl));
    want[wl - 1] ^= 1;
    ck_assert_int_eq(dk_key_verify(pub, DK_HASH_SHA256, h, hl, want, wl), DK_ERR_SIGNATURE);
    dk_key_free(pub);
    dk_key_free(k);
}
END_TEST

START_TEST(pinned_ec_signatures)
{
    for (size_t i = 0; i < sizeof ec_sigs / sizeof *ec_sigs; i++) {
        dk_key *k = tu_key(ec_sigs[i].key);
        dk_key *pub = public_copy(k);
        uint8_t sig[160], h[DK_HASH_MAX_SIZE];
        size_t sl = unhex(ec_sigs[i].hex, sig, sizeof sig), hl = 0;
        hash_of(ec_sigs[i].type, msg_text, strlen(msg_text), h, &hl);
        ck_assert_msg(dk_key_verify(pub, ec_sigs[i].type, h, hl, sig, sl) == DK_OK, "%s %s: %s",
                      ec_sigs[i].key, type_name(ec_sigs[i].type), dk_last_error());
        ck_assert_dk_ok(dk_key_verify(k, ec_sigs[i].type, h, hl, sig, sl));
        sig[sl / 2] ^= 0x10;
        ck_assert_int_eq(dk_key_verify(pub, ec_sigs[i].type, h, hl, sig, sl), DK_ERR_SIGNATURE);
        dk_key_free(pub);
        dk_key_free(k);
    }
}
END_TEST

START_TEST(pinned_rsa_ciphertext)
{
    dk_key *k = tu_key("fixed-rsa.key");
    uint8_t ct[512];
    size_t cl = unhex(rsa_ct_hex, ct, sizeof ct);
    void *pt = NULL;
    size_t pl = 0;
    ck_assert_dk_ok(dk_key_decrypt(k, ct, cl, &pt, &pl));
    ck_assert_uint_eq(pl, strlen("secret message"));
    ck_assert(memcmp(pt, "secret message", pl) == 0);
    dk_free(pt);
    /* The wrong key of the same size, a corrupted ciphertext. */
    dk_key *other = tu_key("fixed-rsa-other.key");
    pt = NULL;
    ck_assert_int_eq(dk_key_decrypt(other, ct, cl, &pt, &pl), DK_ERR_TLS);
    ck_assert_ptr_null(pt);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "cannot decrypt"));
    ct[100] ^= 0x01;
    ck_assert_int_eq(dk_key_decrypt(k, ct, cl, &pt, &pl), DK_ERR_TLS);
    ck_assert_ptr_null(pt);
    dk_key_free(other);
    dk_key_free(k);
}
END_TEST

/* ------------------------------------------------------- RSA encryption */

START_TEST(rsa_round_trip)
{
    dk_key *k = tu_key("fixed-rsa.key"), *other = tu_key("fixed-rsa-other.key");
    dk_key *pub = public_copy(k);
    uint8_t msg[245];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(255 - i);
    static const size_t lens[] = {1, 14, 100, 245}; /* 245 = 256 - 11, the most */
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        void *c1 = NULL, *c2 = NULL, *p = NULL;
        size_t l1 = 0, l2 = 0, pl = 0;
        ck_assert_dk_ok(dk_key_encrypt(pub, msg, lens[i], &c1, &l1));
        ck_assert_dk_ok(dk_key_encrypt(k, msg, lens[i], &c2, &l2));
        ck_assert_uint_eq(l1, 256);
        ck_assert_uint_eq(l2, 256);
        ck_assert(memcmp(c1, c2, 256) != 0); /* random padding */
        ck_assert_dk_ok(dk_key_decrypt(k, c1, l1, &p, &pl));
        ck_assert_uint_eq(pl, lens[i]);
        ck_assert(memcmp(p, msg, pl) == 0);
        dk_free(p);
        p = NULL;
        ck_assert_dk_ok(dk_key_decrypt(k, c2, l2, &p, &pl));
        ck_assert(memcmp(p, msg, pl) == 0);
        dk_free(p);
        p = NULL;
        /* Not under another key (this one ciphertext is deterministic
         * enough: a wrong key passes the padding check with a chance
         * near 2^-16; the pinned ciphertext test is exact). */
        dk_err e = dk_key_decrypt(other, c1, l1, &p, &pl);
        if (e == DK_OK) {
            ck_assert(pl != lens[i] || memcmp(p, msg, pl) != 0);
            dk_free(p);
        } else {
            ck_assert_int_eq(e, DK_ERR_TLS);
        }
        dk_free(c1);
        dk_free(c2);
    }
    /* Too long by one byte. */
    void *c = NULL;
    size_t cl = 0;
    uint8_t big[300] = {0};
    ck_assert_int_eq(dk_key_encrypt(pub, big, 246, &c, &cl), DK_ERR_TOO_BIG);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "245"));
    ck_assert_int_eq(dk_key_encrypt(pub, big, 300, &c, &cl), DK_ERR_TOO_BIG);
    ck_assert_ptr_null(c);
    dk_key_free(pub);
    dk_key_free(other);
    dk_key_free(k);
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(bad_key_input)
{
    dk_key *rsa = tu_key("fixed-rsa.key"), *ec = tu_key("fixed-p256.key");
    dk_key *rsa_pub = public_copy(rsa), *ec_pub = public_copy(ec);
    uint8_t h[DK_HASH_MAX_SIZE], sig[256];
    size_t hl = 0;
    hash_of(DK_HASH_SHA256, "x", 1, h, &hl);
    void *out = NULL;
    size_t ol = 0;
    memset(sig, 1, sizeof sig);

    ck_assert_str_eq(dk_strerror(DK_ERR_SIGNATURE), "signature does not verify");

    /* Sign: NULLs, public-only keys, MD5/SHA-1, unknown types, lengths. */
    ck_assert_int_eq(dk_key_sign(NULL, DK_HASH_SHA256, h, hl, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_sign(rsa, DK_HASH_SHA256, NULL, hl, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_sign(rsa, DK_HASH_SHA256, h, hl, NULL, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_sign(rsa, DK_HASH_SHA256, h, hl, &out, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_sign(rsa_pub, DK_HASH_SHA256, h, hl, &out, &ol), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "public only"));
    ck_assert_int_eq(dk_key_sign(ec_pub, DK_HASH_SHA256, h, hl, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_sign(rsa, DK_HASH_MD5, h, 16, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_sign(ec, DK_HASH_SHA1, h, 20, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_sign(rsa, (dk_hash_type)0, h, 32, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_sign(rsa, (dk_hash_type)9, h, 32, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_sign(rsa, DK_HASH_SHA256, h, 31, &out, &ol), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "31 bytes"));
    ck_assert_int_eq(dk_key_sign(ec, DK_HASH_SHA384, h, 32, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_sign(ec, DK_HASH_SHA512, h, 0, &out, &ol), DK_ERR_INVALID);
    ck_assert_ptr_null(out);

    /* Verify: the same, but public keys are fine; an empty signature
     * simply does not verify. */
    ck_assert_int_eq(dk_key_verify(NULL, DK_HASH_SHA256, h, hl, sig, 64), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_verify(ec_pub, DK_HASH_SHA256, NULL, hl, sig, 64), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_verify(ec_pub, DK_HASH_SHA256, h, hl, NULL, 64), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_verify(ec_pub, DK_HASH_SHA256, h, 33, sig, 64), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_verify(ec_pub, DK_HASH_SHA1, h, 20, sig, 64), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_verify(ec_pub, (dk_hash_type)42, h, 32, sig, 64), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_verify(ec_pub, DK_HASH_SHA256, h, hl, sig, 0), DK_ERR_SIGNATURE);
    /* Garbage of every length up to a signature's: never valid. */
    for (size_t n = 1; n <= sizeof sig; n += 17) {
        ck_assert_int_eq(dk_key_verify(ec_pub, DK_HASH_SHA256, h, hl, sig, n), DK_ERR_SIGNATURE);
        ck_assert_int_eq(dk_key_verify(rsa_pub, DK_HASH_SHA256, h, hl, sig, n), DK_ERR_SIGNATURE);
    }
    ck_assert_int_eq(dk_key_verify(rsa_pub, DK_HASH_SHA256, h, hl, sig, 256), DK_ERR_SIGNATURE);

    /* Encrypt and decrypt. */
    uint8_t ct[256] = {0};
    ck_assert_int_eq(dk_key_encrypt(NULL, "x", 1, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_encrypt(rsa, NULL, 1, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_encrypt(rsa, "x", 1, NULL, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_encrypt(rsa, "x", 1, &out, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_encrypt(rsa, "x", 0, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_encrypt(ec, "x", 1, &out, &ol), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "RSA key"));
    ck_assert_int_eq(dk_key_encrypt(ec_pub, "x", 1, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_decrypt(NULL, ct, 256, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_decrypt(rsa, NULL, 256, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_decrypt(rsa, ct, 256, NULL, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_decrypt(rsa, ct, 256, &out, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_decrypt(rsa, ct, 0, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_decrypt(rsa, ct, 255, &out, &ol), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_decrypt(rsa_pub, ct, 256, &out, &ol), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "public only"));
    ck_assert_int_eq(dk_key_decrypt(ec, ct, 32, &out, &ol), DK_ERR_INVALID);
    /* All zeros is no PKCS#1 v1.5 block. */
    ck_assert_int_eq(dk_key_decrypt(rsa, ct, 256, &out, &ol), DK_ERR_TLS);
    ck_assert_ptr_null(out);

    dk_key_free(ec_pub);
    dk_key_free(rsa_pub);
    dk_key_free(ec);
    dk_key_free(rsa);
}
END_TEST

/* ------------------------------------------------------------ comparison */

START_TEST(constant_time_compare)
{
    uint8_t a[64], b[64];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = b[i] = (uint8_t)(i * 13);
    ck_assert(dk_constant_time_compare(a, sizeof a, b, sizeof b));
    ck_assert(dk_constant_time_compare(a, 0, b, 0));
    ck_assert(dk_constant_time_compare(NULL, 0, NULL, 0));
    ck_assert(dk_constant_time_compare(a, 1, b, 1));
    /* A difference in any one bit of any byte, the first and last too. */
    for (size_t i = 0; i < sizeof b; i++)
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            ck_assert_msg(!dk_constant_time_compare(a, sizeof a, b, sizeof b), "byte %zu bit %d", i,
                          bit);
            b[i] ^= (uint8_t)(1u << bit);
        }
    b[63] = (uint8_t)~b[63];
    ck_assert(!dk_constant_time_compare(a, 64, b, 64));
    ck_assert(dk_constant_time_compare(a, 63, b, 63)); /* only the compared bytes count */
    b[63] = a[63];
    /* Different lengths: false, as in Godot, even for a prefix. */
    ck_assert(!dk_constant_time_compare(a, 64, b, 63));
    ck_assert(!dk_constant_time_compare(a, 0, b, 1));
    ck_assert(!dk_constant_time_compare(a, 1, b, 0));
    /* NULL with a length. */
    ck_assert(!dk_constant_time_compare(NULL, 4, b, 4));
    ck_assert(!dk_constant_time_compare(a, 4, NULL, 4));
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "NULL"));
}
END_TEST

static void add(Suite *s, const char *name, const TTest *t1, const TTest *t2, const TTest *t3)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, t1);
    if (t2)
        tcase_add_test(tc, t2);
    if (t3)
        tcase_add_test(tc, t3);
    suite_add_tcase(s, tc);
}

int main(void)
{
    Suite *s = suite_create("cryptoops");
    add(s, "random", random_bytes, NULL, NULL);
    add(s, "hash", hash_vectors_all, split_points, context_states);
    add(s, "hmac", hmac_vectors, hmac_uses_key, NULL);
    add(s, "sign", sign_rsa, sign_ec, NULL);
    add(s, "pinned", pinned_rsa_signature, pinned_ec_signatures, pinned_rsa_ciphertext);
    add(s, "encrypt", rsa_round_trip, NULL, NULL);
    add(s, "bad_input", bad_key_input, NULL, NULL);
    add(s, "compare", constant_time_compare, NULL, NULL);
    printf("backend: %s (%s)\n", dk_backend_name(), dk_backend_version());
    return tu_run(s);
}
