/* Prints the core's own memory per established session (keys, counters
 * and window included: the backend's session exists during the handshake
 * only) for the README's memory figures. Built against the internal
 * headers. */
#include <stdio.h>

#include "dtls_internal.h"
#include "library.h"
#include "udp_internal.h"

int main(void)
{
    dk_init();
    size_t udp = sizeof(struct dk_udp_peer), dtls = sizeof(struct dk_dtls_peer);
    size_t table = sizeof(void *); /* one bucket per peer at full load */
    size_t backend = DK__BK->session->session_size;
    printf("%s %s\n", dk_backend_name(), dk_backend_version());
    printf("core_bytes_per_peer %zu udp_peer %zu dtls_peer %zu table %zu "
           "backend_session_during_handshake %zu\n",
           udp + dtls + table, udp, dtls, table, backend);
    return 0;
}
