/* The doors this build has: one line each. */
#include "db/door.h"

extern const struct gh_db_door gh_db_door_postgresql;

const struct gh_db_door *gh_db_door_get(enum gh_db_door_id id)
{
	switch (id) {
	case GH_DB_DOOR_POSTGRESQL:
		return &gh_db_door_postgresql;
	case GH_DB_DOOR_MYSQL:
	case GH_DB_DOOR_REDIS:
	case GH_DB_N_DOORS:
		break;
	}
	return NULL;
}
