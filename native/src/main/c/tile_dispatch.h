/*
 * Register-tile dispatch for the AVX-512 kernels: a tile function written for compile-time MR x NV (rows x
 * vectors of 16 columns) is instantiated for every tail shape, so each instance keeps its accumulators in
 * registers (a runtime-sized tile would live in memory).
 */
#ifndef VIDITQ_TILE_DISPATCH_H
#define VIDITQ_TILE_DISPATCH_H

/* Instantiates TILE(MR, NV, ...) for every row count 1..MAXR and vector count 1..3. */
#define DISPATCH_NV(TILE, MR, nv, ...)                    \
    switch (nv) {                                         \
        case 1: TILE(MR, 1, __VA_ARGS__); break;          \
        case 2: TILE(MR, 2, __VA_ARGS__); break;          \
        default: TILE(MR, 3, __VA_ARGS__); break;         \
    }

#define DISPATCH_TILE8(TILE, mr, nv, ...)                        \
    switch (mr) {                                                \
        case 8: DISPATCH_NV(TILE, 8, nv, __VA_ARGS__) break;     \
        case 7: DISPATCH_NV(TILE, 7, nv, __VA_ARGS__) break;     \
        case 6: DISPATCH_NV(TILE, 6, nv, __VA_ARGS__) break;     \
        case 5: DISPATCH_NV(TILE, 5, nv, __VA_ARGS__) break;     \
        case 4: DISPATCH_NV(TILE, 4, nv, __VA_ARGS__) break;     \
        case 3: DISPATCH_NV(TILE, 3, nv, __VA_ARGS__) break;     \
        case 2: DISPATCH_NV(TILE, 2, nv, __VA_ARGS__) break;     \
        default: DISPATCH_NV(TILE, 1, nv, __VA_ARGS__) break;    \
    }

#define DISPATCH_TILE4(TILE, mr, nv, ...)                        \
    switch (mr) {                                                \
        case 4: DISPATCH_NV(TILE, 4, nv, __VA_ARGS__) break;     \
        case 3: DISPATCH_NV(TILE, 3, nv, __VA_ARGS__) break;     \
        case 2: DISPATCH_NV(TILE, 2, nv, __VA_ARGS__) break;     \
        default: DISPATCH_NV(TILE, 1, nv, __VA_ARGS__) break;    \
    }

#endif
