#!/bin/bash
# Mutation check: small, targeted breakages of the security mechanisms, each
# applied to a copy of the sources, built, and run against the tests that
# should notice. A mutant that every test survives means a security claim
# no test proves. Prints one line per mutant and ends with
#   mutants: N killed, M survived
# exiting non-zero when any survived or could not be applied (a mutant whose
# text no longer matches the code must be updated with the code).
#
#   tests/mutants.sh ROOT [NAME...]    ROOT: the source tree (configured or not)
#
# A new security mechanism arrives with its mutant: add an `m` line below.
set -u
root=$(cd "${1:?usage: tests/mutants.sh ROOT [NAME...]}" && pwd)
shift
only=" $* "
work="$root/build/mutants"
jobs=$(nproc 2>/dev/null || echo 2)

names=() backends=() tests=() files=() olds=() news=()
# m NAME BACKEND "TESTS" FILE OLD NEW: OLD must occur in FILE. A test is a
# Check program, optionally with ":CASE" to run only that test case.
m() {
    names+=("$1") backends+=("$2") tests+=("$3") files+=("$4") olds+=("$5") news+=("$6")
}

# ------------------------------------------------------------- cookies
m cookie-accepts-any-32-bytes openssl tests/check_hostile:cookies core/cookie.c \
    'if (equal_ct(expect, ch->cookie.p, DK__COOKIE_LEN))' \
    'if (ch->cookie.len == DK__COOKIE_LEN)'
m previous-secret-ignored openssl tests/check_hostile:cookies core/cookie.c \
    'for (int i = 0; i < 3; i++) {' \
    'for (int i = 0; i < 1; i++) {'
m wrong-secret-to-backend wolfssl tests/check_hostile:cookies core/dtls_server.c \
    '.cookie_secret = secret->key,' \
    '.cookie_secret = s->jar.current.key,'
m stale-previous-secret-kept openssl tests/check_core core/cookie.c \
    'if (stale)' \
    'if (0)'
m rotation-needs-a-timer openssl tests/check_hostile:timers core/dtls_server.c \
    'int t = dk__ms_until(dk__sessions_next_deadline(&s->sessions), now);' \
    'int t = dk__ms_until(s->jar.rotated_at + (uint64_t)s->jar.interval_ms, now);
    uint64_t next = dk__sessions_next_deadline(&s->sessions);
    if (next && dk__ms_until(next, now) < t)
        t = dk__ms_until(next, now);'
m duplicate-hello-restarts openssl tests/check_hostile:clients core/dtls_server.c \
    'if (memcmp(ch.random, p->hello_random, sizeof p->hello_random) == 0)' \
    'if (0)'
m restart-ignored openssl tests/check_hostile:clients core/dtls_peer.c \
    'dk__dtls_server_rehello(tracker, p, pkt->data, pkt->len))' \
    '0)'

# ---------------------------------------------------------------- gate
m empty-datagram-fed openssl tests/check_hostile:gate core/dtls_peer.c \
    'if (n == 0)
        return false;' \
    'if (n == 0 && pkt->len)
        return false;'
m plaintext-alert-on-session openssl tests/check_hostile:gate core/gate.c \
    'return !connected && body == 2;' \
    'return body == 2;'
m plaintext-data-fed openssl tests/check_hostile:gate core/gate.c \
    'default: return false; /* no data before keys exist */' \
    'default: return true;'
m epoch1-before-ccs openssl tests/check_hostile:memory core/gate.c \
    'if (!g->peer_ccs || g->epoch1 >= DK__GATE_HS_EPOCH1)' \
    'if (g->epoch1 >= 100)'
m far-message-seq openssl tests/check_core core/gate.c \
    'seq > DK__GATE_MAX_SEQ ||' \
    'seq > 31 ||'
m no-handshake-budget openssl tests/check_core core/gate.c \
    'if (msg_len > DK__GATE_HS_BUDGET - g->claimed)' \
    'if (0)'
m truncated-record-fed openssl tests/check_core core/gate.c \
    'if (body > len - off - DK__REC_HDR)
            break;' \
    'if (body > len - off - DK__REC_HDR)
            body = len - off - DK__REC_HDR;'

# ---------------------------------------------------------- idle, caps
m idle-refreshed-by-anything openssl tests/check_hostile:timers core/dtls_peer.c \
    'auth |= process_datagram(p, pkt);' \
    'auth |= process_datagram(p, pkt) || 1;'
m no-default-idle-timeout openssl tests/check_hostile:timers core/dtls_server.c \
    's->cfg.idle_timeout_ms = DK__DEFAULT_SERVER_IDLE_MS;' \
    ''
m caps-bypassed openssl tests/check_hostile:caps core/dtls_server.c \
    'switch (dk__ledger_check(s->ledger, &s->caps, src)) {' \
    'switch (0 ? dk__ledger_check(s->ledger, &s->caps, src) : DK__CAP_OK) {'
m ipv6-prefix-ignored openssl tests/check_core core/admission.c \
    'if (prefix < 0 || prefix > 128)' \
    'if (1)'
m session-never-promoted openssl tests/check_hostile:timers core/dtls_peer.c \
    'if (p->ledger && p->ledger_state == DK__LS_HANDSHAKE) {' \
    'if (0) {'
m ended-session-still-counted openssl tests/check_hostile:timers core/dtls_peer.c \
    'static void teardown(dk_dtls_peer *p)
{
    uncount(p);' \
    'static void teardown(dk_dtls_peer *p)
{'

# ------------------------------------------------- sessions and clients
m hostname-not-checked openssl "tests/check_dtls tests/check_records" core/dtls_peer.c \
    '.verify_name = verify ? name : NULL,' \
    '.verify_name = NULL,'
m handshake-never-times-out openssl tests/check_dtls:timers core/dtls_peer.c \
    'if (p->status == DK_DTLS_HANDSHAKING && now >= p->hs_deadline) {' \
    'if (0) {'
m udp-peer-shared openssl tests/check_hostile:clients core/dtls_peer.c \
    'if (udp == p->udp || udp->claimed)' \
    'if (udp == p->udp)'
m connection-refused-ignored openssl tests/check_hostile:timers core/dtls_peer.c \
    'if (p->udp->unreachable && unreachable(p))' \
    'if (0 && p->udp->unreachable && unreachable(p))'

# ------------------------------------------ retransmission timer (RFC 6347 4.2.4.1)
m rto-not-doubled openssl tests/check_dtls:timers include/dtlskit/backend.h \
    'return prev_ms >= max_ms / 2 ? max_ms : prev_ms * 2;' \
    'return prev_ms >= max_ms / 2 ? max_ms : prev_ms;'
m rto-max-not-capped openssl tests/check_dtls:timers include/dtlskit/backend.h \
    'return prev_ms >= max_ms / 2 ? max_ms : prev_ms * 2;' \
    'return prev_ms * 2;'
m session-rto-ignored openssl tests/check_dtls:timers core/dtls_peer.c \
    'params.rto_initial_ms = (unsigned)cfg->rto_initial_ms;' \
    'params.rto_initial_ms = DK__DEFAULT_RTO_INITIAL_MS;'
m client-context-per-timer openssl tests/check_dtls:timers core/tls_ctx.c \
    'if (c) {
        dk__ctx_ref(c);' \
    'if (0) {
        dk__ctx_ref(c);'
m openssl-timer-ignores-core-clock openssl tests/check_dtls:timers \
    backends/openssl/openssl_session.c \
    '*s->ossl_deadline = (struct timeval){.tv_sec = 0, .tv_usec = 1};' \
    '(void)0;'
m openssl-timer-always-expired openssl tests/check_dtls:timers \
    backends/openssl/openssl_session.c \
    'return OSSL_TIMER_FAR_US;' \
    'return 1;'
m openssl-server-timer-ignores-core-clock openssl tests/check_hostile:timers \
    backends/openssl/openssl_session.c \
    '*s->ossl_deadline = (struct timeval){.tv_sec = 0, .tv_usec = 1};' \
    '(void)0;'
m mbedtls-timer-not-doubled mbedtls tests/check_dtls:timers backends/mbedtls/mbedtls_io.c \
    'v < fin_ms && ms < s->rto_max_ms' \
    'v < 1 && ms < s->rto_max_ms'
m mbedtls-timer-from-config mbedtls tests/check_dtls:timers backends/mbedtls/mbedtls_io.c \
    'unsigned ms = s->rto_initial_ms;' \
    'unsigned ms = fin_ms;'
m wolfssl-timer-not-doubled wolfssl tests/check_dtls:timers backends/wolfssl/wolfssl_session.c \
    'arm_timer(s, dk_bk_rto_next(s->rto_ms, s->rto_initial_ms, s->rto_max_ms));' \
    'arm_timer(s, s->rto_ms);'

# ------------------------------------------------- record layer (core)
m replay-window-off openssl tests/check_handoff core/record.c \
    'return back >= DK__REC_WINDOW || (r->rx_bits >> back & 1);' \
    'return false;'
m window-moves-before-auth openssl tests/check_handoff:records core/record.c \
    '    dk_bk_aead *a = expanded(r, &r->r);
    if (!a)
        return DK__OPEN_NOMEM;' \
    '    dk__record_mark(r, seq);
    dk_bk_aead *a = expanded(r, &r->r);
    if (!a)
        return DK__OPEN_NOMEM;'
m write-seq-not-advanced openssl tests/check_handoff:records core/record.c \
    'r->write_seq++; /* never reused' \
    '(void)0; /* never reused'
m gcm-nonce-constant openssl tests/check_handoff:records core/record.c \
    '    memcpy(out + DK__REC_HDR, seq8, s->explicit_len);' \
    '    memset(out + DK__REC_HDR, 0, s->explicit_len);'
m chacha-nonce-without-seq openssl tests/check_handoff:records core/record.c \
    'nonce[4 + i] ^= seq8[i];' \
    'nonce[4 + i] ^= 0;'
m write-seq-restarts-at-zero openssl tests/check_handoff:session core/dtls_peer.c \
    'p->sent_epoch1 ? p->sent_seq1 + 1 : 0);' \
    '0);'
m final-flight-not-kept openssl tests/check_handoff:session core/dtls_peer.c \
    '        p->flight_kept = true;' \
    '        drop_flight(p);'
m library-kept-after-handoff openssl tests/check_handoff:session core/dtls_peer.c \
    '    release_library(p);
    /* What this side sent' \
    '    /* What this side sent'
m data-behind-finished-lost openssl tests/check_handoff:session core/dtls_peer.c \
    '        (void)core_records(p, pkt->data + n, rest);' \
    '        (void)rest;'
m fatal-alert-ignored openssl tests/check_handoff:session core/dtls_peer.c \
    'else if (pt->data[0] == 2)' \
    'else if (0)'
m key-cache-unbounded openssl tests/check_handoff:session core/record.c \
    'lru_evict_to(c, c->cap ? c->cap - 1 : 0);' \
    '(void)0;'
m finished-not-checked openssl tests/check_handoff:session core/dtls_peer.c \
    'if (dk__record_open(&p->rec, r, rl, plain, &n) != DK__OPEN_OK) {' \
    'if (0) {'

# ------------------------------------------------ pre-shared keys, suites
m suite-restriction-ignored openssl tests/check_psk core/tls_ctx.c \
    'dk__suites_select(o && o->nsuites ? o->suites : NULL, o ? o->nsuites : 0, &creds, suites);' \
    'dk__suites_select(NULL, 0, &creds, suites);'
m psk-client-offers-certificate-suites openssl tests/check_psk core/suites.c \
    'return c->cert && (!c->server || c->key_type == DK_KEY_EC);' \
    'return (c->cert || c->psk) && (!c->server || c->key_type == DK_KEY_EC);'
m unknown-identity-not-named mbedtls tests/check_psk core/dtls_peer.c \
    'case DK__PSK_UNKNOWN:' \
    'case 99:'
m lookup-answer-unbounded wolfssl tests/check_psk core/dtls_peer.c \
    'if (n == 0 || n > key_cap) {' \
    'if (n == 0) {'
m psk-identity-of-failed-handshake openssl tests/check_psk core/dtls_peer.c \
    'return p && p->psk_state == DK__PSK_USED && p->psk_identity ? p->psk_identity : "";' \
    'return p && p->psk_identity ? p->psk_identity : "";'
m psk-key-length-unchecked openssl tests/check_psk core/tls_options.c \
    'if (key_len > DK_PSK_KEY_MAX) {' \
    'if (0) {'
m wrong-key-not-named openssl tests/check_psk core/dtls_peer.c \
    'if (server && p->psk_state == DK__PSK_FOUND && p->gate.peer_ccs)' \
    'if (0)'

# ------------------------------------------------------ session tickets
m ticket-previous-key-refused openssl tests/check_resume core/tickets.c \
    'if (memcmp(name, k->prev.name, sizeof k->prev.name) == 0) {' \
    'if (0) {'
m ticket-keys-never-rotate openssl tests/check_resume core/tickets.c \
    'uint64_t gen = wall_ms / (uint64_t)k->cfg.interval_ms;' \
    'uint64_t gen = 1;'
m session-offered-to-any-name openssl tests/check_resume core/dtls_peer.c \
    'if (offer && strcmp(offer->server_name, p->server_name) == 0) {' \
    'if (offer) {'
m psk-server-tickets-by-default mbedtls tests/check_resume core/dtls_server.c \
    'if (s->opts->psk_lookup && !tk.chosen)' \
    'if (0)'

# ------------------------------------------------------ master secret
m master-secret-not-for-cookies openssl tests/check_cookies core/master_secret.c \
    'if (dk__cookie_jar_set_master(&s->jar, secret, len) != DK_OK)' \
    'if (0)'
m master-secret-not-for-tickets wolfssl tests/check_resume core/master_secret.c \
    'memcpy(s->tickets.secret, secret, len);' \
    ';'
m derived-cookie-next-period-refused openssl tests/check_core core/cookie.c \
    'for (int i = 0; i < 3; i++) {' \
    'for (int i = 0; i < 2; i++) {'
m derived-cookie-never-rotates mbedtls tests/check_cookies core/cookie.c \
    'uint64_t p = jar->interval_ms > 0 ? dk__wall_ms() / (uint64_t)jar->interval_ms : 0;' \
    'uint64_t p = 0;'
m ticket-next-key-refused openssl tests/check_core core/tickets.c \
    'if (memcmp(name, k->next.name, sizeof k->next.name) == 0) {' \
    'if (0) {'
m secret-file-mode-unchecked openssl tests/check_cookies core/file.c \
    'else if (st.st_mode & 077)' \
    'else if (0)'
m reuse-port-not-set openssl tests/check_udp core/udp_socket.c \
    'if (reuse_port) {' \
    'if (0) {'
m mbedtls-drbg-not-reseeded-after-fork mbedtls tests/check_crypto backends/mbedtls/mbedtls_library.c \
    'if (atomic_load_explicit(&seeded_pid, memory_order_acquire) != pid) {' \
    'if (0) {'
m wolfssl-rng-not-reseeded-after-fork wolfssl tests/check_crypto backends/wolfssl/wolfssl_library.c \
    'if (seeded_pid == pid)
        return;' \
    'return;'
m adopt-connected-socket openssl tests/check_udp core/udp_socket.c \
    'if (getpeername(fd, &peer.u.sa, &peer.len) == 0)' \
    'if (0)'
m secret-file-owner-unchecked openssl tests/check_cookies core/file.c \
    'else if (st.st_uid != geteuid() && st.st_uid != 0)' \
    'else if (0)'
m kept-broadcast-not-applied openssl tests/check_udp:before_open core/udp_peer.c \
    'if (p->broadcast) {' \
    'if (0) {'
m kept-groups-not-joined openssl tests/check_udp:before_open core/udp_peer.c \
    'for (int i = 0; l && i < l->n; i++) {' \
    'for (int i = 0; l && i < 0; i++) {'
m kept-groups-unbounded openssl tests/check_udp:before_open core/udp_peer.c \
    'if (l && l->n == DK_UDP_MAX_KEPT_GROUPS)' \
    'if (0)'
m rcvbuf-floor-removed openssl tests/check_udp:before_open core/udp_socket.c \
    'if (bytes > cur / RCVBUF_REPORTED_PER_BYTE_SET)' \
    'if (bytes > 0)'
m rcvbuf-linux-doubling-ignored openssl tests/check_udp:before_open core/udp_socket.c \
    '#define RCVBUF_REPORTED_PER_BYTE_SET 2' \
    '#define RCVBUF_REPORTED_PER_BYTE_SET 1'

# ------------------------------------------------ Godot Variant decoding
m variant-depth-unbounded openssl tests/check_variant:strict core/variant_decode.c \
    'if (depth + 1 > DK_VARIANT_MAX_DEPTH)' \
    'if (0)'
m variant-string-length-unchecked openssl tests/check_variant:strict core/variant_decode.c \
    'if (left(d) < n)
        return BAD(d, at, "a string' \
    'if (0)
        return BAD(d, at, "a string'
m variant-count-unbounded openssl tests/check_variant:strict core/variant_decode.c \
    'if (n > left(d) / per)' \
    'if (0)'
m variant-packed-count-unbounded openssl tests/check_variant:strict core/variant_decode.c \
    'if (n > left(d) / es)' \
    'if (0)'
m variant-padding-unchecked openssl tests/check_variant:strict core/variant_decode.c \
    'if (d->in[at + n + i])' \
    'if (0)'
m variant-trailing-bytes-accepted openssl tests/check_variant:codec core/variant_decode.c \
    'if (d.off != len)' \
    'if (0)'
m variant-utf8-unchecked openssl tests/check_variant:strict core/variant_decode.c \
    'if (bad < chars)' \
    'if (0)'
m variant-repeated-keys-in-large-dictionaries openssl tests/check_variant:strict \
    core/variant_decode.c \
    'if (dk__var_same_key(e, k)) {' \
    'if (0) {'

# ------------------------------------- crypto ops (Godot's Crypto, HMAC)
m ct-compare-ignores-last-byte openssl tests/check_cryptoops:compare core/digest.c \
    'for (size_t i = 0; i < a_len; i++)
        diff |=' \
    'for (size_t i = 0; i + 1 < a_len; i++)
        diff |='
m ct-compare-prefix-equal openssl tests/check_cryptoops:compare core/digest.c \
    'if (a_len != b_len)
        return false;' \
    'if (a_len > b_len)
        a_len = b_len;'
m random-tail-not-filled mbedtls tests/check_cryptoops:random core/digest.c \
    'random((uint8_t *)out + off, n)' \
    'random((uint8_t *)out, n)'
m hmac-key-not-passed openssl tests/check_cryptoops:hmac core/digest.c \
    'md_create(type, key, key_len, &bk)' \
    'md_create(type, key ? (const void *)"k" : NULL, key ? 1 : 0, &bk)'
m openssl-hmac-ignores-key openssl tests/check_cryptoops:hmac backends/openssl/openssl_digest.c \
    'EVP_MAC_init(m->mac, key, key_len, params)' \
    'EVP_MAC_init(m->mac, (const unsigned char *)"k", 1, params)'
m wolfssl-hmac-first-key-byte-only wolfssl tests/check_cryptoops:hmac \
    backends/wolfssl/wolfssl_digest.c \
    'key, (word32)key_len)' \
    'key, (word32)(key_len > 1 ? 1 : key_len))'
m sign-hash-length-unchecked openssl tests/check_cryptoops:bad_input core/pk_ops.c \
    'if (hash_len != size)' \
    'if (0)'
m openssl-verify-accepts-any openssl tests/check_cryptoops:sign backends/openssl/openssl_pk.c \
    'if (rc != 1) {' \
    'if (0) {'
m mbedtls-verify-accepts-any mbedtls tests/check_cryptoops:sign backends/mbedtls/mbedtls_pk.c \
    '        dk_mbed_reason(rc, NULL, reason, cap);
        return DK_ERR_SIGNATURE;' \
    '        return DK_OK;'
m wolfssl-ecdsa-verify-result-ignored wolfssl tests/check_cryptoops:sign \
    backends/wolfssl/wolfssl_pk.c \
    'ok = rc == 0 && res == 1;' \
    'ok = rc == 0;'
m wolfssl-rsa-digestinfo-not-compared wolfssl tests/check_cryptoops:sign \
    backends/wolfssl/wolfssl_pk.c \
    'ok = rc > 0 && (word32)rc == n && memcmp(dec, info, n) == 0;' \
    'ok = rc > 0;'
m variant-typed-elements-unchecked openssl tests/check_variant:strict core/variant_decode.c \
    'if (want == DK_VAR_NIL || want == got)' \
    'if (1)'
m variant-unknown-flags-accepted openssl tests/check_variant:strict core/variant_decode.c \
    'if (flags & ~allowed)' \
    'if (0)'
m get-var-bad-call-takes-a-packet openssl tests/check_variant:peers core/variant_peer.c \
    'if (version != DK_VAR_GODOT4 && version != DK_VAR_GODOT3)' \
    'if (0)'

# ---------------------------------------------------------------- ABI
m abi-enum-value-moved openssl tests/abi.sh include/dtlskit/crypto.h \
    'DK_FORMAT_DER = 1' \
    'DK_FORMAT_DER = 3'
m abi-function-unexported openssl tests/abi.sh include/dtlskit/udp.h \
    'DK_API void dk_udp_server_free(' \
    'void dk_udp_server_free('
# ----------------------------------- certificate names (core DER reader)
m der-length-past-the-end openssl tests/check_x509:der core/der.c \
    'if (len > n - hdr)
        return false;' \
    'if (0)
        return false;'
m der-length-bytes-past-the-end openssl tests/check_x509:der core/der.c \
    'if (k > 4 || k > n - 2)' \
    'if (k > 4)'
m der-long-length-unbounded openssl tests/check_x509:der core/der.c \
    'if (k > 4 || k > n - 2)' \
    'if (k > n - 2)'
m der-non-minimal-length openssl tests/check_x509:der core/der.c \
    'if (len < 0x80)
            return false; /* short form was required */' \
    'if (0)
            return false; /* short form was required */'
m der-leading-zero-length openssl tests/check_x509:der core/der.c \
    'if (p[2] == 0)' \
    'if (0)'
m certificate-trailing-bytes openssl tests/check_x509:der core/x509_name.c \
    'if (!dk__der_expect(&d, DK__DER_SEQ, &cert) || d.n != 0 ||' \
    'if (!dk__der_expect(&d, DK__DER_SEQ, &cert) ||'
m name-empty-rdn openssl tests/check_x509:names core/x509_name.c \
    'if (!dk__der_expect(&rdns, DK__DER_SET, &rdn) || rdn.n == 0)' \
    'if (!dk__der_expect(&rdns, DK__DER_SET, &rdn))'
m name-value-unbounded openssl tests/check_x509:parse core/x509_name.c \
    'if (n == DK__NAME_VALUE_MAX)' \
    'if (0)'
m name-dangling-backslash openssl tests/check_x509:parse core/x509_name.c \
    'if (*p == '"'"'\0'"'"')
                return bad(ps, "'"'"'%.*s'"'"': dangling backslash at the end",' \
    'if (0)
                return bad(ps, "'"'"'%.*s'"'"': dangling backslash at the end",'
m time-any-day-of-month openssl tests/check_x509:validity core/x509_name.c \
    'd > mdays[mo - 1] + (mo == 2 && leap)' \
    'd > 31'

# ----------------------------------------------------- GnuTLS backend
m gnutls-verify-status-ignored gnutls tests/check_dtls:verify backends/gnutls/gnutls_verify.c \
    'return status ? -1 : 0;' \
    'return 0;'
m gnutls-hostname-not-checked gnutls tests/check_dtls:verify backends/gnutls/gnutls_session.c \
    '*v = (gnutls_typed_vdata_st){GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)s->host, 0};' \
    '*v = (gnutls_typed_vdata_st){GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0};'
m gnutls-unknown-identity-continues gnutls tests/check_psk:failures backends/gnutls/gnutls_ctx.c \
    's->psk_refused = true;
        return -1;' \
    's->psk_refused = true;
        return 1;'
m gnutls-non-der-ecdsa-accepted gnutls tests/check_cryptoops backends/gnutls/gnutls_pk.c \
    'again.size == sig_len &&' \
    '1 ||'
m gnutls-hmac-cache-ignores-key gnutls tests/check_cookies backends/gnutls/gnutls_library.c \
    'if (s->h && s->key_len == key_len && memcmp(s->key, key, key_len) == 0) {' \
    'if (s->h) {'
m gnutls-stray-fragments-given gnutls tests/check_hostile backends/gnutls/gnutls_io.c \
    'if (r->type != DK_BK_CT_HANDSHAKE || r->epoch != 0 || r->len < HS_HDR)' \
    'if (1)'
m tickets-without-the-cap gnutls tests/check_resume core/dtls_server.c \
    'if (enabled && !(dk_backend_caps() & DK_CAP_TICKETS))' \
    'if (0)'
# ---------------------------------------------------------------- run
available() {
    case "$1" in
    openssl) pkg-config --exists 'libssl >= 3.0' ;;
    mbedtls) [ -f /usr/include/mbedtls/ssl.h ] ;;
    wolfssl) pkg-config --exists wolfssl ;;
    gnutls) pkg-config --exists 'gnutls >= 3.7' ;;
    *) return 1 ;;
    esac
}

# A private copy of the sources: the tree itself is never changed.
rm -rf "$work/src"
mkdir -p "$work/src"
(cd "$root" && tar --exclude=./build --exclude=./.git -cf - .) | tar -C "$work/src" -xf - ||
    { echo "mutants: cannot copy the sources"; exit 1; }
(cd "$work/src" && { [ -x configure ] || autoreconf -fi >/dev/null 2>&1; }) ||
    { echo "mutants: autoreconf failed"; exit 1; }

declare -A built
build_dir() { # sets $dir to the build folder for backend $1, configured once
    dir="$work/build-$1"
    [ -n "${built[$1]:-}" ] && return 0
    rm -rf "$dir"
    mkdir -p "$dir"
    # configure must have written a Makefile (its log is configure.log):
    # that is what counts.
    (cd "$dir" && "$work/src/configure" --with-backend="$1" >configure.log 2>&1)
    [ -f "$dir/Makefile" ] || return 1
    built[$1]=1
}

# Runs test $2 ("prog" or "prog:case", or a script "tests/x.sh" run as
# `make check` runs it) in build folder $1; logs to $3.
run_test() {
    local prog=${2%%:*} case_=
    [ "$prog" = "$2" ] || case_=${2#*:}
    if [[ $prog == *.sh ]]; then
        (cd "$1" && top_builddir=. top_srcdir="$work/src" BACKEND="${b:-}" timeout 300 \
            bash "$work/src/$prog" >"$3" 2>&1)
        return
    fi
    # shellcheck disable=SC2086
    (cd "$1" && env ${case_:+CK_RUN_CASE=$case_} CK_VERBOSITY=normal timeout 300 "./$prog" \
        >"$3" 2>&1)
}

# What to build for test $1: the Check program, or the library for a script.
make_target() {
    case ${1%%:*} in
    *.sh) echo libdtlskit.la ;;
    *) echo "${1%%:*}" ;;
    esac
}

# Every test a mutant relies on must pass on the unmutated sources first:
# otherwise a flaky or broken test would "kill" mutants for free.
killed=0 survived=0 broken=0
declare -A baseline
for i in "${!names[@]}"; do
    name=${names[$i]} b=${backends[$i]}
    [ "$only" = "  " ] || [[ $only == *" $name "* ]] || continue
    available "$b" || continue
    for t in ${tests[$i]}; do
        [ -n "${baseline[$b/$t]:-}" ] && continue
        baseline[$b/$t]=1
        build_dir "$b" || { echo "BROKEN: baseline: configure for $b failed"; broken=$((broken + 1)); continue; }
        if ! (cd "$dir" && make -j"$jobs" "$(make_target "$t")" >baseline.build.log 2>&1) ||
            ! run_test "$dir" "$t" "$dir/baseline.$(basename "${t%%:*}").log"; then
            echo "BROKEN: baseline: $t fails on $b without any mutant"
            broken=$((broken + 1))
        fi
    done
done

for i in "${!names[@]}"; do
    name=${names[$i]} b=${backends[$i]} file="$work/src/${files[$i]}"
    [ "$only" = "  " ] || [[ $only == *" $name "* ]] || continue
    if ! available "$b"; then
        echo "SKIP: mutant $name: backend $b not installed"
        continue
    fi
    build_dir "$b" || { echo "BROKEN: $name: configure failed"; broken=$((broken + 1)); continue; }
    cp "$file" "$file.orig"
    if ! OLD=${olds[$i]} NEW=${news[$i]} perl -0pi -e \
        '$n = s/\Q$ENV{OLD}\E/$ENV{NEW}/; die "no match\n" unless $n' "$file" 2>/dev/null; then
        echo "BROKEN: $name: its text no longer occurs in ${files[$i]}"
        broken=$((broken + 1))
        mv "$file.orig" "$file"
        continue
    fi
    verdict=survived
    # shellcheck disable=SC2086
    progs=$(for t in ${tests[$i]}; do make_target "$t"; done | sort -u)
    # shellcheck disable=SC2086
    if ! (cd "$dir" && make -j"$jobs" $progs >"mutant-$name.build.log" 2>&1); then
        echo "BROKEN: $name: does not compile (see $dir/mutant-$name.build.log)"
        broken=$((broken + 1))
        verdict=broken
    else
        for t in ${tests[$i]}; do
            if ! run_test "$dir" "$t" "$dir/mutant-$name.$(basename "${t%%:*}").log"; then
                verdict="killed by $t"
                break
            fi
        done
    fi
    # Back to the original, with a new time stamp so that make rebuilds.
    cp "$file.orig" "$file" && rm -f "$file.orig" && touch "$file"
    case $verdict in
    killed*) killed=$((killed + 1)); echo "killed: $name ($b, $verdict)" ;;
    survived) survived=$((survived + 1)); echo "SURVIVED: $name ($b: ${tests[$i]} all pass)" ;;
    esac
done
if [ "$broken" -gt 0 ]; then
    echo "mutants: $killed killed, $survived survived, $broken broken"
else
    echo "mutants: $killed killed, $survived survived"
fi
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
