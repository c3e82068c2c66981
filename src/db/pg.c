/* The PostgreSQL door (see door.h). */
#include "db/door.h"
#include "core/error.h"
#include "store/model.h"

static int pg_serve(struct gh_db *db)
{
	return GH_EINVAL;
}

const struct gh_db_door gh_db_door_postgresql = {
	.id = GH_DB_DOOR_POSTGRESQL,
	.name = "postgresql",
	.protocol = GH_PROTO_POSTGRESQL,
	.filter_kind = "sql",
	.default_port = 5432,
	.serve = pg_serve,
};
