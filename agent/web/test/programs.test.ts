// Program arguments checked in the page by the chain's rule (program.rs `check_value`): the
// type, the bounds in fixed point, the allowed values; each refusal names the parameter.
import { describe, expect, test } from 'vitest';
import { fixedText, parseArgument, type Parameter } from '../src/programs';

const volume: Parameter = { name: 'volume', kind: { decimal: { decimals: 1 } }, min: 2500n, max: 15005n, allowed: [], unit: 'ml' };
const speed: Parameter = { name: 'speed', kind: { integer: null }, min: null, max: null, allowed: ['60', '120'], unit: '' };
const mode: Parameter = { name: 'mode', kind: { text: null }, min: null, max: null, allowed: ['auto', 'manual'], unit: '' };

describe('program arguments', () => {
  test('decimals in fixed point, bounds inclusive', () => {
    expect(parseArgument(volume, '600.0')).toEqual({ value: { decimal: '6000' } });
    expect(parseArgument(volume, '1500.5')).toEqual({ value: { decimal: '15005' } });
    expect(parseArgument(volume, '250')).toEqual({ value: { decimal: '2500' } });
    expect(parseArgument(volume, '1500.6')).toEqual({ error: 'volume must be at most 1500.5 ml' });
    expect(parseArgument(volume, '249.9')).toEqual({ error: 'volume must be at least 250.0 ml' });
    expect(parseArgument(volume, '600.25')).toHaveProperty('error');
    expect(parseArgument(volume, '')).toHaveProperty('error');
  });

  test('allowed values for integers and text', () => {
    expect(parseArgument(speed, '120')).toEqual({ value: { integer: '120' } });
    expect(parseArgument(speed, '90')).toEqual({ error: 'speed must be one of 60, 120' });
    expect(parseArgument(speed, '1.5')).toHaveProperty('error');
    expect(parseArgument(mode, 'auto')).toHaveProperty('value');
    expect(parseArgument(mode, 'off')).toEqual({ error: 'mode must be one of auto, manual' });
  });

  test('fixed point in words', () => {
    expect(fixedText(15005n, 1)).toBe('1500.5');
    expect(fixedText(-5n, 2)).toBe('-0.05');
    expect(fixedText(42n, 0)).toBe('42');
  });
});
