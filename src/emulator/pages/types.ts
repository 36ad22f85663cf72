/** A user as the emulator's pages show it. */
export interface EmulatorUserView {
  open_id: string;
  name: string;
  email?: string;
  tenant_key?: string;
}

/** A message the bot sent to a user, as last updated (PATCH / delayed update / callback answer). */
export interface EmulatorMessageView {
  message_id: string;
  msg_type: string;
  /** Milliseconds since the epoch, as a decimal string (the Open Platform's convention). */
  create_time: string;
  /** The parsed card JSON (or the parsed `content` of a non-card message) as last updated. */
  card: unknown;
  updated?: boolean;
}

/** The app a consent or device-verification page asks on behalf of. */
export interface EmulatorAppView {
  app_id: string;
  name: string;
}

export interface ChatPageInput {
  user: EmulatorUserView;
  /** Oldest first; the page shows them in this order (newest last). */
  messages: EmulatorMessageView[];
  /** Every user, for switching between chats. */
  users: EmulatorUserView[];
}

export interface ConsentPageInput {
  app: EmulatorAppView;
  scopes: string[];
  /** The signed-in user, if any; the page preselects them. */
  currentUser?: EmulatorUserView;
  users: EmulatorUserView[];
  /** Where the form POSTs `open_id`, `decision=approve|deny` and the `hidden` fields. */
  formAction: string;
  hidden: Record<string, string>;
}

export interface DeviceVerifyPageInput extends ConsentPageInput {
  /** Known user code (from `verification_uri_complete`); when absent the page asks for it. */
  userCode?: string;
  /** A problem with the previous submission, e.g. an unknown or expired code. */
  error?: string;
}

export interface ResultPageInput {
  title: string;
  message: string;
  ok: boolean;
}
