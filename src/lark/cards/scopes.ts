/**
 * What common Lark scopes let an app do, in the words a person sees on the card. A scope not listed
 * here is shown by its name: it is still requested, and hiding it would misstate the request.
 */
const DESCRIPTIONS: Record<string, string> = {
  offline_access: "Keep this access until you revoke it, without asking again",
  "auth:user.id:read": "Know who you are (your user ID)",
  "contact:user.base:readonly": "Read your basic profile (name and avatar)",
  "contact:user.email:readonly": "Read your email address",
  "contact:user.phone:readonly": "Read your mobile number",
  "contact:user.employee_id:readonly": "Read your user ID",
  "contact:contact.base:readonly": "Read your contacts' basic information",
  "calendar:calendar:readonly": "Read your calendars and events",
  "calendar:calendar": "View and manage your calendars and events",
  "im:message": "Send and read messages as you",
  "im:message:readonly": "Read your messages",
  "im:chat:readonly": "Read the chats you are in",
  "docx:document:readonly": "Read your documents",
  "docx:document": "View, edit and create documents as you",
  "drive:drive:readonly": "Read files in your drive",
  "drive:drive": "View, edit and manage files in your drive",
  "sheets:spreadsheet:readonly": "Read your spreadsheets",
  "sheets:spreadsheet": "View and edit your spreadsheets",
  "bitable:app:readonly": "Read your Base apps",
  "bitable:app": "View and edit your Base apps",
  "wiki:wiki:readonly": "Read wiki spaces you can access",
  "task:task:read": "Read your tasks",
  "task:task:write": "Create and update your tasks",
  "mail:user_mailbox.message:readonly": "Read your email messages",
  "approval:approval:readonly": "Read your approvals",
};

/** A readable description of `scope`, or the scope itself when it has none. */
export function describeScope(scope: string): string {
  return Object.hasOwn(DESCRIPTIONS, scope) ? (DESCRIPTIONS[scope] as string) : scope;
}

export const hasDescription = (scope: string) => Object.hasOwn(DESCRIPTIONS, scope);
