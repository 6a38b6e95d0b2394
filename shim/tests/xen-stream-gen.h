/*
 * Test-side generator of Xen migration streams, written from the
 * specifications (libxc/libxl-migration-stream.pandoc, xl's save-file
 * header, xen/arch-x86/hvm/save.h layouts) independently of the parser:
 * it uses raw numbers, not abi/xen-stream.h, so a wrong definition there
 * cannot hide behind a matching wrong generator.
 *
 * Header-only: used by the cmocka tests, the fixture generator and the
 * fuzzer's seed corpus.
 */
#ifndef XTS_TESTS_XEN_STREAM_GEN_H
#define XTS_TESTS_XEN_STREAM_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GEN_MAX_RECS 4096

struct gen_rec {              /* where the generator put a libxc/libxl record */
	int layer;                /* 1 libxl, 2 libxc (matches enum xts_stream_layer) */
	unsigned index;
	uint32_t type;
	size_t offset;            /* of the 8-byte record header */
	uint32_t length;
};

struct gen_hvm_ent {          /* where an HVM context entry went */
	unsigned index;
	uint16_t code, inst;
	size_t offset;            /* of its descriptor, in the stream */
};

struct gen {
	uint8_t *b;
	size_t len, cap;
	bool be;                  /* current record byte order */
	struct gen_rec rec[GEN_MAX_RECS];
	unsigned nrec, libxc_index, libxl_index;
	struct gen_hvm_ent ent[1024];
	unsigned nent;
};

struct gen_opts {
	int wrap;                 /* 0 bare libxc, 1 libxl, 2 xl save file */
	int version;              /* libxc 2 or 3 */
	bool be;                  /* libxc (and libxl) big-endian records */
	bool xl_be;               /* xl header written by a big-endian host */
	bool pv;
	unsigned nr_vcpus;
	unsigned nr_pages;        /* pages of data, pfn 0.. */
	uint64_t pvclock_gpa;     /* HVM: put `pvclock` at this GPA in page data (0: none) */
	bool params_first;
	bool dup_cpu;             /* emit vCPU 0's CPU record twice */
	bool unknown_optional;    /* an optional record of 5 bytes (3 padding bytes) */
	bool unknown_mandatory;
	uint32_t tsc_mode, tsc_khz, gtsc_khz, incarnation;
	uint64_t tsc_nsec, tsc0, tsc_step;  /* vCPU i TSC = tsc0 + i * tsc_step */
	int64_t rtc_offset;
	uint64_t tdt0;            /* vCPU i deadline = tdt0 + i */
	uint64_t tsc_adjust0;
	/* PV: vCPU i record = {version 2i+2, tsc0 - 1000 + i, sys0 + i, mul, shift} */
	uint64_t sys0;
	uint32_t mul;
	int8_t shift;
	uint64_t wc_sec;
	uint32_t wc_nsec;
	unsigned pv_width;        /* 4 or 8 */
	const char *config;       /* xl JSON */
};

static inline void gen_opts_default(struct gen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->wrap = 2;
	o->version = 3;
	o->nr_vcpus = 2;
	o->nr_pages = 2;
	o->tsc_mode = 0;
	o->tsc_khz = 2294686;
	o->gtsc_khz = 2294686;
	o->incarnation = 3;
	o->tsc_nsec = 0;
	o->tsc0 = 987654321098ull;
	o->tsc_step = 1000;
	o->rtc_offset = 3600;
	o->tdt0 = 0;
	o->tsc_adjust0 = 0;
	o->sys0 = 123456789012ull;
	o->mul = 0xdf1fcc33u;
	o->shift = -1;
	o->wc_sec = 1700000000ull;
	o->wc_nsec = 123456789u;
	o->pv_width = 8;
	o->config = "{\"c_info\": {\"name\": \"guest\"}}";
}

static inline void gen_grow(struct gen *g, size_t n)
{
	if (g->len + n > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		while (cap < g->len + n)
			cap *= 2;
		g->b = realloc(g->b, cap);
		g->cap = cap;
	}
}

static inline void gen_raw(struct gen *g, const void *p, size_t n)
{
	gen_grow(g, n);
	memcpy(g->b + g->len, p, n);
	g->len += n;
}

static inline void gen_zero(struct gen *g, size_t n)
{
	gen_grow(g, n);
	memset(g->b + g->len, 0, n);
	g->len += n;
}

/* An n-byte integer in the given order. */
static inline void gen_int(struct gen *g, uint64_t v, int n, bool be)
{
	uint8_t t[8];
	for (int i = 0; i < n; i++)
		t[be ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
	gen_raw(g, t, (size_t)n);
}

static inline void set_int(uint8_t *p, uint64_t v, int n, bool be)
{
	for (int i = 0; i < n; i++)
		p[be ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

/* Record header + body + zero padding; the body is written by the caller between. */
static inline size_t gen_rec_begin(struct gen *g, int layer, uint32_t type, uint32_t len)
{
	struct gen_rec *r = &g->rec[g->nrec++];
	r->layer = layer;
	r->index = layer == 1 ? g->libxl_index++ : g->libxc_index++;
	r->type = type;
	r->offset = g->len;
	r->length = len;
	gen_int(g, type, 4, g->be);
	gen_int(g, len, 4, g->be);
	return g->len;
}

static inline void gen_rec_end(struct gen *g, uint32_t len)
{
	gen_zero(g, (8 - len % 8) % 8);
}

static inline void gen_rec_simple(struct gen *g, int layer, uint32_t type, const void *body,
				  uint32_t len)
{
	gen_rec_begin(g, layer, type, len);
	if (len)
		gen_raw(g, body, len);
	gen_rec_end(g, len);
}

static inline const struct gen_rec *gen_find(const struct gen *g, int layer, uint32_t type, int nth)
{
	for (unsigned i = 0; i < g->nrec; i++)
		if (g->rec[i].layer == layer && g->rec[i].type == type && nth-- == 0)
			return &g->rec[i];
	return NULL;
}

/* The 32-byte vcpu_time_info of the spec, little-endian (guest memory). */
static inline void gen_time_info(uint8_t *p, uint32_t ver, uint64_t tsc, uint64_t sys, uint32_t mul,
				 int8_t shift)
{
	memset(p, 0, 32);
	set_int(p + 0, ver, 4, false);
	set_int(p + 8, tsc, 8, false);
	set_int(p + 16, sys, 8, false);
	set_int(p + 24, mul, 4, false);
	p[28] = (uint8_t)shift;
}

/* The guest's pvclock formula, written out (reference for the tests). */
static inline uint64_t ref_pvclock(uint64_t ts, uint64_t sys, uint32_t mul, int8_t shift,
				   uint64_t tsc)
{
	uint64_t d = tsc - ts;
	d = shift < 0 ? d >> -shift : d << shift;
	return sys + (uint64_t)(((unsigned __int128)d * mul) >> 32);
}

static inline void gen_hvm_ent(struct gen *g, size_t blob_start_in_stream, uint8_t **blob,
			       size_t *blen, uint16_t code, uint16_t inst, uint32_t len)
{
	struct gen_hvm_ent *e = &g->ent[g->nent];
	e->index = g->nent++;
	e->code = code;
	e->inst = inst;
	e->offset = blob_start_in_stream + *blen;
	*blob = realloc(*blob, *blen + 8 + len);
	set_int(*blob + *blen, code, 2, false);
	set_int(*blob + *blen + 2, inst, 2, false);
	set_int(*blob + *blen + 4, len, 4, false);
	memset(*blob + *blen + 8, 0, len);
	*blen += 8 + len;
}

static inline void gen_hvm_context(struct gen *g, const struct gen_opts *o)
{
	uint8_t *blob = NULL;
	size_t blen = 0, start = g->len + 8;
	unsigned n = o->nr_vcpus;

	gen_hvm_ent(g, start, &blob, &blen, 1, 0, 24);           /* HEADER */
	set_int(blob + blen - 24, 0x54381286u, 4, false);
	set_int(blob + blen - 20, 1, 4, false);
	set_int(blob + blen - 16, 0x1234, 8, false);
	set_int(blob + blen - 4, o->gtsc_khz, 4, false);
	for (unsigned i = 0; i < n + (o->dup_cpu ? 1 : 0); i++) { /* CPU, tsc @1008 of 1032 */
		unsigned v = i < n ? i : 0;
		gen_hvm_ent(g, start, &blob, &blen, 2, (uint16_t)v, 1032);
		set_int(blob + blen - 1032 + 1008, o->tsc0 + v * o->tsc_step, 8, false);
	}
	for (unsigned i = 0; i < n; i++) {                         /* LAPIC, tdt @16 of 24 */
		gen_hvm_ent(g, start, &blob, &blen, 5, (uint16_t)i, 24);
		set_int(blob + blen - 24, 0xfee00900u, 8, false);
		set_int(blob + blen - 8, o->tdt0 ? o->tdt0 + i : 0, 8, false);
	}
	for (unsigned i = 0; i < n; i++)                           /* LAPIC_REGS */
		gen_hvm_ent(g, start, &blob, &blen, 6, (uint16_t)i, 1024);
	gen_hvm_ent(g, start, &blob, &blen, 10, 0, 56);           /* PIT */
	gen_hvm_ent(g, start, &blob, &blen, 11, 0, 24);           /* RTC, rtc_offset @16 */
	set_int(blob + blen - 8, (uint64_t)o->rtc_offset, 8, false);
	for (unsigned i = 0; i < n; i++) {                         /* CPU_MSR: 1 MSR */
		gen_hvm_ent(g, start, &blob, &blen, 20, (uint16_t)i, 8 + 16);
		set_int(blob + blen - 24, 1, 4, false);
	}
	for (unsigned i = 0; i < n; i++) {                         /* TSC_ADJUST */
		gen_hvm_ent(g, start, &blob, &blen, 19, (uint16_t)i, 8);
		set_int(blob + blen - 8, o->tsc_adjust0 + i, 8, false);
	}
	gen_hvm_ent(g, start, &blob, &blen, 0, 0, 0);             /* END */
	gen_rec_simple(g, 2, 9, blob, (uint32_t)blen);
	free(blob);
}

static inline void gen_params(struct gen *g)
{
	/* STORE_PFN (1), STORE_EVTCHN (2), CONSOLE_PFN (17) */
	static const uint64_t p[3][2] = { { 1, 0xfeffc }, { 2, 1 }, { 17, 0xfefff } };
	gen_rec_begin(g, 2, 10, 8 + 3 * 16);
	gen_int(g, 3, 4, g->be);
	gen_int(g, 0, 4, g->be);
	for (int i = 0; i < 3; i++) {
		gen_int(g, p[i][0], 8, g->be);
		gen_int(g, p[i][1], 8, g->be);
	}
}

/* PAGE_DATA for pfns 0..n-1, page contents: byte = pfn + offset (mod 251). */
static inline void gen_pages(struct gen *g, const struct gen_opts *o)
{
	for (unsigned pfn = 0; pfn < o->nr_pages; pfn++) {
		uint8_t page[4096];
		for (unsigned i = 0; i < 4096; i++)
			page[i] = (uint8_t)((pfn + i) % 251);
		if (o->pvclock_gpa && o->pvclock_gpa / 4096 == pfn)
			gen_time_info(page + o->pvclock_gpa % 4096, 6, o->tsc0 - 5000, o->sys0,
				      o->mul, o->shift);
		gen_rec_begin(g, 2, 1, 8 + 8 + 4096);
		gen_int(g, 1, 4, g->be);
		gen_int(g, 0, 4, g->be);
		gen_int(g, pfn, 8, g->be);
		gen_raw(g, page, 4096);
	}
}

static inline void gen_pv_shared_info(struct gen *g, const struct gen_opts *o)
{
	uint8_t page[4096];
	bool w64 = o->pv_width == 8;
	unsigned wc = w64 ? 3072 : 2304;

	memset(page, 0, sizeof(page));
	for (unsigned i = 0; i < o->nr_vcpus && i < 32; i++)
		gen_time_info(page + i * 64 + 32, 2 * i + 2, o->tsc0 - 1000 + i, o->sys0 + i,
			      o->mul, o->shift);
	set_int(page + wc, 8, 4, false);
	set_int(page + wc + 4, (uint32_t)o->wc_sec, 4, false);
	set_int(page + wc + 8, o->wc_nsec, 4, false);
	set_int(page + (w64 ? 3084 : 2340), o->wc_sec >> 32, 4, false);
	gen_rec_simple(g, 2, 7, page, 4096);
}

static inline void gen_libxc(struct gen *g, const struct gen_opts *o)
{
	uint8_t tsc[24];

	g->be = o->be;
	/* image header: always big-endian */
	gen_int(g, ~0ull, 8, true);
	gen_int(g, 0x58454e46u, 4, true);
	gen_int(g, (uint32_t)o->version, 4, true);
	gen_int(g, o->be ? 1 : 0, 2, true);
	gen_zero(g, 6);
	/* domain header */
	gen_int(g, o->pv ? 1 : 2, 4, o->be);
	gen_int(g, 12, 2, o->be);
	gen_zero(g, 2);
	gen_int(g, 4, 4, o->be);
	gen_int(g, 17, 4, o->be);

	if (o->pv) {
		uint8_t info[8] = { (uint8_t)o->pv_width, o->pv_width == 8 ? 4 : 3 };
		gen_rec_simple(g, 2, 2, info, 8);                  /* X86_PV_INFO */
	}
	if (o->version >= 3)
		gen_rec_simple(g, 2, 16, NULL, 0);                 /* STATIC_DATA_END */
	if (o->pv) {
		gen_rec_begin(g, 2, 3, 16);                        /* X86_PV_P2M_FRAMES */
		gen_int(g, 0, 4, g->be);
		gen_int(g, 0, 4, g->be);
		gen_int(g, 0x1000, 8, g->be);
	}
	gen_pages(g, o);
	if (o->unknown_optional) {
		gen_rec_simple(g, 2, 0x80001234u, "abcde", 5);
	}
	if (o->unknown_mandatory)
		gen_rec_simple(g, 2, 0x7f, NULL, 0);
	memset(tsc, 0, sizeof(tsc));
	set_int(tsc, o->tsc_mode, 4, o->be);
	set_int(tsc + 4, o->tsc_khz, 4, o->be);
	set_int(tsc + 8, o->tsc_nsec, 8, o->be);
	set_int(tsc + 16, o->incarnation, 4, o->be);
	gen_rec_simple(g, 2, 8, tsc, 24);                          /* X86_TSC_INFO */
	if (o->pv) {
		gen_pv_shared_info(g, o);
		for (unsigned i = 0; i < o->nr_vcpus; i++) {       /* X86_PV_VCPU_BASIC */
			gen_rec_begin(g, 2, 4, 8 + 16);
			gen_int(g, i, 4, g->be);
			gen_zero(g, 4 + 16);
		}
	} else if (o->params_first) {
		gen_params(g);
		gen_hvm_context(g, o);
	} else {
		gen_hvm_context(g, o);
		gen_params(g);
	}
	gen_rec_simple(g, 2, 0, NULL, 0);                          /* END */
}

/* The whole stream, wrapped as asked.  Free g->b. */
static inline void gen_stream(struct gen *g, const struct gen_opts *o)
{
	memset(g, 0, sizeof(*g));
	if (o->wrap == 2) {
		static const char magic[32] = "Xen saved domain, xl format\n \0 \r";
		uint32_t cl = o->config ? (uint32_t)strlen(o->config) + 1 : 0;
		gen_raw(g, magic, 32);
		gen_int(g, 0x01020304u, 4, o->xl_be);
		gen_int(g, 2 | (cl ? 1 : 0), 4, o->xl_be);
		gen_int(g, 0, 4, o->xl_be);
		gen_int(g, 4 + cl, 4, o->xl_be);
		gen_int(g, cl, 4, o->xl_be);
		if (cl)
			gen_raw(g, o->config, cl);
	}
	if (o->wrap >= 1) {
		gen_int(g, 0x4c6962786c466d74ull, 8, true);
		gen_int(g, 2, 4, true);
		gen_int(g, o->be ? 1 : 0, 4, true);
		g->be = o->be;
		gen_rec_simple(g, 1, 1, NULL, 0);                  /* LIBXC_CONTEXT */
	}
	gen_libxc(g, o);
	if (o->wrap >= 1) {
		g->be = o->be;
		if (!o->pv) {                                      /* EMULATOR_CONTEXT */
			gen_rec_begin(g, 1, 3, 8 + 13);
			gen_int(g, 2, 4, g->be);
			gen_int(g, 0, 4, g->be);
			gen_raw(g, "qemu-state...", 13);
			gen_rec_end(g, 8 + 13);
		}
		gen_rec_simple(g, 1, 0, NULL, 0);                  /* libxl END */
	}
}

#endif
