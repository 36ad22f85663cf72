import type { DescService } from "@bufbuild/protobuf";
import { DomainError, DomainErrorCode } from "../../domain/errors.js";
import type { ServiceHandlers, ServiceImpl } from "../pipeline.js";

/**
 * Handlers that answer UNIMPLEMENTED for the named methods: the contract is complete on the wire
 * before every behaviour is, and a caller never receives a fake result. The names are checked
 * against the descriptor, so the list cannot name a method that does not exist.
 */
export function notImplemented<S extends DescService, K extends keyof S["method"] & string>(
  service: S,
  names: readonly K[],
): Pick<ServiceImpl<S>, K> {
  const handlers: ServiceHandlers = {};
  for (const method of service.methods) {
    if (!(names as readonly string[]).includes(method.localName)) continue;
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
  return handlers as unknown as Pick<ServiceImpl<S>, K>;
}
