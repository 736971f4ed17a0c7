/* The crypto the core's record layer gets from a backend: the AEAD ops
 * (known answers, tampering, in-place use, empty records, both directions
 * on one key), HMAC-SHA384 and the TLS 1.2 PRF over it. Only DK__BK and
 * core/prf.c are used, never a TLS library header, so every backend runs
 * the same test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "library.h"
#include "prf.h"
#include "testutil.h"

/* From tests/alloccount.c when the program links it (with
 * -Wl,--wrap=malloc,calloc,realloc); otherwise the allocation test only
 * says it did not run. */
uint64_t tu_alloc_count(void) __attribute__((weak));
bool tu_alloc_whole_process(void) __attribute__((weak));

#define MAX_REC 16384

/* Hex (spaces ignored) into out; returns the byte count. */
static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*h) {
        if (*h == ' ') {
            h++;
            continue;
        }
        unsigned v;
        ck_assert_msg(n < cap && sscanf(h, "%2x", &v) == 1, "bad test vector");
        out[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

static size_t tag_len(dk_bk_aead_alg alg)
{
    return alg == DK_BK_AES_128_CCM_8 ? 8 : 16;
}

static const char *alg_name(dk_bk_aead_alg alg)
{
    switch (alg) {
    case DK_BK_AES_128_GCM: return "AES-128-GCM";
    case DK_BK_AES_256_GCM: return "AES-256-GCM";
    case DK_BK_CHACHA20_POLY1305: return "ChaCha20-Poly1305";
    case DK_BK_AES_128_CCM_8: return "AES-128-CCM-8";
    }
    return "?";
}

/* A key for `alg`, or NULL when the backend lacks the algorithm: allowed
 * elsewhere (the caller skips), never on OpenSSL, which has all four. */
static dk_bk_aead *make(dk_bk_aead_alg alg, const uint8_t *key, size_t key_len)
{
    ck_assert_dk_ok(dk_init());
    ck_assert_msg(DK__BK_HAS(aead, create) && DK__BK_HAS(aead, seal) && DK__BK_HAS(aead, open) &&
                      DK__BK_HAS(aead, free),
                  "backend %s has no AEAD ops", dk_backend_name());
    dk_bk_aead *a = NULL;
    dk_err e = DK__BK->aead->create(alg, key, key_len, &a);
    if (e == DK_ERR_UNAVAILABLE && strcmp(dk_backend_name(), "openssl") != 0) {
        printf("%s: %s unavailable, skipped\n", dk_backend_name(), alg_name(alg));
        return NULL;
    }
    ck_assert_msg(e == DK_OK && a, "%s: create -> %d", alg_name(alg), (int)e);
    return a;
}

/* Published vectors; `ct` is the ciphertext followed by the tag. */
static const struct kat {
    const char *source;
    dk_bk_aead_alg alg;
    const char *key, *nonce, *aad, *pt, *ct;
} kats[] = {
    {"GCM spec (McGrew, Viega) test case 4", DK_BK_AES_128_GCM, "feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"GCM spec (McGrew, Viega) test case 16", DK_BK_AES_256_GCM,
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    {"RFC 7539 section 2.8.2", DK_BK_CHACHA20_POLY1305,
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "070000004041424344454647",
     "50515253c0c1c2c3c4c5c6c7",
     /* "Ladies and Gentlemen of the class of '99: If I could offer you
      * only one tip for the future, sunscreen would be it." */
     "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
     "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
     "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
     "637265656e20776f756c642062652069742e",
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
     "3ff4def08e4b7a9de576d26586cec64b6116"
     "1ae10b594f09e26a7e902ecbd0600691"},
    /* The one published example with CCM_8's parameters: tag 8, nonce 12. */
    {"NIST SP 800-38C appendix C example 3", DK_BK_AES_128_CCM_8,
     "404142434445464748494a4b4c4d4e4f", "101112131415161718191a1b",
     "000102030405060708090a0b0c0d0e0f10111213", "202122232425262728292a2b2c2d2e2f3031323334353637",
     "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5"
     "484392fbc1b09951"},
};
#define NKATS ((int)(sizeof kats / sizeof kats[0]))

typedef struct vec {
    uint8_t key[32], nonce[12], aad[64], pt[128], ct[144];
    size_t key_len, aad_len, pt_len, ct_len;
} vec;

static void load(const struct kat *k, vec *v)
{
    memset(v, 0, sizeof *v);
    v->key_len = unhex(k->key, v->key, sizeof v->key);
    ck_assert_uint_eq(unhex(k->nonce, v->nonce, sizeof v->nonce), 12);
    v->aad_len = unhex(k->aad, v->aad, sizeof v->aad);
    v->pt_len = unhex(k->pt, v->pt, sizeof v->pt);
    v->ct_len = unhex(k->ct, v->ct, sizeof v->ct);
    ck_assert_uint_eq(v->ct_len, v->pt_len + tag_len(k->alg));
}

/* Seal and open each vector, apart and in place. */
START_TEST(known_answers)
{
    const struct kat *k = &kats[_i];
    vec v;
    load(k, &v);
    dk_bk_aead *a = make(k->alg, v.key, v.key_len);
    if (!a)
        return;
    uint8_t buf[144];
    memset(buf, 0xee, sizeof buf);
    ck_assert_dk_ok(DK__BK->aead->seal(a, v.nonce, v.aad, v.aad_len, v.pt, v.pt_len, buf));
    ck_assert_msg(memcmp(buf, v.ct, v.ct_len) == 0, "seal: %s", k->source);
    ck_assert_uint_eq(buf[v.ct_len], 0xee); /* nothing past the tag */
    memset(buf, 0xee, sizeof buf);
    ck_assert_dk_ok(DK__BK->aead->open(a, v.nonce, v.aad, v.aad_len, v.ct, v.ct_len, buf));
    ck_assert_msg(memcmp(buf, v.pt, v.pt_len) == 0, "open: %s", k->source);
    /* In place, as the core works on a received datagram. */
    memcpy(buf, v.pt, v.pt_len);
    ck_assert_dk_ok(DK__BK->aead->seal(a, v.nonce, v.aad, v.aad_len, buf, v.pt_len, buf));
    ck_assert_msg(memcmp(buf, v.ct, v.ct_len) == 0, "seal in place: %s", k->source);
    ck_assert_dk_ok(DK__BK->aead->open(a, v.nonce, v.aad, v.aad_len, buf, v.ct_len, buf));
    ck_assert_msg(memcmp(buf, v.pt, v.pt_len) == 0, "open in place: %s", k->source);
    DK__BK->aead->free(a);
}
END_TEST

/* One flipped bit in the ciphertext, the tag, the AAD or the nonce fails
 * open() with DK_ERR_TLS, and a failure does not disturb the next record. */
START_TEST(tampering)
{
    const struct kat *k = &kats[_i];
    vec v;
    load(k, &v);
    dk_bk_aead *a = make(k->alg, v.key, v.key_len);
    if (!a)
        return;
    uint8_t buf[144];
    const size_t where[] = {0, v.pt_len - 1, v.pt_len, v.ct_len - 1}; /* ciphertext, tag */
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            memcpy(buf, v.ct, v.ct_len);
            buf[where[i]] ^= (uint8_t)(1u << bit);
            ck_assert_int_eq(DK__BK->aead->open(a, v.nonce, v.aad, v.aad_len, buf, v.ct_len, buf),
                             DK_ERR_TLS);
        }
    }
    uint8_t aad[64], nonce[12];
    for (size_t i = 0; i < v.aad_len; i++) {
        memcpy(aad, v.aad, v.aad_len);
        aad[i] ^= 0x80;
        ck_assert_int_eq(DK__BK->aead->open(a, v.nonce, aad, v.aad_len, v.ct, v.ct_len, buf),
                         DK_ERR_TLS);
    }
    ck_assert_int_eq(DK__BK->aead->open(a, v.nonce, v.aad, v.aad_len - 1, v.ct, v.ct_len, buf),
                     DK_ERR_TLS);
    for (size_t i = 0; i < sizeof nonce; i++) {
        memcpy(nonce, v.nonce, sizeof nonce);
        nonce[i] ^= 0x01;
        ck_assert_int_eq(DK__BK->aead->open(a, nonce, v.aad, v.aad_len, v.ct, v.ct_len, buf),
                         DK_ERR_TLS);
    }
    ck_assert_dk_ok(DK__BK->aead->open(a, v.nonce, v.aad, v.aad_len, v.ct, v.ct_len, buf));
    ck_assert_msg(memcmp(buf, v.pt, v.pt_len) == 0, "after failures: %s", k->source);
    DK__BK->aead->free(a);
}
END_TEST

/* An empty record (a keepalive) is a tag alone, and its tag is checked. */
START_TEST(empty_plaintext)
{
    const struct kat *k = &kats[_i];
    vec v;
    load(k, &v);
    dk_bk_aead *a = make(k->alg, v.key, v.key_len);
    if (!a)
        return;
    size_t t = tag_len(k->alg);
    uint8_t rec[16], again[16], out[1];
    memset(rec, 0, sizeof rec);
    ck_assert_dk_ok(DK__BK->aead->seal(a, v.nonce, v.aad, 13, v.pt, 0, rec));
    ck_assert_dk_ok(DK__BK->aead->seal(a, v.nonce, v.aad, 13, rec, 0, again)); /* `in` unused */
    ck_assert_msg(memcmp(rec, again, t) == 0, "empty seal is not deterministic");
    uint8_t zero[16] = {0};
    ck_assert_msg(memcmp(rec, zero, t) != 0, "no tag written");
    ck_assert_dk_ok(DK__BK->aead->open(a, v.nonce, v.aad, 13, rec, t, out));
    ck_assert_dk_ok(DK__BK->aead->open(a, v.nonce, v.aad, 13, rec, t, rec)); /* in place */
    for (size_t i = 0; i < t; i++) {
        memcpy(again, rec, t);
        again[i] ^= 0x04;
        ck_assert_int_eq(DK__BK->aead->open(a, v.nonce, v.aad, 13, again, t, out), DK_ERR_TLS);
    }
    ck_assert_int_eq(DK__BK->aead->open(a, v.nonce, v.aad + 1, 13, rec, t, out), DK_ERR_TLS);
    uint8_t nonce[12];
    memcpy(nonce, v.nonce, sizeof nonce);
    nonce[11] ^= 1;
    ck_assert_int_eq(DK__BK->aead->open(a, nonce, v.aad, 13, rec, t, out), DK_ERR_TLS);
    DK__BK->aead->free(a);
}
END_TEST

/* Records of many sizes through one key in both directions, alternating,
 * and between two objects made from the same key, as the two sides of a
 * session hold them. */
START_TEST(record_sizes)
{
    dk_bk_aead_alg alg = kats[_i].alg;
    uint8_t key[32];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0xa0 + i);
    size_t key_len = alg == DK_BK_AES_256_GCM || alg == DK_BK_CHACHA20_POLY1305 ? 32 : 16;
    dk_bk_aead *a = make(alg, key, key_len);
    if (!a)
        return;
    dk_bk_aead *b = make(alg, key, key_len);
    size_t t = tag_len(alg);
    uint8_t *pt = malloc(MAX_REC), *rec = malloc(MAX_REC + 16), *back = malloc(MAX_REC + 16);
    ck_assert(pt && rec && back);
    for (size_t i = 0; i < MAX_REC; i++)
        pt[i] = (uint8_t)(i * 7 + 3);
    const size_t lens[] = {1,  2,   15,  16,   17,   31,   32,   33,   63,          64,
                           65, 255, 256, 1187, 1200, 1400, 4096, 9000, MAX_REC - 1, MAX_REC};
    uint8_t nonce[12] = {0x11, 0x22, 0x33, 0x44},
            aad[13] = {0, 1, 0, 0, 0, 0, 0, 0, 23, 0xfe, 0xfd};
    for (size_t r = 0; r < sizeof lens / sizeof lens[0]; r++) {
        size_t n = lens[r];
        nonce[11] = (uint8_t)r;
        aad[7] = (uint8_t)r;
        aad[11] = (uint8_t)(n >> 8);
        aad[12] = (uint8_t)n;
        ck_assert_dk_ok(DK__BK->aead->seal(a, nonce, aad, 13, pt, n, rec));
        ck_assert_msg(memcmp(rec, pt, n < 16 ? n : 16) != 0, "len %zu not encrypted", n);
        /* the other object, apart */
        ck_assert_dk_ok(DK__BK->aead->open(b, nonce, aad, 13, rec, n + t, back));
        ck_assert_msg(memcmp(back, pt, n) == 0, "len %zu", n);
        /* the same object, in place, then sealing again in place */
        memcpy(back, rec, n + t);
        ck_assert_dk_ok(DK__BK->aead->open(a, nonce, aad, 13, back, n + t, back));
        ck_assert_msg(memcmp(back, pt, n) == 0, "len %zu in place", n);
        ck_assert_dk_ok(DK__BK->aead->seal(a, nonce, aad, 13, back, n, back));
        ck_assert_msg(memcmp(back, rec, n + t) == 0, "len %zu sealed in place", n);
        /* the last byte of a long record still counts */
        back[n + t - 1] ^= 0x10;
        ck_assert_int_eq(DK__BK->aead->open(b, nonce, aad, 13, back, n + t, back), DK_ERR_TLS);
    }
    free(pt);
    free(rec);
    free(back);
    DK__BK->aead->free(a);
    DK__BK->aead->free(b);
}
END_TEST

/* An active session seals and opens a record per datagram: after the
 * first of each, nothing may allocate, anywhere in the process. */
START_TEST(records_allocate_nothing)
{
    if (!tu_alloc_count || !tu_alloc_whole_process) {
        printf("note: tests/alloccount.c not linked in; allocation count skipped\n");
        return;
    }
    dk_bk_aead_alg alg = kats[_i].alg;
    uint8_t key[32] = {9, 8, 7}, nonce[12] = {0}, aad[13] = {0};
    size_t key_len = alg == DK_BK_AES_256_GCM || alg == DK_BK_CHACHA20_POLY1305 ? 32 : 16;
    dk_bk_aead *a = make(alg, key, key_len);
    if (!a)
        return;
    size_t t = tag_len(alg);
    static uint8_t buf[1400 + 16];
    ck_assert_dk_ok(DK__BK->aead->seal(a, nonce, aad, 13, buf, 1400, buf));
    ck_assert_dk_ok(DK__BK->aead->open(a, nonce, aad, 13, buf, 1400 + t, buf));
    uint64_t before = tu_alloc_count();
    int failed = 0;
    for (int i = 0; i < 1000; i++) {
        nonce[11] = (uint8_t)i;
        nonce[10] = (uint8_t)(i >> 8);
        size_t n = (size_t)(i * 37) % 1401;
        failed += DK__BK->aead->seal(a, nonce, aad, 13, buf, n, buf) != DK_OK;
        failed += DK__BK->aead->open(a, nonce, aad, 13, buf, n + t, buf) != DK_OK;
        buf[0] ^= 1; /* and a forged one */
        failed += DK__BK->aead->open(a, nonce, aad, 13, buf, n + t, buf) != DK_ERR_TLS;
    }
    uint64_t allocs = tu_alloc_count() - before;
    if (!tu_alloc_whole_process())
        printf("note: a sanitizer owns malloc; only the core's allocations are counted\n");
    printf("%s %s: %llu allocations in 3000 records\n", dk_backend_name(), alg_name(alg),
           (unsigned long long)allocs);
    ck_assert_int_eq(failed, 0);
    ck_assert_uint_eq(allocs, 0);
    DK__BK->aead->free(a);
}
END_TEST

/* RFC 4231 test cases 2 and 6 (131-byte key: hashed first) for SHA-384,
 * whole and in parts. */
START_TEST(hmac_sha384_known_answers)
{
    ck_assert_dk_ok(dk_init());
    if (!DK__BK_HAS(library, hmac_sha384)) {
        ck_assert_str_ne(dk_backend_name(), "openssl");
        printf("%s: no HMAC-SHA384, skipped\n", dk_backend_name());
        return;
    }
    static const struct {
        size_t key_len;
        const char *msg, *mac;
    } cases[] = {
        {4, "what do ya want for nothing?",
         "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
         "8e2240ca5e69e2c78b3239ecfab21649"},
        {131, "Test Using Larger Than Block-Size Key - Hash Key First",
         "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
         "0c2ef6ab4030fe8296248df163f44952"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t key[131], expect[48], mac[48];
        if (c == 0)
            memcpy(key, "Jefe", 4);
        else
            memset(key, 0xaa, sizeof key);
        const char *msg = cases[c].msg;
        size_t len = strlen(msg);
        ck_assert_uint_eq(unhex(cases[c].mac, expect, sizeof expect), 48);
        dk_bk_iov whole = {msg, len};
        ck_assert_dk_ok(DK__BK->library->hmac_sha384(key, cases[c].key_len, &whole, 1, mac));
        ck_assert_msg(memcmp(mac, expect, 48) == 0, "RFC 4231 HMAC-SHA384 case %zu", c);
        dk_bk_iov parts[] = {{msg, 5}, {msg + 5, 0}, {msg + 5, len - 5}};
        memset(mac, 0, sizeof mac);
        ck_assert_dk_ok(DK__BK->library->hmac_sha384(key, cases[c].key_len, parts, 3, mac));
        ck_assert_msg(memcmp(mac, expect, 48) == 0, "RFC 4231 HMAC-SHA384 case %zu in parts", c);
    }
}
END_TEST

/* The TLS 1.2 PRF test vectors posted to the IETF TLS list (msg03416):
 * P_SHA256 100 bytes, P_SHA384 148 bytes; the seed also split in two, as
 * the key block's server_random || client_random. */
START_TEST(prf_known_answers)
{
    ck_assert_dk_ok(dk_init());
    static const struct {
        bool sha384;
        const char *secret, *seed, *out;
    } cases[] = {
        {false, "9bbe436ba940f017b17652849a71db35", "a0ba9f936cda311827a6f796ffd5198c",
         "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
         "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
         "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
         "87347b66"},
        {true, "b80b733d6ceefcdc71566ea48e5567df", "cd665cf6a8447dd6ff8b27555edb7465",
         "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
         "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
         "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
         "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
         "91c8f3a26854308d5eaa3be85e0990703d73e56f"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t secret[16], seed[16], expect[148], out[148];
        ck_assert_uint_eq(unhex(cases[c].secret, secret, sizeof secret), 16);
        ck_assert_uint_eq(unhex(cases[c].seed, seed, sizeof seed), 16);
        size_t n = unhex(cases[c].out, expect, sizeof expect);
        ck_assert_uint_eq(n, cases[c].sha384 ? 148 : 100);
        memset(out, 0, sizeof out);
        dk_err e = dk__prf(cases[c].sha384, secret, 16, "test label", seed, 16, NULL, 0, out, n);
        if (e == DK_ERR_UNAVAILABLE && cases[c].sha384 &&
            strcmp(dk_backend_name(), "openssl") != 0) {
            printf("%s: no P_SHA384, skipped\n", dk_backend_name());
            continue;
        }
        ck_assert_dk_ok(e);
        ck_assert_msg(memcmp(out, expect, n) == 0, "P_SHA%d", cases[c].sha384 ? 384 : 256);
        memset(out, 0, sizeof out);
        ck_assert_dk_ok(
            dk__prf(cases[c].sha384, secret, 16, "test label", seed, 7, seed + 7, 9, out, n));
        ck_assert_msg(memcmp(out, expect, n) == 0, "P_SHA%d, split seed",
                      cases[c].sha384 ? 384 : 256);
        /* A shorter output is a prefix: the key block takes what it needs. */
        memset(out, 0, sizeof out);
        ck_assert_dk_ok(
            dk__prf(cases[c].sha384, secret, 16, "test label", seed, 16, NULL, 0, out, 40));
        ck_assert_msg(memcmp(out, expect, 40) == 0 && out[40] == 0, "P_SHA%d, 40 bytes",
                      cases[c].sha384 ? 384 : 256);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("aead");
    TCase *tc = tcase_create("aead");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, known_answers, 0, NKATS);
    tcase_add_loop_test(tc, tampering, 0, NKATS);
    tcase_add_loop_test(tc, empty_plaintext, 0, NKATS);
    tcase_add_loop_test(tc, record_sizes, 0, NKATS);
    tcase_add_loop_test(tc, records_allocate_nothing, 0, NKATS);
    tcase_add_test(tc, hmac_sha384_known_answers);
    tcase_add_test(tc, prf_known_answers);
    suite_add_tcase(s, tc);
    printf("backend: %s (%s)\n", dk_backend_name(), dk_backend_version());
    return tu_run(s);
}
