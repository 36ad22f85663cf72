/** The device-flow verification page (`verification_uri[_complete]`): confirm the code, approve or deny. */
import {
  renderAccountPicker,
  renderAppHeading,
  renderDecisionButtons,
  renderHiddenFields,
  renderScopes,
} from "./consent-page.js";
import { attrs, html, type SafeHtml } from "./html.js";
import { renderDocument } from "./layout.js";
import type { DeviceVerifyPageInput } from "./types.js";

function renderCodeField(userCode: string | undefined): SafeHtml {
  if (userCode) {
    return html`<div class="field-row"><label>Code shown on your device</label>
    <div class="user-code" data-testid="user-code">${userCode}</div>
    <input type="hidden"${attrs({ name: "user_code", value: userCode })}></div>`;
  }
  return html`<div class="field-row"><label for="user_code">Enter the code shown on your device</label>
  <input type="text" id="user_code" name="user_code" data-testid="user-code-input" required autocomplete="off"
    autocapitalize="characters" spellcheck="false"></div>`;
}

export function renderDeviceVerifyPage(input: DeviceVerifyPageInput): string {
  const { app, userCode, scopes, currentUser, users, formAction, hidden, error } = input;
  const body = html`<main><div class="panel-box" data-testid="device-verify">
  ${error ? html`<div class="error" data-testid="error" role="alert">${error}</div>` : ""}
  ${renderAppHeading(app, `Sign in on another device: ${app.name} is requesting access to your account:`)}
  ${renderScopes(scopes)}
  <form method="post"${attrs({ action: formAction })}>
    ${renderHiddenFields(hidden)}
    ${renderCodeField(userCode)}
    ${renderAccountPicker(currentUser, users)}
    ${renderDecisionButtons(users.length > 0)}
  </form>
</div></main>`;
  return renderDocument({ title: `Verify device for ${app.name}`, body });
}
