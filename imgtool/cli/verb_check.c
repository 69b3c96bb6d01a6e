/*
 * imgtool check: verify (and with -r repair) an image's metadata.
 *
 *   imgtool check [-q] [-f fmt] [--output=ofmt] [-r leaks|all] [-U] filename
 *
 * Output and exit statuses are those of qemu-img.c img_check(): 0 clean,
 * 1 the check itself failed, 2 corruptions, 3 only leaked clusters, 63 the
 * format has no consistency checks (raw).  After a repair the image is
 * checked again and the second result is reported, carrying over the
 * counts of what was fixed.  The library reports each finding on stderr
 * ("Leaked cluster 5 refcount=1 reference=0") as QEMU's qcow2 check does.
 */
#include "cli.h"
#include "json.h"
#include "img.h"

#include <getopt.h>
#include <string.h>

/* ImageCheck in qapi/block-core.json, with QEMU's has_* rules: counts
 * that are zero are left out, except check-errors. */
static struct jv *check_to_json(const struct img_check_result *r, const char *filename,
                                const char *format)
{
    struct jv *o = jv_obj();
    jv_set(o, "filename", jv_str(filename));
    jv_set(o, "format", jv_str(format));
    jv_set(o, "check-errors", jv_int(r->check_errors));
    if (r->image_end_offset) {
        jv_set(o, "image-end-offset", jv_uint(r->image_end_offset));
    }
    if (r->corruptions) {
        jv_set(o, "corruptions", jv_int(r->corruptions));
    }
    if (r->leaks) {
        jv_set(o, "leaks", jv_int(r->leaks));
    }
    if (r->corruptions_fixed) {
        jv_set(o, "corruptions-fixed", jv_int(r->corruptions_fixed));
    }
    if (r->leaks_fixed) {
        jv_set(o, "leaks-fixed", jv_int(r->leaks_fixed));
    }
    if (r->total_clusters) {
        jv_set(o, "total-clusters", jv_uint(r->total_clusters));
    }
    if (r->allocated_clusters) {
        jv_set(o, "allocated-clusters", jv_uint(r->allocated_clusters));
    }
    if (r->fragmented_clusters) {
        jv_set(o, "fragmented-clusters", jv_uint(r->fragmented_clusters));
    }
    if (r->compressed_clusters) {
        jv_set(o, "compressed-clusters", jv_uint(r->compressed_clusters));
    }
    return o;
}

/* dump_human_image_check() */
static void dump_human(const struct img_check_result *r)
{
    if (!(r->corruptions || r->leaks || r->check_errors)) {
        printf("No errors were found on the image.\n");
    } else {
        if (r->corruptions) {
            printf("\n%d errors were found on the image.\n"
                   "Data may be corrupted, or further writes to the image may corrupt it.\n",
                   r->corruptions);
        }
        if (r->leaks) {
            printf("\n%d leaked clusters were found on the image.\n"
                   "This means waste of disk space, but no harm to data.\n",
                   r->leaks);
        }
        if (r->check_errors) {
            printf("\n%d internal errors have occurred during the check.\n", r->check_errors);
        }
    }
    if (r->total_clusters != 0 && r->allocated_clusters != 0) {
        printf("%llu/%llu = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% compressed "
               "clusters\n",
               (unsigned long long)r->allocated_clusters, (unsigned long long)r->total_clusters,
               r->allocated_clusters * 100.0 / r->total_clusters,
               r->fragmented_clusters * 100.0 / r->allocated_clusters,
               r->compressed_clusters * 100.0 / r->allocated_clusters);
    }
    if (r->image_end_offset) {
        printf("Image end offset: %llu\n", (unsigned long long)r->image_end_offset);
    }
}

/*
 * Check the image, and with -r repair it and check it again, as qemu-img
 * does: the second result is the one reported, carrying over the counts
 * of what the repair fixed.  Returns img_check()'s result.
 */
static int check_and_repair(struct img *img, unsigned fix, bool print_repairs,
                            struct img_check_result *res)
{
    int ret = img_check(img, fix, res);
    if (ret == 0 && (res->corruptions_fixed || res->leaks_fixed)) {
        int corruptions_fixed = res->corruptions_fixed, leaks_fixed = res->leaks_fixed;
        if (print_repairs) {
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %d leaked clusters\n"
                   "    %d corruptions\n\n"
                   "Double checking the fixed image now...\n",
                   leaks_fixed, corruptions_fixed);
        }
        memset(res, 0, sizeof(*res));
        ret = img_check(img, 0, res);
        res->corruptions_fixed = corruptions_fixed;
        res->leaks_fixed = leaks_fixed;
    }
    return ret;
}

/* qemu-img check's exit status for the result: 1 if the check failed,
 * 2 for corruptions, 3 for leaks only, 0 for a clean image. */
static int check_status(struct img *img, int ret, const struct img_check_result *res)
{
    if (ret < 0 || res->check_errors) {
        if (ret < 0) {
            error_report("Check failed: %s", img_strerror(img));
        } else {
            error_report("Check failed");
        }
        return 1;
    }
    if (res->corruptions) {
        return 2;
    }
    return res->leaks ? 3 : 0;
}

/* -r leaks|all as img_check() flags in *fix; 0, or the exit status of a
 * usage error. */
static int parse_repair(const char *arg, unsigned *fix)
{
    if (!strcmp(arg, "leaks")) {
        *fix = IMG_CHECK_FIX_LEAKS;
    } else if (!strcmp(arg, "all")) {
        *fix = IMG_CHECK_FIX_LEAKS | IMG_CHECK_FIX_ERRORS;
    } else {
        return error_usage("Unknown option value for -r "
                           "(expecting 'leaks' or 'all'): %s",
                           arg);
    }
    return 0;
}

int verb_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"repair", required_argument, 0, 'r'},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    unsigned fix = 0;
    int c;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":hf:r:T:qU", longopts, VERB_REPORTS, &vc)) != -1) {
        switch (c) {
        case 'r':
            if (parse_repair(optarg, &fix)) {
                return 1;
            }
            break;
        default:
            /* --object, --image-opts and getopt's errors. */
            return verb_other_option(c, argv, 1);
        }
    }
    const char *filename;
    int ofmt = verb_file_and_output(argc, argv, vc.output, false, &filename);
    if (ofmt < 0) {
        return 1;
    }
    /* Without -r the image is only read; a repair needs write access and
     * must proceed even if the corrupt bit is set. */
    unsigned flags = IMG_OPEN_NO_BACKING | IMG_OPEN_NO_REPAIR;
    if (fix) {
        flags |= IMG_OPEN_RW | IMG_OPEN_FORCE;
    }
    struct img *img = open_image(filename, vc.fmt, flags);
    if (!img) {
        return 1;
    }
    struct img_info info;
    if (img_get_info(img, &info) < 0 || info.format != IMG_FMT_QCOW2) {
        /* qemu-img's answer for drivers without .bdrv_co_check. */
        error_report("This image format does not support checks");
        img_close(img);
        return 63;
    }
    struct img_check_result res = {0};
    int ret = check_and_repair(img, fix, ofmt == OFMT_HUMAN && !vc.quiet, &res);
    if (ret == 0 && !vc.quiet) {
        if (ofmt == OFMT_JSON) {
            struct jv *j = check_to_json(&res, filename, "qcow2");
            jv_print(stdout, j, true);
            printf("\n");
            jv_free(j);
        } else {
            dump_human(&res);
        }
    }
    int status = check_status(img, ret, &res);
    if (img_close(img) < 0 && status == 0) {
        error_report("%s: %s", filename, "could not flush the image");
        status = 1;
    }
    return status;
}
