/* Kernel randomness via getrandom(2), with /dev/urandom as fallback. */
#include "sysrand.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/random.h>
#include <unistd.h>

dk_err dk__sys_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (!len)
        return DK_OK;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return DK_ERR_INTERNAL;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            close(fd);
            return DK_ERR_INTERNAL;
        }
        p += n;
        len -= (size_t)n;
    }
    close(fd);
    return DK_OK;
}
