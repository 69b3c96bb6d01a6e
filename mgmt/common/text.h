/*
 * Small text helpers the management front-ends share.
 */
#ifndef HVKIT_MGMT_TEXT_H
#define HVKIT_MGMT_TEXT_H

#include <stdbool.h>
#include <stdio.h>

/* A fresh random (version 4, RFC 4122) UUID in its 36-character text form,
 * as libvirt and Xen give a domain or pool defined without one. */
void uuid_new(char out[37]);

/* Is `s` a UUID in text form (8-4-4-4-12 hex digits)? */
bool uuid_valid(const char *s);

/* The index of `s` in `list` (ended by NULL), or -1 when it is not there. */
int str_list_index(const char *const *list, const char *s);

/* Write text for an XML element or attribute, escaping XML's five special
 * characters. */
void xml_put(FILE *out, const char *s);

#endif
