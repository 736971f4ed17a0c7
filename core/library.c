/* Library information and one-time initialisation of the backend. */
#include "library.h"
#include "suites.h"

#include <pthread.h>

#include "error.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static dk_err init_result = DK_ERR_INTERNAL;

static void do_init(void)
{
    if (DK__BK->abi_version != DK_BACKEND_ABI_VERSION || !DK__BK->library) {
        init_result = DK_ERR_INTERNAL;
        return;
    }
    init_result = DK__BK_HAS(library, init) ? DK__BK->library->init() : DK_OK;
}

dk_err dk_init(void)
{
    pthread_once(&init_once, do_init);
    if (init_result != DK_OK)
        return DK_FAIL(init_result, "backend '%s' failed to initialise", DK__BK->name);
    return DK_OK;
}

const char *dk_version(void)
{
    return DK_VERSION_STRING;
}

const char *dk_backend_name(void)
{
    return DK__BK->name;
}

const char *dk_backend_version(void)
{
    if (dk_init() != DK_OK || !DK__BK_HAS(library, version))
        return "";
    return DK__BK->library->version();
}

uint32_t dk_backend_caps(void)
{
    if (dk_init() != DK_OK || !DK__BK_HAS(library, caps))
        return 0;
    /* PSK and CCM-8 follow from the suites the library negotiates. */
    return (DK__BK->library->caps() & ~(DK_CAP_PSK | DK_CAP_CCM8)) | dk__suites_caps();
}
