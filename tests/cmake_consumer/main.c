/* A consumer of the installed library (tests/cmake_consumer.sh): a few
 * calls through the public headers only. Prints one line, exits 0 when
 * every call worked. */
#include <dtlskit/dtlskit.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    if (dk_init() != DK_OK) {
        fprintf(stderr, "dk_init: %s\n", dk_last_error());
        return 1;
    }
    if (strcmp(dk_version(), DK_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", DK_VERSION_STRING, dk_version());
        return 1;
    }
    dk_udp_server *server = dk_udp_server_new(NULL);
    if (!server || dk_udp_server_listen(server, 0, "127.0.0.1") != DK_OK) {
        fprintf(stderr, "listen: %s\n", dk_last_error());
        dk_udp_server_free(server);
        return 1;
    }
    int port = dk_udp_server_get_local_port(server);
    dk_udp_server_free(server);
    printf("consumer: dtlskit %s, backend %s, listened on 127.0.0.1 port %d\n", dk_version(),
           dk_backend_name(), port);
    return port > 0 ? 0 : 1;
}
