import { expect, test } from 'vitest';
import { decodeWire, encodeWire, type Base64Codec } from './wire.ts';

const nodeBase64: Base64Codec = {
  encode: (b) => Buffer.from(b).toString('base64'),
  decode: (s) => new Uint8Array(Buffer.from(s, 'base64')),
};

test('bytes survive the trip as base64 and everything else as JSON', () => {
  const message = { event: { type: 'agent', event: { type: 'screenshot', step: 1, png: new Uint8Array([0, 255, 7]) } } };
  const text = encodeWire(message, nodeBase64);
  expect(text).toContain('{"$bytes":"AP8H"}');
  const back = decodeWire(text, nodeBase64) as typeof message;
  expect(back.event.event.png).toBeInstanceOf(Uint8Array);
  expect([...back.event.event.png]).toEqual([0, 255, 7]);
  expect(decodeWire('{"a":{"$bytes":"AP8H","x":1}}', nodeBase64)).toEqual({ a: { $bytes: 'AP8H', x: 1 } });
});
