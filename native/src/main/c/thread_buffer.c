/*
 * Buffers kept per thread and grown as needed (viditq.h, vq_thread_buffer): kernel calls come from the same pool threads
 * again and again, and a buffer allocated per call (mmap above 128 KiB) would be faulted in afresh every time.
 * Freed when the thread ends.
 */
#include <pthread.h>
#include <stdlib.h>

#include "viditq.h"

typedef struct {
    void *p[VQ_SCRATCH_SLOTS];
    size_t size[VQ_SCRATCH_SLOTS];
} scratch_set;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *v) {
    scratch_set *s = (scratch_set *)v;
    for (int i = 0; i < VQ_SCRATCH_SLOTS; i++) free(s->p[i]);
    free(s);
}

static void scratch_init(void) {
    pthread_key_create(&scratch_key, scratch_free);
}

void *vq_thread_buffer(int slot, size_t bytes) {
    pthread_once(&scratch_once, scratch_init);
    scratch_set *s = (scratch_set *)pthread_getspecific(scratch_key);
    if (!s) {
        s = (scratch_set *)calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->size[slot] < bytes) {
        free(s->p[slot]);
        s->p[slot] = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
        s->size[slot] = s->p[slot] ? bytes : 0;
    }
    return s->p[slot];
}
