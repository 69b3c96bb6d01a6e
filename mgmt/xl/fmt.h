/*
 * fmt: the small pieces of xl's input and output that need no domain --
 * memory sizes, CPU ranges, uptimes, state letters -- kept apart so the
 * unit tests check them against xl(1)'s rules.
 */
#ifndef HVKIT_XL_FMT_H
#define HVKIT_XL_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A memory size as xl mem-set and mem-max take it: a number with an
 * optional unit b, k, m (the default), g or t (either case), in KiB; -1
 * when it is not one. */
long long xl_mem_kb(const char *s);

/* The CPUs xl vcpu-pin and xl.cfg's cpus= name ("all", "3", "0-2",
 * "0-3,^1", ...) as a bitmap of `ncpus` CPUs (at most 64).  0, or -1 after
 * printing xl's message to `err` ("Invalid pcpu range: X."). */
int xl_cpumap_parse(const char *s, int ncpus, uint64_t *map, FILE *err);

/* The bitmap as xl prints one: "all" when every CPU is in it, "none" when
 * none is, else ranges such as "0-2,5". */
void xl_cpumap_print(uint64_t map, int ncpus, char *out, size_t len);

/* xl uptime's time: "H:MM:SS", "1 day,  H:MM:SS", "N days, ..." (short:
 * without the seconds). */
void xl_uptime_str(unsigned long secs, bool short_mode, char *out, size_t len);

/* The six letters of xl list's State for a state name of the control
 * protocol (running blocked paused shutdown crashed dying). */
const char *xl_state_letters(const char *state);

/* xentop's six state letters (d s b c p r, in that order) for it. */
const char *xl_xentop_letters(const char *state);

/* Xen's device number for a disk's vdev name (libxl's
 * libxl__device_disk_dev_number): xvda 51712, hda 768, sda 2048, ...; -1
 * for a name Xen does not number. */
int xl_vdev_number(const char *vdev);

#endif
