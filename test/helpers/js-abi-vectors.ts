/** Golden vectors of the JS-ABI spec (reference/jit-rfcs.md §8.3, ARCH-0013 appendix B). */
export const TV1_VALUE = {
  op: 'handshake',
  ts: 0,
  payload: {
    client_version: 1,
    capabilities: ['compression:zstd', 'stream:subgraph'],
    agent_id: 'example-agent',
  },
};
export const TV1_HEX =
  'a3626f706968616e647368616b6562747300677061796c6f6164a3686167656e745f69646d6578616d706c652d6167656e746c6361706162696c69746965738270636f6d7072657373696f6e3a7a7374646f73747265616d3a73756267726170686e636c69656e745f76657273696f6e01';
export const TV3_VALUE = {
  op: 'error',
  ts: 42,
  payload: {
    code: 3,
    name: 'E_BAD_PAYLOAD',
    message: 'Invalid CBOR payload',
    details: { hint: 'Check canonical encoding' },
  },
};
export const TV3_HEX =
  'a3626f70656572726f72627473182a677061796c6f6164a464636f646503646e616d656d455f4241445f5041594c4f41446764657461696c73a16468696e747818436865636b2063616e6f6e6963616c20656e636f64696e67676d65737361676574496e76616c69642043424f52207061796c6f6164';
