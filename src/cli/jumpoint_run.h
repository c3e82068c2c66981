/* gatehouse jumpoint run: the agent (jumpoint_run.c, docs/JUMPOINTS.md). */
#pragma once
struct gh_cli;
int gh_cli_jumpoint_run(struct gh_cli *cli, int argc, char **argv);
