#include "klib.h"
#include "hvkit/multiboot.h"
#include "log.h"
#include "ending.h"
void hv_print_stats(void)
{
}
__attribute__((noreturn)) void hv_main(uint32_t magic, uint32_t info);
void hv_main(uint32_t magic, uint32_t info)
{
    serial_init();
    hv_log("hvkit hv starting (magic %#x info %#x)", magic, info);
    end_guest_exit(3);
}
