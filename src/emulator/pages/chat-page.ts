/** The chat between the bot and one user: every message, newest last, cards rendered with live buttons. */
import { renderCard } from "./card-render.js";
import { CHAT_SCRIPT } from "./chat-script.js";
import { html, type SafeHtml } from "./html.js";
import { renderDocument } from "./layout.js";
import type { ChatPageInput, EmulatorMessageView, EmulatorUserView } from "./types.js";
import { userPagePath } from "./users-page.js";

function formatTime(ms: string): string {
  const date = new Date(Number(ms));
  return Number.isNaN(date.getTime()) ? ms : `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function renderContent(message: EmulatorMessageView): SafeHtml {
  if (message.msg_type === "interactive") return renderCard(message.card, message.message_id);
  const content = message.card;
  if (message.msg_type === "text" && typeof content === "object" && content !== null && "text" in content) {
    return html`<div class="plain-msg">${String(content.text)}</div>`;
  }
  return html`<pre class="raw">${message.msg_type}: ${JSON.stringify(content, null, 2) ?? ""}</pre>`;
}

function renderMessage(message: EmulatorMessageView): SafeHtml {
  return html`<article class="message" data-testid="message-${message.message_id}">
  <div class="meta"><code>${message.message_id}</code> · <time datetime="${message.create_time}">${formatTime(
    message.create_time,
  )}</time>${message.updated ? html`<span class="badge" data-testid="updated">updated</span>` : ""}</div>
  ${renderContent(message)}
</article>`;
}

function renderUserNav(current: EmulatorUserView, users: EmulatorUserView[]): SafeHtml {
  return html`<aside><div class="muted small">Chats</div>${users.map(
    (u) =>
      html`<a href="${userPagePath(u.open_id)}" class="${u.open_id === current.open_id ? "current" : ""}">${u.name}</a>`,
  )}</aside>`;
}

export function renderChatPage({ user, messages, users }: ChatPageInput): string {
  const list =
    messages.length > 0
      ? messages.map(renderMessage)
      : html`<div class="empty" data-testid="no-messages">No messages from the bot yet.</div>`;
  const body = html`<div class="chat">
  ${renderUserNav(user, users)}
  <div class="chat-main">
    <h1>${user.name}</h1>
    <p class="muted small">Chat with the bot · <code>${user.open_id}</code> · new messages appear by themselves
      (<a href="" data-testid="refresh">refresh</a>)</p>
    <div id="messages" class="messages" data-testid="messages">${list}</div>
  </div>
</div>
<div id="toast" class="toast" data-testid="toast" role="status" aria-live="polite" hidden></div>`;
  return renderDocument({
    title: `${user.name} — chat`,
    body,
    script: CHAT_SCRIPT,
    bodyAttrs: { "data-open-id": user.open_id },
  });
}
