/*
 * redact.c: the trace redaction rules of redact.h.
 */
#include <string.h>

#include "apdu/apdu.h"
#include "apdu/redact.h"
#include "apdu/tlv.h"

#define INS_VERIFY		0x20
#define INS_CHANGE_REF		0x24
#define INS_RESET_RETRY		0x2c
#define INS_GEN_AUTH		0x87
#define INS_GET_DATA		0xcb
#define INS_PUT_DATA		0xdb
#define INS_GET_RESPONSE	0xc0
#define INS_YK_IMPORT		0xfe
#define INS_YK_SET_MGMT		0xff
#define TAG_PRINTED_INFO	0x5fc109u

/* Instructions whose whole data field is secret. */
static bool
redact_secret_ins(uint8_t ins)
{
	return ins == INS_VERIFY || ins == INS_CHANGE_REF ||
	    ins == INS_RESET_RETRY || ins == INS_YK_IMPORT ||
	    ins == INS_YK_SET_MGMT;
}

/*
 * PUT DATA first block: 5C <tag list> then the object.  Sets *tag to the
 * (single) tag named and *list_len to the bytes the 5C element takes.
 * False when the data does not start with a 5C element.
 */
static bool
redact_tag_list(struct buf_cur data, uint32_t *tag, size_t *list_len)
{
	struct buf_cur c = data, v;
	uint32_t t = 0;
	uint8_t b;

	if (!tlv_get(&c, 0x5c, &v) || v.len == 0 || v.len > 3)
		return false;
	while (buf_get_u8(&v, &b))
		t = t << 8 | b;
	*tag = t;
	*list_len = data.len - c.len;
	return true;
}

enum redact_verdict { RV_SHOW, RV_MASK, RV_MASK_AFTER_LIST, RV_UNKNOWN_BLOCK };

/*
 * redact_rule: the context-free verdict for a parsed command.  For
 * RV_MASK_AFTER_LIST *extra is the tag-list length to keep visible.
 */
static enum redact_verdict
redact_rule(const struct apdu_view *v, size_t *extra)
{
	uint32_t tag;
	uint8_t b;

	*extra = 0;
	if (v->data.len == 0)
		return RV_SHOW;
	if (redact_secret_ins(v->ins))
		return RV_MASK;
	if (v->ins != INS_PUT_DATA)
		return RV_SHOW;
	if (redact_tag_list(v->data, &tag, extra))
		return tag == TAG_PRINTED_INFO ? RV_MASK_AFTER_LIST : RV_SHOW;
	/* Discovery (7E) and BIT group (7F61) are written whole. */
	if (buf_peek_u8(&v->data, &b) && (b == 0x7e ||
	    (b == 0x7f && v->data.len >= 2 && v->data.p[1] == 0x61)))
		return RV_SHOW;
	return RV_UNKNOWN_BLOCK;
}

bool
redact_cmd(const uint8_t *cmd, size_t len, size_t *keep)
{
	struct apdu_view v;
	size_t extra;

	*keep = len;
	if (!apdu_parse_cmd(cmd, len, &v)) {
		if (len > 4 && (redact_secret_ins(cmd[1]) ||
		    cmd[1] == INS_PUT_DATA)) {
			*keep = 4;
			return true;
		}
		return false;
	}
	switch (redact_rule(&v, &extra)) {
	case RV_SHOW:
		return false;
	case RV_MASK_AFTER_LIST:
		*keep = v.data_off + extra;
		return true;
	default:
		*keep = v.data_off;
		return true;
	}
}

bool
redact_rsp(const uint8_t *cmd, size_t len)
{
	struct apdu_view v;
	uint32_t tag;
	size_t list_len;

	if (cmd == NULL || len < 4)
		return false;
	/* SP 800-73-4 Part 1 Table 4b: 9D and retired keys 82-95. */
	if (cmd[1] == INS_GEN_AUTH)
		return cmd[3] == 0x9d || (cmd[3] >= 0x82 && cmd[3] <= 0x95);
	if (cmd[1] != INS_GET_DATA)
		return false;
	/* Which object cannot be told from a malformed command: mask. */
	if (!apdu_parse_cmd(cmd, len, &v))
		return true;
	return redact_tag_list(v.data, &tag, &list_len) &&
	    tag == TAG_PRINTED_INFO;
}

void
redact_ctx_init(struct redact_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
}

bool
redact_ctx_cmd(struct redact_ctx *ctx, const uint8_t *cmd, size_t len,
    size_t *keep)
{
	struct apdu_view v;
	bool masked, more, cont;
	size_t extra;

	*keep = len;
	if (!apdu_parse_cmd(cmd, len, &v)) {
		masked = redact_cmd(cmd, len, keep);
		cont = len >= 2 && ctx->chain_active && cmd[1] == ctx->chain_ins;
		if (cont && ctx->chain_secret && len > 4) {
			*keep = 4;
			masked = true;
		}
		memset(ctx, 0, sizeof(*ctx));
		ctx->rsp_secret = true;	/* unknown: be safe */
		return masked;
	}
	more = (v.cla & APDU_CLA_CHAIN) != 0;
	cont = ctx->chain_active && v.ins == ctx->chain_ins;
	if (cont) {
		/* A later block: follow what the chain's first block said. */
		masked = (ctx->chain_secret || redact_secret_ins(v.ins)) &&
		    v.data.len > 0;
		if (masked)
			*keep = v.data_off;
	} else {
		switch (redact_rule(&v, &extra)) {
		case RV_SHOW:
			masked = false;
			break;
		case RV_MASK_AFTER_LIST:
			masked = true;
			*keep = v.data_off + extra;
			break;
		case RV_UNKNOWN_BLOCK:
			/* Not a first block, yet no chain seen: be safe. */
		default:
			masked = true;
			*keep = v.data_off;
			break;
		}
		ctx->chain_secret = masked;
	}
	ctx->chain_active = more;
	ctx->chain_ins = v.ins;
	if (!more && !cont)
		ctx->chain_secret = false;
	/* A GET RESPONSE after 61XX continues the previous answer. */
	if (!(v.ins == INS_GET_RESPONSE && ctx->rsp_more))
		ctx->rsp_secret = redact_rsp(cmd, len);
	ctx->rsp_more = false;
	return masked;
}

bool
redact_ctx_rsp(struct redact_ctx *ctx, const uint8_t *rsp, size_t len)
{
	ctx->rsp_more = len >= 2 && rsp[len - 2] == 0x61;
	return ctx->rsp_secret && len > 2;
}

size_t
redact_hex(char *out, size_t cap, const uint8_t *p, size_t len,
    size_t mask_off, size_t mask_len, bool spaced)
{
	static const char d[] = "0123456789abcdef";
	size_t i, n = 0;
	char c[3];

	for (i = 0; i < len; i++) {
		bool m = i >= mask_off && i - mask_off < mask_len;
		size_t k;

		c[0] = m ? '*' : d[p[i] >> 4];
		c[1] = m ? '*' : d[p[i] & 0x0f];
		c[2] = ' ';
		for (k = 0; k < (spaced && i + 1 < len ? 3u : 2u); k++, n++)
			if (n + 1 < cap)
				out[n] = c[k];
	}
	if (cap > 0)
		out[n < cap ? n : cap - 1] = '\0';
	return n;
}
