/** The emulator's human-facing pages: pure functions returning complete HTML documents. */
export { renderCard } from "./card-render.js";
export { renderChatPage } from "./chat-page.js";
export { renderConsentPage } from "./consent-page.js";
export { renderDeviceVerifyPage } from "./device-page.js";
export { renderMarkdown } from "./markdown.js";
export { renderResultPage } from "./result-page.js";
export type {
  ChatPageInput,
  ConsentPageInput,
  DeviceVerifyPageInput,
  EmulatorAppView,
  EmulatorMessageView,
  EmulatorUserView,
  ResultPageInput,
} from "./types.js";
export { renderUsersPage, userPagePath } from "./users-page.js";
