/* The doors this build has: one line each. */
#include "db/door.h"

extern const struct gh_db_door gh_db_door_postgresql;
extern const struct gh_db_door gh_db_door_mysql;
extern const struct gh_db_door gh_db_door_redis;

const struct gh_db_door *gh_db_door_get(enum gh_db_door_id id)
{
	switch (id) {
	case GH_DB_DOOR_POSTGRESQL:
		return &gh_db_door_postgresql;
	case GH_DB_DOOR_MYSQL:
		return &gh_db_door_mysql;
	case GH_DB_DOOR_REDIS:
		return &gh_db_door_redis;
	case GH_DB_N_DOORS:
		break;
	}
	return NULL;
}
