/** @file
 * dtlskit — symbol export macro. The library is built with
 * -fvisibility=hidden; only declarations marked DK_API are exported.
 */
#ifndef DTLSKIT_EXPORT_H
#define DTLSKIT_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define DK_API __attribute__((visibility("default")))
#else
#define DK_API
#endif

#endif
