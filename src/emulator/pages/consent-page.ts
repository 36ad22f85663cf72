/** The OAuth consent page (`/open-apis/authen/v1/authorize`), shaped like Lark's. */
import { attrs, html, type SafeHtml } from "./html.js";
import { renderDocument } from "./layout.js";
import type { ConsentPageInput, EmulatorAppView, EmulatorUserView } from "./types.js";

const SCOPE_NOTES: Record<string, string> = {
  offline_access: "stay authorized when you are away (refresh token)",
};

export function renderScopes(scopes: string[]): SafeHtml {
  if (scopes.length === 0) return html`<p class="muted">Basic profile only (no additional permissions).</p>`;
  return html`<ul class="scopes" data-testid="scopes">${scopes.map(
    (s) =>
      html`<li><code>${s}</code>${SCOPE_NOTES[s] ? html` <span class="muted">— ${SCOPE_NOTES[s]}</span>` : ""}</li>`,
  )}</ul>`;
}

export function renderHiddenFields(hidden: Record<string, string>): SafeHtml {
  return html`${Object.entries(hidden).map(([name, value]) => html`<input type="hidden"${attrs({ name, value })}>`)}`;
}

function userLabel(user: EmulatorUserView): string {
  return user.email ? `${user.name} (${user.email})` : user.name;
}

/** "Signed in as …" plus a selector to act as any emulated user. */
export function renderAccountPicker(
  currentUser: EmulatorUserView | undefined,
  users: EmulatorUserView[],
): SafeHtml {
  if (users.length === 0) {
    return html`<p class="error" data-testid="no-users">No users exist yet: create one with <code>POST /_emulator/users</code>.</p>`;
  }
  const signedIn = currentUser
    ? html`Signed in as <strong data-testid="current-user">${userLabel(currentUser)}</strong>`
    : html`<span data-testid="current-user">Not signed in</span> — choose an account`;
  return html`<div class="field-row"><label for="open_id">Account</label>
  <p class="muted small">${signedIn}</p>
  <select id="open_id" name="open_id" data-testid="account" required>
    ${currentUser ? "" : html`<option value="" selected disabled>Choose a user…</option>`}
    ${users.map((u) => html`<option${attrs({ value: u.open_id, selected: u.open_id === currentUser?.open_id })}>${userLabel(u)}</option>`)}
  </select></div>`;
}

export function renderDecisionButtons(canApprove: boolean): SafeHtml {
  return html`<div class="buttons">
  <button type="submit" name="decision" value="approve" class="btn btn-primary_filled" data-testid="authorize"${attrs(
    {
      disabled: !canApprove,
    },
  )}>Authorize</button>
  <button type="submit" name="decision" value="deny" class="btn" data-testid="decline" formnovalidate>Decline</button>
</div>`;
}

export function renderAppHeading(app: EmulatorAppView, action: string): SafeHtml {
  return html`<h1 data-testid="app-name">${app.name}</h1>
  <p class="muted small">App ID <code>${app.app_id}</code></p>
  <p>${action}</p>`;
}

export function renderConsentPage(input: ConsentPageInput): string {
  const { app, scopes, currentUser, users, formAction, hidden } = input;
  const body = html`<main><div class="panel-box" data-testid="consent">
  ${renderAppHeading(app, `${app.name} is requesting access to your account:`)}
  ${renderScopes(scopes)}
  <form method="post"${attrs({ action: formAction })}>
    ${renderHiddenFields(hidden)}
    ${renderAccountPicker(currentUser, users)}
    ${renderDecisionButtons(users.length > 0)}
  </form>
</div></main>`;
  return renderDocument({ title: `Authorize ${app.name}`, body });
}
