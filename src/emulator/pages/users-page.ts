/** The list of emulated users, each linking to their chat with the bot. */
import { html } from "./html.js";
import { renderDocument } from "./layout.js";
import type { EmulatorUserView } from "./types.js";

export function userPagePath(openId: string): string {
  return `/_emulator/ui/users/${encodeURIComponent(openId)}`;
}

export function renderUsersPage(users: EmulatorUserView[]): string {
  const rows = users.map(
    (u) => html`<tr data-testid="user-${u.open_id}">
      <td><a href="${userPagePath(u.open_id)}">${u.name}</a></td>
      <td>${u.email ?? ""}</td><td><code>${u.open_id}</code></td><td>${u.tenant_key ? html`<code>${u.tenant_key}</code>` : ""}</td></tr>`,
  );
  const body = html`<main><div class="panel-box">
  <h1>Users</h1>
  ${
    users.length > 0
      ? html`<table class="list"><thead><tr><th>Name</th><th>Email</th><th>open_id</th><th>Tenant</th></tr></thead>
    <tbody>${rows}</tbody></table>`
      : html`<p class="muted">No users yet. Create one with <code>POST /_emulator/users</code>.</p>`
  }
</div></main>`;
  return renderDocument({ title: "Users", body });
}
