/* Internal: library initialisation and access to the compiled-in backend. */
#ifndef DK_CORE_LIBRARY_H
#define DK_CORE_LIBRARY_H

#include <stddef.h>

#include <dtlskit/backend.h>
#include <dtlskit/dtlskit.h>

/* The backend compiled in. */
#define DK__BK (&dk_backend_impl)

/* True when op group `grp` (e.g. key) of the backend declares `member` and
 * sets it: a backend compiled against an older, shorter group lacks it. */
#define DK__BK_HAS(grp, member)                                                                    \
    (DK__BK->grp &&                                                                                \
     offsetof(__typeof__(*DK__BK->grp), member) + sizeof(DK__BK->grp->member) <=                   \
         DK__BK->grp->size &&                                                                      \
     DK__BK->grp->member != NULL)

/* Room for a backend's reason text. */
#define DK__REASON_CAP 200

#endif
