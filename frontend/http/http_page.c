/*
 * http_page - sorting and cutting list replies (see http_page.h).
 *
 * Times are RFC 3339 strings of fixed width (http_time), so ordering them as
 * strings orders them in time. A page token is the offset of the page's
 * first item in the sorted list.
 *
 * DIAGNOSTICS: none; bad parameters are returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "http_page.h"

/* page_key - the sort key of one sort */
struct page_key {
	const char *field;
	int desc;
};

/* page_str - member NAME of item V as a string, "" when absent */
static const char *page_str(json_t *v, const char *name)
{
	const char *s = json_string_value(json_object_get(v, name));

	return s != NULL ? s : "";
}

/* page_cmp_r - by the key's field, then by id ascending (qsort_r) */
static int page_cmp_r(const void *a, const void *b, void *arg)
{
	const struct page_key *k = arg;
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int r = strcmp(page_str(x, k->field), page_str(y, k->field));

	if (r != 0)
		return k->desc ? -r : r;
	return strcmp(page_str(x, "id"), page_str(y, "id"));
}

/* page_key_parse - sortBy and sortOrder into K; -1 with *BAD */
static int page_key_parse(const struct http_sort *sorts, const struct http_page_req *req,
    struct page_key *k, const char **bad)
{
	const struct http_sort *s = sorts;

	if (req->sort_by != NULL)
		for (; s->name != NULL && strcasecmp(s->name, req->sort_by) != 0; s++)
			;
	if (s->name == NULL)
		return *bad = "sortBy", -1;
	k->field = s->field;
	k->desc = s->desc;
	if (req->sort_order == NULL)
		return 0;
	if (strcasecmp(req->sort_order, "ASC") == 0)
		k->desc = 0;
	else if (strcasecmp(req->sort_order, "DESC") == 0)
		k->desc = 1;
	else
		return *bad = "sortOrder", -1;
	return 0;
}

/* page_number - a decimal parameter in [MIN, MAX], DEF when absent; -1 if bad */
static long page_number(const char *v, long def, long min, long max)
{
	char *end;
	long n;

	if (v == NULL)
		return def;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < min || n > max)
		return -1;
	return n;
}

/* page_sorted - the items of ITEMS ordered by K, as a C array */
static json_t **page_sorted(json_t *items, const struct page_key *k, size_t *n)
{
	json_t **v;

	*n = json_array_size(items);
	if ((v = calloc(*n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (size_t i = 0; i < *n; i++)
		v[i] = json_array_get(items, i);
	qsort_r(v, *n, sizeof(*v), page_cmp_r, (void *)k);
	return v;
}

/* http_page_select - validate, sort, cut */
int http_page_select(json_t *items, const struct http_sort *sorts,
    const struct http_page_req *req, json_t **page, char *next, size_t cap,
    const char **bad)
{
	long limit = page_number(req->limit, HTTP_PAGE_DEFAULT, 1, HTTP_PAGE_MAX);
	long off = page_number(req->page, 0, 0, 1L << 30);
	struct page_key k;
	json_t **v = NULL;
	size_t n = 0;

	*page = NULL;
	*bad = NULL;
	next[0] = '\0';
	if (page_key_parse(sorts, req, &k, bad) == -1 ||
	    (limit < 0 && (*bad = "limit")) || (off < 0 && (*bad = "page")))
		goto fail;
	if ((v = page_sorted(items, &k, &n)) == NULL || (*page = json_array()) == NULL)
		goto fail;
	for (size_t i = (size_t)off; i < n && i < (size_t)(off + limit); i++)
		json_array_append(*page, v[i]);
	if ((size_t)(off + limit) < n)
		snprintf(next, cap, "%ld", off + limit);
	free(v);
	json_decref(items);
	return 0;
fail:
	free(v);
	json_decref(items);
	return -1;
}
