/* File input and output. */
#include "file.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

dk_err dk__file_read(const char *func, const char *path, uint8_t **out, size_t *len)
{
    if (!path)
        return dk__fail(DK_ERR_INVALID, func, "path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dk__fail(DK_ERR_IO, func, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)DK__FILE_MAX) {
        close(fd);
        return dk__fail(DK_ERR_IO, func, "'%s' is not a regular file under %u bytes", path,
                        DK__FILE_MAX);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return dk__fail(DK_ERR_NOMEM, func, "out of memory");
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            free(buf);
            close(fd);
            return dk__fail(DK_ERR_IO, func, "cannot read '%s': %s", path, strerror(e));
        }
        got += (size_t)n;
    }
    close(fd);
    buf[size] = '\0';
    *out = buf;
    *len = size;
    return DK_OK;
}

dk_err dk__file_write(const char *func, const char *path, const void *data, size_t len,
                      unsigned mode)
{
    if (!path)
        return dk__fail(DK_ERR_INVALID, func, "path is NULL");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return dk__fail(DK_ERR_IO, func, "cannot create '%s': %s", path, strerror(errno));
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            return dk__fail(DK_ERR_IO, func, "cannot write '%s': %s", path, strerror(e));
        }
        p += n;
        left -= (size_t)n;
    }
    if (close(fd) < 0)
        return dk__fail(DK_ERR_IO, func, "cannot write '%s': %s", path, strerror(errno));
    return DK_OK;
}

dk_err dk__file_read_private(const char *func, const char *path, uint8_t *out, size_t cap,
                             size_t *len)
{
    if (!path)
        return dk__fail(DK_ERR_INVALID, func, "path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dk__fail(DK_ERR_IO, func, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    dk_err e = DK_OK;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        e = dk__fail(DK_ERR_IO, func, "'%s' is not a regular file", path);
    else if (st.st_uid != geteuid() && st.st_uid != 0)
        e = dk__fail(DK_ERR_PERMISSION, func,
                     "'%s' belongs to uid %u: only the process's user (%u) or root may own a "
                     "secret file",
                     path, (unsigned)st.st_uid, (unsigned)geteuid());
    else if (st.st_mode & 077)
        e = dk__fail(DK_ERR_PERMISSION, func,
                     "'%s' has mode %04o: others than its owner may read or change it (0600 or "
                     "0400 wanted)",
                     path, (unsigned)(st.st_mode & 07777));
    else if ((uintmax_t)st.st_size > cap)
        e = dk__fail(DK_ERR_PARSE, func, "'%s' has %jd bytes: a secret file has %zu at most", path,
                     (intmax_t)st.st_size, cap);
    size_t got = 0;
    while (e == DK_OK && got < cap) {
        ssize_t n = read(fd, out + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            e = dk__fail(DK_ERR_IO, func, "cannot read '%s': %s", path, strerror(errno));
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (e != DK_OK) {
        explicit_bzero(out, cap);
        return e;
    }
    *len = got;
    return DK_OK;
}
