// The programs a twin's device offers, with their parameters and safety bounds as the chain
// declares them (TwinSpecApi.programs), and arguments checked against them in the page
// before anything is sent, by the chain's own rule (pallets/primitives/src/program.rs
// `check_value`): the runtime checks again, so the page only spares a refused transaction.

import type { ApiPromise } from '@polkadot/api';
import { toFixedPoint } from './feeds';
import { chainText, hexText } from './text';

export type ParameterKind = { boolean: null } | { integer: null } | { decimal: { decimals: number } } | { text: null };

export interface Parameter {
  name: string;
  kind: ParameterKind;
  min: bigint | null;
  max: bigint | null;
  allowed: string[];
  unit: string;
}

export interface Program {
  element: string;
  name: string;
  parameters: Parameter[];
}

type Json = Record<string, any>;

export async function readPrograms(api: ApiPromise, twin: number): Promise<Program[]> {
  const programs = (await api.call.twinSpecApi.programs(twin)).toJSON() as Json[];
  return programs.map((program) => ({
    element: hexText(program.element),
    name: hexText(program.name),
    parameters: (program.parameters as Json[]).map((p) => ({
      name: hexText(p.name),
      kind: p.kind as ParameterKind,
      min: p.min === null ? null : BigInt(p.min),
      max: p.max === null ? null : BigInt(p.max),
      allowed: (p.allowed as string[]).map(hexText),
      unit: hexText(p.unit),
    })),
  }));
}

/** A value as the call takes it: `{ decimal: 5000 }` for 500.0 with one decimal. */
export type ArgumentValue = { boolean: boolean } | { integer: string } | { decimal: string } | { text: string };

const INTEGER = /^[-+]?\d+$/;

/** `decimals` places as a number in words (`1500.5` for 15005 with one decimal). */
export function fixedText(value: bigint, decimals: number): string {
  if (decimals === 0) return value.toString();
  const digits = (value < 0n ? -value : value).toString().padStart(decimals + 1, '0');
  return `${value < 0n ? '-' : ''}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** The argument for `parameter` from what was typed, or why it would be refused. */
export function parseArgument(parameter: Parameter, input: string | boolean): { value: ArgumentValue } | { error: string } {
  const name = parameter.name;
  const unit = parameter.unit ? ` ${parameter.unit}` : '';
  if ('boolean' in parameter.kind) return { value: { boolean: input === true } };
  const text = String(input).trim();
  if ('text' in parameter.kind) {
    if (parameter.allowed.length && !parameter.allowed.includes(text)) return { error: `${name} must be one of ${parameter.allowed.join(', ')}` };
    return { value: { text: chainText(text) } };
  }
  const decimals = 'decimal' in parameter.kind ? parameter.kind.decimal.decimals : 0;
  let number: bigint | null;
  if (decimals === 0) number = INTEGER.test(text) ? BigInt(text) : null;
  else number = toFixedPoint(text.replace(/^\+/, ''), decimals);
  if (number === null) {
    return { error: `${name}: "${text}" is not ${decimals ? `a decimal number with at most ${decimals} decimal place(s)` : 'a whole number'}` };
  }
  if (parameter.min !== null && number < parameter.min) return { error: `${name} must be at least ${fixedText(parameter.min, decimals)}${unit}` };
  if (parameter.max !== null && number > parameter.max) return { error: `${name} must be at most ${fixedText(parameter.max, decimals)}${unit}` };
  if (decimals === 0 && parameter.allowed.length && !parameter.allowed.some((allowed) => INTEGER.test(allowed) && BigInt(allowed) === number)) {
    return { error: `${name} must be one of ${parameter.allowed.join(', ')}` };
  }
  return { value: decimals ? { decimal: number.toString() } : { integer: number.toString() } };
}

export interface CallState {
  /** `Pending`, `Claimed`, `Completed`, `Failed`, `Cancelled` or `Expired`. */
  status: string;
  /** What the device reported, as text, for a finished call. */
  result: string | null;
}

export async function readCall(api: ApiPromise, id: number): Promise<CallState | null> {
  const record = (await api.call.programsApi.call(id)).toJSON() as Json | null;
  if (!record) return null;
  const status = record.call.status as Json | string;
  const [kind, fields] = typeof status === 'string' ? [status, null] : Object.entries(status)[0];
  const result = fields && typeof fields === 'object' && 'result' in fields ? hexText(fields.result as string) : null;
  return { status: kind.charAt(0).toUpperCase() + kind.slice(1), result };
}
