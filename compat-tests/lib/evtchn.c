/*
 * 2-level event channels, guest side: the upcall scans pending_sel, then
 * pending & ~mask words in shared_info, clears each pending bit and calls
 * the port's handler.
 */
#include "compat-tests/lib/guest.h"
#include "compat-tests/lib/internal.h"

#define GUEST_PORTS 256
#define WORD_BITS (8 * sizeof(xen_ulong_t))

static struct {
	evtchn_handler_t fn;
	void *arg;
	unsigned cpu;       /* the vCPU the port is bound to */
} handlers[GUEST_PORTS];
static volatile uint64_t upcalls[MAX_CPUS];

uint64_t upcall_count(unsigned cpu)
{
	return cpu < MAX_CPUS ? upcalls[cpu] : 0;
}

void evtchn_upcall(unsigned cpu)
{
	volatile struct vcpu_info *vi = xen_vcpu_info(cpu);
	if (!vi || !shared_info || cpu >= MAX_CPUS)
		return;
	upcalls[cpu]++;
	do {
		vi->evtchn_upcall_pending = 0;
		xen_ulong_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		while (sel) {
			unsigned i = (unsigned)__builtin_ctzl(sel);
			sel &= sel - 1;
			xen_ulong_t pend = shared_info->evtchn_pending[i] & ~shared_info->evtchn_mask[i];
			while (pend) {
				unsigned b = (unsigned)__builtin_ctzl(pend);
				pend &= pend - 1;
				evtchn_port_t port = i * WORD_BITS + b;
				bool known = port < GUEST_PORTS && handlers[port].fn;
				/*
				 * A word holds ports of every vCPU: leave another
				 * vCPU's port pending for its own upcall.
				 */
				if (known && handlers[port].cpu != cpu)
					continue;
				__atomic_fetch_and(&shared_info->evtchn_pending[i],
						   ~((xen_ulong_t)1 << b), __ATOMIC_SEQ_CST);
				if (known)
					handlers[port].fn(port, handlers[port].arg);
			}
		}
	} while (vi->evtchn_upcall_pending);
}

int evtchn_bind_virq(unsigned virq, unsigned cpu, evtchn_handler_t fn, void *arg,
		     evtchn_port_t *port)
{
	struct evtchn_bind_virq b = { .virq = virq, .vcpu = cpu };
	long rc = evtchn_op(EVTCHNOP_bind_virq, &b);
	if (rc)
		return (int)rc;
	if (b.port >= GUEST_PORTS) {
		evtchn_close(b.port);
		return -XEN_ENOSPC;
	}
	handlers[b.port].arg = arg;
	handlers[b.port].cpu = cpu;
	__atomic_store_n(&handlers[b.port].fn, fn, __ATOMIC_SEQ_CST);
	*port = b.port;
	return evtchn_unmask(b.port);
}

/* A handler for a port bound some other way (bind_ipi, alloc_unbound) to `cpu`. */
int evtchn_set_handler(evtchn_port_t port, unsigned cpu, evtchn_handler_t fn, void *arg)
{
	if (port == 0 || port >= GUEST_PORTS)
		return -XEN_EINVAL;
	handlers[port].arg = arg;
	handlers[port].cpu = cpu;
	__atomic_store_n(&handlers[port].fn, fn, __ATOMIC_SEQ_CST);
	return 0;
}

int evtchn_unmask(evtchn_port_t port)
{
	struct evtchn_unmask u = { .port = port };
	return (int)evtchn_op(EVTCHNOP_unmask, &u);
}

int evtchn_close(evtchn_port_t port)
{
	struct evtchn_close c = { .port = port };
	if (port < GUEST_PORTS)
		handlers[port].fn = NULL;
	return (int)evtchn_op(EVTCHNOP_close, &c);
}
