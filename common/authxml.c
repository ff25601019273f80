/* Worker (unprivileged), login phase: reads the client's <config-auth>
 * POST bodies and writes the server's XML answers.  Owns no state; the
 * parser scans once, without recursion or allocation, and keeps only a
 * fixed stack of open element names that point into the input. */
#include "config.h"
#include "common/authxml.h"
#include "common/hex.h"
#include "common/ipc.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The stock client nests three levels deep; <opaque> echoes what the
 * server sent, which is shallow too. */
#define AUTHXML_MAX_DEPTH 32

/* The longest entity body accepted between '&' and ';' ("#x10FFFF",
 * "#1114111"): longer ones are zero-padded or out of range, and refusing
 * them keeps the scan short. */
#define AUTHXML_MAX_ENTITY 8

struct xname {
	const char *p;
	size_t n;
};

struct scan {
	const char *buf;
	size_t len, pos;
	struct xname open[AUTHXML_MAX_DEPTH]; /* open elements, root first */
	unsigned depth;
	bool root_closed;
	bool have_group;
	bool ans_seen[AUTHXML_MAX_ANSWERS];
	int ans_field; /* the answer the open field is, -1: none */
	char *field;   /* inside a field element: where its text goes */
	size_t flen;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Loose on purpose: any byte that cannot end a name is part of it, which
 * lets UTF-8 and namespace prefixes through. */
static bool is_name_char(char c)
{
	return c != '\0' && !is_space(c) && strchr("<>/=\"'?!&;", c) == NULL;
}

static bool name_is(struct xname nm, const char *lit)
{
	return strlen(lit) == nm.n && memcmp(nm.p, lit, nm.n) == 0;
}

static bool starts_with(const struct scan *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len - s->pos >= n && memcmp(s->buf + s->pos, lit, n) == 0;
}

/* Offset of the first occurrence of lit at or after from, or len. */
static size_t find(const struct scan *s, size_t from, const char *lit)
{
	size_t n = strlen(lit), i;

	for (i = from; i + n <= s->len; i++)
		if (memcmp(s->buf + i, lit, n) == 0)
			return i;
	return s->len;
}

static void reset(struct authxml *out)
{
	/* Also wipes a half-parsed password. */
	memset(out, 0, sizeof(*out));
	out->type = AUTHXML_OTHER;
}

static int put_byte(struct scan *s, unsigned char c)
{
	if (s->flen >= AUTHXML_MAX_FIELD - 1)
		return -1;
	s->field[s->flen++] = (char)c;
	return 0;
}

/* XML 1.0 Char: refuses NUL, which would cut a NUL-terminated field short,
 * the other C0 controls, surrogates and non-characters. */
static bool is_xml_char(uint32_t c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
	       (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

static int put_raw(struct scan *s, unsigned char c)
{
	if (c < 0x20 && !is_xml_char(c))
		return -1;
	return put_byte(s, c);
}

static int put_utf8(struct scan *s, uint32_t c)
{
	unsigned char b[4];
	size_t n, i;

	if (c < 0x80) {
		b[0] = (unsigned char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (unsigned char)(0xc0 | c >> 6);
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (unsigned char)(0xe0 | c >> 12);
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | c >> 18);
		n = 4;
	}
	/* Continuation bytes carry six bits each, last bits last. */
	for (i = n - 1; i > 0; i--, c >>= 6)
		b[i] = (unsigned char)(0x80 | (c & 0x3f));
	for (i = 0; i < n; i++)
		if (put_byte(s, b[i]) < 0)
			return -1;
	return 0;
}

/* "#NNN" or "#xHH" (the body between '&' and ';') to a code point, or -1.
 * At most AUTHXML_MAX_ENTITY characters, so no overflow is possible. */
static long numeric_entity(const char *p, size_t n)
{
	unsigned base = 10;
	uint32_t v = 0;
	size_t i = 1;
	int d;

	if (n >= 2 && p[1] == 'x') {
		base = 16;
		i = 2;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		d = base == 16 ? hex_digit(p[i]) : (p[i] >= '0' && p[i] <= '9' ? p[i] - '0' : -1);
		if (d < 0)
			return -1;
		v = v * base + (uint32_t)d;
	}
	return is_xml_char(v) ? (long)v : -1;
}

/* Decodes the entity at s->buf[at] ('&'), text ending before end; returns
 * the offset after its ';' or 0 on error. */
static size_t entity(struct scan *s, size_t at, size_t end)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
	const char *p = s->buf + at + 1;
	size_t n = 0, i;
	long cp;

	while (n <= AUTHXML_MAX_ENTITY && at + 1 + n < end && p[n] != ';')
		n++;
	if (n > AUTHXML_MAX_ENTITY || at + 1 + n == end || n == 0)
		return 0;
	if (p[0] == '#') {
		cp = numeric_entity(p, n);
		if (cp < 0 || put_utf8(s, (uint32_t)cp) < 0)
			return 0;
		return at + n + 2;
	}
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strlen(named[i].name) == n && memcmp(p, named[i].name, n) == 0)
			return put_byte(s, (unsigned char)named[i].c) < 0 ? 0 : at + n + 2;
	return 0;
}

/* Character data up to the next '<'. */
static int text(struct scan *s)
{
	size_t end = s->pos, i;

	while (end < s->len && s->buf[end] != '<')
		end++;
	if (s->depth == 0) {
		/* Outside the root only whitespace is allowed: this is what
		 * turns away form-urlencoded bodies and other non-XML. */
		for (i = s->pos; i < end; i++)
			if (!is_space(s->buf[i]))
				return -1;
	} else if (s->field != NULL) {
		i = s->pos;
		while (i < end) {
			if (s->buf[i] == '&') {
				i = entity(s, i, end);
				if (i == 0)
					return -1;
			} else if (put_raw(s, (unsigned char)s->buf[i++]) < 0) {
				return -1;
			}
		}
	}
	/* Text elsewhere in the document is not looked at. */
	s->pos = end;
	return 0;
}

static int cdata(struct scan *s)
{
	size_t start = s->pos + 9, end = find(s, start, "]]>"), i;

	if (end == s->len || s->depth == 0)
		return -1;
	if (s->field != NULL)
		for (i = start; i < end; i++)
			if (put_raw(s, (unsigned char)s->buf[i]) < 0)
				return -1;
	s->pos = end + 3;
	return 0;
}

static int skip_past(struct scan *s, size_t from, const char *terminator)
{
	size_t end = find(s, from, terminator);

	if (end == s->len)
		return -1;
	s->pos = end + strlen(terminator);
	return 0;
}

static size_t scan_name(const struct scan *s, size_t i, struct xname *nm)
{
	nm->p = s->buf + i;
	while (i < s->len && is_name_char(s->buf[i]))
		i++;
	nm->n = (size_t)(s->buf + i - nm->p);
	return i;
}

static size_t skip_space(const struct scan *s, size_t i)
{
	while (i < s->len && is_space(s->buf[i]))
		i++;
	return i;
}

static enum authxml_type type_of(struct xname v)
{
	if (name_is(v, "init"))
		return AUTHXML_INIT;
	if (name_is(v, "auth-reply"))
		return AUTHXML_REPLY;
	if (name_is(v, "logout"))
		return AUTHXML_LOGOUT;
	return AUTHXML_OTHER;
}

static bool answer_name_ok(struct xname nm)
{
	if (nm.n == 0 || nm.n >= AUTHXML_MAX_NAME)
		return false;
	for (size_t i = 0; i < nm.n; i++) {
		char c = nm.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Another child of <auth>: its answer slot (a new one, or NULL when they
 * are used up or the name is not one we keep); *seen is set for a name
 * seen before, which is an error. */
static char *answer_for(struct scan *s, struct xname nm, struct authxml *out, bool **seen)
{
	unsigned i;

	*seen = NULL;
	if (!answer_name_ok(nm))
		return NULL;
	for (i = 0; i < out->n_ans; i++)
		if (name_is(nm, out->ans[i].name)) {
			*seen = &s->ans_seen[i];
			return out->ans[i].value;
		}
	if (out->n_ans == AUTHXML_MAX_ANSWERS)
		return NULL;
	memcpy(out->ans[i].name, nm.p, nm.n);
	out->ans[i].name[nm.n] = '\0';
	out->n_ans++;
	*seen = &s->ans_seen[i];
	return out->ans[i].value;
}

/* Is the element about to open (as a child of the innermost open one) a
 * field we extract?  Sets *dst to its buffer; a second occurrence is an
 * error rather than a guess about which one the user meant. */
static int field_for(struct scan *s, struct xname nm, struct authxml *out, char **dst)
{
	bool *seen = NULL;

	*dst = NULL;
	if (s->depth == 2 && name_is(s->open[1], "auth")) {
		if (name_is(nm, "username")) {
			*dst = out->username;
			seen = &out->have_username;
		} else if (name_is(nm, "password")) {
			*dst = out->password;
			seen = &out->have_password;
		} else if (out->type == AUTHXML_REPLY) {
			/* The client's answers are leaves; in other documents
			 * (a form of ours, say) <auth> holds elements. */
			*dst = answer_for(s, nm, out, &seen);
		}
	} else if (s->depth == 1 && name_is(nm, "client-cert-fail")) {
		out->cert_fail = true;
	} else if (s->depth == 1 && name_is(nm, "group-select")) {
		*dst = out->group;
		seen = &s->have_group;
	}
	if (seen == NULL)
		return 0;
	if (*seen)
		return -1;
	*seen = true;
	return 0;
}

static int start_tag(struct scan *s, struct authxml *out)
{
	struct xname nm, attr, val;
	size_t i = scan_name(s, s->pos + 1, &nm), gap;
	bool empty = false;
	char *dst, quote;

	if (s->field != NULL && s->ans_field >= 0 && s->ans_field == (int)out->n_ans - 1) {
		/* Not a leaf: no answer, just an element we do not read. */
		explicit_bzero(&out->ans[s->ans_field], sizeof(out->ans[0]));
		s->ans_seen[s->ans_field] = false;
		out->n_ans--;
		s->field = NULL;
		s->ans_field = -1;
	}
	if (nm.n == 0 || s->field != NULL || s->root_closed)
		return -1;
	if (s->depth == 0 && !name_is(nm, "config-auth"))
		return -1;
	for (;;) {
		gap = i;
		i = skip_space(s, i);
		if (i == s->len)
			return -1;
		if (s->buf[i] == '>') {
			i++;
			break;
		}
		if (s->buf[i] == '/') {
			if (i + 1 == s->len || s->buf[i + 1] != '>')
				return -1;
			empty = true;
			i += 2;
			break;
		}
		if (gap == i)
			return -1; /* attributes are separated by whitespace */
		i = scan_name(s, i, &attr);
		i = skip_space(s, i);
		if (attr.n == 0 || i == s->len || s->buf[i] != '=')
			return -1;
		i = skip_space(s, i + 1);
		if (i == s->len || (s->buf[i] != '"' && s->buf[i] != '\''))
			return -1;
		quote = s->buf[i++];
		val.p = s->buf + i;
		while (i < s->len && s->buf[i] != quote)
			i++;
		if (i == s->len)
			return -1;
		val.n = (size_t)(s->buf + i - val.p);
		i++;
		if (s->depth == 0 && name_is(attr, "type"))
			out->type = type_of(val);
	}
	s->pos = i;

	if (field_for(s, nm, out, &dst) < 0)
		return -1;
	if (empty) {
		s->root_closed = s->depth == 0;
		return 0;
	}
	if (s->depth == AUTHXML_MAX_DEPTH)
		return -1;
	s->open[s->depth++] = nm;
	s->field = dst;
	s->flen = 0;
	s->ans_field = -1;
	for (unsigned k = 0; dst && k < out->n_ans; k++)
		if (dst == out->ans[k].value)
			s->ans_field = (int)k;
	return 0;
}

static int end_tag(struct scan *s)
{
	struct xname nm;
	size_t i = scan_name(s, s->pos + 2, &nm);

	i = skip_space(s, i);
	if (i == s->len || s->buf[i] != '>' || s->depth == 0)
		return -1;
	if (s->open[s->depth - 1].n != nm.n || memcmp(s->open[s->depth - 1].p, nm.p, nm.n) != 0)
		return -1;
	s->depth--;
	if (s->field != NULL) {
		s->field[s->flen] = '\0';
		s->field = NULL;
	}
	s->root_closed = s->depth == 0;
	s->pos = i + 1;
	return 0;
}

static int markup(struct scan *s, struct authxml *out)
{
	if (starts_with(s, "<?"))
		return skip_past(s, s->pos + 2, "?>");
	if (starts_with(s, "<!--"))
		return skip_past(s, s->pos + 4, "-->");
	if (starts_with(s, "<![CDATA["))
		return cdata(s);
	/* DOCTYPE and the like: an internal subset could declare entities,
	 * and the client never sends one. */
	if (starts_with(s, "<!"))
		return -1;
	if (starts_with(s, "</"))
		return end_tag(s);
	return start_tag(s, out);
}

/* TAB, LF and CR are XML characters, raw or as &#9; &#10; &#13;, and so
 * is DEL: the document's rules do not keep them out of a user name, so the
 * decoded name is checked. */
static bool has_control(const char *str)
{
	for (; *str; str++)
		if ((unsigned char)*str < 0x20 || *str == 0x7f)
			return true;
	return false;
}

int authxml_parse(const char *body, size_t len, struct authxml *out)
{
	struct scan s;
	int r;

	memset(&s, 0, sizeof(s));
	s.ans_field = -1;
	s.buf = body;
	s.len = len;
	reset(out);
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0)
		s.pos = 3; /* UTF-8 byte order mark */
	while (s.pos < len) {
		r = body[s.pos] == '<' ? markup(&s, out) : text(&s);
		if (r < 0)
			goto fail;
	}
	/* A document cut short never yields fields. */
	if (!s.root_closed)
		goto fail;
	if (out->have_username && has_control(out->username)) {
		explicit_bzero(out->password, sizeof(out->password));
		explicit_bzero(out->ans, sizeof(out->ans));
		out->n_ans = 0;
		memset(out->group, 0, sizeof(out->group));
		out->have_password = false;
		return AUTHXML_BAD_USER;
	}
	return 0;
fail:
	reset(out);
	return -1;
}

/* Output side: a bounded string builder that remembers the first error. */
struct wbuf {
	char *p;
	size_t cap, n;
	bool err;
};

static void w_char(struct wbuf *w, char c)
{
	/* Keep room for the NUL. */
	if (w->err || w->n + 1 >= w->cap) {
		w->err = true;
		return;
	}
	w->p[w->n++] = c;
}

static void w_str(struct wbuf *w, const char *str)
{
	while (*str != '\0')
		w_char(w, *str++);
}

/* Control characters other than TAB, LF and CR cannot appear in XML 1.0
 * at all, escaped or not: refuse rather than send a broken document. */
static void w_escaped(struct wbuf *w, const char *str)
{
	for (; *str != '\0'; str++) {
		switch (*str) {
		case '&':
			w_str(w, "&amp;");
			break;
		case '<':
			w_str(w, "&lt;");
			break;
		case '>':
			w_str(w, "&gt;");
			break;
		case '"':
			w_str(w, "&quot;");
			break;
		case '\'':
			w_str(w, "&apos;");
			break;
		default:
			if ((unsigned char)*str < 0x20 && !is_xml_char((unsigned char)*str))
				w->err = true;
			w_char(w, *str);
		}
	}
}

static int w_finish(struct wbuf *w)
{
	if (w->err || w->n > INT_MAX) {
		if (w->cap > 0)
			w->p[0] = '\0';
		return -1;
	}
	w->p[w->n] = '\0';
	return (int)w->n;
}

/* The form of PROTOCOL.md 2.8: the stock client fills "username" from -u
 * (its name starts with "user") and "password" from --passwd-on-stdin. */
int authxml_write_form(char *out, size_t cap, const char *message)
{
	struct wbuf w = {out, cap, 0, false};

	w_str(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<config-auth client=\"vpn\" type=\"auth-request\">\n"
		  "<version who=\"sg\">0.1(1)</version>\n"
		  "<auth id=\"main\">\n");
	if (message != NULL && message[0] != '\0') {
		w_str(&w, "<message>");
		w_escaped(&w, message);
		w_str(&w, "</message>\n");
	}
	w_str(&w, "<form method=\"post\" action=\"/auth\">\n"
		  "<input type=\"text\" name=\"username\" label=\"Username:\" />\n"
		  "<input type=\"password\" name=\"password\" label=\"Password:\" />\n"
		  "</form></auth>\n"
		  "</config-auth>\n");
	return w_finish(&w);
}

/* PROTOCOL.md 2.6: auth id="success" is what tells the client it is in. */
int authxml_write_success(char *out, size_t cap)
{
	return authxml_write_success_config(out, cap, NULL);
}

int authxml_write_success_config(char *out, size_t cap, const char *config)
{
	struct wbuf w = {out, cap, 0, false};

	w_str(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<config-auth client=\"vpn\" type=\"complete\">\n"
		  "<version who=\"sg\">0.1(1)</version>\n"
		  "<auth id=\"success\"><title>SSL VPN Service</title></auth>");
	if (config)
		w_str(&w, config);
	w_str(&w, "</config-auth>\n");
	return w_finish(&w);
}

static void w_input(struct wbuf *w, const struct ipc_input *in)
{
	w_str(w, in->type == IPC_INPUT_PASSWORD ? "<input type=\"password\" name=\""
						: "<input type=\"text\" name=\"");
	w_escaped(w, in->name);
	w_str(w, "\" label=\"");
	w_escaped(w, in->label);
	w_str(w, "\" />\n");
}

/* An element of text, left out when the text is empty. */
static void w_elem(struct wbuf *w, const char *name, const char *text)
{
	if (!text[0])
		return;
	w_char(w, '<');
	w_str(w, name);
	w_char(w, '>');
	w_escaped(w, text);
	w_str(w, "</");
	w_str(w, name);
	w_str(w, ">\n");
}

/* Group choice: <select name="group_list"> with an option per group of
 * the comma-separated list (the stock client's --authgroup picks one). */
static void w_groups(struct wbuf *w, const char *list, const char *sel)
{
	char name[IPC_USER_MAX];

	w_str(w, "<select name=\"group_list\" label=\"GROUP:\">\n");
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		w_str(w, "<option value=\"");
		w_escaped(w, name);
		w_str(w, !strcmp(name, sel) ? "\" selected=\"true\">" : "\">");
		w_escaped(w, name);
		w_str(w, "</option>\n");
		p += n + (p[n] == ',');
	}
	w_str(w, "</select>\n");
}

int authxml_write_dialog(char *out, size_t cap, const struct ipc_form *f)
{
	struct wbuf w = {out, cap, 0, false};

	w_str(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<config-auth client=\"vpn\" type=\"auth-request\">\n"
		  "<version who=\"sg\">0.1(1)</version>\n");
	if (f->cert_request)
		w_str(&w, "<client-cert-request/>\n");
	w_str(&w, "<auth id=\"");
	w_escaped(&w, f->auth_id[0] ? f->auth_id : "main");
	w_str(&w, "\">\n");
	w_elem(&w, "banner", f->banner);
	w_elem(&w, "message", f->message);
	w_elem(&w, "error", f->error);
	if (f->n > 0) {
		w_str(&w, "<form method=\"post\" action=\"/auth\">\n");
		if (f->group_list[0])
			w_groups(&w, f->group_list, f->group_sel);
		for (uint32_t i = 0; i < f->n && i < IPC_INPUTS_MAX; i++)
			w_input(&w, &f->in[i]);
		w_str(&w, "</form>");
	}
	w_str(&w, "</auth>\n"
		  "</config-auth>\n");
	return w_finish(&w);
}

int authxml_escape(const char *src, char *out, size_t cap)
{
	struct wbuf w = {out, cap, 0, false};

	w_escaped(&w, src);
	return w_finish(&w);
}
