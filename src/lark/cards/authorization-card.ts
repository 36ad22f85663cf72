import type { LarkCard } from "../../domain/ports.js";
import {
  type CardElement,
  callbackButton,
  card,
  divider,
  markdown,
  openUrlButton,
  safeLink,
  text,
} from "./elements.js";
import { describeScope } from "./scopes.js";

/** The value the Decline button sends back in `card.action.trigger`. */
export interface DeclineValue {
  readonly action: "decline";
  readonly session_id: string;
}

export interface AuthorizationCardInput {
  readonly sessionId: string;
  /** The name of the app asking, as the person knows it. */
  readonly appName: string;
  /** Why the app asks, in its own words. */
  readonly purpose?: string;
  readonly scopes: readonly string[];
  /** `detailed` lists each permission; `concise` says it in one sentence. */
  readonly style: "detailed" | "concise";
  readonly customMessage?: string;
  readonly privacyUrl?: string;
  /** The authorize URL (redirect flow) or the verification URL (device flow). */
  readonly authorizeUrl: string;
  /** Device flow: the code the verification page may ask for. */
  readonly userCode?: string;
  readonly expiresAt: Date;
  /** A card template from Lark's card builder replaces the built-in card. */
  readonly templateId?: string;
}

const CONCISE_NAMED = 3;

/** `offline_access` is always requested but says nothing about what the app can do; it goes last. */
function ordered(scopes: readonly string[]): string[] {
  const unique = [...new Set(scopes)];
  return [...unique.filter((s) => s !== "offline_access"), ...unique.filter((s) => s === "offline_access")];
}

function permissionsDetailed(scopes: readonly string[]): CardElement[] {
  return [
    markdown("**It will be able to:**"),
    text(
      ordered(scopes)
        .map((s) => `• ${describeScope(s)}`)
        .join("\n"),
    ),
  ];
}

function permissionsConcise(appName: string, scopes: readonly string[]): CardElement[] {
  const words = ordered(scopes)
    .filter((s) => s !== "offline_access")
    .map((s) => describeScope(s).toLowerCase());
  const named = words.slice(0, CONCISE_NAMED).join(", ");
  const more = words.length > CONCISE_NAMED ? ` and ${words.length - CONCISE_NAMED} more` : "";
  const what = words.length > 0 ? `: ${named}${more}` : "";
  return [text(`${appName} asks to act on your behalf${what}.`)];
}

/** What a template sees: every fact of the built-in card, as strings. */
function templateCard(input: AuthorizationCardInput, templateId: string): LarkCard {
  return {
    type: "template",
    data: {
      template_id: templateId,
      template_variable: {
        session_id: input.sessionId,
        app_name: input.appName,
        purpose: input.purpose ?? "",
        permissions: ordered(input.scopes).map(describeScope).join("\n"),
        scopes: ordered(input.scopes).join(" "),
        custom_message: input.customMessage ?? "",
        privacy_url: input.privacyUrl ?? "",
        authorize_url: input.authorizeUrl,
        user_code: input.userCode ?? "",
        expires_at: input.expiresAt.toISOString(),
      },
    },
  };
}

/**
 * The card asking a person to authorize an app: who asks and why, what it will be able to do, an
 * Authorize button opening Lark's consent (or device verification) page and a Decline button whose
 * callback carries the session id.
 */
export function authorizationCard(input: AuthorizationCardInput): LarkCard {
  if (input.templateId) return templateCard(input, input.templateId);
  const elements: CardElement[] = [text(`${input.appName} asks for access to your Lark account.`)];
  if (input.purpose) elements.push(text(input.purpose));
  if (input.customMessage) elements.push(text(input.customMessage));
  elements.push(divider());
  elements.push(
    ...(input.style === "detailed"
      ? permissionsDetailed(input.scopes)
      : permissionsConcise(input.appName, input.scopes)),
  );
  if (input.userCode) elements.push(text(`If asked for a code, enter ${input.userCode}.`));
  elements.push(
    text(
      `This request expires at ${input.expiresAt.toISOString().slice(0, 16).replace("T", " ")} UTC.`,
      "notation",
    ),
  );
  const privacy = safeLink("Privacy policy", input.privacyUrl);
  if (privacy) elements.push(privacy);
  const decline: DeclineValue = { action: "decline", session_id: input.sessionId };
  elements.push(openUrlButton("Authorize", input.authorizeUrl), callbackButton("Decline", { ...decline }));
  return card("Authorization request", input.appName, "blue", elements);
}
