/*
 * The tile operations of kernels_amx.c, by name: the AMX intrinsics, or with -DVQ_AMX_EMULATE the test-only
 * software model of native/src/test/c/amx_emulation.h (same arguments), so the same tile loops run and are
 * tested on CPUs without AMX. Tile numbers are literal constants: the intrinsics paste them into the instruction.
 */
#ifndef VIDITQ_AMX_TILES_H
#define VIDITQ_AMX_TILES_H

#include <stdint.h>

/* LDTILECFG's 64-byte operand (palette 1). */
typedef struct __attribute__((aligned(64))) {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} vq_tile_config;

#if defined(VQ_AMX_EMULATE)
#include "amx_emulation.h"
#else
#include <immintrin.h>
#define VQ_TILE_LOADCONFIG(cfg) _tile_loadconfig(cfg)
#define VQ_TILE_RELEASE() _tile_release()
#define VQ_TILE_ZERO(t) _tile_zero(t)
#define VQ_TILE_LOAD(t, base, stride) _tile_loadd(t, base, stride)
/* TILELOADDT1: the same load with a hint that the data will not be reused soon (see KBLOCK). */
#define VQ_TILE_LOAD_T1(t, base, stride) _tile_stream_loadd(t, base, stride)
#define VQ_TILE_STORE(t, base, stride) _tile_stored(t, base, stride)
#define VQ_TILE_DPBSUD(c, a, b) _tile_dpbsud(c, a, b)
#define VQ_TILE_DPBF16PS(c, a, b) _tile_dpbf16ps(c, a, b)
#endif

/* Every tile 16 rows x 64 bytes: the kernels use full tiles only (tails are padded in memory). */
static inline void vq_tiles_full(void) {
    vq_tile_config cfg = {0};
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    VQ_TILE_LOADCONFIG(&cfg);
}

#endif
