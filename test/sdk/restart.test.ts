import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NativeTransport } from '../../src/mp/index.js';
import { patchStorm } from '../helpers/patch-storm.js';
import { iterations } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-restart-');

describe('jitd restarted under the plane', () => {
  it('8 agents x N patches over native with a restart in the middle: each patch applied exactly once', async () => {
    await patchStorm({
      home: await tmp(),
      perAgent: iterations(1000, 1000),
      fault: ({ restartJitd }) => restartJitd(),
      check: (agents) => {
        const reconnects = agents.map((a) => (a.plane.transport as NativeTransport).connections);
        assert.ok(
          reconnects.every((n) => n >= 2),
          `every agent reconnected (${reconnects})`,
        );
      },
    });
  });
});
