/* GnuTLS backend: session state shared by its files. */
#ifndef DK_GNUTLS_SESSION_H
#define DK_GNUTLS_SESSION_H

#include "gnutls_backend.h"

#endif
