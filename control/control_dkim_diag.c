/*
 * control_dkim_diag - what the DNS answers for a DKIM key mean, and how to
 * fix what is wrong (the seed's "inactive DKIM key" section). Pure functions:
 * the checker queries the names dkim_diag_names gives (CNAME and TXT each)
 * and hands every answer to dkim_diagnose.
 *
 * The mistakes looked for, N being <selector>._domainkey.<domain> and V the
 * CNAME value:
 *   - the name pasted whole into a zone-relative UI: the record sits at
 *     N.<zone> for a zone that is the domain or one of its parents;
 *   - the CNAME points elsewhere, or at V with the zone appended to it;
 *   - a TXT record with a DKIM key at N instead of the CNAME;
 *   - the name without its underscores or without "_domainkey".
 *
 * DIAGNOSTICS: none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control_dkim.h"

#define NAME_BUF 600

/* name_eq - DNS names equal, ignoring case and a trailing dot */
static int name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* rr_find - the value of the first TYPE answer for NAME (TXT: with DKIM1
 * unless ANY_TXT), NULL if none */
static const char *rr_find(const struct dkim_rr *rrs, size_t n, const char *name,
    enum dkim_rr_type type)
{
	for (size_t i = 0; i < n; i++)
		if (rrs[i].type == type && name_eq(rrs[i].name, name) &&
		    (type == DKIM_RR_CNAME || strstr(rrs[i].value, "v=DKIM1") != NULL))
			return rrs[i].value;
	return NULL;
}

/* txt_key_is - TXT has "p=" followed by exactly B64 */
static int txt_key_is(const char *txt, const char *b64)
{
	const char *p = strstr(txt, "p=");
	size_t n = strlen(b64);

	while (p != NULL && p != txt && p[-1] != ';' && p[-1] != ' ')
		p = strstr(p + 2, "p=");
	if (p == NULL || strncmp(p + 2, b64, n) != 0)
		return 0;
	p += 2 + n;
	return *p == '\0' || *p == ';' || *p == ' ';
}

/* add_name - append a copy of NAME; keeps the count */
static size_t add_name(char **out, size_t n, size_t max, const char *name)
{
	if (n < max && (out[n] = strdup(name)) != NULL)
		n++;
	return n;
}

/* dkim_diag_names - N, V, N.<zone> for the domain and each parent with
 * two labels or more, then the names without underscores */
size_t dkim_diag_names(const struct dkim_diag_in *in, char **out, size_t max)
{
	char buf[NAME_BUF];
	size_t n = 0;

	n = add_name(out, n, max, in->cname_name);
	n = add_name(out, n, max, in->cname_value);
	for (const char *z = in->domain; strchr(z, '.') != NULL;
	    z = strchr(z, '.') + 1) {
		snprintf(buf, sizeof(buf), "%s.%s", in->cname_name, z);
		n = add_name(out, n, max, buf);
	}
	snprintf(buf, sizeof(buf), "%s.domainkey.%s", in->selector, in->domain);
	n = add_name(out, n, max, buf);
	snprintf(buf, sizeof(buf), "%s.%s", in->selector, in->domain);
	return add_name(out, n, max, buf);
}

/* diag_cname - N has a CNAME: right, zone-appended value, or elsewhere */
static enum dkim_verdict diag_cname(const struct dkim_diag_in *in,
    const struct dkim_rr *rrs, size_t nrr, const char *target, char *detail, size_t len)
{
	size_t lv = strlen(in->cname_value);
	const char *txt;

	if (name_eq(target, in->cname_value)) {
		txt = rr_find(rrs, nrr, in->cname_name, DKIM_RR_TXT);
		if (txt == NULL)
			txt = rr_find(rrs, nrr, in->cname_value, DKIM_RR_TXT);
		if (txt != NULL && txt_key_is(txt, in->public_key_b64)) {
			snprintf(detail, len, "CNAME %s -> %s found and the key is published",
			    in->cname_name, in->cname_value);
			return DKIM_OK;
		}
		snprintf(detail, len, "CNAME %s -> %s is right, but %s does not serve this "
		    "key: the operator must publish TXT \"v=DKIM1; ...; p=%.16s...\" there",
		    in->cname_name, in->cname_value, in->cname_value, in->public_key_b64);
		return DKIM_TARGET_NO_KEY;
	}
	if (strncasecmp(target, in->cname_value, lv) == 0 && target[lv] == '.') {
		snprintf(detail, len, "CNAME %s points to %s: the DNS provider appended the "
		    "zone to the value. Enter the value with a trailing dot: %s.",
		    in->cname_name, target, in->cname_value);
		return DKIM_TARGET_ZONE_APPENDED;
	}
	snprintf(detail, len, "CNAME %s points to %s; change it to %s.",
	    in->cname_name, target, in->cname_value);
	return DKIM_WRONG_TARGET;
}

/* diag_wrong_zone - the record at N.<zone>: say what to enter instead */
static enum dkim_verdict diag_wrong_zone(const struct dkim_diag_in *in,
    const char *found, const char *zone, char *detail, size_t len)
{
	size_t ln = strlen(in->cname_name), lz = strlen(zone);
	int rel = ln > lz ? (int)(ln - lz - 1) : (int)ln;

	if (ln <= lz || strcasecmp(in->cname_name + ln - lz, zone) != 0)
		rel = (int)ln;
	snprintf(detail, len, "the record was found at %s: the name was entered with "
	    "the zone %s appended. Enter it relative to the zone as %.*s (or in full "
	    "with a trailing dot: %s.) as a CNAME to %s.", found, zone, rel,
	    in->cname_name, in->cname_name, in->cname_value);
	return DKIM_WRONG_ZONE;
}

/* diag_elsewhere - no record at N: look at the usual wrong places */
static enum dkim_verdict diag_elsewhere(const struct dkim_diag_in *in,
    const struct dkim_rr *rrs, size_t nrr, char *detail, size_t len)
{
	char *names[DKIM_DIAG_NAMES_MAX];
	size_t n = dkim_diag_names(in, names, DKIM_DIAG_NAMES_MAX), zones = n - 4;
	enum dkim_verdict v = DKIM_MISSING;
	const char *zone = in->domain;

	for (size_t i = 2; i < n && v == DKIM_MISSING; i++) {
		if (rr_find(rrs, nrr, names[i], DKIM_RR_CNAME) == NULL &&
		    rr_find(rrs, nrr, names[i], DKIM_RR_TXT) == NULL)
			continue;
		if (i < 2 + zones) {
			for (size_t z = 2; z < i; z++)
				zone = strchr(zone, '.') + 1;
			v = diag_wrong_zone(in, names[i], zone, detail, len);
		} else {
			snprintf(detail, len, "the record was found at %s, but the name must be "
			    "%s (with the underscores): publish CNAME %s -> %s.", names[i],
			    in->cname_name, in->cname_name, in->cname_value);
			v = DKIM_NO_UNDERSCORE_NAME;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	if (v == DKIM_MISSING)
		snprintf(detail, len, "no CNAME at %s: publish %s. CNAME %s.",
		    in->cname_name, in->cname_name, in->cname_value);
	return v;
}

/* dkim_diagnose - the CNAME at N first, then a TXT there, then elsewhere */
enum dkim_verdict dkim_diagnose(const struct dkim_diag_in *in,
    const struct dkim_rr *rrs, size_t nrr, char *detail, size_t len)
{
	const char *cname = rr_find(rrs, nrr, in->cname_name, DKIM_RR_CNAME);

	if (cname != NULL)
		return diag_cname(in, rrs, nrr, cname, detail, len);
	if (rr_find(rrs, nrr, in->cname_name, DKIM_RR_TXT) != NULL) {
		snprintf(detail, len, "a DKIM TXT record is published at %s instead of the "
		    "CNAME: delete it and publish %s. CNAME %s. (the key can then be "
		    "rotated without touching your DNS).", in->cname_name, in->cname_name,
		    in->cname_value);
		return DKIM_TXT_DIRECT;
	}
	return diag_elsewhere(in, rrs, nrr, detail, len);
}

/* dkim_verdict_name - for logs */
const char *dkim_verdict_name(enum dkim_verdict v)
{
	switch (v) {
	case DKIM_OK: return "ok";
	case DKIM_MISSING: return "missing";
	case DKIM_WRONG_ZONE: return "wrong_zone";
	case DKIM_WRONG_TARGET: return "wrong_target";
	case DKIM_TARGET_ZONE_APPENDED: return "target_zone_appended";
	case DKIM_TXT_DIRECT: return "txt_direct";
	case DKIM_NO_UNDERSCORE_NAME: return "no_underscore_name";
	case DKIM_TARGET_NO_KEY: return "target_no_key";
	}
	return "unknown";
}
