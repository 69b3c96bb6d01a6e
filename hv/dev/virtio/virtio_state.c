/*
 * virtio_state.c: the vmstate serialiser of a virtio-mmio transport (see
 * dev/devstate.h): the registers a driver set (virtio 1.2, 4.2.2 "MMIO
 * Device Register Layout") and each split virtqueue's place in its rings
 * (2.7 "Split Virtqueues").
 *
 * The rings themselves are guest RAM and travel with it; the device keeps
 * only its indexes into them.  A request is never in flight between two
 * exits (the devices finish each notification before returning), so no
 * descriptor chain needs saving.
 */
#include "dev/devstate.h"

/* One queue: its size, readiness, ring addresses, the features that
 * change how the rings are read, and the three indexes. */
static void virtq_state(struct vms *v, struct virtq *q)
{
    vms_u16(v, &q->size);
    vms_bool(v, &q->ready);
    vms_u64(v, &q->desc);
    vms_u64(v, &q->avail);
    vms_u64(v, &q->used);
    vms_bool(v, &q->event_idx);
    vms_bool(v, &q->indirect);
    vms_u16(v, &q->last_avail);
    vms_u16(v, &q->used_idx);
    vms_u16(v, &q->signalled_used);
    /* "Queue Size value is always a power of 2" (2.7 "Split
     * Virtqueues"), and never more than the device offers (QueueNumMax). */
    vms_check(v, q->size <= VIRTQ_MAX_SIZE && !(q->size & (q->size - 1)), "a queue's size");
}

/*
 * The transport.  The device behind it is named by its device ID, which
 * must be the one the domain has at the same window: a state saved with a
 * block device is not loaded into a console.  Which messages were already
 * logged is kept too, so a restored guest is not warned twice.
 */
void virtio_mmio_state(struct vms *v, struct virtio_mmio *t)
{
    uint32_t device_id = t->dev->device_id;
    vms_u32(v, &device_id);
    vms_check(v, device_id == t->dev->device_id, "the device ID");
    vms_u32(v, &t->status);
    vms_u32(v, &t->dev_feat_sel);
    vms_u32(v, &t->drv_feat_sel);
    vms_u32(v, &t->queue_sel);
    vms_u64(v, &t->driver_features);
    vms_u32(v, &t->isr);
    vms_u32(v, &t->generation);
    vms_u32(v, &t->logged);
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
        virtq_state(v, &t->vq[i]);
    /* Once FEATURES_OK is set the driver has accepted only features the
     * device offered (2.2 "Feature Bits"; the transport refuses the bit
     * otherwise). */
    vms_check(v,
              !(t->status & VIRTIO_STATUS_FEATURES_OK) || !(t->driver_features & ~t->dev->features),
              "the driver's features");
}
