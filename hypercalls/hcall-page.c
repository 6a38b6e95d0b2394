/*
 * The hypercall page: 128 stubs of 32 bytes, stub nr at nr * 32, the rest
 * int3 as on Xen, and stub 23 (iret, PV only) a ud2.
 *
 * VMCALL/VMMCALL stubs are Xen's own: mov $nr,%eax; vmcall|vmmcall; ret.
 * IOPORT stubs trap with `out` to a port the VMM intercepts.  `out` faults
 * at CPL > 0 (IOPL 0), so the stub answers -EPERM itself there, as Xen
 * would, using push/pop so the value is sign-extended in both modes
 * (a 32-bit `mov` to %eax would zero-extend to 0x00000000ffffffff in
 * long mode, and a REX prefix would decode as `dec %eax` in 32-bit mode):
 *
 *   0:  8c c8          mov  %cs,%eax
 *   2:  a8 03          test $3,%al
 *   4:  75 08          jnz  14
 *   6:  b8 nr32        mov  $nr,%eax
 *   11: e7 port        out  %eax,$port     (arguments stay in their registers)
 *   13: c3             ret
 *   14: 6a ff          push $-EPERM        (-1, sign-extended to the stack width)
 *   16: 58             pop  %eax / %rax
 *   17: c3             ret
 */
#include <string.h>
#include "hypercalls/hcall.h"

_Static_assert(XEN_EPERM == 1, "the IOPORT stub pushes -1 for -EPERM");

static size_t stub(uint8_t *p, uint32_t nr, enum xts_hcall_transport t, uint16_t port)
{
	size_t n = 0;

	if (t == XTS_TRANSPORT_IOPORT) {
		static const uint8_t cpl_check[] = { 0x8c, 0xc8, 0xa8, 0x03, 0x75, 0x08 };

		memcpy(p, cpl_check, sizeof(cpl_check));
		n = sizeof(cpl_check);
	}
	p[n++] = 0xb8;                                   /* mov $nr,%eax */
	memcpy(p + n, &nr, 4);
	n += 4;
	switch (t) {
	case XTS_TRANSPORT_IOPORT:
		p[n++] = 0xe7;                           /* out %eax,$imm8 */
		p[n++] = (uint8_t)port;
		p[n++] = 0xc3;
		p[n++] = 0x6a;                           /* push $-EPERM */
		p[n++] = (uint8_t)-XEN_EPERM;
		p[n++] = 0x58;                           /* pop %(r)ax */
		break;
	case XTS_TRANSPORT_VMCALL:
		p[n++] = 0x0f; p[n++] = 0x01; p[n++] = 0xc1;
		break;
	case XTS_TRANSPORT_VMMCALL:
		p[n++] = 0x0f; p[n++] = 0x01; p[n++] = 0xd9;
		break;
	}
	p[n++] = 0xc3;                                   /* ret */
	return n;
}

void xts_hypercall_page_fill(uint8_t *page, enum xts_hcall_transport t, uint16_t io_port)
{
	uint32_t nr;

	memset(page, 0xcc, XTS_PAGE_SIZE);
	for (nr = 0; nr < XTS_NR_HYPERCALLS; nr++) {
		uint8_t *p = page + nr * XTS_HYPERCALL_STUB_SIZE;

		if (nr == __HYPERVISOR_iret) {
			p[0] = 0x0f;                     /* ud2 */
			p[1] = 0x0b;
			continue;
		}
		stub(p, nr, t, io_port);
	}
}
