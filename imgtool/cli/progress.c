/*
 * qemu-img's simple progress printer (util/qemu-progress.c).
 *
 * State is a percentage; the caller adds deltas, and the line is redrawn
 * only when it advanced by at least min_skip percent since the last
 * redraw, or reached 100 %.  The first call prints "(0.00/100%)".
 */
#include "progress.h"

#include <stdio.h>

static struct {
    bool enabled;
    float current, last_print, min_skip;
} state;

static void draw(void)
{
    printf("    (%3.2f/100%%)\r", state.current);
    fflush(stdout);
}

void progress_init(bool enabled, float min_skip)
{
    state.enabled = enabled;
    state.current = 0;
    state.last_print = 0;
    state.min_skip = min_skip;
    if (enabled) {
        draw();
    }
}

void progress_print(float delta, int max)
{
    if (!state.enabled) {
        return;
    }
    /* qemu_progress_print(): delta is a share of `max` percent, or with
     * max 0 the new absolute value. */
    float current = max == 0 ? delta : state.current + delta / 100 * max;
    if (current > 100) {
        current = 100;
    }
    state.current = current;
    if (current > state.last_print + state.min_skip || current == 100 || current == 0) {
        state.last_print = current;
        draw();
    }
}

void progress_end(void)
{
    if (state.enabled) {
        draw();
        printf("\n");
        fflush(stdout);
    }
}

void progress_done(void)
{
    /* qemu-img convert ends with qemu_progress_print(100, 0), which always
     * draws at 100 %, then qemu_progress_end(), which adds the newline. */
    if (state.enabled) {
        progress_print(100, 0);
        printf("\n");
        fflush(stdout);
    }
}
