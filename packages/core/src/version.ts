/** The version of @vitlens/core (kept in step with package.json by the build). */
export const version = '0.1.0';
