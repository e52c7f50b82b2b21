/* A tiny ring buffer with a test driver, used as a C smoke sample. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#define RING_DEFAULT_CAP 8
#define MIN(a, b) ((a) < (b) ? (a) : (b))

typedef enum { RING_OK = 0, RING_FULL, RING_EMPTY, RING_NOMEM } ring_status;

typedef struct {
    int32_t *data;
    size_t cap;
    size_t head;
    size_t len;
} ring_t;

static ring_status ring_init(ring_t *r, size_t cap)
{
    r->data = calloc(cap ? cap : RING_DEFAULT_CAP, sizeof *r->data);
    if (r->data == NULL) {
        return RING_NOMEM;
    }
    r->cap = cap ? cap : RING_DEFAULT_CAP;
    r->head = r->len = 0;
    return RING_OK;
}

static ring_status ring_push(ring_t *r, int32_t value)
{
    if (r->len == r->cap)
        return RING_FULL;
    r->data[(r->head + r->len) % r->cap] = value;
    r->len++;
    return RING_OK;
}

static ring_status ring_pop(ring_t *r, int32_t *out)
{
    if (r->len == 0)
        return RING_EMPTY;
    *out = r->data[r->head];
    r->head = (r->head + 1) % r->cap;
    --r->len;
    return RING_OK;
}

static const char *status_name(ring_status s)
{
    switch (s) {
    case RING_OK:    return "ok";
    case RING_FULL:  return "full";
    case RING_EMPTY: return "empty";
    default:         return "out of memory";
    }
}

int main(int argc, char **argv)
{
    ring_t ring;
    size_t cap = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 4;
    const char label[] = "ring";
    double fill_ratio = 0.0;

    if (ring_init(&ring, cap) != RING_OK) {
        fprintf(stderr, "%s: allocation failed\n", label);
        return EXIT_FAILURE;
    }

    for (int i = 0; i < 6; i++) {
        ring_status st = ring_push(&ring, i * i);
        printf("push %d -> %s\n", i * i, status_name(st));
    }
    fill_ratio = (double)ring.len / ring.cap;
    printf("fill ratio: %.2f (0x%zx items, '%c')\n", fill_ratio, ring.len, label[0]);

    int32_t v;
    size_t drained = 0;
    while (ring_pop(&ring, &v) == RING_OK) {
        drained++;
        printf("pop %d\n", v);
    }
    printf("drained %zu of %zu\n", drained, MIN(cap, (size_t)6));

    free(ring.data);
    return strlen(label) > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
