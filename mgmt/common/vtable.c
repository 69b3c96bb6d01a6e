/*
 * vtable: virsh's column tables (the layout is described in vtable.h).
 */
#include "vtable.h"

#include <stdlib.h>
#include <string.h>

struct vtable {
    int ncols;
    int nrows;    /* rows stored, the header being row 0 */
    int cap;      /* rows there is room for */
    char **cells; /* nrows * ncols strings, row by row */
};

/* Grow the cell array so one more row fits; abort on exhaustion, since a
 * front-end that cannot allocate a few strings cannot do anything useful. */
static void grow(struct vtable *t)
{
    if (t->nrows < t->cap)
        return;
    t->cap = t->cap ? 2 * t->cap : 8;
    t->cells = realloc(t->cells, sizeof(char *) * (size_t)t->cap * (size_t)t->ncols);
    if (!t->cells)
        abort();
}

struct vtable *vtable_new(int ncols, const char *const *headers)
{
    struct vtable *t = calloc(1, sizeof(*t));
    if (!t || ncols < 1 || ncols > VTABLE_MAX_COLS)
        abort(); /* a programming error: the tables are fixed in the code */
    t->ncols = ncols;
    vtable_add(t, headers);
    return t;
}

void vtable_add(struct vtable *t, const char *const *cells)
{
    grow(t);
    for (int c = 0; c < t->ncols; c++) {
        char *copy = strdup(cells[c] ? cells[c] : "");
        if (!copy)
            abort();
        t->cells[t->nrows * t->ncols + c] = copy;
    }
    t->nrows++;
}

/* One row: a leading space, each cell padded to its column's width, three
 * spaces between columns, and the last cell left unpadded. */
static void print_row(const struct vtable *t, int row, const size_t *width, FILE *out)
{
    fputc(' ', out);
    for (int c = 0; c < t->ncols; c++) {
        const char *cell = t->cells[row * t->ncols + c];
        if (c == t->ncols - 1) {
            fprintf(out, "%s\n", cell);
        } else {
            fprintf(out, "%-*s   ", (int)width[c], cell);
        }
    }
}

void vtable_print(const struct vtable *t, FILE *out, bool header)
{
    size_t width[VTABLE_MAX_COLS] = {0};
    size_t dashes = 0;

    /* A column is as wide as its widest cell, the header included. */
    for (int c = 0; c < t->ncols; c++) {
        for (int r = 0; r < t->nrows; r++) {
            size_t len = strlen(t->cells[r * t->ncols + c]);
            if (len > width[c])
                width[c] = len;
        }
        dashes += width[c] + 3;
    }
    if (header) {
        print_row(t, 0, width, out);
        for (size_t i = 0; i < dashes; i++)
            fputc('-', out);
        fputc('\n', out);
    }
    for (int r = 1; r < t->nrows; r++)
        print_row(t, r, width, out);
}

void vtable_free(struct vtable *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
