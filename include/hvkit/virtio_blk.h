/*
 * The virtio block device's numbers from the spec (virtio 1.2, 5.2 "Block
 * Device"), shared by the two sides that speak it: hv's device model
 * (hv/dev/virtio/blk.c) and guestkit's driver (guestkit/runtime/virtio_blk.c).
 * One copy, so the device and the driver can never disagree on a value.
 */
#ifndef HVKIT_VIRTIO_BLK_H
#define HVKIT_VIRTIO_BLK_H

/* Feature bits (5.2.3 "Feature bits"). */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types (5.2.6 "Device Operation"). */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* The status byte the device writes last (5.2.6 "Device Operation"). */
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

/* Sectors are always 512 bytes in requests, whatever blk_size says. */
#define VIRTIO_BLK_SECTOR 512u
/* The identification string GET_ID returns: 20 bytes, not NUL-terminated
 * when all 20 are used. */
#define VIRTIO_BLK_ID_BYTES 20u

#endif
