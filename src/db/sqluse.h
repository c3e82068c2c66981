/* The USE statements inside a MySQL query text (which may hold several
 * statements), for the per-database permission check. Pure. */
#pragma once
#include <stddef.h>

/* From *POS in TEXT[0..LEN), find the next statement that is "USE name"
 * (leading whitespace and comments skipped; quotes and comments respected
 * when splitting at ';'). 1 with NAME (unquoted, NUL-terminated) and *POS
 * after that statement; 0 when there is none left; GH_EINVAL when a USE
 * names nothing readable or the name does not fit NAMELEN. */
int gh_sql_next_use(const char *text, size_t len, size_t *pos, char *name, size_t namelen);
