export { ErrorCode, type ErrorCodeName, type ErrorCodeNumber, errorCodeName } from './codes.js';
export { describeValue } from './describe.js';
export { JitError } from './jit-error.js';
