/*
 * May this process run AMX? Three conditions, checked once: the CPU has AMX-TILE, AMX-INT8 and AMX-BF16
 * (cpuid), the OS saves tile state (XCR0 bits 17 and 18), and Linux granted this process the 8 KiB tile data
 * state (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), Linux >= 5.16: without it the first tile
 * instruction faults). The reason it cannot is kept for Java to print once.
 *
 * Built with -DVQ_AMX_EMULATE (the test library of build.sh --amx-emulated), the tiles are a software model and
 * need only the AVX-512 features the epilogues use.
 */
#define _GNU_SOURCE   /* syscall() */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "viditq.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static int usable;
static char reason[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

int vq_cpu_avx512_vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma")
        && __builtin_cpu_supports("bmi2");
}

int vq_cpu_avx512_bf16(void) {
    __builtin_cpu_init();
    return vq_cpu_avx512_vnni() && __builtin_cpu_supports("avx512bf16");
}

#if defined(VQ_AMX_EMULATE)
static void probe(void) {
    usable = vq_cpu_avx512_bf16();
    if (!usable) snprintf(reason, sizeof reason, "emulated AMX needs AVX-512 VNNI and BF16 on this CPU (for the epilogues)");
}
#else
static unsigned long long xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void probe(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)
            || !(edx & (1u << 24)) || !(edx & (1u << 25)) || !(edx & (1u << 22))) {
        snprintf(reason, sizeof reason, "this CPU has no AMX-TILE/AMX-INT8/AMX-BF16");
        return;
    }
    if (!vq_cpu_avx512_bf16()) {
        snprintf(reason, sizeof reason, "this CPU has AMX but not AVX-512 VNNI and BF16, which the AMX kernels also use");
        return;
    }
    __get_cpuid(1, &eax, &ebx, &ecx, &edx);
    if (!(ecx & (1u << 27)) || (xcr0() & (3ull << 17)) != (3ull << 17)) {
        snprintf(reason, sizeof reason, "the operating system does not enable the AMX tile state (XCR0 bits 17-18)");
        return;
    }
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) {
        snprintf(reason, sizeof reason, "arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA) failed: %s (AMX needs Linux >= 5.16)",
                 strerror(errno));
        return;
    }
    unsigned long granted = 0;
    if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &granted) != 0 || !(granted & (1ul << XFEATURE_XTILEDATA))) {
        snprintf(reason, sizeof reason, "Linux did not grant the AMX tile data state to this process");
        return;
    }
    usable = 1;
}
#endif

int vq_amx_usable(void) {
    pthread_once(&once, probe);
    return usable;
}

/* The CPU vendor string of cpuid leaf 0, e.g. "GenuineIntel" or "AuthenticAMD". */
const char *vq_cpu_vendor(void) {
    static char vendor[13];
    unsigned int eax, regs[3];
    if (!vendor[0] && __get_cpuid(0, &eax, &regs[0], &regs[2], &regs[1])) memcpy(vendor, regs, 12);
    return vendor;
}

const char *vq_amx_reason(void) {
    pthread_once(&once, probe);
    return usable ? "" : reason;
}

#else

int vq_cpu_avx512_vnni(void) { return 0; }
int vq_cpu_avx512_bf16(void) { return 0; }
int vq_amx_usable(void) { return 0; }
const char *vq_amx_reason(void) { return "not an x86-64 CPU"; }
const char *vq_cpu_vendor(void) { return ""; }

#endif
