// Request bodies of REST endpoints (relay and control plane): bounded in bytes (413 past the
// limit, checked against Content-Length up front and against the bytes actually received; the
// rest of an oversize body is read and discarded so the 413 answer still reaches the client),
// raw or parsed as JSON (400).
import type { IncomingMessage } from 'node:http';
import { ErrorCode, FpsError } from './errors.js';

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const text = (await readRawBody(req, maxBytes)).toString('utf8');
  if (text.trim() === '') throw new FpsError(ErrorCode.BadRequest, 'request body must be JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new FpsError(ErrorCode.BadRequest, 'request body is not valid JSON');
  }
}

/** The request body as bytes, at most `maxBytes` of them (413 past that). */
export function readRawBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    return Promise.reject(new FpsError(ErrorCode.PayloadTooLarge, `request body is larger than ${maxBytes} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        failed = true;
        reject(new FpsError(ErrorCode.PayloadTooLarge, `request body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!failed) reject(new FpsError(ErrorCode.BadRequest, 'request body could not be read', { cause: err }));
      failed = true;
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
  });
}
