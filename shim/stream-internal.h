/*
 * Internals shared by the Xen stream parser, extractor and writer
 * (shim/stream-*.c).  Not installed.
 */
#ifndef XTS_SHIM_STREAM_INTERNAL_H
#define XTS_SHIM_STREAM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "abi/xen-stream.h"
#include "shim/xtshim.h"

/* ---- byte order: every stream field goes through these ---- */
static inline uint16_t xts_get16(const void *p, bool be)
{
	const uint8_t *b = p;
	return be ? (uint16_t)(b[0] << 8 | b[1]) : (uint16_t)(b[1] << 8 | b[0]);
}

static inline uint32_t xts_get32(const void *p, bool be)
{
	const uint8_t *b = p;
	return be ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
		  : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

static inline uint64_t xts_get64(const void *p, bool be)
{
	const uint8_t *b = p;
	return be ? (uint64_t)xts_get32(b, true) << 32 | xts_get32(b + 4, true)
		  : (uint64_t)xts_get32(b + 4, false) << 32 | xts_get32(b, false);
}

static inline void xts_put16(void *p, uint16_t v, bool be)
{
	uint8_t *b = p;
	b[be ? 0 : 1] = (uint8_t)(v >> 8);
	b[be ? 1 : 0] = (uint8_t)v;
}

static inline void xts_put32(void *p, uint32_t v, bool be)
{
	uint8_t *b = p;
	for (int i = 0; i < 4; i++)
		b[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

static inline void xts_put64(void *p, uint64_t v, bool be)
{
	uint8_t *b = p;
	for (int i = 0; i < 8; i++)
		b[be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t xts_pad8(uint64_t len)
{
	return (uint32_t)((XTS_STREAM_ALIGN - (len % XTS_STREAM_ALIGN)) % XTS_STREAM_ALIGN);
}

/* Names for messages and `inspect` ("unknown" outside the tables). */
const char *xts_libxl_rec_name(uint32_t type);
const char *xts_libxc_rec_name(uint32_t type);
const char *xts_hvm_entry_name(uint32_t typecode);
const char *xts_layer_name(uint32_t layer);

/* HVM context entry rules, by typecode. */
struct xts_hvm_entry_rule {
	const char *name;
	uint32_t min_len, max_len;    /* inclusive */
	bool per_vcpu;                /* instance = vCPU id */
	uint32_t max_instance;        /* domain-wide entries: highest instance */
};
/* NULL for a typecode Xen's loader would refuse. */
const struct xts_hvm_entry_rule *xts_hvm_entry_rule(uint32_t typecode);

/* printf into an optional reason buffer, return rc. */
int xts_why(char *buf, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Format an error with its record context (used by parser and writer). */
void xts_stream_set_error(struct xts_stream_error *e, int err, uint32_t layer, int64_t index,
			  uint32_t type, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

#endif
