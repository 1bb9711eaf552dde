export const nodeEntry = true;
