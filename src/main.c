/* Placeholder entry point; subcommand dispatch lives in src/cli/. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "gatehouse: no command\n");
	return 2;
}
