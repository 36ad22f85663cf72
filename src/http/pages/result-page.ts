import { escapeHtml } from "./html.js";

/** Every way an OAuth callback can end, as the person in the browser needs to hear it. */
export type CallbackOutcome =
  | "success"
  | "declined"
  | "expired"
  | "already_used"
  | "invalid"
  | "user_mismatch"
  | "failed"
  | "error";

interface PageText {
  readonly status: number;
  readonly title: string;
  readonly body: string;
  /** What to do next: every page says it. */
  readonly next: string;
  readonly tone: "ok" | "info" | "warn" | "bad";
}

const PAGES: Record<CallbackOutcome, PageText> = {
  success: {
    status: 200,
    title: "Authorization complete",
    body: "You have granted the requested access.",
    next: "You can close this tab and return to Lark.",
    tone: "ok",
  },
  declined: {
    status: 200,
    title: "Authorization declined",
    body: "You declined the request; no access was granted.",
    next: "You can close this tab. If you change your mind, ask the requesting app to send a new request.",
    tone: "info",
  },
  expired: {
    status: 410,
    title: "This request has expired",
    body: "The authorization request timed out before it was completed; no access was granted.",
    next: "Ask the requesting app to start again; a new card will arrive in Lark.",
    tone: "warn",
  },
  already_used: {
    status: 409,
    title: "This link was already used",
    body: "This authorization request has already been completed or closed.",
    next: "You can close this tab. Check the card in Lark for the result, or ask the requesting app to start again.",
    tone: "info",
  },
  invalid: {
    status: 400,
    title: "This link is not valid",
    body: "The link is incomplete or does not belong to a current authorization request.",
    next: "Open the link from the card in Lark again, or ask the requesting app to start again.",
    tone: "warn",
  },
  user_mismatch: {
    status: 403,
    title: "Signed in as a different user",
    body: "The account that consented is not the one this request was sent to, so no access was granted.",
    next: "Ask the requesting app to start again, and sign in with the account that received the card.",
    tone: "bad",
  },
  failed: {
    status: 502,
    title: "Authorization failed",
    body: "Lark did not complete the authorization; no access was granted.",
    next: "Ask the requesting app to start again. If this keeps happening, contact its administrators.",
    tone: "bad",
  },
  error: {
    status: 503,
    title: "Something went wrong",
    body: "The authorization could not be completed right now.",
    next: "Go back to the card in Lark and try again in a minute.",
    tone: "bad",
  },
};

const TONES = { ok: "#1f8a4c", info: "#3370ff", warn: "#b26a00", bad: "#c02f2f" } as const;

/**
 * The complete HTML page for an outcome, with its HTTP status. The page is static text: it carries
 * no script and never includes anything from the request (code, state, error text).
 */
export function renderResultPage(outcome: CallbackOutcome): { status: number; html: string } {
  const page = PAGES[outcome];
  const title = escapeHtml(page.title);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f5f6f7;color:#1f2329;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:32px 36px;max-width:440px;border-top:6px solid ${TONES[page.tone]}}
h1{font-size:1.35rem;margin:0 0 12px}
p{line-height:1.5;margin:8px 0}
.next{font-weight:600}
</style>
</head>
<body>
<main data-outcome="${outcome}">
<h1>${title}</h1>
<p>${escapeHtml(page.body)}</p>
<p class="next">${escapeHtml(page.next)}</p>
</main>
</body>
</html>
`;
  return { status: page.status, html };
}
