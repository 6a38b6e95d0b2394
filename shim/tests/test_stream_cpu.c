/*
 * Xen HVM CPU record -> KVM register state.  Expected values come from the
 * architecture (SDM segment descriptor bits, FXSAVE layout), not from the
 * converter.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <unistd.h>
#include "abi/xen-abi.h"
#include "shim/stream-cpu.h"
#include "shim/xtshim.h"

static void fill(struct hvm_hw_cpu *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < 512; i++)
		c->fpu_regs[i] = (uint8_t)i;
	c->rax = 1; c->rbx = 2; c->rcx = 3; c->rdx = 4; c->rbp = 5; c->rsi = 6; c->rdi = 7;
	c->rsp = 8; c->r8 = 9; c->r15 = 16; c->rip = 0xffffffff81000000ull; c->rflags = 0x246;
	c->cr0 = 0x80050033; c->cr2 = 0x1234; c->cr3 = 0x1000; c->cr4 = 0x3706f8;
	c->dr0 = 0xd0; c->dr3 = 0xd3; c->dr6 = 0xffff0ff0; c->dr7 = 0x400;
	c->cs_sel = 0x10; c->cs_limit = 0xffffffff; c->cs_arbytes = 0xa9b;   /* 64-bit code */
	c->ds_sel = 0x18; c->ds_limit = 0xffffffff; c->ds_arbytes = 0xc93;   /* 32-bit data */
	c->ss_sel = 0x2b; c->ss_arbytes = 0x0f3;                            /* DPL 3 data */
	c->fs_base = 0x7f0000001000ull; c->gs_base = 0xffff888000000000ull;
	c->es_arbytes = 0;                                                   /* unusable */
	c->tr_sel = 0x40; c->tr_limit = 0x67; c->tr_arbytes = 0x08b; c->tr_base = 0xfffffe0000003000ull;
	c->gdtr_base = 0xfffffe0000001000ull; c->gdtr_limit = 0x7f;
	c->idtr_base = 0xfffffe0000000000ull; c->idtr_limit = 0xfff;
	c->sysenter_cs = 0x10; c->sysenter_esp = 0x5000; c->sysenter_eip = 0x6000;
	c->shadow_gs = 0x7000; c->msr_lstar = 0x8000; c->msr_star = 0x9000;
	c->msr_cstar = 0xa000; c->msr_syscall_mask = 0x47700; c->msr_efer = 0xd01;
	c->msr_tsc_aux = 3; c->tsc = 123456789;
	c->pending_event = (1u << 31) | (1u << 11) | (3u << 8) | 14;   /* valid #PF with error code */
	c->error_code = 2;
	c->flags = XEN_X86_FPU_INITIALISED;
}

static void test_full_record(void **state)
{
	struct hvm_hw_cpu c;
	struct xts_xen_cpu_kvm k;

	fill(&c);
	assert_int_equal(xts_xen_cpu_to_kvm(&c, sizeof(c), &k), 0);
	assert_int_equal(k.regs.rax, 1);
	assert_int_equal(k.regs.rsp, 8);
	assert_int_equal(k.regs.r15, 16);
	assert_int_equal(k.regs.rip, 0xffffffff81000000ull);
	assert_int_equal(k.regs.rflags, 0x246);
	/* 0xa9b: type 1011 (code, accessed, readable), S, DPL 0, P, L, G */
	assert_int_equal(k.sregs.cs.type, 0xb);
	assert_int_equal(k.sregs.cs.s, 1);
	assert_int_equal(k.sregs.cs.dpl, 0);
	assert_int_equal(k.sregs.cs.present, 1);
	assert_int_equal(k.sregs.cs.l, 1);
	assert_int_equal(k.sregs.cs.db, 0);
	assert_int_equal(k.sregs.cs.g, 1);
	assert_int_equal(k.sregs.cs.unusable, 0);
	assert_int_equal(k.sregs.cs.selector, 0x10);
	assert_int_equal(k.sregs.cs.limit, 0xffffffff);
	/* 0xc93: data RW accessed, D/B, G, no L */
	assert_int_equal(k.sregs.ds.type, 3);
	assert_int_equal(k.sregs.ds.db, 1);
	assert_int_equal(k.sregs.ds.l, 0);
	assert_int_equal(k.sregs.ss.dpl, 3);
	assert_int_equal(k.sregs.es.unusable, 1);
	assert_int_equal(k.sregs.es.present, 0);
	assert_int_equal(k.sregs.fs.base, 0x7f0000001000ull);
	assert_int_equal(k.sregs.gs.base, 0xffff888000000000ull);
	assert_int_equal(k.sregs.tr.type, 0xb);                  /* busy 64-bit TSS */
	assert_int_equal(k.sregs.tr.s, 0);
	assert_int_equal(k.sregs.tr.base, 0xfffffe0000003000ull);
	assert_int_equal(k.sregs.gdt.base, 0xfffffe0000001000ull);
	assert_int_equal(k.sregs.gdt.limit, 0x7f);
	assert_int_equal(k.sregs.idt.limit, 0xfff);
	assert_int_equal(k.sregs.cr0, 0x80050033);
	assert_int_equal(k.sregs.cr3, 0x1000);
	assert_int_equal(k.sregs.cr4, 0x3706f8);
	assert_int_equal(k.sregs.efer, 0xd01);
	assert_int_equal(k.sregs.apic_base, 0);
	assert_int_equal(k.debugregs.db[0], 0xd0);
	assert_int_equal(k.debugregs.db[3], 0xd3);
	assert_int_equal(k.debugregs.dr7, 0x400);
	/* FXSAVE: FCW@0 FSW@2 FTW@4 FOP@6 FIP@8 FDP@16 MXCSR@24 ST0@32 XMM0@160 */
	assert_true(k.fpu_valid);
	assert_int_equal(k.fpu.fcw, 0x0100);
	assert_int_equal(k.fpu.fsw, 0x0302);
	assert_int_equal(k.fpu.ftwx, 4);
	assert_int_equal(k.fpu.last_opcode, 0x0706);
	assert_int_equal(k.fpu.last_ip, 0x0f0e0d0c0b0a0908ull);
	assert_int_equal(k.fpu.last_dp, 0x1716151413121110ull);
	assert_int_equal(k.fpu.mxcsr, 0x1b1a1918);
	assert_int_equal(k.fpu.fpr[0][0], 32);
	assert_int_equal(k.fpu.fpr[7][15], 32 + 7 * 16 + 15);
	assert_int_equal(k.fpu.xmm[0][0], 160);
	assert_int_equal(k.fpu.xmm[15][15], (160 + 255) & 0xff);
	/* MSRs by their architectural numbers */
	assert_int_equal(k.nr_msrs, 9);
	for (unsigned i = 0; i < k.nr_msrs; i++) {
		switch (k.msrs[i].index) {
		case 0x174: assert_int_equal(k.msrs[i].data, 0x10); break;
		case 0x176: assert_int_equal(k.msrs[i].data, 0x6000); break;
		case 0xc0000102: assert_int_equal(k.msrs[i].data, 0x7000); break;
		case 0xc0000082: assert_int_equal(k.msrs[i].data, 0x8000); break;
		case 0xc0000084: assert_int_equal(k.msrs[i].data, 0x47700); break;
		case 0xc0000103: assert_int_equal(k.msrs[i].data, 3); break;
		}
	}
	assert_true(k.pending_valid);
	assert_true(k.pending_error_valid);
	assert_int_equal(k.pending_vector, 14);
	assert_int_equal(k.pending_type, 3);
	assert_int_equal(k.error_code, 2);
	assert_int_equal(k.tsc, 123456789);

	c.flags = 0;                                             /* FPU never used */
	assert_int_equal(xts_xen_cpu_to_kvm(&c, sizeof(c), &k), 0);
	assert_false(k.fpu_valid);
}

/* The pre-4.9 layout: no TSC_AUX and flags; Xen treats its FPU as initialised. */
static void test_compat_record(void **state)
{
	struct hvm_hw_cpu c;
	struct hvm_hw_cpu_compat old;
	struct xts_xen_cpu_kvm k;

	fill(&c);
	memset(&old, 0, sizeof(old));
	memcpy(&old, &c, offsetof(struct hvm_hw_cpu_compat, tsc));
	old.tsc = 42;
	old.pending_event = 0;
	old.error_code = 0;
	assert_int_equal(xts_xen_cpu_to_kvm(&old, sizeof(old), &k), 0);
	assert_int_equal(k.tsc, 42);
	assert_int_equal(k.regs.rip, 0xffffffff81000000ull);
	assert_true(k.fpu_valid);
	assert_false(k.pending_valid);
	for (unsigned i = 0; i < k.nr_msrs; i++)
		if (k.msrs[i].index == 0xc0000103)
			assert_int_equal(k.msrs[i].data, 0);
}

/* Xen -> KVM -> Xen keeps every field KVM carries. */
static void test_round_trip(void **state)
{
	struct hvm_hw_cpu c, back;
	struct xts_xen_cpu_kvm k;

	fill(&c);
	c.es_arbytes = 0x093;                 /* not present, type/S/DPL kept */
	assert_int_equal(xts_xen_cpu_to_kvm(&c, sizeof(c), &k), 0);
	assert_int_equal(xts_kvm_to_xen_cpu(&k, &back), 0);
	/* FXSAVE bytes outside KVM's kvm_fpu: reserved byte 5, MXCSR_MASK, 416-511 */
	c.fpu_regs[5] = 0;
	memset(c.fpu_regs + 28, 0, 4);
	memset(c.fpu_regs + 416, 0, 96);
	assert_memory_equal(&back, &c, sizeof(c));
}

struct capture { uint8_t cpu[4][1032]; unsigned n; };

static int on_rec(void *o, const struct xts_stream_record *r)
{
	struct capture *cap = o;
	if (r->layer == XTS_STREAM_HVM && r->type == 2 && r->instance < 4) {
		memcpy(cap->cpu[r->instance], r->body, r->length);
		cap->n++;
	}
	return 0;
}

/* Registers given to the writer come back from the stream, TSC from the clock. */
static void test_export_registers(void **state)
{
	static struct hvm_hw_cpu regs[2];
	static struct xts_xen_time x, y;
	struct xts_xen_export_opts eo = { .cpu_records = regs };
	struct capture cap = { .n = 0 };
	struct xts_stream_visitor v = { &cap, on_rec, NULL };
	struct xts_stream_error err;
	int fd = memfd_create("cpu", 0);

	fill(&regs[0]);
	fill(&regs[1]);
	regs[1].rip = 0x1234;
	memset(&x, 0, sizeof(x));
	x.have = XTS_XEN_HAVE_TSC_INFO | XTS_XEN_HAVE_HVM_HEADER;
	x.dom_type = 2;
	x.tsc_khz = x.gtsc_khz = 2000000;
	x.nr_vcpus = 2;
	x.vcpu[0].present = x.vcpu[1].present = XTS_XEN_VCPU_CPU;
	x.vcpu[0].tsc = 1000;
	x.vcpu[1].tsc = 1001;
	assert_int_equal(xts_xen_write(fd, &x, &eo, &err), 0);
	lseek(fd, 0, SEEK_SET);
	if (xts_xen_read_time(fd, NULL, &v, &y, NULL, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(cap.n, 2);
	regs[0].tsc = 1000;
	regs[1].tsc = 1001;
	assert_memory_equal(cap.cpu[0], &regs[0], sizeof(regs[0]));
	assert_memory_equal(cap.cpu[1], &regs[1], sizeof(regs[1]));
	close(fd);
}

static void test_bad_length(void **state)
{
	struct hvm_hw_cpu c;
	struct xts_xen_cpu_kvm k, before;

	fill(&c);
	memset(&k, 0x77, sizeof(k));
	memcpy(&before, &k, sizeof(k));
	assert_int_equal(xts_xen_cpu_to_kvm(&c, sizeof(c) - 8, &k), -EINVAL);
	assert_memory_equal(&k, &before, sizeof(k));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_record),
		cmocka_unit_test(test_compat_record),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_export_registers),
		cmocka_unit_test(test_bad_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
