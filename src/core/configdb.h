/* The shared store's settings (database_url, database_password_file,
 * node_name): checks and loading that config.c calls. */
#pragma once
#include <stddef.h>

struct gh_config;

/* A database_url value: "" or a postgresql:// (postgres://) URI that
 * holds no password (neither user:password@ nor a password= parameter).
 * On error writes a message (no location) into MSG. */
int gh_config_db_url_check(const char *url, char *msg, size_t msglen);

/* After defaults: with database = postgresql, database_url must be set and
 * database_password_file (when set) is read into database_password (a
 * file root trusts: root's, not readable by others; one line); node_name
 * "" becomes the hostname. ERR (GH_CONFIG_ERRLEN) names what is wrong. */
int gh_config_db_load(struct gh_config *cfg, char *err);

/* Wipe and free database_password. */
void gh_config_db_free(struct gh_config *cfg);
