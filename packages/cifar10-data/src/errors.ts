/**
 * A problem with input data. `file` names the file (or URL) and `field` the part that is wrong,
 * so callers can react without parsing the message.
 */
export class DataError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DataError';
  }
}
