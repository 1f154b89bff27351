/**
 * Log (KMIP 2.1 §6.1.29): the client asks the server to write a message to its log. The text is
 * the client's, so it is bounded and logged as a field, never as the log line's own message.
 */
import { Enum } from '../kmip/registry.js';
import { emptyResponse, logRequest } from '../kmip/payloads/interop.js';
import { defineOperation } from './types.js';

/** Longer client messages are cut: a log line is not a place to store documents. */
export const MAX_LOG_MESSAGE = 1024;

export const log = defineOperation({
  operation: Enum.Operation.Log,
  request: logRequest,
  response: emptyResponse,
  async handle(ctx, req) {
    ctx.log.info({ clientMessage: req.logMessage.slice(0, MAX_LOG_MESSAGE), subject: ctx.principal.subject }, 'client log message');
    return {};
  },
});
