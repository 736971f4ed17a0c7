/** @file
 * dtlskit — error codes.
 *
 * Every fallible call returns a dk_err: DK_OK (0) on success, a negative code
 * otherwise. Constructors return NULL and store the code in an optional
 * `dk_err *err` out-parameter. In both cases a human-readable sentence naming
 * the call and the cause is kept per thread and read with dk_last_error().
 */
#ifndef DTLSKIT_ERROR_H
#define DTLSKIT_ERROR_H

#include <dtlskit/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Result of every fallible call: DK_OK (0) or a negative error code. */
typedef enum dk_err {
    /** Success. */
    DK_OK = 0,
    /** An argument is NULL, out of range or malformed. */
    DK_ERR_INVALID = -1,
    /** The object is not in a state that allows this call (not listening,
     *  not connected, already bound, stopped...). */
    DK_ERR_STATE = -2,
    /** Memory allocation failed. */
    DK_ERR_NOMEM = -3,
    /** Nothing is available now (no packet queued, no connection pending);
     *  try again after the next poll. */
    DK_ERR_WOULD_BLOCK = -4,
    /** The packet is larger than the limit that applies (maximum datagram
     *  size, maximum record payload for the MTU). Nothing was sent. */
    DK_ERR_TOO_BIG = -5,
    /** The caller's buffer cannot hold the next packet. The packet stays
     *  queued; the needed size is reported through the length out-parameter. */
    DK_ERR_BUFFER_TOO_SMALL = -6,
    /** A host name could not be resolved. */
    DK_ERR_RESOLVE = -7,
    /** A socket call failed; dk_last_error() carries the system's reason. */
    DK_ERR_SOCKET = -8,
    /** The address and port are already in use. */
    DK_ERR_ADDR_IN_USE = -9,
    /** Not supported by this build, this backend or this system. */
    DK_ERR_UNAVAILABLE = -10,
    /** Malformed input: PEM, DER, certificate or key data. */
    DK_ERR_PARSE = -11,
    /** An encrypted key needs a password, or the password is wrong. */
    DK_ERR_PASSWORD = -12,
    /** A file could not be read or written. */
    DK_ERR_IO = -13,
    /** The TLS library reported a failure; dk_last_error() has its reason. */
    DK_ERR_TLS = -14,
    /** The DTLS handshake failed (protocol alert, no shared cipher...). */
    DK_ERR_HANDSHAKE = -15,
    /** The peer's certificate did not verify (untrusted, expired...). */
    DK_ERR_CERT_VERIFY = -16,
    /** The peer's certificate is valid but not for the expected host name. */
    DK_ERR_HOSTNAME = -17,
    /** An operation did not complete in the allowed time. */
    DK_ERR_TIMEOUT = -18,
    /** The peer closed the session, or the object was closed or stopped. */
    DK_ERR_CLOSED = -19,
    /** A bounded queue is full; the new item was not accepted. */
    DK_ERR_QUEUE_FULL = -20,
    /** The system refused the operation (privileged port, broadcast not
     *  enabled, no permission). */
    DK_ERR_PERMISSION = -21,
    /** A key does not match a certificate, or a key of the wrong kind. */
    DK_ERR_KEY_MISMATCH = -22,
    /** An internal invariant failed. Please report it. */
    DK_ERR_INTERNAL = -23,
    /** A signature does not verify (wrong key, altered data or signature,
     *  malformed signature). */
    DK_ERR_SIGNATURE = -24
} dk_err;

/** Short, constant description of an error code ("invalid argument").
 *  Unknown codes give "unknown error". Never NULL. */
DK_API const char *dk_strerror(dk_err err);

/** The detailed sentence for the last error on the calling thread, naming
 *  the function and the cause, e.g. "dk_udp_peer_connect_to_host: cannot
 *  resolve 'nosuch.invalid': Name or service not known". Valid until the next
 *  dtlskit call that fails on this thread. Empty string when none. */
DK_API const char *dk_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
