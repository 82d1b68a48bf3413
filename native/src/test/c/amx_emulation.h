/*
 * Test-only software model of the AMX tile instructions the kernels use, so that kernels_amx.c can be compiled
 * and its tiling, packing, tails and edge handling checked on a CPU without AMX (build.sh --amx-emulated).
 * Never part of the shipped library.
 *
 * Each thread has 8 tiles of up to 16 rows x 64 bytes and a configuration, as the hardware does. The model is
 * stricter than a silicon that would fault: every operation checks that the shapes of its tiles agree with the
 * loaded configuration (and aborts with a message when they do not), so a wrong configuration fails here and not
 * only on the AMX machine. Arithmetic follows the instruction definitions: TDPBSUD sums signed x unsigned byte
 * products into int32 (exact, wrapping); TDPBF16PS adds the two products of each bf16 pair to the float
 * accumulator one after the other, each product exact in float, with round-to-nearest-even, denormal inputs
 * and results flushed to zero, as the hardware does.
 */
#ifndef VIDITQ_AMX_EMULATION_H
#define VIDITQ_AMX_EMULATION_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int configured;
    uint8_t rows[8];
    uint16_t colsb[8];
    uint8_t data[8][16][64];
} vq_emu_state;

static _Thread_local vq_emu_state vq_emu;

static void vq_emu_fail(const char *what, int t) {
    fprintf(stderr, "[amx emulation] %s (tile %d)\n", what, t);
    abort();
}

static void vq_emu_check(int t) {
    if (!vq_emu.configured) vq_emu_fail("tile used before a configuration was loaded", t);
    if (t < 0 || t > 7 || vq_emu.rows[t] == 0 || vq_emu.colsb[t] == 0) vq_emu_fail("tile not configured", t);
}

/* The 64-byte configuration: palette 1, colsb[16] (uint16) at byte 16, rows[16] at byte 48. Zeroes all tiles. */
static void vq_emu_loadconfig(const void *cfg) {
    const uint8_t *c = (const uint8_t *)cfg;
    if (c[0] != 1) vq_emu_fail("palette must be 1", -1);
    memset(&vq_emu, 0, sizeof vq_emu);
    for (int t = 0; t < 8; t++) {
        uint16_t colsb;
        memcpy(&colsb, c + 16 + 2 * t, 2);
        vq_emu.rows[t] = c[48 + t];
        vq_emu.colsb[t] = colsb;
        if (vq_emu.rows[t] > 16 || colsb > 64) vq_emu_fail("tile larger than 16 rows x 64 bytes", t);
    }
    vq_emu.configured = 1;
}

static void vq_emu_release(void) {
    memset(&vq_emu, 0, sizeof vq_emu);
}

static void vq_emu_zero(int t) {
    vq_emu_check(t);
    memset(vq_emu.data[t], 0, sizeof vq_emu.data[t]);
}

static void vq_emu_load(int t, const void *base, long stride) {
    vq_emu_check(t);
    memset(vq_emu.data[t], 0, sizeof vq_emu.data[t]);
    for (int r = 0; r < vq_emu.rows[t]; r++) memcpy(vq_emu.data[t][r], (const uint8_t *)base + r * stride, vq_emu.colsb[t]);
}

static void vq_emu_store(int t, void *base, long stride) {
    vq_emu_check(t);
    for (int r = 0; r < vq_emu.rows[t]; r++) memcpy((uint8_t *)base + r * stride, vq_emu.data[t][r], vq_emu.colsb[t]);
}

/* The shape rules shared by both dot products: C is M x N dwords, A is M x K dwords, B is K x N dwords. */
static void vq_emu_check_shapes(int c, int a, int b) {
    vq_emu_check(c);
    vq_emu_check(a);
    vq_emu_check(b);
    if (vq_emu.rows[c] != vq_emu.rows[a]) vq_emu_fail("C and A rows differ", c);
    if (vq_emu.colsb[c] != vq_emu.colsb[b]) vq_emu_fail("C and B bytes per row differ", c);
    if (vq_emu.colsb[a] / 4 != vq_emu.rows[b]) vq_emu_fail("A dwords per row differ from B rows", a);
    if (c == a || c == b || a == b) vq_emu_fail("a dot product needs three different tiles", c);
}

static void vq_emu_dpbsud(int c, int a, int b) {
    vq_emu_check_shapes(c, a, b);
    for (int m = 0; m < vq_emu.rows[c]; m++) {
        for (int n = 0; n < vq_emu.colsb[c] / 4; n++) {
            int32_t acc;
            memcpy(&acc, vq_emu.data[c][m] + 4 * n, 4);
            uint32_t sum = (uint32_t)acc;
            for (int k = 0; k < vq_emu.colsb[a] / 4; k++) {
                for (int i = 0; i < 4; i++) {
                    sum += (uint32_t)((int32_t)(int8_t)vq_emu.data[a][m][4 * k + i] * (int32_t)vq_emu.data[b][k][4 * n + i]);
                }
            }
            acc = (int32_t)sum;
            memcpy(vq_emu.data[c][m] + 4 * n, &acc, 4);
        }
    }
}

static float vq_emu_bf16(const uint8_t *p) {
    uint32_t bits = (uint32_t)(p[0] | (p[1] << 8)) << 16;
    if ((bits & 0x7F800000u) == 0) bits &= 0x80000000u;   /* denormal in: zero */
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float vq_emu_ftz(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if ((bits & 0x7F800000u) == 0) bits &= 0x80000000u;
    memcpy(&f, &bits, 4);
    return f;
}

static void vq_emu_dpbf16ps(int c, int a, int b) {
    vq_emu_check_shapes(c, a, b);
    for (int m = 0; m < vq_emu.rows[c]; m++) {
        for (int n = 0; n < vq_emu.colsb[c] / 4; n++) {
            float acc;
            memcpy(&acc, vq_emu.data[c][m] + 4 * n, 4);
            for (int k = 0; k < vq_emu.colsb[a] / 4; k++) {
                for (int i = 0; i < 2; i++) {
                    float x = vq_emu_bf16(vq_emu.data[a][m] + 4 * k + 2 * i);
                    float y = vq_emu_bf16(vq_emu.data[b][k] + 4 * n + 2 * i);
                    acc = vq_emu_ftz(acc + x * y);   /* x * y is exact in float: one rounding */
                }
            }
            memcpy(vq_emu.data[c][m] + 4 * n, &acc, 4);
        }
    }
}

#define VQ_TILE_LOADCONFIG(cfg) vq_emu_loadconfig(cfg)
#define VQ_TILE_RELEASE() vq_emu_release()
#define VQ_TILE_ZERO(t) vq_emu_zero(t)
#define VQ_TILE_LOAD(t, base, stride) vq_emu_load(t, base, stride)
#define VQ_TILE_LOAD_T1(t, base, stride) vq_emu_load(t, base, stride)   /* a cache hint: same data */
#define VQ_TILE_STORE(t, base, stride) vq_emu_store(t, base, stride)
#define VQ_TILE_DPBSUD(c, a, b) vq_emu_dpbsud(c, a, b)
#define VQ_TILE_DPBF16PS(c, a, b) vq_emu_dpbf16ps(c, a, b)

#endif
