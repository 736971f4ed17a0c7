/* GnuTLS backend: signatures and RSA encryption (placeholder). */
#include "gnutls_backend.h"
