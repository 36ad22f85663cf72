import type { Interceptor } from "../pipeline.js";
import { assertValid } from "../validation.js";

/** Rejects malformed requests with INVALID_ARGUMENT before any handler or storage work. */
export const validateInterceptor: Interceptor = (next) => (call) => {
  assertValid(call.method.input, call.request);
  return next(call);
};
