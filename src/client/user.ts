import { create } from "@bufbuild/protobuf";
import { type UserRef, UserRefSchema } from "../../gen/lark/auth/v1/types_pb.js";

/**
 * A Lark user: an object naming one id, or a bare string read by its shape (`ou_…` open_id,
 * `on_…` union_id, anything with `@` an email, otherwise a user_id). Email is accepted only
 * where a card is delivered (starting an authorization), as the contract says.
 */
export type User = string | { openId: string } | { userId: string } | { unionId: string } | { email: string };

/** The contract's UserRef for `user`. */
export function userRef(user: User): UserRef {
  if (typeof user === "string") return userRef(byShape(user));
  if ("openId" in user) return create(UserRefSchema, { id: { case: "openId", value: user.openId } });
  if ("unionId" in user) return create(UserRefSchema, { id: { case: "unionId", value: user.unionId } });
  if ("email" in user) return create(UserRefSchema, { id: { case: "email", value: user.email } });
  return create(UserRefSchema, { id: { case: "userId", value: user.userId } });
}

function byShape(id: string): Exclude<User, string> {
  if (id.startsWith("ou_")) return { openId: id };
  if (id.startsWith("on_")) return { unionId: id };
  if (id.includes("@")) return { email: id };
  return { userId: id };
}
