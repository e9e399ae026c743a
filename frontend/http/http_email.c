/*
 * http_email - SubmitEmailDetails decoding and validation (see http_email.h).
 *
 * Order of checks (the first failure is reported): JSON syntax and types;
 * sender; sender compartmentId; sender address; recipients; subject; body;
 * every address; the 50-recipient cap; messageId; headerFields keys.
 *
 * DIAGNOSTICS: none; refusals are returned.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "addr.h"
#include "http_email.h"

#define MSGID_MAX 250

static const char *const reserved[] = {
	"From", "To", "Cc", "Bcc", "Subject", "Reply-To", "Sender", "Message-ID",
	"Date", "Return-Path", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "DKIM-Signature", "Received",
};

/* email_err - fill ERR and return -1 */
static int email_err(struct http_err *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int email_err(struct http_err *err, const char *code, const char *fmt, ...)
{
	va_list ap;

	err->status = 400;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* email_type_err - a field of the wrong JSON type */
static int email_type_err(struct http_err *err, const char *name)
{
	return email_err(err, "CannotParseRequest", "Invalid value for attribute %s.", name);
}

/* email_str - optional string member NAME of OBJ into *OUT; -1 on a wrong type */
static int email_str(json_t *obj, const char *name, const char **out, struct http_err *err)
{
	json_t *v = json_object_get(obj, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return email_type_err(err, name);
	*out = json_string_value(v);
	return 0;
}

/* email_addr - an EmailAddress object */
static int email_addr(json_t *v, struct http_addr *a, struct http_err *err)
{
	if (!json_is_object(v))
		return email_type_err(err, "email");
	if (email_str(v, "email", &a->email, err) == -1 || email_str(v, "name", &a->name, err) == -1)
		return -1;
	return 0;
}

/* email_list - an optional array of EmailAddress appended at OUT[*n] */
static int email_list(json_t *obj, const char *name, struct http_addr *out, size_t *n,
    size_t room, struct http_err *err)
{
	json_t *arr = json_object_get(obj, name);
	size_t i;
	json_t *v;

	*n = 0;
	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return email_type_err(err, name);
	if (json_array_size(arr) > room)
		return email_err(err, "InvalidParameter",
		    "maxItems: 50, for recipients across the To:, CC: and BCC: fields.");
	json_array_foreach(arr, i, v) {
		if (email_addr(v, &out[i], err) == -1)
			return -1;
		(*n)++;
	}
	return 0;
}

/* email_sender - sender, sender.compartmentId, sender.senderAddress */
static int email_sender(json_t *root, struct http_email *m, struct http_err *err)
{
	json_t *s = json_object_get(root, "sender"), *a;

	if (s == NULL || json_is_null(s))
		return email_err(err, "MissingParameter",
		    "Required attribute sender can't be empty or null.");
	if (!json_is_object(s))
		return email_type_err(err, "sender");
	if (email_str(s, "compartmentId", &m->compartment_id, err) == -1)
		return -1;
	if (m->compartment_id == NULL || m->compartment_id[0] == '\0')
		return email_err(err, "MissingParameter",
		    "Required attribute sender compartmentId cannot be empty or null.");
	a = json_object_get(s, "senderAddress");
	if (a != NULL && !json_is_null(a) && email_addr(a, &m->sender, err) == -1)
		return -1;
	if (m->sender.email == NULL || m->sender.email[0] == '\0')
		return email_err(err, "InvalidParameter", "Email Address can't be null or empty.");
	return 0;
}

/* email_recipients - to, cc, bcc; at most 50 in all */
static int email_recipients(json_t *root, struct http_email *m, struct http_err *err)
{
	json_t *r = json_object_get(root, "recipients");
	size_t used;

	if (r != NULL && !json_is_null(r) && !json_is_object(r))
		return email_type_err(err, "recipients");
	if (r != NULL && json_is_object(r)) {
		if (email_list(r, "to", m->rcpt, &m->nto, HTTP_EMAIL_MAX_RCPTS, err) == -1)
			return -1;
		used = m->nto;
		if (email_list(r, "cc", m->rcpt + used, &m->ncc, HTTP_EMAIL_MAX_RCPTS - used, err) == -1)
			return -1;
		used += m->ncc;
		if (email_list(r, "bcc", m->rcpt + used, &m->nbcc, HTTP_EMAIL_MAX_RCPTS - used, err) == -1)
			return -1;
	}
	if (http_email_nrcpt(m) == 0)
		return email_err(err, "MissingParameter",
		    "Required attribute recipients must contain either to , cc or bcc recipients.");
	return 0;
}

/* email_texts - subject and the bodies */
static int email_texts(json_t *root, struct http_email *m, struct http_err *err)
{
	if (email_str(root, "subject", &m->subject, err) == -1 ||
	    email_str(root, "bodyText", &m->body_text, err) == -1 ||
	    email_str(root, "bodyHtml", &m->body_html, err) == -1 ||
	    email_str(root, "messageId", &m->message_id, err) == -1)
		return -1;
	if (m->subject == NULL || m->subject[0] == '\0')
		return email_err(err, "MissingParameter",
		    "Required attribute subject can't be empty or null.");
	if ((m->body_text == NULL || m->body_text[0] == '\0') &&
	    (m->body_html == NULL || m->body_html[0] == '\0'))
		return email_err(err, "MissingParameter",
		    "Required attribute body(html/text) is missing. Request must contain either bodyText or bodyHtml");
	return 0;
}

/* email_check_addr - one address: present and valid */
static int email_check_addr(const struct http_addr *a, struct http_err *err)
{
	if (a->email == NULL || a->email[0] == '\0')
		return email_err(err, "InvalidParameter", "Email Address can't be null or empty.");
	if (!http_address_ok(a->email))
		return email_err(err, "InvalidParameter", "Invalid Internet Address : %.300s", a->email);
	return 0;
}

/* email_addresses - sender, recipients and reply-to addresses */
static int email_addresses(json_t *root, struct http_email *m, struct http_err *err)
{
	if (email_list(root, "replyTo", m->reply_to, &m->nreply, HTTP_EMAIL_MAX_RCPTS, err) == -1)
		return -1;
	if (email_check_addr(&m->sender, err) == -1)
		return -1;
	for (size_t i = 0; i < http_email_nrcpt(m); i++)
		if (email_check_addr(&m->rcpt[i], err) == -1)
			return -1;
	for (size_t i = 0; i < m->nreply; i++)
		if (email_check_addr(&m->reply_to[i], err) == -1)
			return -1;
	if (m->message_id != NULL && !http_msgid_ok(m->message_id))
		return email_err(err, "InvalidParameter", "Message ID not formed according to RFCs.");
	return 0;
}

/* email_header_key - non-empty, ASCII field-name characters, not reserved */
static int email_header_key(const char *k, struct http_err *err)
{
	if (k[0] == '\0')
		return email_err(err, "InvalidParameter", "Header Key can't be null or empty");
	for (const unsigned char *p = (const unsigned char *)k; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == ':')
			return email_err(err, "InvalidParameter",
			    "Custom Mail Header Keys should be ASCII only %.200s", k);
	if (http_header_reserved(k))
		return email_err(err, "InvalidParameter",
		    "%.200s is a reserved mail header which is not allowed", k);
	return 0;
}

/* email_headers - headerFields: a string -> string map */
static int email_headers(json_t *root, struct http_email *m, struct http_err *err)
{
	json_t *h = json_object_get(root, "headerFields"), *v;
	const char *k;

	if (h == NULL || json_is_null(h))
		return 0;
	if (!json_is_object(h))
		return email_type_err(err, "headerFields");
	json_object_foreach(h, k, v) {
		if (!json_is_string(v))
			return email_type_err(err, "headerFields");
		if (email_header_key(k, err) == -1)
			return -1;
		if (m->nhdr == sizeof(m->hkey) / sizeof(m->hkey[0]))
			return email_err(err, "InvalidParameter", "Too many header fields");
		m->hkey[m->nhdr] = k;
		m->hval[m->nhdr++] = json_string_value(v);
	}
	return 0;
}

/* http_email_decode - parse, then the checks in the documented order */
int http_email_decode(const char *body, size_t len, struct http_email *m,
    struct http_err *err)
{
	json_error_t jerr;

	memset(m, 0, sizeof(*m));
	m->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (m->root == NULL)
		return email_err(err, "CannotParseRequest", "Request body is not valid JSON.");
	if (!json_is_object(m->root))
		return email_err(err, "CannotParseRequest", "Request body must be a JSON object.");
	if (email_sender(m->root, m, err) == -1 || email_recipients(m->root, m, err) == -1 ||
	    email_texts(m->root, m, err) == -1 || email_addresses(m->root, m, err) == -1)
		return -1;
	return email_headers(m->root, m, err);
}

/* http_email_clear - release the document */
void http_email_clear(struct http_email *m)
{
	json_decref(m->root);
	m->root = NULL;
}

/* http_email_nrcpt - every recipient */
size_t http_email_nrcpt(const struct http_email *m)
{
	return m->nto + m->ncc + m->nbcc;
}

/* http_address_ok - printable ASCII and a valid mailbox */
int http_address_ok(const char *email)
{
	size_t n = strlen(email);

	if (n == 0 || n > ADDR_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)email; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return 0;
	return addr_valid(email);
}

/* msgid_atoms - a dot-atom-text of atext characters, N bytes */
static int msgid_atoms(const char *s, size_t n)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~";

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.' ? s[i + 1] == '.' :
		    !(c < 0x80 && (isalnum(c) || strchr(specials, c) != NULL)))
			return 0;
	}
	return 1;
}

/* http_msgid_ok - id-left "@" id-right (dot-atom-text both sides) */
int http_msgid_ok(const char *id)
{
	size_t n = strlen(id);
	const char *at;

	if (n > MSGID_MAX)
		return 0;
	if (n >= 2 && id[0] == '<' && id[n - 1] == '>') {
		id++;
		n -= 2;
	}
	at = memchr(id, '@', n);
	if (at == NULL)
		return 0;
	return msgid_atoms(id, (size_t)(at - id)) &&
	    msgid_atoms(at + 1, n - (size_t)(at - id) - 1);
}

/* http_header_reserved - case-insensitive match against the reserved list */
int http_header_reserved(const char *name)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(reserved[i], name) == 0)
			return 1;
	return 0;
}
