// Bytes the chain holds as UTF-8 text (element ids, names, fragments), which @polkadot/api
// hands over as hex.

import { hexToU8a, u8aToString } from '@polkadot/util';

export const hexText = (hex: string | null | undefined): string => (hex ? u8aToString(hexToU8a(hex)) : '');
