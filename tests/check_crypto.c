/* Backend conformance: keys, certificates and TLS options. The same tests
 * run against every backend; a test is skipped only where dk_backend_caps()
 * says the feature is absent, and the skip is printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "library.h"
#include "testutil.h"

static bool has_cap(uint32_t cap, const char *what)
{
    if (dk_backend_caps() & cap)
        return true;
    printf("SKIP: %s: backend %s lacks it (dk_backend_caps)\n", what, dk_backend_name());
    return false;
}

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char buf[128];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/dk-crypto-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    }
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

START_TEST(load_keys)
{
    dk_err err = DK_OK;
    dk_key *k = tu_key("server.key");
    ck_assert(!dk_key_is_public_only(k));
    ck_assert_int_eq(dk_key_get_type(k), DK_KEY_EC);
    ck_assert_int_eq(dk_key_get_bits(k), 256);
    dk_key *r = tu_key("rsa.key");
    ck_assert_int_eq(dk_key_get_type(r), DK_KEY_RSA);
    ck_assert_int_eq(dk_key_get_bits(r), 2048);
    /* DER PKCS#8. */
    dk_key *d = tu_key("server.der");
    ck_assert_int_eq(dk_key_get_type(d), DK_KEY_EC);
    /* Public only, from a private key file. */
    dk_key *pub = dk_key_load(tu_cert_path("server.key"), NULL, true, &err);
    ck_assert_msg(pub != NULL, "%s", dk_last_error());
    ck_assert(dk_key_is_public_only(pub));
    /* The same key, whichever way it was loaded. */
    char *a = dk_key_save_to_string(k, true, &err), *b = dk_key_save_to_string(d, true, &err),
         *c = dk_key_save_to_string(pub, false, &err);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(a, c); /* public-only saves its public part */
    ck_assert_ptr_nonnull(strstr(a, "-----BEGIN PUBLIC KEY-----"));
    /* And a public key file loads as public only. */
    dk_key *pub2 = dk_key_load_from_string(a, NULL, true, &err);
    ck_assert_msg(pub2 != NULL, "%s", dk_last_error());
    ck_assert(dk_key_is_public_only(pub2));
    /* A public key is not a private key. */
    ck_assert_ptr_null(dk_key_load_from_string(a, NULL, false, &err));
    ck_assert_int_eq(err, DK_ERR_PARSE);
    dk_free(a);
    dk_free(b);
    dk_free(c);
    dk_key_free(pub2);
    dk_key_free(pub);
    dk_key_free(d);
    dk_key_free(r);
    dk_key_free(k);
}
END_TEST

START_TEST(encrypted_keys)
{
    if (!has_cap(DK_CAP_ENCRYPTED_KEYS, "encrypted keys"))
        return;
    dk_err err = DK_OK;
    const char *files[] = {"server-enc.key", "server-enc.der"};
    dk_key *plain = tu_key("server.key");
    char *want = dk_key_save_to_string(plain, true, NULL);
    for (int i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s", tu_cert_path(files[i]));
        ck_assert_ptr_null(dk_key_load(path, NULL, false, &err));
        ck_assert_msg(err == DK_ERR_PASSWORD, "%s without password: %d %s", files[i], err,
                      dk_last_error());
        ck_assert_ptr_nonnull(strstr(dk_last_error(), "password"));
        ck_assert_ptr_null(dk_key_load(path, "wrong", false, &err));
        ck_assert_msg(err == DK_ERR_PASSWORD, "%s wrong password: %d %s", files[i], err,
                      dk_last_error());
        dk_key *k = dk_key_load(path, "secret", false, &err);
        ck_assert_msg(k != NULL, "%s: %s", files[i], dk_last_error());
        char *got = dk_key_save_to_string(k, true, NULL);
        ck_assert_str_eq(got, want);
        dk_free(got);
        dk_key_free(k);
    }
    dk_free(want);
    dk_key_free(plain);
}
END_TEST

START_TEST(bad_keys)
{
    dk_err err = DK_OK;
    ck_assert_ptr_null(dk_key_load(NULL, NULL, false, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_key_load("/nonexistent/key.pem", NULL, false, &err));
    ck_assert_int_eq(err, DK_ERR_IO);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "/nonexistent/key.pem"));
    ck_assert_ptr_null(dk_key_load_from_string("garbage", NULL, false, &err));
    ck_assert_int_eq(err, DK_ERR_PARSE);
    ck_assert_ptr_null(dk_key_load_from_string("", NULL, false, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    const char *bad_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    ck_assert_ptr_null(dk_key_load_from_string(bad_pem, NULL, false, &err));
    ck_assert_int_eq(err, DK_ERR_PARSE);
    /* A certificate is not a key. */
    ck_assert_ptr_null(dk_key_load(tu_cert_path("server.pem"), NULL, false, &err));
    ck_assert_int_eq(err, DK_ERR_PARSE);
    /* Truncated DER. */
    uint8_t der[40] = {0x30, 0x82, 0x01, 0x00};
    ck_assert_ptr_null(dk_key_load_from_memory(der, sizeof der, NULL, false, &err));
    ck_assert_int_eq(err, DK_ERR_PARSE);
    ck_assert_ptr_null(dk_key_generate_rsa(1000, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_key_generate_ec((dk_ec_curve)99, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    void *out;
    size_t len;
    ck_assert_int_eq(dk_key_save_to_memory(NULL, DK_FORMAT_PEM, false, &out, &len), DK_ERR_INVALID);
    ck_assert_int_eq(dk_key_save(NULL, "/tmp/x", DK_FORMAT_PEM, false), DK_ERR_INVALID);
    ck_assert(!dk_key_is_public_only(NULL));
    ck_assert_int_eq(dk_key_get_bits(NULL), 0);
    dk_key_free(NULL);
}
END_TEST

START_TEST(key_round_trips)
{
    dk_key *k = tu_key("server.key");
    for (int f = 0; f < 2; f++) {
        for (int pub = 0; pub < 2; pub++) {
            void *buf;
            size_t len;
            ck_assert_dk_ok(dk_key_save_to_memory(k, (dk_format)f, pub, &buf, &len));
            dk_key *back = dk_key_load_from_memory(buf, len, NULL, pub, NULL);
            ck_assert_msg(back != NULL, "format %d public %d: %s", f, pub, dk_last_error());
            ck_assert_int_eq(dk_key_is_public_only(back), pub);
            void *again;
            size_t alen;
            ck_assert_dk_ok(dk_key_save_to_memory(back, (dk_format)f, pub, &again, &alen));
            ck_assert_uint_eq(len, alen);
            ck_assert_int_eq(memcmp(buf, again, len), 0);
            dk_free(again);
            dk_free(buf);
            dk_key_free(back);
        }
    }
    /* Files, PEM and DER. */
    ck_assert_dk_ok(dk_key_save(k, tmp_path("k.pem"), DK_FORMAT_PEM, false));
    ck_assert_dk_ok(dk_key_save(k, tmp_path("k.der"), DK_FORMAT_DER, false));
    dk_key *p1 = dk_key_load(tmp_path("k.pem"), NULL, false, NULL);
    dk_key *p2 = dk_key_load(tmp_path("k.der"), NULL, false, NULL);
    ck_assert_ptr_nonnull(p1);
    ck_assert_ptr_nonnull(p2);
    ck_assert_int_eq(dk_key_save(k, "/nonexistent/dir/k.pem", DK_FORMAT_PEM, false), DK_ERR_IO);
    dk_key_free(p1);
    dk_key_free(p2);
    dk_key_free(k);
}
END_TEST

START_TEST(generate_keys_and_certs)
{
    dk_err err;
    dk_key *ec = NULL, *rsa = NULL, *p384 = NULL;
    if (has_cap(DK_CAP_KEYGEN_EC, "EC key generation")) {
        ec = dk_key_generate_ec(DK_EC_P256, &err);
        ck_assert_msg(ec != NULL, "%s", dk_last_error());
        ck_assert_int_eq(dk_key_get_type(ec), DK_KEY_EC);
        ck_assert_int_eq(dk_key_get_bits(ec), 256);
        p384 = dk_key_generate_ec(DK_EC_P384, &err);
        ck_assert_msg(p384 != NULL, "%s", dk_last_error());
        ck_assert_int_eq(dk_key_get_bits(p384), 384);
    }
    if (has_cap(DK_CAP_KEYGEN_RSA, "RSA key generation")) {
        rsa = dk_key_generate_rsa(2048, &err);
        ck_assert_msg(rsa != NULL, "%s", dk_last_error());
        ck_assert_int_eq(dk_key_get_type(rsa), DK_KEY_RSA);
        ck_assert_int_eq(dk_key_get_bits(rsa), 2048);
    }
    if (!has_cap(DK_CAP_SELF_SIGNED, "self-signed certificates") || !ec) {
        dk_key_free(ec);
        dk_key_free(p384);
        dk_key_free(rsa);
        return;
    }
    dk_key *keys[] = {ec, p384, rsa};
    for (int i = 0; i < 3; i++) {
        if (!keys[i])
            continue;
        dk_cert *c = dk_cert_generate_self_signed(keys[i], "CN=example.org,O=dtlskit,C=IT",
                                                  "20200101000000", "21000101000000", &err);
        ck_assert_msg(c != NULL, "key %d: %s", i, dk_last_error());
        char subject[256], issuer[256];
        ck_assert_dk_ok(dk_cert_get_subject(c, 0, subject, sizeof subject));
        ck_assert_dk_ok(dk_cert_get_issuer(c, 0, issuer, sizeof issuer));
        ck_assert_str_eq(subject, "CN=example.org, O=dtlskit, C=IT");
        ck_assert_str_eq(subject, issuer);
        int64_t nb, na;
        ck_assert_dk_ok(dk_cert_get_validity(c, 0, &nb, &na));
        ck_assert_int_eq(nb, 1577836800);   /* 2020-01-01 */
        ck_assert_int_eq(na, 4102444800LL); /* 2100-01-01 */
        /* The key pairs with its certificate as server options. */
        dk_tls_options *o = dk_tls_options_server(keys[i], c, &err);
        ck_assert_msg(o != NULL, "%s", dk_last_error());
        dk_tls_options_free(o);
        dk_cert_free(c);
    }
    /* Godot's defaults: NULL name and dates. */
    dk_cert *d = dk_cert_generate_self_signed(ec, NULL, NULL, NULL, &err);
    ck_assert_ptr_nonnull(d);
    char subject[256];
    ck_assert_dk_ok(dk_cert_get_subject(d, 0, subject, sizeof subject));
    ck_assert_str_eq(subject, "CN=myserver, O=myorganisation, C=IT");
    dk_cert_free(d);
    /* Bad names and dates. */
    ck_assert_ptr_null(dk_cert_generate_self_signed(ec, "CN", NULL, NULL, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_cert_generate_self_signed(ec, "XX=1", NULL, NULL, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_cert_generate_self_signed(ec, NULL, "2020", NULL, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_cert_generate_self_signed(ec, NULL, "20200231000000", NULL, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_null(
        dk_cert_generate_self_signed(ec, NULL, "20300101000000", "20200101000000", &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_cert_generate_self_signed(NULL, NULL, NULL, NULL, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    dk_key *pub = dk_key_load(tu_cert_path("server.key"), NULL, true, NULL);
    ck_assert_ptr_null(dk_cert_generate_self_signed(pub, NULL, NULL, NULL, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    dk_key_free(pub);
    dk_key_free(ec);
    dk_key_free(p384);
    dk_key_free(rsa);
}
END_TEST

START_TEST(certificates)
{
    dk_err err;
    dk_cert *chain = tu_cert("server-chain.pem");
    ck_assert_int_eq(dk_cert_count(chain), 2);
    char buf[256];
    ck_assert_dk_ok(dk_cert_get_subject(chain, 0, buf, sizeof buf));
    ck_assert_str_eq(buf, "CN=localhost");
    ck_assert_dk_ok(dk_cert_get_issuer(chain, 0, buf, sizeof buf));
    ck_assert_str_eq(buf, "CN=dtlskit test intermediate CA");
    ck_assert_dk_ok(dk_cert_get_subject(chain, 1, buf, sizeof buf));
    ck_assert_str_eq(buf, "CN=dtlskit test intermediate CA");
    ck_assert_int_eq(dk_cert_get_subject(chain, 2, buf, sizeof buf), DK_ERR_INVALID);
    ck_assert_int_eq(dk_cert_get_subject(chain, 0, buf, 4), DK_ERR_BUFFER_TOO_SMALL);
    /* DER and PEM of the same certificate have the same fingerprint. */
    dk_cert *der = tu_cert("server.crt.der");
    ck_assert_int_eq(dk_cert_count(der), 1);
    uint8_t f1[32], f2[32];
    ck_assert_dk_ok(dk_cert_get_fingerprint_sha256(chain, 0, f1));
    ck_assert_dk_ok(dk_cert_get_fingerprint_sha256(der, 0, f2));
    ck_assert_int_eq(memcmp(f1, f2, 32), 0);
    /* Round trips. */
    char *pem = dk_cert_save_to_string(chain, &err);
    ck_assert_ptr_nonnull(pem);
    dk_cert *again = dk_cert_load_from_string(pem, &err);
    ck_assert_int_eq(dk_cert_count(again), 2);
    char *pem2 = dk_cert_save_to_string(again, &err);
    ck_assert_str_eq(pem, pem2);
    void *out;
    size_t len;
    ck_assert_int_eq(dk_cert_save_to_memory(chain, DK_FORMAT_DER, &out, &len), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_cert_save_to_memory(der, DK_FORMAT_DER, &out, &len));
    dk_cert *from_der = dk_cert_load_from_memory(out, len, &err);
    ck_assert_ptr_nonnull(from_der);
    dk_free(out);
    ck_assert_dk_ok(dk_cert_save(chain, tmp_path("c.pem"), DK_FORMAT_PEM));
    dk_cert *file = dk_cert_load(tmp_path("c.pem"), &err);
    ck_assert_int_eq(dk_cert_count(file), 2);
    /* get and append. */
    dk_cert *leaf = dk_cert_get(chain, 0, &err);
    dk_cert *inter = dk_cert_get(chain, 1, &err);
    ck_assert_int_eq(dk_cert_count(leaf), 1);
    ck_assert_dk_ok(dk_cert_append(leaf, inter));
    ck_assert_int_eq(dk_cert_count(leaf), 2);
    char *pem3 = dk_cert_save_to_string(leaf, &err);
    ck_assert_str_eq(pem, pem3);
    ck_assert_ptr_null(dk_cert_get(chain, 5, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    /* Validity of the expired certificate. */
    dk_cert *exp = tu_cert("expired.pem");
    int64_t nb, na;
    ck_assert_dk_ok(dk_cert_get_validity(exp, 0, &nb, &na));
    ck_assert_int_eq(nb, 946684800); /* 2000-01-01 */
    ck_assert_int_eq(na, 978307200); /* 2001-01-01 */
    /* A chain referenced by options cannot grow. */
    dk_tls_options *o = dk_tls_options_client(leaf, NULL, NULL);
    ck_assert_int_eq(dk_cert_append(leaf, inter), DK_ERR_STATE);
    dk_tls_options_free(o);
    ck_assert_dk_ok(dk_cert_append(leaf, inter));
    dk_free(pem);
    dk_free(pem2);
    dk_free(pem3);
    dk_cert_free(exp);
    dk_cert_free(leaf);
    dk_cert_free(inter);
    dk_cert_free(file);
    dk_cert_free(from_der);
    dk_cert_free(again);
    dk_cert_free(der);
    dk_cert_free(chain);
}
END_TEST

START_TEST(bad_certificates)
{
    dk_err err;
    ck_assert_ptr_null(dk_cert_load("/nonexistent.pem", &err));
    ck_assert_int_eq(err, DK_ERR_IO);
    ck_assert_ptr_null(dk_cert_load_from_string("not a certificate", &err));
    ck_assert_int_eq(err, DK_ERR_PARSE);
    ck_assert_ptr_null(dk_cert_load_from_string(NULL, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    const char *bad_b64 = "-----BEGIN CERTIFICATE-----\nMII!!!\n-----END CERTIFICATE-----\n";
    ck_assert_ptr_null(dk_cert_load_from_string(bad_b64, &err));
    ck_assert_int_eq(err, DK_ERR_PARSE);
    const char *not_der = "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n";
    ck_assert_ptr_null(dk_cert_load_from_string(not_der, &err));
    ck_assert_int_eq(err, DK_ERR_PARSE);
    /* A key file has no CERTIFICATE block. */
    ck_assert_ptr_null(dk_cert_load(tu_cert_path("server.key"), &err));
    ck_assert_int_eq(err, DK_ERR_PARSE);
    /* Truncated PEM: the second block is cut. */
    dk_cert *ok = tu_cert("server-chain.pem");
    char *pem = dk_cert_save_to_string(ok, NULL);
    pem[strlen(pem) - 40] = '\0';
    ck_assert_ptr_null(dk_cert_load_from_string(pem, &err));
    ck_assert_int_eq(err, DK_ERR_PARSE);
    dk_free(pem);
    dk_cert_free(ok);
    ck_assert_int_eq(dk_cert_count(NULL), 0);
    dk_cert_free(NULL);
}
END_TEST

/* Children forked after the library started draw their own bytes: a
 * worker per core forked from one parent must not share handshake
 * randoms, ECDHE keys or generated keys with its siblings (mbedTLS 2.28
 * and wolfSSL 5.5.4 keep one generator per process and do not notice
 * forks by themselves). */
START_TEST(forked_children_draw_their_own_bytes)
{
    ck_assert_dk_ok(dk_init());
    dk_key *k = dk_key_generate_ec(DK_EC_P256, NULL);
    ck_assert_ptr_nonnull(k);
    dk_key_free(k);
    enum { CHILDREN = 2, PEM_MAX = 512 };
    struct {
        uint8_t random[32];
        char pem[PEM_MAX];
    } got[CHILDREN + 1];
    memset(got, 0, sizeof got);
    for (int c = 0; c < CHILDREN; c++) {
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            memset(&got[0], 0, sizeof got[0]);
            dk_key *ck = dk_key_generate_ec(DK_EC_P256, NULL);
            char *pem = ck ? dk_key_save_to_string(ck, true, NULL) : NULL;
            if (pem)
                snprintf(got[0].pem, PEM_MAX, "%s", pem);
            dk_free(pem); /* valgrind checks the child's leaks too */
            dk_key_free(ck);
            if (DK__BK->library->random(got[0].random, sizeof got[0].random) != DK_OK)
                memset(got[0].random, 0, sizeof got[0].random);
            ssize_t w = write(fds[1], &got[0], sizeof got[0]);
            _exit(w == (ssize_t)sizeof got[0] ? 0 : 1);
        }
        close(fds[1]);
        size_t have = 0;
        while (have < sizeof got[c + 1]) {
            ssize_t n = read(fds[0], (char *)&got[c + 1] + have, sizeof got[c + 1] - have);
            if (n <= 0)
                break;
            have += (size_t)n;
        }
        close(fds[0]);
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ck_assert_uint_eq(have, sizeof got[c + 1]);
        ck_assert_ptr_nonnull(strstr(got[c + 1].pem, "PUBLIC KEY"));
    }
    /* The parent's next draws, after the children's. */
    ck_assert_dk_ok(DK__BK->library->random(got[0].random, sizeof got[0].random));
    ck_assert_str_ne(got[1].pem, got[2].pem);
    ck_assert_mem_ne(got[1].random, got[2].random, 32);
    ck_assert_mem_ne(got[0].random, got[1].random, 32);
    ck_assert_mem_ne(got[0].random, got[2].random, 32);
}
END_TEST

START_TEST(options)
{
    dk_err err;
    dk_key *k = tu_key("server.key"), *other = tu_key("other.key");
    dk_cert *c = tu_cert("server-chain.pem"), *ca = tu_cert("ca.pem");
    dk_tls_options *s = dk_tls_options_server(k, c, &err);
    ck_assert_ptr_nonnull(s);
    ck_assert(dk_tls_options_is_server(s));
    ck_assert(!dk_tls_options_is_unsafe_client(s));
    ck_assert_ptr_eq(dk_tls_options_get_own_certificate(s), c);
    ck_assert_ptr_eq(dk_tls_options_get_private_key(s), k);
    ck_assert_ptr_null(dk_tls_options_get_trusted_ca_chain(s));
    /* The options keep their references: the caller may free its own. */
    dk_key_free(k);
    dk_cert_free(c);
    ck_assert_int_eq(dk_cert_count(dk_tls_options_get_own_certificate(s)), 2);
    ck_assert_dk_ok(dk_tls_options_set_client_auth(s, DK_CLIENT_AUTH_REQUIRED, ca));
    ck_assert_int_eq(dk_tls_options_set_client_auth(s, DK_CLIENT_AUTH_OPTIONAL, NULL),
                     DK_ERR_INVALID);
    ck_assert_dk_ok(dk_tls_options_set_client_auth(s, DK_CLIENT_AUTH_NONE, NULL));
    dk_tls_options_free(s);

    dk_tls_options *cl = dk_tls_options_client(ca, "example.org", &err);
    ck_assert(!dk_tls_options_is_server(cl));
    ck_assert(!dk_tls_options_is_unsafe_client(cl));
    ck_assert_str_eq(dk_tls_options_get_common_name_override(cl), "example.org");
    ck_assert_ptr_eq(dk_tls_options_get_trusted_ca_chain(cl), ca);
    ck_assert_int_eq(dk_tls_options_set_client_auth(cl, DK_CLIENT_AUTH_NONE, NULL), DK_ERR_INVALID);
    dk_tls_options_free(cl);
    dk_tls_options *un = dk_tls_options_client_unsafe(NULL, &err);
    ck_assert(dk_tls_options_is_unsafe_client(un));
    ck_assert_str_eq(dk_tls_options_get_common_name_override(un), "");
    dk_tls_options_free(un);

    /* Mismatched key and certificate; public key; NULLs. */
    c = tu_cert("server.pem");
    ck_assert_ptr_null(dk_tls_options_server(other, c, &err));
    ck_assert_int_eq(err, DK_ERR_KEY_MISMATCH);
    dk_key *pub = dk_key_load(tu_cert_path("server.key"), NULL, true, NULL);
    ck_assert_ptr_null(dk_tls_options_server(pub, c, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_tls_options_server(NULL, c, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    dk_tls_options *cc = dk_tls_options_client(NULL, NULL, NULL);
    ck_assert_int_eq(dk_tls_options_set_client_certificate(cc, other, c), DK_ERR_KEY_MISMATCH);
    dk_tls_options_free(cc);
    dk_tls_options_free(NULL);
    dk_key_free(pub);
    dk_key_free(other);
    dk_cert_free(c);
    dk_cert_free(ca);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("crypto");
    TCase *tc = tcase_create("keys");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, load_keys);
    tcase_add_test(tc, encrypted_keys);
    tcase_add_test(tc, bad_keys);
    tcase_add_test(tc, key_round_trips);
    tcase_add_test(tc, forked_children_draw_their_own_bytes);
    suite_add_tcase(s, tc);
    tc = tcase_create("certs");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, generate_keys_and_certs);
    tcase_add_test(tc, certificates);
    tcase_add_test(tc, bad_certificates);
    suite_add_tcase(s, tc);
    tc = tcase_create("options");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, options);
    suite_add_tcase(s, tc);
    printf("backend: %s (%s), caps 0x%x\n", dk_backend_name(), dk_backend_version(),
           dk_backend_caps());
    return tu_run(s);
}
