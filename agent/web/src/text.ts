// Bytes the chain holds as UTF-8 text (element ids, names, fragments), which @polkadot/api
// hands over as hex, both ways; and errors told as text.

import { hexToU8a, stringToU8a, u8aToHex, u8aToString } from '@polkadot/util';

export const hexText = (hex: string | null | undefined): string => (hex ? u8aToString(hexToU8a(hex)) : '');

/** Text as the chain's byte fields take it from @polkadot/api: raw UTF-8 given as hex (a
 * Uint8Array would be read as SCALE, with a length prefix). */
export const chainText = (value: string): string => u8aToHex(stringToU8a(value));

/** What went wrong, in words, whatever was thrown. */
export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
