/* Internal: whole-file reads and writes for keys and certificates. */
#ifndef DK_CORE_FILE_H
#define DK_CORE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <dtlskit/error.h>

/* Largest key or certificate file accepted. */
#define DK__FILE_MAX (4u * 1024u * 1024u)

/* Reads `path` into a malloc'd buffer (NUL-terminated, not counted in
 * *len). Errors recorded against `func`: DK_ERR_IO. */
dk_err dk__file_read(const char *func, const char *path, uint8_t **out, size_t *len);

/* Writes `len` bytes to `path` (created with `mode`, truncated). */
dk_err dk__file_write(const char *func, const char *path, const void *data, size_t len,
                      unsigned mode);

/* Reads a secret of at most `cap` bytes from `path`, which must be a
 * regular file (links followed) owned by the effective user or root and
 * readable by its owner only. The checks are made on the open file, not
 * on the path. Errors: DK_ERR_PERMISSION, DK_ERR_IO, DK_ERR_PARSE (longer
 * than `cap`). */
dk_err dk__file_read_private(const char *func, const char *path, uint8_t *out, size_t cap,
                             size_t *len);

#endif
