#include "guestkit/guestkit.h"
static uint32_t mmio32(uint64_t a) { return *(volatile uint32_t *)a; }
static void mmiow(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static uint64_t fw(uint16_t k, int n) { uint64_t v = 0; outw(0x510, k); for (int i = 0; i < n; i++) v |= (uint64_t)inb(0x511) << (8*i); return v; }
int main(int argc, char **argv)
{
    (void)argc; (void)argv;
    uint64_t v = 0;
    printf("fw sig %llx id %llx ram %llx ncpu %llx max %llx nographic %llx\n", (unsigned long long)fw(0,4), (unsigned long long)fw(1,4), (unsigned long long)fw(3,8), (unsigned long long)fw(5,2), (unsigned long long)fw(0xf,2), (unsigned long long)fw(4,2));
    outw(0x510, 0x19); uint32_t cnt = 0; for (int i=0;i<4;i++) cnt = cnt<<8 | inb(0x511);
    printf("files %u\n", cnt);
    for (uint32_t f = 0; f < cnt; f++) { uint8_t e[64]; for (int i=0;i<64;i++) e[i]=inb(0x511); printf(" %u key %x %s\n", (e[0]<<24)|(e[1]<<16)|(e[2]<<8)|e[3], (e[4]<<8)|e[5], (char*)e+8); }
    outw(0x510, 0x25); for (int i = 0; i < 40; i++) printf("%02x%s", inb(0x511), i % 20 == 19 ? "\n" : " ");
    printf("port92 %x  inw510 %x inb510 %x\n", inb(0x92), inw(0x510), inb(0x510));
    bool ok = rdmsr_safe(0x1b, &v); printf("apicbase ok=%d %llx\n", ok, (unsigned long long)v);
    ok = rdmsr_safe(0x1a0, &v); printf("misc_enable ok=%d %llx\n", ok, (unsigned long long)v);
    ok = rdmsr_safe(0x3b, &v); printf("tsc_adjust ok=%d %llx\n", ok, (unsigned long long)v);
    ok = rdmsr_safe(0x6e0, &v); printf("tsc_deadline ok=%d %llx\n", ok, (unsigned long long)v);
    ok = rdmsr_safe(0xc0010000, &v); printf("k7 evntsel0 ok=%d %llx\n", ok, (unsigned long long)v);
    ok = rdmsr_safe(0x186, &v); printf("perfevtsel0 ok=%d %llx\n", ok, (unsigned long long)v);
    ok = rdmsr_safe(0x345, &v); printf("perfcap ok=%d %llx\n", ok, (unsigned long long)v);
    ok = rdmsr_safe(0x802, &v); printf("x2apic id ok=%d %llx\n", ok, (unsigned long long)v);
    printf("cpuid1 ecx %x edx %x\n", cpuid(1).ecx, cpuid(1).edx);
    printf("cpuid7 ebx %x ecx %x edx %x\n", cpuid_count(7,0).ebx, cpuid_count(7,0).ecx, cpuid_count(7,0).edx);
    printf("cpuida eax %x\n", cpuid(0xa).eax);
    printf("cpuid 80000001 ecx %x\n", cpuid(0x80000001).ecx);
    printf("cpuid d.0 eax %x edx %x\n", cpuid_count(0xd,0).eax, cpuid_count(0xd,0).edx);
    for (uint32_t off = 0x20; off <= 0x3e0; off += 0x10) printf("apic %03x %08x\n", off, mmio32(0xfee00000 + off));
    mmiow(0xfec00000, 1); printf("ioapic ver %x\n", mmio32(0xfec00010));
    mmiow(0xfec00000, 0); printf("ioapic id %x\n", mmio32(0xfec00010));
    mmiow(0xfec00000, 2); printf("ioapic arb %x\n", mmio32(0xfec00010));
    for (int i = 0; i < 24; i++) { mmiow(0xfec00000, 0x10+2*i); uint32_t lo = mmio32(0xfec00010); mmiow(0xfec00000, 0x11+2*i); printf("redir %d %x %x\n", i, mmio32(0xfec00010), lo); }
    printf("pic imr %x %x elcr %x %x\n", inb(0x21), inb(0xa1), inb(0x4d0), inb(0x4d1));
    return 0;
}
