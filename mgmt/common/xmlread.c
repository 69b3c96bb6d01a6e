/*
 * Reading libvirt-style XML with libxml2 (see xmlread.h).
 */
#include "xmlread.h"

#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

xmlNode *xml_child(xmlNode *node, const char *name)
{
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, BAD_CAST name))
            return c;
    }
    return NULL;
}

/* Copy libxml2's string into a fixed buffer; false if it does not fit. */
static bool copy_out(xmlChar *text, char *out, size_t len)
{
    bool ok = text && strlen((const char *)text) < len;
    if (ok)
        memcpy(out, text, strlen((const char *)text) + 1);
    xmlFree(text);
    return ok;
}

bool xml_text(xmlNode *node, char *out, size_t len)
{
    return node && copy_out(xmlNodeGetContent(node), out, len);
}

bool xml_child_text(xmlNode *node, const char *name, char *out, size_t len)
{
    return xml_text(xml_child(node, name), out, len);
}

bool xml_attr(xmlNode *node, const char *name, char *out, size_t len)
{
    return node && copy_out(xmlGetProp(node, BAD_CAST name), out, len);
}

/* A document libxml2 read, or NULL with its reason in why. */
static xmlDoc *checked(xmlDoc *doc, const char *what, char *why, size_t whylen)
{
    if (!doc) {
        const xmlError *e = xmlGetLastError();
        char msg[256] = "not well-formed";
        if (e && e->message) {
            snprintf(msg, sizeof(msg), "%s", e->message);
            msg[strcspn(msg, "\n")] = '\0';
        }
        snprintf(why, whylen, "(%s):%d: %s", what, e ? e->line : 0, msg);
    }
    return doc;
}

/* No network access for external entities, and no messages on stderr:
 * the caller prints the reason in libvirt's form. */
#define READ_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

xmlDoc *xml_read(const char *path, const char *what, char *why, size_t whylen)
{
    return checked(xmlReadFile(path, NULL, READ_OPTIONS), what, why, whylen);
}

xmlDoc *xml_read_text(const char *text, size_t len, const char *what, char *why, size_t whylen)
{
    return checked(xmlReadMemory(text, (int)len, what, NULL, READ_OPTIONS), what, why, whylen);
}
