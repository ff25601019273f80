/* The XML login dialogue (PROTOCOL.md section 2): parse what the client
 * POSTs and write what the server answers.  Buffers in, buffers out. */
#ifndef TUNNELD_AUTHXML_H
#define TUNNELD_AUTHXML_H

#include <stdbool.h>
#include <stddef.h>

#define AUTHXML_MAX_FIELD 256
/* Answers other than username and password: the inputs of a later form
 * (a one-time code, a PAM prompt's answer, a new password). */
#define AUTHXML_MAX_ANSWERS 4
#define AUTHXML_MAX_NAME    32

struct ipc_form;

enum authxml_type { AUTHXML_INIT, AUTHXML_REPLY, AUTHXML_LOGOUT, AUTHXML_OTHER };

struct authxml {
	enum authxml_type type; /* <config-auth type="init|auth-reply|logout"> */
	bool have_username, have_password;
	char username[AUTHXML_MAX_FIELD]; /* entity-decoded, NUL-terminated */
	char password[AUTHXML_MAX_FIELD];
	char group[AUTHXML_MAX_FIELD]; /* <group-select>, may be empty */
	/* The other children of <auth> ([A-Za-z0-9_-] names, each once; more
	 * than AUTHXML_MAX_ANSWERS are not kept), in document order. */
	unsigned n_ans;
	struct {
		char name[AUTHXML_MAX_NAME];
		char value[AUTHXML_MAX_FIELD];
	} ans[AUTHXML_MAX_ANSWERS];
	bool cert_fail; /* <client-cert-fail/>: the client has no certificate */
};

/* authxml_parse(): a well-formed document whose user name holds a control
 * character (below 0x20, or 0x7f; also one written as an entity such as
 * &#10;).  No account has one, and it would only serve to forge log lines. */
#define AUTHXML_BAD_USER (-2)

/* Parse a client document.  0 on success; -1 if the body is not a
 * config-auth document or a field is too long / badly escaped (*out is
 * wiped); AUTHXML_BAD_USER (above: only type, have_username and username
 * are kept, for the log line, which must escape it).  Tolerates whatever
 * the stock client sends (XML declaration, attributes, unknown elements,
 * <opaque>, whitespace).  Does not allocate. */
int authxml_parse(const char *body, size_t len, struct authxml *out);

/* Server documents.  Return the length written (excluding NUL), or -1 if
 * cap is too small.  'message' is escaped by the function. */
int authxml_write_form(char *out, size_t cap, const char *message);
int authxml_write_success(char *out, size_t cap);
/* The same with config (our own XML, not escaped: e.g. the profile
 * manifest) after the auth element; NULL for none. */
int authxml_write_success_config(char *out, size_t cap, const char *config);

/* A form of the dialogue (daemon/dialog.c, ipc.h): the inputs, message,
 * error and banner of f, <client-cert-request/> when f asks for it; with
 * no inputs an <auth> without a form, which ends the client's dialogue
 * with the error shown.  Length, or -1. */
int authxml_write_dialog(char *out, size_t cap, const struct ipc_form *f);

/* XML-escape src into out (NUL-terminated); returns length or -1. */
int authxml_escape(const char *src, char *out, size_t cap);

#endif
