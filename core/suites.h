/* Internal: the cipher suite policy. The core decides which suites a
 * context offers or accepts (IANA ids, most preferred first); backends only
 * translate the list for their library. */
#ifndef DK_CORE_SUITES_H
#define DK_CORE_SUITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DK__SUITES_MAX 32

/* The credentials a context has, which decide the suites it can use. */
typedef struct dk__creds {
    bool server;
    bool cert;    /* server: own certificate; client: accepts certificate suites */
    int key_type; /* server with a certificate: DK_KEY_RSA or DK_KEY_EC */
    bool psk;
} dk__creds;

/* The linked library negotiates `id` and the core protects it. */
bool dk__suite_available(uint16_t id);

/* `id` is a PSK suite (plain or ECDHE-PSK). */
bool dk__suite_is_psk(uint16_t id);

/* The suites for a context: `wanted` (NULL: the default order) filtered to
 * available suites the credentials can use. Returns how many were written
 * to `out` (0: none left). */
size_t dk__suites_select(const uint16_t *wanted, size_t n, const dk__creds *creds,
                         uint16_t out[DK__SUITES_MAX]);

/* Longest PSK the library takes (0: no PSK), at most DK_PSK_KEY_MAX. */
size_t dk__psk_key_max(void);

/* DK_CAP_PSK and DK_CAP_CCM8 as the library's answers make them. */
uint32_t dk__suites_caps(void);

#endif
