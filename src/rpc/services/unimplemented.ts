import type { DescService } from "@bufbuild/protobuf";
import { DomainError, DomainErrorCode } from "../../domain/errors.js";
import type { ServiceHandlers } from "../pipeline.js";

/**
 * A handler per method that answers UNIMPLEMENTED: the contract is complete on the wire
 * before every behaviour is, and a caller never receives a fake result.
 */
export function notImplemented(service: DescService): ServiceHandlers {
  const handlers: ServiceHandlers = {};
  for (const method of service.methods) {
    const fail = () => {
      throw new DomainError(
        DomainErrorCode.NOT_IMPLEMENTED,
        `${service.typeName}/${method.name} is not implemented yet`,
      );
    };
    handlers[method.localName] =
      method.methodKind === "server_streaming"
        ? // biome-ignore lint/correctness/useYield: fails before yielding anything, by design.
          async function* () {
            fail();
          }
        : async () => fail();
  }
  return handlers;
}
