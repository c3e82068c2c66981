/* Schema migrations: version N (1-based) is gh_migration_sql(N). Private to src/store/. */
#pragma once
#include <stddef.h>

size_t gh_migrations_count(void);
const char *gh_migration_sql(size_t version);
