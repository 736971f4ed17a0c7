/* File input and output. */
#include "file.h"

#include <errno.h>
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
