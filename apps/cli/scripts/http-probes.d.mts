// Types of scripts/http-probes.mjs, for the TypeScript tests that use it.
export function postBody(server: { host: string; port: number }, total: number, timeoutMs?: number): Promise<{ status: number; sent: number }>;
