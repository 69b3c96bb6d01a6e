/*
 * Reading libvirt-style XML with libxml2: the few tree walks the parsers
 * of pool and domain XML need.
 */
#ifndef HVKIT_MGMT_XMLREAD_H
#define HVKIT_MGMT_XMLREAD_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

/* The first child element of `node` called `name`, or NULL (also when
 * `node` is NULL, so lookups can be chained). */
xmlNode *xml_child(xmlNode *node, const char *name);

/* Copy the text of `node` into `out`; false when it does not fit. */
bool xml_text(xmlNode *node, char *out, size_t len);

/* Copy the text of child element `name` into `out`; false when there is no
 * such element.  Text too long for `out` is refused too (false). */
bool xml_child_text(xmlNode *node, const char *name, char *out, size_t len);

/* Copy attribute `name` of `node` into `out`; false when it is absent or
 * too long. */
bool xml_attr(xmlNode *node, const char *name, char *out, size_t len);

/* Parse a file; on failure NULL, with libxml2's reason in `why`, in the
 * shape libvirt prints it ("(NAME):LINE: message"). */
xmlDoc *xml_read(const char *path, const char *what, char *why, size_t whylen);
/* The same from `len` bytes of text in memory. */
xmlDoc *xml_read_text(const char *text, size_t len, const char *what, char *why, size_t whylen);

#endif
