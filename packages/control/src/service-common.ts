// What the control service's parts share: the store, the watch hub's cache, the clock, and
// the small helpers of request validation.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import { ErrorCode, FpsError } from '@fastpubsub/core';
import type { WatchHub } from './hub.js';
import type { ControlStore } from './store/store.js';

export type Principal = { kind: 'operator' } | { kind: 'pop' } | { kind: 'tenant'; tenant: string };

export interface ServiceContext {
  readonly store: ControlStore;
  readonly hub: WatchHub;
  readonly now: () => number;
}

export const TENANT_RE = /^[A-Za-z0-9_\-~@.]{1,128}$/;
export const POP_RE = /^[A-Za-z0-9_.~@-]{1,128}$/;
export const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
export const hex = (n: number): string => randomBytes(n).toString('hex');
export const bad = (m: string): FpsError => new FpsError(ErrorCode.BadRequest, m);

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Constant-time check that `secret` hashes to `hash` (hex SHA-256). */
export function hashMatches(hash: string, secret: string): boolean {
  const a = Buffer.from(sha256(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

const ajv = new Ajv({ allErrors: false, strict: false });

/**
 * Compiles a JSON schema for a request body into a check that returns the typed body or throws
 * bad_request with the message of the first failing field (`messages` by JSON pointer; '' is
 * the body itself), falling back to ajv's own text.
 */
export function validator<T>(schema: object, messages: Readonly<Record<string, string>>): (body: unknown) => T {
  const check = ajv.compile<T>(schema);
  return (body) => {
    if (check(body)) return body;
    const e: ErrorObject | undefined = check.errors?.[0];
    const missing = e?.keyword === 'required' ? `/${String((e.params as { missingProperty?: string }).missingProperty)}` : undefined;
    const path = missing ?? e?.instancePath ?? '';
    throw bad(messages[path] ?? `${path === '' ? 'body' : path.slice(1)} ${e?.message ?? 'is invalid'}`);
  };
}
