/*
 * http_page - one page of a list reply: the items sorted as the caller asked
 * (sortBy among the resource's sort keys, sortOrder ASC or DESC, each key with
 * its documented default order; ties broken by id so pages are stable), then
 * cut at page (an offset) and limit. Pure: no network, unit-tested.
 */
#ifndef HTTP_PAGE_H
#define HTTP_PAGE_H

#include <stddef.h>

struct json_t;

#define HTTP_PAGE_DEFAULT 100
#define HTTP_PAGE_MAX 1000

/* http_sort - one sortBy value: the JSON member it orders by and the order
 * used when sortOrder is absent. A resource's table ends with a NULL name;
 * its first row is the default sortBy. */
struct http_sort {
	const char *name;	/* "TIMECREATED" (compared case-insensitively) */
	const char *field;	/* "timeCreated" */
	int desc;		/* default order descending */
};

/* http_page_req - the list parameters as received (NULL when absent) */
struct http_page_req {
	const char *sort_by, *sort_order, *limit, *page;
};

/* http_page_select - sort ITEMS (a JSON array, consumed) by SORTS and REQ,
 * and return the page in *PAGE (a new array) and the next page token in
 * NEXT ("" when this is the last page). 0, or -1 with *BAD naming the
 * invalid parameter ("sortBy", "sortOrder", "limit" or "page") or NULL
 * when out of memory. */
int http_page_select(struct json_t *items, const struct http_sort *sorts,
    const struct http_page_req *req, struct json_t **page, char *next, size_t cap,
    const char **bad);

#endif
