/*
 * Packs a float weight W [n][k] (F32, BF16 or F16, row-major, possibly unaligned: a memory-mapped checkpoint)
 * into the bf16 panel layout of viditq.h, once, when a model is loaded. Plain C: it runs once per weight.
 */
#include <string.h>
#include "viditq.h"

/* Round to nearest even; NaN stays a quiet NaN. Equal to Java's Tensor.floatToBf16. */
static uint16_t bf16_of(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x40);
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

/* IEEE half to float, exact (subnormal halves become normal floats). */
static float float_of_f16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu, bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else {
        int e = -1;
        do { man <<= 1; e++; } while (!(man & 0x400u));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3FFu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* dtype: 0 F32, 1 BF16, 2 F16. */
static uint16_t element(const uint8_t *w, int dtype, size_t i) {
    if (dtype == 1) {
        uint16_t v;
        memcpy(&v, w + 2 * i, 2);
        return v;
    }
    if (dtype == 2) {
        uint16_t h;
        memcpy(&h, w + 2 * i, 2);
        return bf16_of(float_of_f16(h));
    }
    float f;
    memcpy(&f, w + 4 * i, 4);
    return bf16_of(f);
}

/*
 * Rows [row0, row1) of W into dst, which holds npad * kpad elements and is zero where nothing is written.
 * Element (r, c) goes to panel r / VQ_NR, step c / 2, column r % VQ_NR, slot c % 2.
 */
VQ_EXPORT void viditq_bf16_pack(const void *w, int32_t dtype, int32_t n, int32_t k, int32_t kpad, int32_t row0,
                                int32_t row1, uint16_t *dst) {
    const uint8_t *src = (const uint8_t *)w;
    for (int r = row0; r < row1 && r < n; r++) {
        uint16_t *panel = dst + (size_t)(r / VQ_NR) * VQ_NR * kpad + (size_t)(r % VQ_NR) * 2;
        for (int c = 0; c < k; c++) panel[(size_t)(c / 2) * (VQ_STEP_BYTES / 2) + (c & 1)] = element(src, dtype, (size_t)r * k + c);
    }
}
