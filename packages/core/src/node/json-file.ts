import fs from 'node:fs/promises';

/**
 * Read and parse a JSON file; a parse error names the file (`name`, default its path) and says why:
 * `runs/a/config.json: not valid JSON (Unexpected end of JSON input)`.
 */
export async function readJsonFile(file: string, name: string = file): Promise<unknown> {
  const text = await fs.readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${name}: not valid JSON (${(error as Error).message})`);
  }
}
