/*
 * Streaming parser and validator for Xen migration streams.
 *
 * The stream is read from a file descriptor through one bounded buffer
 * (RD_CAP bytes); record bodies xtshim needs are copied out (at most the
 * 128 MiB record limit, grown as bytes arrive, so a lying length costs
 * nothing until the bytes exist), page data and opaque bodies are streamed
 * past.  Nothing beyond the final END is read, so an `xl migrate` socket
 * can be used afterwards for the handshake.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "shim/stream-internal.h"

#define RD_CAP        (1u << 20)
#define MAX_PFNS      (1u << 20)        /* per PAGE_DATA record; libxc writes <= 1024 */
#define MAX_XL_OPT    (64u << 20)       /* xl optional data (config) */

struct rd {
	int fd;
	uint8_t *buf;
	size_t pos, len;          /* unread bytes: buf[pos .. len) */
	uint64_t off;             /* stream offset of buf[pos] */
};

/* Where the parser is, for messages. */
struct where {
	uint32_t layer;
	int64_t index;            /* -1: a header */
	uint32_t type;
	uint64_t offset;
	const char *what;         /* name of the record or header */
	uint32_t instance;
};

struct parser {
	struct rd rd;
	const struct xts_stream_visitor *v;
	struct xts_stream_info info;
	struct xts_stream_error *err;
	struct where rec;         /* current libxl/libxc record (or header) */
	struct where ent;         /* current HVM entry */
	bool in_ent;
	bool be;                  /* byte order of the current layer's records */
	uint8_t *body;            /* copy of the current record body */
	size_t body_cap;
	uint64_t *pfns;
	size_t pfns_cap;
	/* libxc state */
	bool libxc_be;
	bool libxc_open;          /* headers read, END not yet */
	uint64_t libxc_index;
	bool static_end;          /* STATIC_DATA_END seen (v3) */
	bool pv_info, p2m;
	unsigned n_tsc, n_ctx, n_params, n_shinfo;  /* per checkpoint */
	uint32_t page_size;
};

static int fail(struct parser *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int err, const char *fmt, ...)
{
	char detail[256], prefix[256];
	const struct where *w = &p->rec;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);

	if (w->index < 0)
		snprintf(prefix, sizeof(prefix), "%s at offset %" PRIu64 " (0x%" PRIx64 ")",
			 w->what, w->offset, w->offset);
	else
		snprintf(prefix, sizeof(prefix), "%s record #%" PRId64 " (%s, type 0x%x) at offset %"
			 PRIu64 " (0x%" PRIx64 ")", xts_layer_name(w->layer), w->index, w->what,
			 w->type, w->offset, w->offset);
	if (p->in_ent) {
		const struct where *e = &p->ent;
		xts_stream_set_error(p->err, err, e->layer, e->index, e->type, e->offset,
				     "%s: HVM entry #%" PRId64 " (%s, typecode %u, instance %u) at offset %"
				     PRIu64 " (0x%" PRIx64 "): %s", prefix, e->index, e->what, e->type,
				     e->instance, e->offset, e->offset, detail);
	} else {
		xts_stream_set_error(p->err, err, w->layer, w->index, w->type, w->offset,
				     "%s: %s", prefix, detail);
	}
	return err;
}

/* ---- reader ---- */

/* Make `need` (<= RD_CAP) bytes available at buf + pos. */
static int rd_fill(struct parser *p, size_t need)
{
	struct rd *r = &p->rd;

	if (r->len - r->pos >= need)
		return 0;
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	while (r->len < need) {
		ssize_t n = read(r->fd, r->buf + r->len, RD_CAP - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(p, -EIO, "read error at offset %" PRIu64 ": %s",
				    r->off + r->len, strerror(errno));
		if (n == 0)
			return fail(p, -EINVAL, "stream truncated: %zu more bytes needed at offset %"
				    PRIu64, need - r->len, r->off + r->len);
		r->len += (size_t)n;
	}
	return 0;
}

static const uint8_t *rd_take(struct parser *p, size_t n)
{
	const uint8_t *q;

	if (rd_fill(p, n))
		return NULL;
	q = p->rd.buf + p->rd.pos;
	p->rd.pos += n;
	p->rd.off += n;
	return q;
}

/* Pass over n bytes without keeping them. */
static int rd_skip(struct parser *p, uint64_t n)
{
	struct rd *r = &p->rd;
	size_t have = r->len - r->pos;

	if (n <= have) {
		r->pos += n;
		r->off += n;
		return 0;
	}
	n -= have;
	r->off += have;
	r->pos = r->len = 0;
	while (n) {
		ssize_t got = read(r->fd, r->buf, RD_CAP);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return fail(p, -EIO, "read error at offset %" PRIu64 ": %s", r->off,
				    strerror(errno));
		if (got == 0)
			return fail(p, -EINVAL, "stream truncated: %" PRIu64
				    " more bytes needed at offset %" PRIu64, n, r->off);
		if ((uint64_t)got <= n) {
			n -= (uint64_t)got;
			r->off += (uint64_t)got;
		} else {
			r->pos = (size_t)n;
			r->len = (size_t)got;
			r->off += n;
			n = 0;
		}
	}
	return 0;
}

/* Copy a body of n bytes into p->body, growing only as bytes arrive. */
static int rd_body(struct parser *p, uint32_t n)
{
	size_t done = 0;

	while (done < n) {
		size_t chunk = n - done < RD_CAP ? n - done : RD_CAP;
		const uint8_t *q;

		if (done + chunk > p->body_cap) {
			size_t cap = p->body_cap ? p->body_cap : 4096;
			uint8_t *nb;
			while (cap < done + chunk)
				cap *= 2;
			if (cap > n)
				cap = n;
			nb = realloc(p->body, cap);
			if (!nb)
				return fail(p, -ENOMEM, "out of memory for a %u-byte body", n);
			p->body = nb;
			p->body_cap = cap;
		}
		q = rd_take(p, chunk);
		if (!q)
			return p->err->err;
		memcpy(p->body + done, q, chunk);
		done += chunk;
	}
	return 0;
}

static int rd_padding(struct parser *p, uint32_t len)
{
	uint32_t pad = xts_pad8(len);
	const uint8_t *q;

	if (!pad)
		return 0;
	q = rd_take(p, pad);
	if (!q)
		return p->err->err;
	for (uint32_t i = 0; i < pad; i++)
		if (q[i])
			return fail(p, -EINVAL, "padding byte %u of %u at offset %" PRIu64
				    " is 0x%02x, not zero", i + 1, pad, p->rd.off - pad + i, q[i]);
	return 0;
}

static int visit(struct parser *p, const struct where *w, uint32_t length, bool optional,
		 const void *body)
{
	struct xts_stream_record r = {
		.layer = w->layer, .index = (uint64_t)w->index, .type = w->type,
		.instance = w->instance, .length = length, .offset = w->offset,
		.name = w->what, .optional = optional, .big_endian = p->be, .body = body,
	};
	int rc;

	if (!p->v || !p->v->record)
		return 0;
	rc = p->v->record(p->v->opaque, &r);
	if (rc)
		return fail(p, rc < 0 ? rc : -ECANCELED, "refused by the consumer: %s",
			    rc < 0 ? strerror(-rc) : "cancelled");
	return 0;
}

/* ---- HVM context ---- */

static int hvm_entry_check(struct parser *p, uint32_t code, uint32_t inst, const uint8_t *b,
			   uint32_t len, uint64_t (*seen)[2])
{
	const struct xts_hvm_entry_rule *rule = xts_hvm_entry_rule(code);
	bool be = p->be;

	if (!rule) {
		if (code >= XTS_HVM_VENDOR_FIRST && code <= XTS_HVM_VENDOR_LAST)
			return fail(p, -ENOTSUP, "typecode %u is reserved for a vendor's private Xen"
				    " build; its contents are unknown", code);
		return fail(p, -EINVAL, "unknown typecode %u (Xen's loader refuses it)", code);
	}
	if (len < rule->min_len || len > rule->max_len) {
		if (rule->min_len == rule->max_len)
			return fail(p, -EINVAL, "length %u, expected %u", len, rule->min_len);
		return fail(p, -EINVAL, "length %u, expected %u..%u", len, rule->min_len,
			    rule->max_len);
	}
	if (rule->per_vcpu ? inst >= XTS_MAX_VCPUS : inst > rule->max_instance)
		return fail(p, rule->per_vcpu ? -ENOTSUP : -EINVAL,
			    rule->per_vcpu ? "vCPU instance %u is beyond xtshim's %u vCPUs"
					   : "instance %u, at most %u allowed", inst,
			    rule->per_vcpu ? XTS_MAX_VCPUS : rule->max_instance);
	if (seen[code][inst / 64] & (1ull << (inst % 64)))
		return fail(p, -EINVAL, "duplicate %s entry for instance %u", rule->name, inst);
	seen[code][inst / 64] |= 1ull << (inst % 64);

	switch (code) {
	case 1: /* HEADER */
		if (xts_get32(b + offsetof(struct hvm_save_header, magic), be) != XTS_HVM_MAGIC)
			return fail(p, -EINVAL, "magic 0x%08x, expected 0x%08x",
				    xts_get32(b, be), XTS_HVM_MAGIC);
		if (xts_get32(b + offsetof(struct hvm_save_header, version), be) != XTS_HVM_VERSION)
			return fail(p, -EINVAL, "version %u, expected %u",
				    xts_get32(b + 4, be), XTS_HVM_VERSION);
		break;
	case CPU_XSAVE_CODE:
		break;
	case CPU_MSR_CODE: {
		uint32_t count = xts_get32(b, be);
		if ((uint64_t)count * sizeof(struct hvm_one_msr) + sizeof(struct hvm_msr) != len)
			return fail(p, -EINVAL, "%u MSRs need %" PRIu64 " bytes, entry has %u", count,
				    (uint64_t)count * sizeof(struct hvm_one_msr) + sizeof(struct hvm_msr),
				    len);
		break;
	}
	}
	return 0;
}

/*
 * Two passes over the blob in p->body: validate every entry, then visit
 * them, so a consumer never sees part of a context that turns out bad.
 */
static int parse_hvm_context(struct parser *p, uint32_t len)
{
	uint64_t (*seen)[2];
	int rc = 0;

	bool stream_be = p->be;

	seen = calloc(HVM_SAVE_CODE_MAX + 1, sizeof(*seen));
	if (!seen)
		return fail(p, -ENOMEM, "out of memory");
	/* The blob is Xen's x86 memory image: little-endian in any stream. */
	p->be = false;
	for (int pass = 0; pass < 2 && !rc; pass++) {
		uint32_t pos = 0;
		bool end = false;

		/* Consumers see the record, then its entries. */
		if (pass == 1) {
			p->in_ent = false;
			rc = visit(p, &p->rec, len, false, p->body);
			if (rc)
				break;
		}

		for (int64_t i = 0; !end; i++) {
			const uint8_t *d;                   /* a descriptor, possibly unaligned */
			uint32_t code, inst, elen;

			p->in_ent = false;
			if (len - pos < sizeof(struct hvm_save_descriptor)) {
				rc = fail(p, -EINVAL, "HVM context ends without an END entry after %"
					  PRId64 " entries (%u bytes left at offset %" PRIu64 ")",
					  i, len - pos, p->rec.offset + 8 + pos);
				break;
			}
			d = p->body + pos;
			code = xts_get16(d + offsetof(struct hvm_save_descriptor, typecode), p->be);
			inst = xts_get16(d + offsetof(struct hvm_save_descriptor, instance), p->be);
			elen = xts_get32(d + offsetof(struct hvm_save_descriptor, length), p->be);
			p->ent = (struct where){ XTS_STREAM_HVM, i, code, p->rec.offset + 8 + pos,
						 xts_hvm_entry_name(code), inst };
			p->in_ent = true;
			pos += sizeof(struct hvm_save_descriptor);
			if (elen > len - pos) {
				rc = fail(p, -EINVAL, "length %u runs past the end of the record (%u"
					  " bytes left)", elen, len - pos);
				break;
			}
			if (pass == 0) {
				if (i == 0 && code != 1) {
					rc = fail(p, -EINVAL, "the first entry must be HEADER");
					break;
				}
				if (i != 0 && code == 1) {
					rc = fail(p, -EINVAL, "HEADER must be the first entry only");
					break;
				}
				rc = hvm_entry_check(p, code, inst, p->body + pos, elen, seen);
				if (rc)
					break;
				if (code == 0 && pos + elen != len) {
					rc = fail(p, -EINVAL, "%u bytes follow the END entry",
						  len - pos - elen);
					break;
				}
			} else {
				rc = visit(p, &p->ent, elen, false, p->body + pos);
				if (rc)
					break;
			}
			end = code == 0;
			pos += elen;
		}
	}
	p->in_ent = false;
	p->be = stream_be;
	free(seen);
	return rc;
}

/* ---- libxc records ---- */

static int parse_page_data(struct parser *p, uint32_t len)
{
	const uint8_t *q;
	uint32_t count, with_data = 0;

	if (len < sizeof(struct xts_libxc_page_data_header))
		return fail(p, -EINVAL, "body length %u is shorter than the 8-byte header", len);
	q = rd_take(p, 8);
	if (!q)
		return p->err->err;
	count = xts_get32(q, p->be);
	if (count == 0)
		return fail(p, -EINVAL, "count is 0 (must be > 0)");
	if (count > MAX_PFNS)
		return fail(p, -ENOTSUP, "count %u exceeds xtshim's %u pfns per record", count, MAX_PFNS);
	if ((uint64_t)count * 8 > len - 8)
		return fail(p, -EINVAL, "body length %u cannot hold %u pfns", len, count);
	if (count > p->pfns_cap) {
		uint64_t *np = realloc(p->pfns, (size_t)count * sizeof(*np));
		if (!np)
			return fail(p, -ENOMEM, "out of memory for %u pfns", count);
		p->pfns = np;
		p->pfns_cap = count;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t w;
		uint32_t t;

		q = rd_take(p, 8);
		if (!q)
			return p->err->err;
		w = xts_get64(q, p->be);
		t = (uint32_t)(w >> XTS_PFN_TYPE_SHIFT);
		if (w & XTS_PFN_RSVD_MASK)
			return fail(p, -EINVAL, "pfn[%u] = 0x%016" PRIx64 " has reserved bits 59-52 set",
				    i, w);
		if (t >= 5 && t <= 8)
			return fail(p, -EINVAL, "pfn[%u] = 0x%016" PRIx64 " has reserved type 0x%x",
				    i, w, t);
		if (p->info.dom_type == XTS_LIBXC_DOM_X86_HVM && t != XTS_PFN_TYPE_NOTAB &&
		    t < XTS_PFN_TYPE_BROKEN)
			return fail(p, -EINVAL, "pfn[%u] = 0x%016" PRIx64 ": page-table type 0x%x in"
				    " an HVM stream", i, w, t);
		p->pfns[i] = w;
		if (t < XTS_PFN_TYPE_BROKEN)
			with_data++;
	}
	if ((uint64_t)len != 8 + (uint64_t)count * 8 + (uint64_t)with_data * p->page_size)
		return fail(p, -EINVAL, "body length %u, expected %" PRIu64 " for %u pfns of which %u"
			    " carry data", len, 8 + (uint64_t)count * 8 +
			    (uint64_t)with_data * p->page_size, count, with_data);
	if (!p->v || !p->v->page) {
		p->info.nr_pages += with_data;
		return rd_skip(p, (uint64_t)with_data * p->page_size);
	}
	for (uint32_t i = 0; i < count; i++) {
		if ((uint32_t)(p->pfns[i] >> XTS_PFN_TYPE_SHIFT) >= XTS_PFN_TYPE_BROKEN)
			continue;
		q = rd_take(p, p->page_size);
		if (!q)
			return p->err->err;
		int rc = p->v->page(p->v->opaque, p->pfns[i] & XTS_PFN_MASK, q, p->page_size);
		if (rc)
			return fail(p, rc < 0 ? rc : -ECANCELED, "page 0x%" PRIx64
				    " refused by the consumer: %s", (uint64_t)(p->pfns[i] & XTS_PFN_MASK),
				    rc < 0 ? strerror(-rc) : "cancelled");
		p->info.nr_pages++;
	}
	return 0;
}

static bool is_pv_only(uint32_t t)
{
	return (t >= XTS_LIBXC_REC_X86_PV_INFO && t <= XTS_LIBXC_REC_SHARED_INFO) ||
	       t == XTS_LIBXC_REC_X86_PV_VCPU_MSRS;
}

static bool is_static(uint32_t t)
{
	return t == XTS_LIBXC_REC_X86_CPUID_POLICY || t == XTS_LIBXC_REC_X86_MSR_POLICY ||
	       t == XTS_LIBXC_REC_X86_PV_INFO;
}

/* What a finished (END) or paused (CHECKPOINT) stream must have had. */
static int libxc_complete(struct parser *p)
{
	if (!p->n_tsc)
		return fail(p, -EINVAL, "the stream has no X86_TSC_INFO record");
	if (p->info.dom_type == XTS_LIBXC_DOM_X86_HVM && !p->n_ctx)
		return fail(p, -EINVAL, "the HVM stream has no HVM_CONTEXT record");
	if (p->info.dom_type == XTS_LIBXC_DOM_X86_PV && !p->pv_info)
		return fail(p, -EINVAL, "the PV stream has no X86_PV_INFO record");
	if (p->info.libxc_version >= 3 && !p->static_end)
		return fail(p, -EINVAL, "the v3 stream has no STATIC_DATA_END record");
	return 0;
}

static int once(struct parser *p, unsigned *n)
{
	if ((*n)++)
		return fail(p, -EINVAL, "a second %s record in the same checkpoint", p->rec.what);
	return 0;
}

enum libxc_exit { LIBXC_END, LIBXC_CHECKPOINT };

static int parse_libxc_record(struct parser *p, uint32_t type, uint32_t len, enum libxc_exit *ex,
			      bool *done)
{
	bool hvm = p->info.dom_type == XTS_LIBXC_DOM_X86_HVM;
	bool need_body = false, optional = type & XTS_LIBXC_REC_OPTIONAL;
	uint32_t exact = UINT32_MAX;      /* required length, if fixed */
	int rc;

	if (len > XTS_LIBXC_REC_MAX_LENGTH)
		return fail(p, -EINVAL, "body length %u exceeds the 128 MiB record limit", len);
	if (!optional && type >= XTS_LIBXC_REC_NR_KNOWN)
		return fail(p, -EINVAL, "unknown mandatory record type 0x%x: a restore must fail",
			    type);
	if (!optional) {
		if (hvm && is_pv_only(type))
			return fail(p, -EINVAL, "a PV record in an HVM stream");
		if (!hvm && (type == XTS_LIBXC_REC_HVM_CONTEXT || type == XTS_LIBXC_REC_HVM_PARAMS))
			return fail(p, -EINVAL, "an HVM record in a PV stream");
		if (p->info.libxc_version >= 3 && type != XTS_LIBXC_REC_END) {
			if (type == XTS_LIBXC_REC_STATIC_DATA_END) {
				if (p->static_end)
					return fail(p, -EINVAL, "a second STATIC_DATA_END");
			} else if (is_static(type) && p->static_end) {
				return fail(p, -EINVAL, "static data after STATIC_DATA_END");
			} else if (!is_static(type) && !p->static_end) {
				return fail(p, -EINVAL, "record before STATIC_DATA_END");
			}
		}
		if (p->info.libxc_version < 3 && type == XTS_LIBXC_REC_STATIC_DATA_END)
			return fail(p, -EINVAL, "STATIC_DATA_END in a v%u stream",
				    p->info.libxc_version);
	}

	if (type == XTS_LIBXC_REC_XTSHIM_TIME) {
		exact = sizeof(struct xts_libxc_xtshim_time);
		need_body = true;
	}
	switch (optional ? UINT32_MAX : type) {
	case XTS_LIBXC_REC_END:
	case XTS_LIBXC_REC_VERIFY:
	case XTS_LIBXC_REC_CHECKPOINT:
	case XTS_LIBXC_REC_STATIC_DATA_END:
		exact = 0;
		break;
	case XTS_LIBXC_REC_X86_TSC_INFO:
		exact = sizeof(struct xts_libxc_tsc_info);
		need_body = true;
		break;
	case XTS_LIBXC_REC_X86_PV_INFO:
		exact = sizeof(struct xts_libxc_x86_pv_info);
		need_body = true;
		break;
	case XTS_LIBXC_REC_SHARED_INFO:
		exact = p->page_size;
		need_body = true;
		break;
	case XTS_LIBXC_REC_HVM_CONTEXT:
	case XTS_LIBXC_REC_HVM_PARAMS:
		need_body = true;
		break;
	case XTS_LIBXC_REC_X86_PV_VCPU_BASIC:
		need_body = true;     /* the consumer learns the vCPU ids from it */
		/* fall through */
	case XTS_LIBXC_REC_X86_PV_VCPU_EXTENDED:
	case XTS_LIBXC_REC_X86_PV_VCPU_XSAVE:
	case XTS_LIBXC_REC_X86_PV_VCPU_MSRS:
		if (len < sizeof(struct xts_libxc_pv_vcpu_header))
			return fail(p, -EINVAL, "body length %u is shorter than the vCPU header", len);
		break;
	}

	if (!optional) {
		switch (type) {
		case XTS_LIBXC_REC_X86_TSC_INFO: rc = once(p, &p->n_tsc); break;
		case XTS_LIBXC_REC_HVM_CONTEXT: rc = once(p, &p->n_ctx); break;
		case XTS_LIBXC_REC_HVM_PARAMS: rc = once(p, &p->n_params); break;
		case XTS_LIBXC_REC_SHARED_INFO:
			rc = once(p, &p->n_shinfo);
			if (!rc && !p->pv_info)
				rc = fail(p, -EINVAL, "SHARED_INFO before X86_PV_INFO");
			break;
		case XTS_LIBXC_REC_X86_PV_INFO:
			rc = p->pv_info ? fail(p, -EINVAL, "a second X86_PV_INFO") : 0;
			break;
		case XTS_LIBXC_REC_X86_PV_P2M_FRAMES:
			rc = p->pv_info ? 0 : fail(p, -EINVAL, "X86_PV_P2M_FRAMES before X86_PV_INFO");
			break;
		case XTS_LIBXC_REC_PAGE_DATA:
			rc = hvm || p->p2m ? 0 : fail(p, -EINVAL, "PAGE_DATA before X86_PV_P2M_FRAMES");
			break;
		default: rc = 0;
		}
		if (rc)
			return rc;
	}

	if (exact != UINT32_MAX && len != exact)
		return fail(p, -EINVAL, "body length %u, expected %u", len, exact);

	if (!optional && type == XTS_LIBXC_REC_PAGE_DATA) {
		rc = parse_page_data(p, len);
		if (rc)
			return rc;
		rc = rd_padding(p, len);
		return rc ? rc : visit(p, &p->rec, len, false, NULL);
	}
	if (need_body) {
		rc = rd_body(p, len);
	} else {
		rc = rd_skip(p, len);
	}
	if (!rc)
		rc = rd_padding(p, len);
	if (rc)
		return rc;

	if (type == XTS_LIBXC_REC_XTSHIM_TIME) {
		uint32_t vcpu = xts_get32(p->body, p->be);
		if (vcpu >= XTS_MAX_VCPUS)
			return fail(p, -EINVAL, "vCPU %u is beyond %u", vcpu, XTS_MAX_VCPUS);
	}
	if (!optional) {
		const uint8_t *b = p->body;
		switch (type) {
		case XTS_LIBXC_REC_X86_TSC_INFO: {
			uint32_t mode = xts_get32(b, p->be);
			if (mode > 3)
				return fail(p, -EINVAL, "unknown TSC mode %u", mode);
			break;
		}
		case XTS_LIBXC_REC_X86_PV_INFO:
			if ((b[0] != 4 && b[0] != 8) || (b[1] != 3 && b[1] != 4))
				return fail(p, -EINVAL, "guest width %u / %u page-table levels are not"
					    " 4/3 or 8/4", b[0], b[1]);
			p->pv_info = true;
			break;
		case XTS_LIBXC_REC_X86_PV_P2M_FRAMES:
			p->p2m = true;
			break;
		case XTS_LIBXC_REC_X86_PV_VCPU_BASIC:
			if (xts_get32(b, p->be) >= XTS_MAX_VCPUS)
				return fail(p, -ENOTSUP, "vCPU %u is beyond xtshim's %u vCPUs",
					    xts_get32(b, p->be), XTS_MAX_VCPUS);
			break;
		case XTS_LIBXC_REC_HVM_PARAMS: {
			uint32_t count;
			if (len < 8)
				return fail(p, -EINVAL, "body length %u is shorter than the header", len);
			count = xts_get32(b, p->be);
			if ((uint64_t)count * 16 + 8 != len)
				return fail(p, -EINVAL, "%u params need %" PRIu64 " bytes, body has %u",
					    count, (uint64_t)count * 16 + 8, len);
			for (uint32_t i = 0; i < count; i++) {
				uint64_t idx = xts_get64(b + 8 + 16 * i, p->be);
				if (idx >= HVM_NR_PARAMS)
					return fail(p, -EINVAL, "param[%u] index %" PRIu64 " is not below"
						    " HVM_NR_PARAMS (%u)", i, idx, HVM_NR_PARAMS);
				for (uint32_t j = 0; j < i; j++)
					if (xts_get64(b + 8 + 16 * j, p->be) == idx)
						return fail(p, -EINVAL, "param index %" PRIu64
							    " appears twice", idx);
			}
			break;
		}
		case XTS_LIBXC_REC_HVM_CONTEXT:
			rc = parse_hvm_context(p, len);
			if (rc)
				return rc;
			break;
		case XTS_LIBXC_REC_STATIC_DATA_END:
			p->static_end = true;
			break;
		case XTS_LIBXC_REC_CHECKPOINT:
			rc = libxc_complete(p);
			if (rc)
				return rc;
			p->info.nr_checkpoints++;
			p->n_tsc = p->n_ctx = p->n_params = p->n_shinfo = 0;
			*ex = LIBXC_CHECKPOINT;
			*done = true;
			break;
		case XTS_LIBXC_REC_END:
			rc = libxc_complete(p);
			if (rc)
				return rc;
			*ex = LIBXC_END;
			*done = true;
			break;
		}
	}
	if (!optional && type == XTS_LIBXC_REC_HVM_CONTEXT)
		return 0;             /* visited by parse_hvm_context() */
	return visit(p, &p->rec, len, optional, need_body ? p->body : NULL);
}

static int parse_libxc_headers(struct parser *p)
{
	const uint8_t *q;
	uint64_t start = p->rd.off;
	uint32_t v, opts, type, shift;

	p->rec = (struct where){ XTS_STREAM_LIBXC, -1, 0, start, "libxc image header", 0 };
	q = rd_take(p, sizeof(struct xts_libxc_image_header));
	if (!q)
		return p->err->err;
	if (xts_get64(q, true) != XTS_LIBXC_MARKER)
		return fail(p, -EINVAL, "marker 0x%016" PRIx64 ", expected all ones (a legacy"
			    " pre-4.6 image is not supported)", xts_get64(q, true));
	if (xts_get32(q + 8, true) != XTS_LIBXC_ID)
		return fail(p, -EINVAL, "id 0x%08x, expected 0x%08x (\"XENF\")",
			    xts_get32(q + 8, true), XTS_LIBXC_ID);
	v = xts_get32(q + 12, true);
	if (v < XTS_LIBXC_VERSION_MIN || v > XTS_LIBXC_VERSION_MAX)
		return fail(p, -EINVAL, "version %u, expected %u or %u", v, XTS_LIBXC_VERSION_MIN,
			    XTS_LIBXC_VERSION_MAX);
	opts = xts_get16(q + 16, true);
	if (opts & ~XTS_LIBXC_OPT_BE)
		return fail(p, -EINVAL, "reserved option bits 0x%04x set", opts & ~XTS_LIBXC_OPT_BE);
	p->info.has_libxc = true;
	p->info.libxc_version = v;
	p->info.libxc_options = opts;
	p->libxc_be = p->be = opts & XTS_LIBXC_OPT_BE;

	p->rec = (struct where){ XTS_STREAM_LIBXC, -1, 0, p->rd.off, "libxc domain header", 0 };
	q = rd_take(p, sizeof(struct xts_libxc_domain_header));
	if (!q)
		return p->err->err;
	type = xts_get32(q, p->be);
	shift = xts_get16(q + 4, p->be);
	if (type == XTS_LIBXC_DOM_ARM || type == XTS_LIBXC_DOM_X86_PVH)
		return fail(p, -ENOTSUP, "domain type %u (%s) is not supported", type,
			    type == XTS_LIBXC_DOM_ARM ? "ARM" : "x86 PVH, which Xen saves as HVM");
	if (type != XTS_LIBXC_DOM_X86_PV && type != XTS_LIBXC_DOM_X86_HVM)
		return fail(p, -EINVAL, "domain type %u is reserved", type);
	if (shift != 12)
		return fail(p, -EINVAL, "page_shift %u, x86 pages are 4 KiB (12)", shift);
	p->info.dom_type = type;
	p->info.page_shift = shift;
	p->info.xen_major = xts_get32(q + 8, p->be);
	p->info.xen_minor = xts_get32(q + 12, p->be);
	p->page_size = 1u << shift;
	p->libxc_open = true;
	return 0;
}

/* Records up to END or CHECKPOINT. */
static int parse_libxc_records(struct parser *p, enum libxc_exit *ex)
{
	bool done = false;

	p->be = p->libxc_be;
	while (!done) {
		const uint8_t *q;
		uint32_t type, len;
		uint64_t off = p->rd.off;
		int rc;

		p->rec = (struct where){ XTS_STREAM_LIBXC, (int64_t)p->libxc_index, 0, off,
					 "record header", 0 };
		q = rd_take(p, sizeof(struct xts_libxc_rec_header));
		if (!q)
			return p->err->err;
		type = xts_get32(q, p->be);
		len = xts_get32(q + 4, p->be);
		p->rec.type = type;
		p->rec.what = xts_libxc_rec_name(type);
		rc = parse_libxc_record(p, type, len, ex, &done);
		if (rc)
			return rc;
		p->libxc_index++;
		p->info.nr_records[XTS_STREAM_LIBXC]++;
	}
	if (*ex == LIBXC_END)
		p->libxc_open = false;
	return 0;
}

/* ---- libxl ---- */

static int parse_libxl(struct parser *p)
{
	const uint8_t *q;
	uint32_t v, opts;
	bool libxc_seen = false, libxc_paused = false;

	p->rec = (struct where){ XTS_STREAM_LIBXL, -1, 0, p->rd.off, "libxl header", 0 };
	q = rd_take(p, sizeof(struct xts_libxl_header));
	if (!q)
		return p->err->err;
	if (xts_get64(q, true) != XTS_LIBXL_IDENT)
		return fail(p, -EINVAL, "ident 0x%016" PRIx64 ", expected 0x%016llx (\"LibxlFmt\")",
			    xts_get64(q, true), XTS_LIBXL_IDENT);
	v = xts_get32(q + 8, true);
	if (v != XTS_LIBXL_VERSION)
		return fail(p, -EINVAL, "version %u, expected %u", v, XTS_LIBXL_VERSION);
	opts = xts_get32(q + 12, true);
	if (opts & ~(XTS_LIBXL_OPT_BE | XTS_LIBXL_OPT_LEGACY))
		return fail(p, -EINVAL, "reserved option bits 0x%08x set",
			    opts & ~(XTS_LIBXL_OPT_BE | XTS_LIBXL_OPT_LEGACY));
	p->info.has_libxl = true;
	p->info.libxl_version = v;
	p->info.libxl_options = opts;

	for (uint64_t i = 0;; i++) {
		bool lbe = opts & XTS_LIBXL_OPT_BE;
		uint32_t type, len;
		int rc = 0;

		p->be = lbe;
		p->rec = (struct where){ XTS_STREAM_LIBXL, (int64_t)i, 0, p->rd.off,
					 "record header", 0 };
		q = rd_take(p, sizeof(struct xts_libxl_rec_header));
		if (!q)
			return p->err->err;
		type = xts_get32(q, lbe);
		len = xts_get32(q + 4, lbe);
		p->rec.type = type;
		p->rec.what = xts_libxl_rec_name(type);
		p->info.nr_records[XTS_STREAM_LIBXL]++;

		switch (type) {
		case XTS_LIBXL_REC_END:
		case XTS_LIBXL_REC_LIBXC_CONTEXT:
		case XTS_LIBXL_REC_CHECKPOINT_END:
			if (len)
				return fail(p, -EINVAL, "body length %u, expected 0", len);
			break;
		case XTS_LIBXL_REC_EMULATOR_XENSTORE_DATA:
		case XTS_LIBXL_REC_EMULATOR_CONTEXT: {
			uint32_t id;
			if (len < sizeof(struct xts_libxl_emulator_header))
				return fail(p, -EINVAL, "body length %u is shorter than the emulator"
					    " header", len);
			q = rd_take(p, 8);
			if (!q)
				return p->err->err;
			id = xts_get32(q, lbe);
			if (id > XTS_LIBXL_EMULATOR_MAX_ID)
				return fail(p, -EINVAL, "emulator id %u is reserved", id);
			rc = rd_skip(p, len - 8);
			break;
		}
		case XTS_LIBXL_REC_CHECKPOINT_STATE:
			rc = rd_skip(p, len);
			break;
		default:
			if (!(type & XTS_LIBXC_REC_OPTIONAL))
				return fail(p, -EINVAL, "unknown mandatory record type 0x%x", type);
			rc = rd_skip(p, len);
		}
		if (!rc)
			rc = rd_padding(p, len);
		if (!rc)
			rc = visit(p, &p->rec, len, type & XTS_LIBXC_REC_OPTIONAL, NULL);
		if (rc)
			return rc;

		if (type == XTS_LIBXL_REC_LIBXC_CONTEXT) {
			enum libxc_exit ex = LIBXC_END;
			struct where outer = p->rec;

			if (libxc_seen && !libxc_paused)
				return fail(p, -EINVAL, "LIBXC_CONTEXT after the libxc stream ended");
			if (!libxc_seen) {
				rc = parse_libxc_headers(p);
				if (rc)
					return rc;
			}
			libxc_seen = true;
			rc = parse_libxc_records(p, &ex);
			if (rc)
				return rc;
			libxc_paused = ex == LIBXC_CHECKPOINT;
			p->rec = outer;
		}
		if (type == XTS_LIBXL_REC_END) {
			if (!libxc_seen)
				return fail(p, -EINVAL, "the libxl stream ended without a libxc stream");
			return 0;
		}
	}
}

/* ---- xl ---- */

static int parse_xl(struct parser *p)
{
	const uint8_t *q;
	uint32_t order, mflags, optlen, cfglen = 0;
	bool be;

	p->rec = (struct where){ XTS_STREAM_XL, -1, 0, 0, "xl header", 0 };
	q = rd_take(p, sizeof(struct xts_xl_header));
	if (!q)
		return p->err->err;
	if (memcmp(q, XTS_XL_MAGIC, XTS_XL_MAGIC_LEN))
		return fail(p, -EINVAL, "bad magic: not an xl save file");
	order = xts_get32(q + 32, false);
	if (order == XTS_XL_BYTEORDER)
		be = false;
	else if (xts_get32(q + 32, true) == XTS_XL_BYTEORDER)
		be = true;
	else
		return fail(p, -EINVAL, "byteorder field 0x%08x is not 0x%08x in either order",
			    order, XTS_XL_BYTEORDER);
	mflags = xts_get32(q + 36, be);
	if (mflags & ~XTS_XL_MFLAGS_KNOWN)
		return fail(p, -EINVAL, "unknown mandatory flags 0x%08x", mflags & ~XTS_XL_MFLAGS_KNOWN);
	if (!(mflags & XTS_XL_MFLAG_STREAMV2))
		return fail(p, -ENOTSUP, "mandatory flags 0x%x lack STREAMv2: a legacy (pre-4.6)"
			    " stream", mflags);
	optlen = xts_get32(q + 44, be);
	p->info.has_xl = true;
	p->info.xl_big_endian = be;
	p->info.xl_mandatory_flags = mflags;
	p->info.xl_optional_flags = xts_get32(q + 40, be);
	p->info.xl_optional_data_len = optlen;
	if (optlen > MAX_XL_OPT)
		return fail(p, -EINVAL, "optional data length %u exceeds %u", optlen, MAX_XL_OPT);
	if (mflags & XTS_XL_MFLAG_JSON) {
		if (optlen < 4)
			return fail(p, -EINVAL, "JSON flag set but optional data is %u bytes", optlen);
		q = rd_take(p, 4);
		if (!q)
			return p->err->err;
		cfglen = xts_get32(q, be);
		if (cfglen > optlen - 4)
			return fail(p, -EINVAL, "config length %u exceeds the %u bytes of optional data",
				    cfglen, optlen - 4);
		p->info.xl_config_len = cfglen;
		optlen -= 4;
	}
	return rd_skip(p, optlen);
}

int xts_stream_parse(int fd, const struct xts_stream_visitor *v,
		     struct xts_stream_info *info, struct xts_stream_error *err)
{
	struct xts_stream_error local;
	struct parser p = { .rd.fd = fd, .v = v, .err = err ? err : &local };
	const uint8_t *b;
	int rc;

	memset(p.err, 0, sizeof(*p.err));
	p.rd.buf = malloc(RD_CAP);
	if (!p.rd.buf) {
		xts_stream_set_error(p.err, -ENOMEM, XTS_STREAM_XL, -1, 0, 0, "out of memory");
		return -ENOMEM;
	}
	p.rec = (struct where){ XTS_STREAM_XL, -1, 0, 0, "stream start", 0 };
	rc = rd_fill(&p, 8);
	if (!rc) {
		b = p.rd.buf;
		if (!memcmp(b, XTS_XL_MAGIC, 8)) {
			rc = parse_xl(&p);
			if (!rc)
				rc = parse_libxl(&p);
		} else if (xts_get64(b, true) == XTS_LIBXL_IDENT) {
			rc = parse_libxl(&p);
		} else if (xts_get64(b, true) == XTS_LIBXC_MARKER) {
			enum libxc_exit ex = LIBXC_END;
			rc = parse_libxc_headers(&p);
			/* A bare checkpointed stream goes on after each CHECKPOINT. */
			while (!rc) {
				rc = parse_libxc_records(&p, &ex);
				if (ex == LIBXC_END)
					break;
			}
		} else {
			rc = fail(&p, -EINVAL, "not a Xen migration stream: first bytes %02x %02x %02x"
				  " %02x %02x %02x %02x %02x match no xl, libxl or libxc header",
				  b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
		}
	}
	p.info.bytes = p.rd.off;
	p.info.read_past_end = p.rd.len - p.rd.pos;
	if (!rc && info)
		*info = p.info;
	free(p.rd.buf);
	free(p.body);
	free(p.pfns);
	return rc;
}
