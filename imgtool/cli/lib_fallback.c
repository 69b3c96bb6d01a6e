/*
 * Weak stand-ins for library calls the CLI asked for (the "REQUEST(cli)"
 * declarations at the end of img.h) and the library does not implement
 * yet.  Each reports -IMG_ENOTSUP, which the verbs turn into a clear
 * message.  When the library defines the function, its definition wins
 * over these at link time and the verbs use it without any change here.
 */
#include "img.h"

__attribute__((weak)) int img_make_empty(struct img *img)
{
    (void)img;
    return -IMG_ENOTSUP;
}

__attribute__((weak)) int img_snapshot_load_tmp(struct img *img, const char *id, const char *name)
{
    (void)img, (void)id, (void)name;
    return -IMG_ENOTSUP;
}
