/*
 * --object: user-creatable QEMU objects on the qemu-img command line.
 *
 * qemu-img creates them before opening any image; they matter for
 * encrypted images (secret), network protocols (tls-creds-*) and I/O
 * throttling, none of which imgtool has.  So a definition is checked with
 * qemu-img's messages and then dropped: scripts that pass --object secret
 * for a plain image keep working, and a wrong definition fails as in
 * qemu-img.
 */
#include "imgspec.h"

#include <string.h>

/* The types qemu-img 7.2 can create, as `qemu-img info --object help`
 * lists them. */
static const char *const types[] = {
    "authz-list",     "authz-list-file", "authz-simple",   "main-loop",      "pr-manager-helper",
    "secret",         "secret_keyring",  "thread-context", "throttle-group", "tls-cipher-suites",
    "tls-creds-anon", "tls-creds-psk",   "tls-creds-x509",
};

/* Some QOM types of the system emulators, which qemu-img knows by name
 * (QAPI's ObjectType) but cannot create. */
static const char *const emulator_types[] = {
    "iothread", "rng-random", "rng-builtin", "can-bus", "cryptodev-backend-builtin",
};

/* The properties of secret objects (`--object secret,help`). */
static void secret_help(void)
{
    printf("secret options:\n"
           "  data=<string>\n"
           "  file=<string>\n"
           "  format=<QCryptoSecretFormat>\n"
           "  iv=<string>\n"
           "  keyid=<string>\n");
}

int object_add(const char *def)
{
    struct opts o = {0};
    int ret = 1;
    /* The first value may stand alone: it is the type ("qom-type"). */
    size_t n = strcspn(def, "=,");
    if (def[n] != '=') {
        char type[64];
        snprintf(type, sizeof(type), "%.*s", (int)n, def);
        if (!opts_set(&o, "qom-type", type) || (def[n] == ',' && !opts_parse(&o, def + n + 1))) {
            goto out;
        }
    } else if (!opts_parse(&o, def)) {
        goto out;
    }
    const char *type = opts_get(&o, "qom-type");
    if (type && !strcmp(type, "help")) {
        printf("List of user creatable objects:\n");
        for (size_t i = 0; i < KARRAY_SIZE_CLI(types); i++) {
            printf("  %s\n", types[i]);
        }
        ret = 2;
        goto out;
    }
    if (!type) {
        error_report("Parameter 'qom-type' is missing");
        goto out;
    }
    bool known = false;
    for (size_t i = 0; i < KARRAY_SIZE_CLI(types); i++) {
        known = known || !strcmp(type, types[i]);
    }
    for (size_t i = 0; i < KARRAY_SIZE_CLI(emulator_types) && !known; i++) {
        if (!strcmp(type, emulator_types[i])) {
            error_report("invalid object type: %s", type);
            goto out;
        }
    }
    if (!known) {
        error_report("Parameter 'qom-type' does not accept value '%s'", type);
        goto out;
    }
    if (opts_has(&o, "help")) {
        if (!strcmp(type, "secret")) {
            secret_help();
            ret = 2;
        } else {
            error_report("%s: no help for this object type in imgtool", type);
        }
        goto out;
    }
    if (!opts_has(&o, "id")) {
        error_report("Parameter 'id' is missing");
        goto out;
    }
    /* A secret needs its value from somewhere (crypto/secret.c). */
    if (!strcmp(type, "secret") && !opts_has(&o, "data") && !opts_has(&o, "file")) {
        error_report("Either 'file' or 'data' must be provided");
        goto out;
    }
    ret = 0;
out:
    opts_free(&o);
    return ret;
}
