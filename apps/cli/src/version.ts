/** The version of @vitlens/cli. */
export const CLI_VERSION = '0.1.0';
