/** Adapters to and from the RFC-001 envelope and the Layer-3 intake (issue 7 item 1). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createPacket,
  fromIntake,
  fromRfcEnvelope,
  intakeHash,
  PacketInputError,
  toIntake,
  toRfcEnvelope,
  validatePacket,
} from '../../src/jitna/index.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');

describe('jitna - adapters', () => {
  it('an RFC-001 envelope and a packet convert both ways; a wrong checksum is refused', () => {
    const p = {
      ...createPacket({
        source: 'alice',
        target: 'bob',
        type: 'intent_request',
        payload: {
          intent: { objective: 'analyze', action: 'analyze', target_tool: 'lint' },
          parameters: { path: 'src' },
          output_format: 'json',
        },
        priority: 2,
        correlationId: 'trace-1',
        now: NOW,
      }),
      expires_at: '2026-11-23T10:01:00.000Z',
    };
    const e = toRfcEnvelope(p);
    assert.equal(e.header.timestamp, NOW);
    assert.equal(e.header.trace_id, 'trace-1');
    assert.deepEqual(e.intent, { objective: 'analyze', action: 'analyze', target_tool: 'lint' });
    assert.deepEqual(e.payload, { parameters: { path: 'src' }, output_format: 'json' });
    assert.equal(e.validation.expire_at, NOW + 60_000);
    const back = fromRfcEnvelope(e);
    assert.deepEqual(back, p);
    assert.equal(validatePacket(back, { now: NOW }).is_valid, true);
    assert.throws(
      () => fromRfcEnvelope({ ...e, payload: { parameters: { path: '/' } } }),
      PacketInputError,
    );
    assert.throws(() => fromRfcEnvelope({} as never), PacketInputError);
  });

  it('an intake becomes a packet and back; its hash is the reference’s, context included', () => {
    // python3: hashlib.sha256(('refactor auth:' + json.dumps({'repo': 'main', 'n': 1.5, 't': 'ไทย'}, sort_keys=True)).encode()).hexdigest()
    assert.equal(
      intakeHash('  Refactor Auth ', { repo: 'main', n: 1.5, t: 'ไทย' }),
      'e08a443fafb9e6280bce2381ff2448c12801747100c8a25dda2cdd50c2522887',
    );
    assert.notEqual(
      intakeHash('x', { a: 1 }),
      intakeHash('x', { a: 2 }),
      'another context, another key',
    );
    const p = fromIntake(
      {
        intent: 'refactor auth',
        context: { repo: 'main' },
        user_id: 'carol',
        session_id: 's1',
        timestamp: '2026-11-23T10:00:00',
      },
      { target: 'planner' },
    );
    assert.equal(p.source_agent_id, 'carol');
    assert.equal(p.correlation_id, 's1');
    assert.equal(p.timestamp, '2026-11-23T10:00:00.000Z');
    assert.equal(p.metadata.assumed_utc, true, 'a naive local time is flagged');
    assert.equal(validatePacket(p, { now: NOW }).is_valid, true);
    assert.deepEqual(toIntake(p), {
      intent: 'refactor auth',
      context: { repo: 'main' },
      user_id: 'carol',
      session_id: 's1',
      timestamp: '2026-11-23T10:00:00.000Z',
    });
    assert.throws(
      () => fromIntake({ intent: ' ', context: {} }, { source: 'a', target: 'b' }),
      PacketInputError,
    );
    assert.throws(
      () => fromIntake({ intent: 'x', context: {} }, { target: 'b' }),
      PacketInputError,
    );
  });
});
