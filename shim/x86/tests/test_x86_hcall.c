/*
 * Reading hypercalls out of KVM register files: Xen's calling conventions
 * (64-bit RDI RSI RDX R10 R8 R9, 32-bit EBX ECX EDX ESI EDI EBP), the mode
 * rule (64-bit only with EFER.LMA and CS.L), CPL from SS.DPL, and results
 * as each mode sees RAX.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "shim/xtshim.h"

#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

static struct kvm_regs regs(void)
{
	/* Every register distinct, with high bits set, so a swap or truncation shows. */
	struct kvm_regs r = {
		.rax = 0x1111111100000011ULL, .rbx = 0xbbbbbbbb000000b1ULL,
		.rcx = 0xcccccccc000000c1ULL, .rdx = 0xdddddddd000000d1ULL,
		.rsi = 0x55555555000000e1ULL, .rdi = 0x77777777000000f1ULL,
		.rbp = 0x9999999900000091ULL, .r8 = 0x8888888800000081ULL,
		.r9 = 0x9090909000000099ULL, .r10 = 0xa0a0a0a0000000a1ULL,
		.rflags = 2,
	};
	return r;
}

static struct kvm_sregs sregs(bool lma, bool csl, unsigned dpl)
{
	struct kvm_sregs s;
	memset(&s, 0, sizeof(s));
	s.cr0 = 0x80000011;
	s.efer = lma ? (EFER_LME | EFER_LMA) : 0;
	s.cs.l = csl;
	s.cs.db = !csl;
	s.cs.dpl = (uint8_t)dpl;
	s.ss.dpl = (uint8_t)dpl;
	return s;
}

static void test_long_mode_rule(void **state)
{
	struct kvm_sregs s = sregs(true, true, 0);
	assert_true(xts_x86_long_mode(&s));
	s = sregs(true, false, 0);      /* compatibility mode: a 32-bit caller for Xen */
	assert_false(xts_x86_long_mode(&s));
	s = sregs(false, false, 0);
	assert_false(xts_x86_long_mode(&s));
	s = sregs(false, true, 0);      /* CS.L without LMA means nothing */
	assert_false(xts_x86_long_mode(&s));
}

static void test_decode_64(void **state)
{
	struct kvm_regs r = regs();
	struct kvm_sregs s = sregs(true, true, 0);
	struct xts_hcall h;

	r.rax = 24;
	xts_x86_hcall_decode(&r, &s, &h);
	assert_true(h.long_mode);
	assert_int_equal(h.cpl, 0);
	assert_int_equal(h.nr, 24);
	assert_int_equal(h.args[0], r.rdi);
	assert_int_equal(h.args[1], r.rsi);
	assert_int_equal(h.args[2], r.rdx);
	assert_int_equal(h.args[3], r.r10);
	assert_int_equal(h.args[4], r.r8);
	assert_int_equal(h.args[5], r.r9);

	/* All of RAX is the number: 2^32 + 17 must not alias xen_version. */
	r.rax = (1ULL << 32) + 17;
	xts_x86_hcall_decode(&r, &s, &h);
	assert_int_not_equal(h.nr, 17);
	assert_int_equal(h.nr, UINT32_MAX);
}

static void test_decode_32(void **state)
{
	struct kvm_regs r = regs();
	struct kvm_sregs s = sregs(false, false, 0);
	struct xts_hcall h;

	xts_x86_hcall_decode(&r, &s, &h);
	assert_false(h.long_mode);
	assert_int_equal(h.nr, 0x11);              /* EAX only */
	assert_int_equal(h.args[0], 0xb1);         /* EBX, zero-extended */
	assert_int_equal(h.args[1], 0xc1);         /* ECX */
	assert_int_equal(h.args[2], 0xd1);         /* EDX */
	assert_int_equal(h.args[3], 0xe1);         /* ESI */
	assert_int_equal(h.args[4], 0xf1);         /* EDI */
	assert_int_equal(h.args[5], 0x91);         /* EBP */

	/* Compatibility mode uses the 32-bit convention too. */
	s = sregs(true, false, 0);
	xts_x86_hcall_decode(&r, &s, &h);
	assert_false(h.long_mode);
	assert_int_equal(h.args[0], 0xb1);
}

static void test_cpl(void **state)
{
	struct kvm_regs r = regs();
	struct xts_hcall h;
	for (unsigned dpl = 0; dpl < 4; dpl++) {
		struct kvm_sregs s = sregs(true, true, dpl);
		s.cs.dpl = 0;               /* Xen reads SS.DPL, not CS */
		xts_x86_hcall_decode(&r, &s, &h);
		assert_int_equal(h.cpl, dpl);
	}
	/*
	 * Xen 4.17 xen/arch/x86/hvm/hypercall.c, hvm_hypercall(): the guest mode
	 * from hvm_guest_x86_mode() is 0 in real mode (CR0.PE clear), 1 in
	 * virtual-8086 mode; "case 0: break" runs a real-mode call without the
	 * hvm_get_cpl() check, and mode 1 falls to "default: -EPERM".  So a
	 * real-mode caller is CPL 0 whatever SS.DPL holds, and runs with the
	 * 32-bit convention (EAX, EBX, ...); a vm86 caller is refused.
	 */
	struct kvm_sregs s = sregs(false, false, 3);
	s.cr0 = 0x10;                   /* PE clear; SS.DPL 3 left over */
	r.rax = 0x1111111100000022ULL;
	xts_x86_hcall_decode(&r, &s, &h);
	assert_int_equal(h.cpl, 0);
	assert_false(h.long_mode);
	assert_int_equal(h.nr, 0x22);
	assert_int_equal(h.args[0], 0xb1);
	s = sregs(false, false, 0);
	r.rflags |= 1u << 17;
	xts_x86_hcall_decode(&r, &s, &h);
	assert_int_equal(h.cpl, 3);
}

static void test_result(void **state)
{
	struct kvm_regs r = regs();
	xts_x86_hcall_result(&r, true, -22);
	assert_int_equal(r.rax, 0xffffffffffffffeaULL);
	xts_x86_hcall_result(&r, false, -22);
	assert_int_equal(r.rax, 0xffffffeaULL);    /* what EAX holds; upper half clear */
	xts_x86_hcall_result(&r, true, 0x40011);
	assert_int_equal(r.rax, 0x40011);
	/* Nothing but RAX changes. */
	struct kvm_regs before = regs();
	r = before;
	xts_x86_hcall_result(&r, true, 5);
	r.rax = before.rax;
	assert_memory_equal(&r, &before, sizeof(r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_mode_rule),
		cmocka_unit_test(test_decode_64),
		cmocka_unit_test(test_decode_32),
		cmocka_unit_test(test_cpl),
		cmocka_unit_test(test_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
