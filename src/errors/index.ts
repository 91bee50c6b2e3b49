export { ErrorCode, type ErrorCodeName, type ErrorCodeNumber, errorCodeName } from './codes.js';
export { JitError } from './jit-error.js';
