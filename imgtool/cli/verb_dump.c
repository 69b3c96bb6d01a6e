/*
 * imgtool dump: a guided tour of an image's metadata (imgtool only).
 *
 *   imgtool dump [-f fmt] [--all] filename
 *
 * Prints the qcow2 header field by field with what each value means, the
 * header extensions, the L1 table and every L2 table it points to (with
 * each entry decoded: standard, zero or compressed cluster, and where the
 * data lives in the file), the refcounts of the host clusters, and the
 * snapshot table.  Section names follow the qcow2 specification
 * (docs/interop/qcow2.txt in QEMU): "Header", "Header extensions",
 * "Cluster mapping", "Host cluster management", "Snapshots".  Without
 * --all, long tables are cut after 32 lines each.
 */
#include "cli.h"
#include "img.h"
#include "info_build.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#define LIMIT 32

/* Feature bit names (qcow2 spec, header bytes 72-95). */
static const char *const incompat_names[] = {"dirty", "corrupt", "external data file",
                                             "compression type", "extended L2 entries"};
static const char *const compat_names[] = {"lazy refcounts"};
static const char *const autoclear_names[] = {"bitmaps extension", "raw external data"};

static void print_bits(uint64_t v, const char *const *names, int n)
{
    printf("0x%" PRIx64, v);
    if (!v) {
        printf(" (none)\n");
        return;
    }
    printf(" (");
    const char *sep = "";
    for (int b = 0; b < 64; b++) {
        if (v & (1ULL << b)) {
            if (b < n) {
                printf("%sbit %d %s", sep, b, names[b]);
            } else {
                printf("%sbit %d UNKNOWN", sep, b);
            }
            sep = ", ";
        }
    }
    printf(")\n");
}

static void dump_header(const struct img_qcow2_header *h, const struct img_info *info)
{
    uint64_t cs = 1ULL << h->cluster_bits;
    printf("== Header (qcow2 spec \"Header\": big-endian fields at file offset 0)\n");
    printf("  magic                    0x%08" PRIx32 "  (\"QFI\\xfb\": this is a qcow2 file)\n",
           h->magic);
    printf("  version                  %" PRIu32 "  (%s)\n", h->version,
           h->version == 2 ? "qcow2 v2, compat=0.10: no feature bits, 16-bit refcounts"
                           : "qcow2 v3, compat=1.1: feature bits and header extensions");
    printf("  backing_file_offset      0x%" PRIx64 "  (%s)\n", h->backing_file_offset,
           h->backing_file_offset ? "where the backing file name is stored" : "no backing file");
    printf("  backing_file_size        %" PRIu32 "%s%s%s\n", h->backing_file_size,
           info->has_backing ? "  (name: \"" : "", info->has_backing ? info->backing_file : "",
           info->has_backing ? "\")" : "");
    printf("  cluster_bits             %" PRIu32 "  (clusters of %" PRIu64
           " bytes: the unit of allocation)\n",
           h->cluster_bits, cs);
    char sz[32];
    img_size_to_str(sz, sizeof(sz), h->size);
    printf("  size                     %" PRIu64 "  (the virtual disk: %s)\n", h->size, sz);
    printf("  crypt_method             %" PRIu32 "  (%s)\n", h->crypt_method,
           h->crypt_method == 0   ? "not encrypted"
           : h->crypt_method == 1 ? "AES"
                                  : "LUKS");
    uint64_t per_l2 = cs / (info->extended_l2 ? 16 : 8);
    char span[32];
    img_size_to_str(span, sizeof(span), per_l2 * cs);
    printf("  l1_size                  %" PRIu32 "  (L1 entries; each L2 table maps %" PRIu64
           " clusters = %s of the disk)\n",
           h->l1_size, per_l2, span);
    printf("  l1_table_offset          0x%" PRIx64 "  (file offset of the L1 table)\n",
           h->l1_table_offset);
    printf("  refcount_table_offset    0x%" PRIx64 "  (file offset of the refcount table)\n",
           h->refcount_table_offset);
    printf("  refcount_table_clusters  %" PRIu32 "  (clusters the refcount table occupies)\n",
           h->refcount_table_clusters);
    printf("  nb_snapshots             %" PRIu32 "\n", h->nb_snapshots);
    printf("  snapshots_offset         0x%" PRIx64 "\n", h->snapshots_offset);
    if (h->version >= 3) {
        printf("  incompatible_features    ");
        print_bits(h->incompatible_features, incompat_names, 5);
        printf("                           (a reader that does not know a set bit must "
               "refuse the image)\n");
        printf("  compatible_features      ");
        print_bits(h->compatible_features, compat_names, 1);
        printf("  autoclear_features       ");
        print_bits(h->autoclear_features, autoclear_names, 2);
        printf("                           (a writer that does not know a set bit clears "
               "it)\n");
        printf("  refcount_order           %" PRIu32 "  (refcounts are %d bits wide)\n",
               h->refcount_order, 1 << h->refcount_order);
        printf("  header_length            %" PRIu32 "\n", h->header_length);
        if (h->header_length > 104) {
            printf("  compression_type         %u  (%s)\n", h->compression_type,
                   h->compression_type == 1 ? "zstd" : "zlib (raw deflate)");
        }
    }
}

static void dump_extensions(struct img *img)
{
    int n = img_qcow2_ext_count(img);
    printf("\n== Header extensions (qcow2 spec \"Header extensions\": type, length, data)\n");
    if (n <= 0) {
        printf("  (none)\n");
        return;
    }
    for (int i = 0; i < n; i++) {
        uint32_t type, len;
        const void *data;
        if (img_qcow2_ext_get(img, i, &type, &len, &data) < 0) {
            continue;
        }
        const char *what = "unknown (kept, ignored)";
        switch (type) {
        case 0xe2792aca:
            what = "backing file format name";
            break;
        case 0x6803f857:
            what = "feature name table";
            break;
        case 0x23852875:
            what = "bitmaps";
            break;
        case 0x0537be77:
            what = "full disk encryption header pointer";
            break;
        case 0x44415441:
            what = "external data file name";
            break;
        }
        printf("  0x%08" PRIx32 "  %4" PRIu32 " bytes  %s", type, len, what);
        if (type == 0xe2792aca || type == 0x44415441) {
            printf(": \"%.*s\"", (int)len, (const char *)data);
        } else if (type == 0x6803f857) {
            /* 48-byte entries: type (0 incompatible, 1 compatible, 2
             * autoclear), bit number, 46-byte name. */
            const unsigned char *p = data;
            static const char *const kinds[] = {"incompatible", "compatible", "autoclear"};
            printf(":");
            for (uint32_t k = 0; k + 48 <= len; k += 48) {
                printf("\n      %s bit %u: %.46s", p[k] < 3 ? kinds[p[k]] : "?", p[k + 1],
                       (const char *)p + k + 2);
            }
        }
        printf("\n");
    }
}

/* Decode one L2 entry (qcow2 spec "Cluster mapping"). */
static void dump_l2_entry(uint64_t guest, uint64_t e, uint64_t bitmap, bool ext, int cbits)
{
    printf("      guest 0x%010" PRIx64 ": 0x%016" PRIx64 "  ", guest, e);
    if (e & (1ULL << 62)) {
        /* Compressed: host offset in the low x bits, then the number of
         * additional 512-byte sectors. */
        int x = 62 - (cbits - 8);
        uint64_t off = e & ((1ULL << x) - 1);
        uint64_t sectors = ((e >> x) & ((1ULL << (cbits - 8)) - 1)) + 1;
        printf("compressed, at host 0x%" PRIx64 ", up to %" PRIu64 " bytes\n", off,
               sectors * 512 - (off & 511));
        return;
    }
    uint64_t off = e & 0x00fffffffffffe00ULL;
    if (ext) {
        printf("subclusters alloc=0x%08" PRIx32 " zero=0x%08" PRIx32 "  ", (uint32_t)bitmap,
               (uint32_t)(bitmap >> 32));
    }
    if (!ext && (e & 1)) {
        printf("reads as zeros%s", off ? ", cluster kept allocated" : "");
    } else if (off) {
        printf("data at host 0x%" PRIx64, off);
    } else {
        printf("unallocated (backing file or zeros)");
    }
    printf("%s\n", (e >> 63) ? ", COPIED (refcount 1: writable in place)" : "");
}

static void dump_tables(struct img *img, const struct img_qcow2_header *h, bool ext, bool all)
{
    uint64_t cs = 1ULL << h->cluster_bits;
    uint64_t per_l2 = cs / (ext ? 16 : 8);
    printf("\n== L1 table (%" PRIu32 " entries at 0x%" PRIx64
           "): guest offset -> L2 table -> host cluster\n",
           h->l1_size, h->l1_table_offset);
    int shown_l1 = 0;
    for (uint64_t i = 0; i < h->l1_size; i++) {
        uint64_t l1;
        if (img_qcow2_l1_entry(img, i, &l1) < 0) {
            printf("  L1[%" PRIu64 "]: cannot be read: %s\n", i, img_strerror(img));
            return;
        }
        uint64_t l2off = l1 & 0x00fffffffffffe00ULL;
        if (!l2off) {
            continue;
        }
        if (!all && shown_l1++ >= LIMIT) {
            printf("  ... (more L1 entries; --all shows every one)\n");
            break;
        }
        printf("  L1[%" PRIu64 "] = 0x%016" PRIx64 ": L2 table at host 0x%" PRIx64 "%s, maps "
               "guest 0x%" PRIx64 "..\n",
               i, l1, l2off, (l1 >> 63) ? ", COPIED" : "", i * per_l2 * cs);
        int shown = 0;
        for (uint64_t j = 0; j < per_l2; j++) {
            uint64_t e, bitmap;
            if (img_qcow2_l2_entry(img, l2off, j, &e, &bitmap) < 0) {
                printf("      L2 table cannot be read: %s\n", img_strerror(img));
                break;
            }
            if (!e && !bitmap) {
                continue;
            }
            if (!all && shown++ >= LIMIT) {
                printf("      ... (more entries; --all shows every one)\n");
                break;
            }
            dump_l2_entry((i * per_l2 + j) * cs, e, bitmap, ext, (int)h->cluster_bits);
        }
    }
    if (!shown_l1) {
        printf("  (no L2 tables: nothing allocated yet)\n");
    }
}

static void dump_refcounts(struct img *img, const struct img_qcow2_header *h,
                           const struct img_info *info, bool all)
{
    uint64_t cs = 1ULL << h->cluster_bits;
    uint64_t n = (info->file_size + cs - 1) / cs;
    printf("\n== Refcounts (qcow2 spec \"Host cluster management\"): how many references "
           "each host cluster has\n");
    uint64_t run_start = 0, run_rc = 0;
    int lines = 0;
    for (uint64_t i = 0; i <= n; i++) {
        uint64_t rc = 0;
        if (i < n && img_qcow2_refcount(img, i, &rc) < 0) {
            printf("  cluster %" PRIu64 ": cannot be read: %s\n", i, img_strerror(img));
            return;
        }
        if (i == n || rc != run_rc) {
            if (i > run_start) {
                if (!all && lines++ >= LIMIT) {
                    printf("  ... (--all shows every run)\n");
                    return;
                }
                printf("  host clusters %6" PRIu64 "..%-6" PRIu64 " (0x%08" PRIx64
                       "..): refcount %" PRIu64 "%s\n",
                       run_start, i - 1, run_start * cs, run_rc,
                       run_rc == 0  ? " (free)"
                       : run_rc > 1 ? " (shared, e.g. by a snapshot)"
                                    : "");
            }
            run_start = i;
            run_rc = rc;
        }
    }
}

static void dump_snapshots(struct img *img)
{
    int n = img_snapshot_count(img);
    printf("\n== Snapshots (qcow2 spec \"Snapshots\"): each keeps its own copy of the L1 "
           "table\n");
    if (n <= 0) {
        printf("  (none)\n");
        return;
    }
    snapshot_table(img);
}

int verb_dump(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"all", no_argument, 0, 'a'},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    bool all = false;
    int c;
    optind = 1;
    while ((c = verb_getopt(argc, argv, ":f:ha", longopts, 0, &vc)) != -1) {
        switch (c) {
        case 'a':
            all = true;
            break;
        default:
            return verb_other_option(c, argv, 1);
        }
    }
    const char *filename = verb_one_filename(argc, argv);
    if (!filename) {
        return 1;
    }
    struct img *img = open_image(filename, vc.fmt, IMG_OPEN_NO_BACKING | IMG_OPEN_NO_DATA_FILE);
    if (!img) {
        return 1;
    }
    struct img_info info;
    if (img_get_info(img, &info) < 0) {
        report_img_error(img, filename);
        img_close(img);
        return 1;
    }
    const struct img_qcow2_header *h = img_qcow2_get_header(img);
    if (!h) {
        char sz[32];
        img_size_to_str(sz, sizeof(sz), info.virtual_size);
        printf("%s: raw image of %s (%" PRIu64 " bytes)\n", filename, sz, info.virtual_size);
        printf("A raw image has no metadata: guest byte N is file byte N, and holes in a "
               "sparse file read as zeros.\n");
        img_close(img);
        return 0;
    }
    printf("%s: qcow2 image\n\n", filename);
    dump_header(h, &info);
    if (h->version >= 3) {
        dump_extensions(img);
    }
    dump_tables(img, h, info.extended_l2, all);
    dump_refcounts(img, h, &info, all);
    dump_snapshots(img);
    img_close(img);
    return 0;
}
