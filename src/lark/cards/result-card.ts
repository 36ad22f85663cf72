import type { LarkCard } from "../../domain/ports.js";
import { card, type HeaderColour, text } from "./elements.js";

/** The final states a card can show; the card then has no buttons left to press. */
export type CardOutcome =
  | { readonly state: "authorized" }
  | { readonly state: "declined" }
  | { readonly state: "expired" }
  | { readonly state: "cancelled" }
  | { readonly state: "superseded" }
  | { readonly state: "failed"; readonly reason?: "user_mismatch" | "other" };

interface Wording {
  title: string;
  colour: HeaderColour;
  body: (app: string) => string;
}

const WORDING: Record<Exclude<CardOutcome["state"], "failed">, Wording> = {
  authorized: {
    title: "Authorized",
    colour: "green",
    body: (app) => `${app} now has the access you approved. You can revoke it at any time.`,
  },
  declined: {
    title: "Declined",
    colour: "grey",
    body: (app) => `You declined. ${app} did not get access to your account.`,
  },
  expired: {
    title: "Request expired",
    colour: "grey",
    body: (app) => `This request expired before it was answered. ${app} can send a new one if needed.`,
  },
  cancelled: {
    title: "Request withdrawn",
    colour: "grey",
    body: (app) => `${app} withdrew this request. Nothing more to do.`,
  },
  superseded: {
    title: "Request replaced",
    colour: "grey",
    body: (app) => `${app} sent a newer request. Please answer the latest card instead.`,
  },
};

const FAILED: Record<"user_mismatch" | "other", Wording> = {
  user_mismatch: {
    title: "Authorization failed",
    colour: "red",
    body: (app) =>
      `This request was for a different Lark account than the one that approved it, so ${app} got no access. Approve it while signed in as the person it was sent to.`,
  },
  other: {
    title: "Authorization failed",
    colour: "red",
    body: (app) => `Something went wrong and ${app} got no access. Please ask ${app} to send a new request.`,
  },
};

/** The card that replaces an authorization card once its session has finished. */
export function resultCard(appName: string, outcome: CardOutcome): LarkCard {
  const wording = outcome.state === "failed" ? FAILED[outcome.reason ?? "other"] : WORDING[outcome.state];
  return card(wording.title, appName, wording.colour, [text(wording.body(appName))]);
}
