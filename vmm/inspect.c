/*
 * `xtshim inspect [--json] [--pvclock VCPU:GPA] [--save-time NS] FILE|-`
 *
 * Prints the structure of a Xen migration stream and the guest time state
 * xtshim extracts from it.  Exit status: 0 the stream is acceptable (valid
 * and its time state translates), 1 it is not, 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "shim/xtshim.h"
#include "vmm/commands.h"

struct insp {
	bool json;
	FILE *out;
	unsigned nrec;               /* records printed (JSON comma) */
	/* a run of PAGE_DATA records, printed as one line */
	uint64_t run_first, run_count, run_offset, run_bytes;
};

static const char *layer_name(uint32_t l)
{
	static const char *const n[] = { "xl", "libxl", "libxc", "hvm" };
	return l < 4 ? n[l] : "?";
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void flush_run(struct insp *s)
{
	if (!s->run_count)
		return;
	if (s->json) {
		fprintf(s->out, "%s\n    {\"layer\": \"libxc\", \"index\": %" PRIu64 ", \"name\":"
			" \"PAGE_DATA\", \"type\": 1, \"offset\": %" PRIu64 ", \"records\": %" PRIu64
			", \"bytes\": %" PRIu64 "}", s->nrec++ ? "," : "", s->run_first, s->run_offset,
			s->run_count, s->run_bytes);
	} else {
		fprintf(s->out, "  libxc #%-6" PRIu64 " @0x%-10" PRIx64 " PAGE_DATA x %" PRIu64
			" records, %" PRIu64 " bytes\n", s->run_first, s->run_offset, s->run_count,
			s->run_bytes);
	}
	s->run_count = 0;
}

static int on_record(void *opaque, const struct xts_stream_record *r)
{
	struct insp *s = opaque;

	if (r->layer == XTS_STREAM_LIBXC && r->type == 1) {
		if (!s->run_count) {
			s->run_first = r->index;
			s->run_offset = r->offset;
			s->run_bytes = 0;
		}
		s->run_count++;
		s->run_bytes += 8 + r->length;
		return 0;
	}
	flush_run(s);
	if (s->json) {
		fprintf(s->out, "%s\n    {\"layer\": \"%s\", \"index\": %" PRIu64 ", \"name\": ",
			s->nrec++ ? "," : "", layer_name(r->layer), r->index);
		json_str(s->out, r->name);
		fprintf(s->out, ", \"type\": %u, \"offset\": %" PRIu64 ", \"length\": %u",
			r->type, r->offset, r->length);
		if (r->layer == XTS_STREAM_HVM)
			fprintf(s->out, ", \"instance\": %u", r->instance);
		if (r->optional)
			fprintf(s->out, ", \"optional\": true");
		fputc('}', s->out);
	} else if (r->layer == XTS_STREAM_HVM) {
		fprintf(s->out, "      entry #%-4" PRIu64 " @0x%-10" PRIx64 " %-16s instance %-3u %u bytes\n",
			r->index, r->offset, r->name, r->instance, r->length);
	} else {
		fprintf(s->out, "  %-5s #%-6" PRIu64 " @0x%-10" PRIx64 " %-24s %u bytes%s\n",
			layer_name(r->layer), r->index, r->offset,
			strcmp(r->name, "unknown") ? r->name : "(unknown)", r->length,
			r->optional ? " (optional, skipped)" : "");
	}
	return 0;
}

static const char *line_source(enum xts_xen_line_source s)
{
	switch (s) {
	case XTS_XEN_LINE_NEW: return "new line (no pvclock record in the stream)";
	case XTS_XEN_LINE_PV_SHARED: return "continued from vCPU 0's SHARED_INFO record";
	case XTS_XEN_LINE_PVCLOCK: return "continued from the guest's last pvclock record"
					  " (--pvclock or XTSHIM_TIME)";
	}
	return "?";
}

static void print_text(FILE *f, const struct xts_stream_info *in, const struct xts_xen_time *x,
		       const struct xts_time_state *st, bool st_ok, enum xts_xen_line_source src,
		       uint64_t save_ns)
{
	fprintf(f, "stream:\n");
	if (in->has_xl)
		fprintf(f, "  xl save file: %s-endian header, mandatory flags 0x%x, optional data"
			" %u bytes (JSON config %u bytes)\n", in->xl_big_endian ? "big" : "little",
			in->xl_mandatory_flags, in->xl_optional_data_len, in->xl_config_len);
	if (in->has_libxl)
		fprintf(f, "  libxl stream v%u, options 0x%x, %" PRIu64 " records\n",
			in->libxl_version, in->libxl_options, in->nr_records[XTS_STREAM_LIBXL]);
	fprintf(f, "  libxc stream v%u, %s-endian, %s, page_shift %u, saved by Xen %u.%u, %"
		PRIu64 " records, %" PRIu64 " pages, %u checkpoints, %" PRIu64 " bytes\n",
		in->libxc_version, in->libxc_options & 1 ? "big" : "little",
		in->dom_type == 1 ? "x86 PV" : "x86 HVM", in->page_shift, in->xen_major,
		in->xen_minor, in->nr_records[XTS_STREAM_LIBXC], in->nr_pages, in->nr_checkpoints,
		in->bytes);
	if (in->read_past_end)
		fprintf(f, "  %" PRIu64 "+ bytes follow the final END (ignored, as xl restore does)\n",
			in->read_past_end);

	fprintf(f, "Xen time state:\n");
	fprintf(f, "  X86_TSC_INFO: mode %u, %u kHz, nsec %" PRIu64 ", incarnation %u\n",
		x->tsc_mode, x->tsc_khz, x->tsc_nsec, x->incarnation);
	if (x->have & XTS_XEN_HAVE_HVM_HEADER)
		fprintf(f, "  HVM HEADER: gtsc_khz %u, cpuid 0x%x, changeset 0x%" PRIx64 "\n",
			x->gtsc_khz, x->hvm_cpuid, x->changeset);
	if (x->have & XTS_XEN_HAVE_RTC)
		fprintf(f, "  RTC: rtc_offset %" PRId64 " s\n", x->rtc_offset);
	if (x->dom_type == 2) {
		fprintf(f, "  vCPU  guest TSC             TSC_ADJUST          TSC deadline        APIC base\n");
		for (unsigned i = 0; i < x->nr_vcpus; i++) {
			const struct xts_xen_vcpu_time *v = &x->vcpu[i];
			fprintf(f, "  %-4u  %-20" PRIu64 "  %-18" PRIu64 "  %-18" PRIu64 "  0x%" PRIx64 "%s\n",
				i, v->tsc, v->tsc_adjust, v->tdt_msr, v->apic_base_msr,
				v->present & XTS_XEN_VCPU_CPU ? "" : "  (no CPU record)");
		}
	}
	for (unsigned i = 0; i < x->nr_params; i++)
		fprintf(f, "  HVM param %" PRIu64 " = 0x%" PRIx64 "\n", x->params[i].index,
			x->params[i].value);
	if ((x->have & XTS_XEN_HAVE_WALLCLOCK) && !(x->have & XTS_XEN_HAVE_SHARED_INFO))
		fprintf(f, "  guest wallclock (XTSHIM_TIME): %" PRIu64 ".%09u (version %u)\n",
			x->wc_sec, x->wc_nsec, x->wc_version);
	if (x->have & XTS_XEN_HAVE_SHARED_INFO) {
		fprintf(f, "  SHARED_INFO (%u-bit): wallclock %" PRIu64 ".%09u (version %u)\n",
			x->guest_width * 8, x->wc_sec, x->wc_nsec, x->wc_version);
		for (unsigned i = 0; i < x->nr_vcpus && i < XTS_XEN_PV_VCPUS; i++)
			fprintf(f, "  vCPU %u pvclock: version %u tsc %" PRIu64 " system %" PRIu64
				" ns mul 0x%x shift %d flags 0x%x\n", i, x->pv_time[i].version,
				x->pv_time[i].tsc_timestamp, x->pv_time[i].system_time,
				x->pv_time[i].tsc_to_system_mul, x->pv_time[i].tsc_shift,
				x->pv_time[i].flags);
	}
	if (x->have & XTS_XEN_HAVE_PVCLOCK)
		fprintf(f, "  last pvclock record (vCPU %u): version %u tsc %" PRIu64 " system %" PRIu64
			" ns mul 0x%x shift %d\n", x->pvclock_vcpu, x->pvclock.version,
			x->pvclock.tsc_timestamp, x->pvclock.system_time,
			x->pvclock.tsc_to_system_mul, x->pvclock.tsc_shift);
	if (!st_ok)
		return;
	fprintf(f, "xtshim clock model:\n");
	fprintf(f, "  %u vCPUs, guest TSC %u kHz, tsc_mode %u, incarnation %u (%u after restore)\n",
		st->nr_vcpus, st->guest_tsc_khz, st->tsc_mode, st->incarnation, st->incarnation + 1);
	fprintf(f, "  system time line: %s\n", line_source(src));
	fprintf(f, "    anchor TSC %" PRIu64 ", system %" PRIu64 " ns, mul 0x%08x, shift %d\n",
		st->line.tsc, st->line.system_ns, st->line.mul, st->line.shift);
	fprintf(f, "    system time at the save instant: %" PRIu64 " ns\n",
		xts_line_at(&st->line, st->guest_tsc[0]));
	fprintf(f, "  wallclock (UTC at system time 0): %" PRIu64 ".%09u\n", st->wc_sec, st->wc_nsec);
	fprintf(f, "  save instant taken as UTC %" PRIu64 " ns\n", save_ns);
	if (x->dom_type == 1)
		fprintf(f, "note: a PV guest cannot run on KVM; its time state is shown for reference"
			" (its TSC is not saved: the newest record's tsc_timestamp stands in)\n");
}

static void print_json(FILE *f, const struct xts_stream_info *in, const struct xts_xen_time *x,
		       const struct xts_time_state *st, bool st_ok, enum xts_xen_line_source src)
{
	fprintf(f, ",\n  \"stream\": {\"xl\": %s, \"libxl\": %s, \"libxc_version\": %u,"
		" \"libxc_big_endian\": %s, \"dom_type\": \"%s\", \"xen_major\": %u, \"xen_minor\": %u,"
		" \"records\": %" PRIu64 ", \"pages\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
		in->has_xl ? "true" : "false", in->has_libxl ? "true" : "false", in->libxc_version,
		in->libxc_options & 1 ? "true" : "false", in->dom_type == 1 ? "pv" : "hvm",
		in->xen_major, in->xen_minor, in->nr_records[XTS_STREAM_LIBXC], in->nr_pages,
		in->bytes);
	fprintf(f, ",\n  \"xen_time\": {\"tsc_mode\": %u, \"tsc_khz\": %u, \"tsc_nsec\": %" PRIu64
		", \"incarnation\": %u, \"gtsc_khz\": %u, \"rtc_offset\": %" PRId64 ", \"vcpus\": [",
		x->tsc_mode, x->tsc_khz, x->tsc_nsec, x->incarnation, x->gtsc_khz, x->rtc_offset);
	for (unsigned i = 0; i < x->nr_vcpus; i++)
		fprintf(f, "%s{\"tsc\": %" PRIu64 ", \"tsc_adjust\": %" PRIu64 ", \"tdt\": %" PRIu64
			", \"apic_base\": %" PRIu64 "}", i ? ", " : "", x->vcpu[i].tsc,
			x->vcpu[i].tsc_adjust, x->vcpu[i].tdt_msr, x->vcpu[i].apic_base_msr);
	fprintf(f, "], \"params\": {");
	for (unsigned i = 0; i < x->nr_params; i++)
		fprintf(f, "%s\"%" PRIu64 "\": %" PRIu64, i ? ", " : "", x->params[i].index,
			x->params[i].value);
	fprintf(f, "}}");
	if (!st_ok) {
		fprintf(f, ",\n  \"state\": null");
		return;
	}
	fprintf(f, ",\n  \"state\": {\"nr_vcpus\": %u, \"guest_tsc_khz\": %u, \"tsc_mode\": %u,"
		" \"incarnation\": %u, \"line_source\": \"%s\", \"line\": {\"tsc\": %" PRIu64
		", \"system_ns\": %" PRIu64 ", \"mul\": %u, \"shift\": %d}, \"wc_sec\": %" PRIu64
		", \"wc_nsec\": %u, \"saved_realtime_ns\": %" PRIu64 ", \"guest_tsc\": [",
		st->nr_vcpus, st->guest_tsc_khz, st->tsc_mode, st->incarnation,
		src == XTS_XEN_LINE_NEW ? "new" : src == XTS_XEN_LINE_PV_SHARED ? "pv-shared-info"
		: "pvclock", st->line.tsc, st->line.system_ns, st->line.mul, st->line.shift,
		st->wc_sec, st->wc_nsec, st->saved_realtime_ns);
	for (unsigned i = 0; i < st->nr_vcpus; i++)
		fprintf(f, "%s%" PRIu64, i ? ", " : "", st->guest_tsc[i]);
	fprintf(f, "]}");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xtshim inspect [--json] [--pvclock VCPU:GPA] [--save-time UNIX_NS] FILE|-\n"
		"  --pvclock VCPU:GPA  the guest-physical address of vCPU's vcpu_time_info\n"
		"                      (its registered vcpu_info + 32) inside the saved memory\n"
		"  --save-time NS      UTC of the save instant (default: FILE's mtime, or now)\n"
		"exit status: 0 acceptable, 1 rejected, 2 usage\n");
}

int xtshim__cmd_inspect(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pvclock", required_argument, NULL, 'p' },
		{ "save-time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct xts_xen_import_opts io = { 0 };
	struct insp s = { .out = stdout };
	struct xts_stream_visitor v = { .opaque = &s, .record = on_record };
	struct xts_stream_error err;
	struct xts_stream_info info;
	struct xts_xen_time *x;
	struct xts_time_state *st;
	enum xts_xen_line_source src = XTS_XEN_LINE_NEW;
	char why[256] = "";
	uint64_t save_ns = 0;
	bool have_save = false, st_ok = false;
	int c, fd, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jp:t:h", lopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'j':
			s.json = true;
			break;
		case 'p': {
			unsigned long vc = strtoul(optarg, &end, 0);
			if (*end != ':' || vc >= XTS_MAX_VCPUS) {
				fprintf(stderr, "inspect: --pvclock wants VCPU:GPA\n");
				return 2;
			}
			io.pvclock_given = true;
			io.pvclock_vcpu = (uint32_t)vc;
			io.pvclock_gpa = strtoull(end + 1, &end, 0);
			if (*end) {
				fprintf(stderr, "inspect: bad GPA in --pvclock\n");
				return 2;
			}
			break;
		}
		case 't':
			save_ns = strtoull(optarg, &end, 0);
			if (*end) {
				fprintf(stderr, "inspect: bad --save-time\n");
				return 2;
			}
			have_save = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	x = calloc(1, sizeof(*x));
	st = calloc(1, sizeof(*st));
	if (!x || !st) {
		fprintf(stderr, "inspect: out of memory\n");
		free(x);
		free(st);
		return 1;
	}
	if (!strcmp(argv[optind], "-")) {
		fd = STDIN_FILENO;
	} else {
		fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "inspect: %s: %s\n", argv[optind], strerror(errno));
			free(x);
			free(st);
			return 1;
		}
	}
	if (!have_save) {
		struct stat sb;
		struct timespec ts;
		if (fd != STDIN_FILENO && !fstat(fd, &sb) && S_ISREG(sb.st_mode)) {
			save_ns = (uint64_t)sb.st_mtim.tv_sec * 1000000000ull + (uint64_t)sb.st_mtim.tv_nsec;
		} else {
			clock_gettime(CLOCK_REALTIME, &ts);
			save_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		}
	}

	if (s.json)
		fprintf(s.out, "{\n  \"records\": [");
	else
		fprintf(s.out, "records:\n");
	rc = xts_xen_read_time(fd, &io, &v, x, &info, &err);
	flush_run(&s);
	if (fd != STDIN_FILENO)
		close(fd);
	if (!rc) {
		rc = xts_xen_time_to_state(x, save_ns, st, &src, why, sizeof(why));
		st_ok = !rc;
	}

	if (s.json) {
		fprintf(s.out, "\n  ]");
		if (err.err == 0 && rc == 0) {
			print_json(s.out, &info, x, st, st_ok, src);
			fprintf(s.out, ",\n  \"acceptable\": true,\n  \"error\": null\n}\n");
		} else if (err.err) {
			fprintf(s.out, ",\n  \"acceptable\": false,\n  \"error\": {\"layer\": \"%s\","
				" \"index\": %" PRId64 ", \"type\": %u, \"offset\": %" PRIu64 ", \"message\": ",
				layer_name(err.layer), err.index, err.type, err.offset);
			json_str(s.out, err.msg);
			fprintf(s.out, "}\n}\n");
		} else {
			print_json(s.out, &info, x, st, false, src);
			fprintf(s.out, ",\n  \"acceptable\": false,\n  \"error\": {\"layer\": \"translation\","
				" \"message\": ");
			json_str(s.out, why);
			fprintf(s.out, "}\n}\n");
		}
	} else if (err.err) {
		fprintf(s.out, "REJECTED: %s\n", err.msg);
	} else {
		print_text(s.out, &info, x, st, st_ok, src, save_ns);
		if (rc)
			fprintf(s.out, "REJECTED: the time state cannot be translated: %s\n", why);
		else
			fprintf(s.out, "acceptable\n");
	}
	free(x);
	free(st);
	return rc ? 1 : 0;
}
