/* The stats side of bench/PROTOCOL.md shared by the dtlskit and raw echo
 * servers: signal flags, CPU time and resident size. Header-only: each
 * benchmark server is one program. */
#ifndef DK_BENCH_STATS_H
#define DK_BENCH_STATS_H

#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

/* Instruction counts (bench/PROTOCOL.md, "Instructions"): under callgrind
 * the server zeroes its counters once it is set up (bench_measure_start,
 * just before "ready") and dumps them at every stats line
 * (bench_measure_dump), so that a dump holds the serving loop only: no
 * start-up, no teardown. Outside valgrind both are a few no-op
 * instructions; without valgrind's header they are nothing. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_CALLGRIND 1
#endif
#endif

static inline void bench_measure_start(void)
{
#ifdef BENCH_CALLGRIND
    CALLGRIND_ZERO_STATS;
#endif
}

static inline void bench_measure_dump(void)
{
#ifdef BENCH_CALLGRIND
    CALLGRIND_DUMP_STATS;
#endif
}

static volatile sig_atomic_t want_stats, stop;

static void on_usr1(int sig)
{
    (void)sig;
    want_stats = 1;
}

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

/* SIGUSR1 asks for a stats line, SIGTERM/SIGINT stop the loop. */
static inline void bench_signals(void)
{
    signal(SIGUSR1, on_usr1);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
}

/* User + system CPU time of the process, microseconds. */
static inline long long cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

/* Current resident set size, KiB. */
static inline long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

#endif
