/* Internal: PEM armour (RFC 7468) for certificates: the core splits bundles
 * into DER blobs and encodes DER back, so backends only see DER. */
#ifndef DK_CORE_PEM_H
#define DK_CORE_PEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/error.h>

/* True when `data` looks like PEM text (has a "-----BEGIN " line). */
bool dk__pem_detect(const void *data, size_t len);

/* Calls `fn` with the decoded DER of every block labelled `label` (e.g.
 * "CERTIFICATE"), in order. Blocks with other labels are skipped. Returns
 * the number of blocks passed, or a negative dk_err: DK_ERR_PARSE for a
 * block that is cut off or is not valid base64, or the first error `fn`
 * returned. */
int dk__pem_each(const void *data, size_t len, const char *label,
                 dk_err (*fn)(void *user, const uint8_t *der, size_t der_len), void *user);

/* Appends the PEM block for `der` to the growing buffer *buf (malloc'd,
 * *len bytes used). DK_ERR_NOMEM on failure, leaving *buf valid. */
dk_err dk__pem_append(char **buf, size_t *len, const char *label, const uint8_t *der,
                      size_t der_len);

#endif
