/*
 * core-pairs [SECONDS]: which logical CPUs share a physical core's AMX unit (a VM's vCPUs may be hyperthreads of
 * the host although lscpu inside says one thread per core). Runs the tile-only AMX-INT8 loop pinned to CPU 0 alone,
 * then on CPU 0 and CPU k together for every k, then on all CPUs, then on the first half and on the even CPUs; prints
 * each run's GOP/s per thread. A sibling of CPU 0 shows as a pair whose threads each get about half of CPU 0 alone.
 * Build: gcc -O2 -mamx-tile -mamx-int8 -pthread dev/amx/core-pairs.c -o core-pairs (Linux >= 5.16, AMX).
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

typedef struct __attribute__((aligned(64))) {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

typedef struct {
    int cpu;
    double seconds;
    double gops;
    pthread_barrier_t *start;
} job;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *run(void *arg) {
    job *j = (job *)arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(j->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    tile_config cfg = {0};
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    static const uint8_t ones[1024] __attribute__((aligned(64))) = {0};
    _tile_loadconfig(&cfg);
    _tile_loadd(4, ones, 64);
    _tile_loadd(5, ones, 64);
    _tile_loadd(6, ones, 64);
    _tile_loadd(7, ones, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    pthread_barrier_wait(j->start);
    int64_t iters = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 1000; i++) {
            _tile_dpbssd(0, 4, 6);
            _tile_dpbssd(1, 4, 7);
            _tile_dpbssd(2, 5, 6);
            _tile_dpbssd(3, 5, 7);
        }
        iters += 1000;
        t = now();
    } while (t - t0 < j->seconds);
    int32_t out[256] __attribute__((aligned(64)));
    _tile_stored(0, out, 64);
    _tile_release();
    j->gops = iters * 4.0 * 16 * 16 * 64 * 2 / (t - t0) / 1e9;
    return NULL;
}

/* Runs the loop on the given CPUs at once and prints each thread's GOP/s. */
static void together(const char *label, const int *cpus, int n, double seconds) {
    pthread_t th[256];
    job jobs[256];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, n);
    for (int i = 0; i < n; i++) {
        jobs[i] = (job){cpus[i], seconds, 0, &start};
        pthread_create(&th[i], NULL, run, &jobs[i]);
    }
    double sum = 0;
    printf("%-12s", label);
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        sum += jobs[i].gops;
    }
    for (int i = 0; i < n; i++) printf(" %d:%.0f", cpus[i], jobs[i].gops);
    printf("  | total %.0f GOP/s\n", sum);
    fflush(stdout);
    pthread_barrier_destroy(&start);
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 0.3;
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) {
        perror("arch_prctl(ARCH_REQ_XCOMP_PERM)");
        return 1;
    }
    int n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n > 256) n = 256;
    int cpus[256];
    cpus[0] = 0;
    together("alone", cpus, 1, seconds);
    for (int k = 1; k < n; k++) {
        int pair[2] = {0, k};
        char label[32];
        snprintf(label, sizeof label, "pair 0+%d", k);
        together(label, pair, 2, seconds);
    }
    for (int i = 0; i < n; i++) cpus[i] = i;
    together("all", cpus, n, seconds);
    together("first half", cpus, n / 2, seconds);
    for (int i = 0; i < n / 2; i++) cpus[i] = 2 * i;
    together("even", cpus, n / 2, seconds);
    together("alone again", cpus, 1, seconds);
    return 0;
}
