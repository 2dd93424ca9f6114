import { describe, expect, it } from 'vitest';
import { insertions } from '../src/edit';

const element = (id: string, parent: string) => ({ id, parent, previousSibling: null, fragment: `<InternalElement ID="${id}"/>` });

describe('a snippet as insertElements calls', () => {
  it('is one call below the parent when it fits', () => {
    const calls = insertions([element('sensor', 'filler'), element('probe', 'sensor'), element('out', 'probe'), element('alarm', 'sensor')]);
    expect(calls.map((call) => [call.parent, call.elements.map((e) => e.id)])).toEqual([['filler', ['sensor', 'probe', 'out', 'alarm']]]);
  });

  it('is split where each call has its parent on chain', () => {
    // A station with 150 sensors, each with an output: 301 elements, as dt splits them.
    const elements = [element('station', 'filler')];
    for (let i = 0; i < 150; i++) elements.push(element(`s${i}`, 'station'), element(`o${i}`, `s${i}`));
    const calls = insertions(elements);
    expect(calls.flatMap((call) => call.elements).length).toBe(301);
    const onChain = new Set(['filler']);
    for (const call of calls) {
      expect(call.elements.length).toBeLessThanOrEqual(120);
      expect(onChain.has(call.parent)).toBe(true);
      const inCall = new Set<string>();
      for (const e of call.elements) {
        expect(e.parent === call.parent || inCall.has(e.parent)).toBe(true);
        inCall.add(e.id);
      }
      inCall.forEach((id) => onChain.add(id));
    }
  });
});
