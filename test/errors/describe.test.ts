import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeValue } from '../../src/errors/index.js';

describe('errors - describeValue', () => {
  it('renders any decoded value without throwing, briefly', () => {
    assert.equal(describeValue('blob'), '"blob"');
    assert.equal(describeValue(2n ** 64n - 1n), '18446744073709551615n');
    assert.equal(describeValue(new Uint8Array([1, 255])), "h'01ff'");
    assert.equal(describeValue([1, 2]), 'an array of 2');
    assert.equal(describeValue({ a: 1 }), 'a map');
    assert.equal(describeValue(null), 'null');
    assert.equal(describeValue(1.5), '1.5');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(describeValue(cyclic), 'a map');
    assert.equal(describeValue('x'.repeat(500)).length, 80);
  });
});
