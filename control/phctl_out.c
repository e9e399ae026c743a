/*
 * phctl_out - printing protobuf-c messages generically from their
 * descriptors: an aligned text table (one column per scalar or repeated
 * string field, named as in the .proto) or JSON (jansson). Bytes fields
 * (salts, hashes) are never printed.
 *
 * DIAGNOSTICS: none.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "phctl.h"

#define CELL_MAX 1024

/* field_printable - fields shown at all: no bytes, no sub-messages */
static int field_printable(const ProtobufCFieldDescriptor *f)
{
	return f->type != PROTOBUF_C_TYPE_BYTES && f->type != PROTOBUF_C_TYPE_MESSAGE;
}

/* field_ptr - the address of field F in M */
static const void *field_ptr(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (const char *)m + f->offset;
}

/* scalar_text - one scalar value at P as text */
static void scalar_text(const ProtobufCFieldDescriptor *f, const void *p, char *out,
    size_t len)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		snprintf(out, len, "%s", *(char *const *)p ? *(char *const *)p : "");
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(out, len, "%" PRIu64, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
		snprintf(out, len, "%" PRId64, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
		snprintf(out, len, "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		snprintf(out, len, "%s", *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	default:	/* int32, enum */
		snprintf(out, len, "%d", *(const int *)p);
		break;
	}
}

/* scalar_json - one scalar value at P as JSON */
static json_t *scalar_json(const ProtobufCFieldDescriptor *f, const void *p)
{
	char buf[CELL_MAX];

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return json_string(*(char *const *)p ? *(char *const *)p : "");
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return json_integer((json_int_t)*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	default:
		scalar_text(f, p, buf, sizeof(buf));
		return json_integer(strtoll(buf, NULL, 10));
	}
}

/* elem_size - the size of one element of a repeated field */
static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_FIXED64: return 8;
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	default: return 4;
	}
}

/* field_count - elements of a repeated field */
static size_t field_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return *(const size_t *)((const char *)m + f->quantifier_offset);
}

/* field_text - the cell of F in M; repeated values joined by "," */
static void field_text(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    char *out, size_t len)
{
	const char *arr;
	size_t used = 0, n;

	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		scalar_text(f, field_ptr(m, f), out, len);
		return;
	}
	out[0] = '\0';
	arr = *(const char *const *)field_ptr(m, f);
	n = field_count(m, f);
	for (size_t i = 0; i < n && used + 1 < len; i++) {
		if (i > 0)
			out[used++] = ',';
		scalar_text(f, arr + i * elem_size(f), out + used, len - used);
		used += strlen(out + used);
	}
	out[used] = '\0';
}

/* phctl_json_msg - every printable field of M as a JSON object */
void *phctl_json_msg(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	json_t *o = json_object();

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!field_printable(f))
			continue;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			json_object_set_new(o, f->name, scalar_json(f, field_ptr(m, f)));
			continue;
		}
		json_t *a = json_array();
		const char *arr = *(const char *const *)field_ptr(m, f);
		for (size_t j = 0; j < field_count(m, f); j++)
			json_array_append_new(a, scalar_json(f, arr + j * elem_size(f)));
		json_object_set_new(o, f->name, a);
	}
	return o;
}

/* phctl_json_dump - print and release JSON */
void phctl_json_dump(void *json)
{
	char *s = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(json);
}

/* phctl_print_json - one object, or an array of them */
void phctl_print_json(const ProtobufCMessage **msgs, size_t n, bool array)
{
	json_t *a;

	if (!array) {
		if (n > 0)
			phctl_json_dump(phctl_json_msg(msgs[0]));
		return;
	}
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, phctl_json_msg(msgs[i]));
	phctl_json_dump(a);
}

/* print_row - one row of CELLS padded to WIDTHS */
static void print_row(char **cells, const size_t *widths, size_t ncol)
{
	for (size_t c = 0; c < ncol; c++) {
		if (c + 1 < ncol)
			printf("%-*s  ", (int)widths[c], cells[c]);
		else
			printf("%s\n", cells[c]);
	}
}

/* table_cells - an (n+1) x ncol matrix: header row, then one row per message */
static char **table_cells(const ProtobufCMessage **msgs, size_t n, const char *first_col,
    const char **first_vals, size_t *ncol_out)
{
	const ProtobufCMessageDescriptor *d = msgs[0]->descriptor;
	size_t ncol = first_col ? 1 : 0, c;
	char **cells;

	for (unsigned i = 0; i < d->n_fields; i++)
		ncol += field_printable(&d->fields[i]);
	cells = calloc((n + 1) * ncol, sizeof(*cells));
	if (cells == NULL)
		return NULL;
	for (size_t r = 0; r <= n; r++) {
		c = 0;
		if (first_col)
			cells[r * ncol + c++] = strdup(r == 0 ? first_col : first_vals[r - 1]);
		for (unsigned i = 0; i < d->n_fields; i++) {
			char buf[CELL_MAX];
			if (!field_printable(&d->fields[i]))
				continue;
			if (r == 0)
				snprintf(buf, sizeof(buf), "%s", d->fields[i].name);
			else
				field_text(msgs[r - 1], &d->fields[i], buf, sizeof(buf));
			cells[r * ncol + c++] = strdup(buf);
		}
	}
	*ncol_out = ncol;
	return cells;
}

/* phctl_print_table - an aligned table with a header row */
void phctl_print_table(const ProtobufCMessage **msgs, size_t n, const char *first_col,
    const char **first_vals)
{
	size_t ncol, *widths;
	char **cells;

	if (n == 0)
		return;
	cells = table_cells(msgs, n, first_col, first_vals, &ncol);
	widths = calloc(ncol, sizeof(*widths));
	if (cells == NULL || widths == NULL) {
		free(cells);
		free(widths);
		return;
	}
	for (size_t i = 0; i < (n + 1) * ncol; i++) {
		size_t len = cells[i] ? strlen(cells[i]) : 0;
		if (len > widths[i % ncol])
			widths[i % ncol] = len;
	}
	for (size_t r = 0; r <= n; r++)
		print_row(cells + r * ncol, widths, ncol);
	for (size_t i = 0; i < (n + 1) * ncol; i++)
		free(cells[i]);
	free(cells);
	free(widths);
}
