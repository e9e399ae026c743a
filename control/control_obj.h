/*
 * control_obj - generic helpers over ph.PolicyObject: kind names, ids, the
 * owning tenant, normalization and the uniqueness key of each kind.
 */
#ifndef PH_CONTROL_OBJ_H
#define PH_CONTROL_OBJ_H

#include <stddef.h>
#include "control.pb-c.h"

/* uniqueness keys are at most this long (including NUL) */
#define CONTROL_UNIQ_MAX 1024

/* control_kind_name - "tenant", "compartment", ...; NULL for an unset object */
const char *control_kind_name(Ph__PolicyObject__ObjCase c);
/* control_kind_parse - the case for NAME, PH__POLICY_OBJECT__OBJ__NOT_SET if unknown */
Ph__PolicyObject__ObjCase control_kind_parse(const char *name);
/* control_kind_ocid - the OCID kind used for new ids ("tenancy", "emailsender", ...) */
const char *control_kind_ocid(Ph__PolicyObject__ObjCase c);

/* control_obj_msg - the inner message of OBJ (NULL when unset) */
ProtobufCMessage *control_obj_msg(const Ph__PolicyObject *obj);
/* control_obj_id / control_obj_tenant - "" when the kind has no such field */
const char *control_obj_id(const Ph__PolicyObject *obj);
const char *control_obj_tenant(const Ph__PolicyObject *obj);
/* control_obj_set_id - replace the id (malloc'd copy, old one freed) */
int control_obj_set_id(Ph__PolicyObject *obj, const char *id);

/* control_obj_copy - deep copy through pack/unpack; NULL on failure */
Ph__PolicyObject *control_obj_copy(const Ph__PolicyObject *obj);
void control_obj_free(Ph__PolicyObject *obj);

/* control_obj_uniq - the key no two objects may share ("" = none) into OUT */
void control_obj_uniq(const Ph__PolicyObject *obj, char out[CONTROL_UNIQ_MAX]);

/* control_str_set - replace a protobuf-c string field with a copy of VAL */
int control_str_set(char **field, const char *val);

#endif
