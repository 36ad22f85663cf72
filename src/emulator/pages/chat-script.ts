/**
 * The chat page's only script (plain ES2020, runs in the browser). Callback buttons POST
 * `{ operator_open_id, value }` to `/_emulator/cards/{message_id}/actions`, show the app's toast and
 * re-fetch the page to show the (possibly updated) card; the message list also refreshes every few seconds.
 */
export const CHAT_SCRIPT = `
(() => {
  "use strict";
  const openId = document.body.dataset.openId;
  const toastEl = document.getElementById("toast");
  let toastTimer;
  function showToast(text, kind) {
    toastEl.textContent = text;
    toastEl.className = "toast " + (kind || "info");
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastEl.hidden = true; }, 6000);
  }
  function pickToast(answer) {
    const places = [answer, answer && answer.data, answer && answer.answer, answer && answer.response];
    for (const place of places) {
      const toast = place && place.toast;
      if (toast && typeof toast === "object") {
        const i18n = toast.i18n || {};
        return { text: toast.content || i18n.en_us || i18n.zh_cn || "", kind: toast.type };
      }
    }
    return undefined;
  }
  async function refresh() {
    const res = await fetch(location.href, { cache: "no-store", headers: { accept: "text/html" } });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = doc.getElementById("messages");
    const current = document.getElementById("messages");
    if (!fresh || !current || fresh.innerHTML === current.innerHTML) return;
    const grew = fresh.children.length > current.children.length;
    current.replaceWith(fresh);
    if (grew) window.scrollTo(0, document.body.scrollHeight);
  }
  async function sendAction(el) {
    const card = el.closest("[data-message-id]");
    const url = "/_emulator/cards/" + encodeURIComponent(card.dataset.messageId) + "/actions";
    const body = JSON.stringify({ operator_open_id: openId, value: JSON.parse(el.dataset.value || "null") });
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) {
      showToast((answer && (answer.msg || answer.message || answer.error)) || "HTTP " + res.status, "error");
      return;
    }
    const toast = pickToast(answer);
    if (toast && toast.text) showToast(toast.text, toast.kind);
  }
  document.addEventListener("click", (event) => {
    const el = event.target.closest("[data-callback]");
    if (!el) return;
    if (el.tagName === "BUTTON") el.disabled = true;
    sendAction(el)
      .catch((err) => showToast("Could not reach the emulator: " + err.message, "error"))
      .finally(() => { el.disabled = false; return refresh(); })
      .catch(() => {});
  });
  setInterval(() => { refresh().catch(() => {}); }, 3000);
  window.scrollTo(0, document.body.scrollHeight);
})();
`;
