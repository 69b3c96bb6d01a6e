/*
 * ImageInfo as qemu-img builds it (block/qapi.c bdrv_query_image_info),
 * shared by info and the Graphviz view of a backing chain.
 */
#ifndef IMGTOOL_INFO_BUILD_H
#define IMGTOOL_INFO_BUILD_H

#include "json.h"
#include "img.h"

/*
 * The ImageInfo dictionary of an opened image called `filename`.  Sets
 * *backing to the full (resolved) backing file name, malloc'd, or NULL.
 */
struct jv *image_info_build(struct img *img, const char *filename, char **backing,
                            char **backing_fmt);
/* Print one ImageInfo as bdrv_image_info_dump() does. */
void image_info_dump_human(const struct jv *info);
/* QEMU's snapshot table lines (bdrv_snapshot_dump); NULL for the header. */
void snapshot_dump(const struct img_snapshot_info *sn);
/* The snapshot table of an open image: the header line and one line per
 * snapshot (qemu-img snapshot -l, and imgtool dump). */
void snapshot_table(struct img *img);
/* Member lookup helpers. */
const struct jv *jv_get(const struct jv *obj, const char *key);

#endif
