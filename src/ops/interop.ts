/**
 * Interop (KMIP 2.1 §6.1.26): a test harness tells the server where an interop test case begins,
 * ends or is reset. kmipd only records it in the log. The spec forbids it on production servers,
 * so the handler table includes it only when the deployment enables `interopOperation`.
 */
import { Enum } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { emptyResponse, interopRequest } from '../kmip/payloads/interop.js';
import { defineOperation } from './types.js';

const functions = new Set<number>(Object.values(Enum.InteropFunction));

export const interop = defineOperation({
  operation: Enum.Operation.Interop,
  request: interopRequest,
  response: emptyResponse,
  async handle(ctx, req) {
    if (!functions.has(req.interopFunction)) throw new KmipError('InvalidField', 'Interop Function has an unknown value');
    ctx.log.info({ interopFunction: req.interopFunction, interopIdentifier: req.interopIdentifier.slice(0, 256) }, 'interop');
    return {};
  },
});
