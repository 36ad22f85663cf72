/** The pages' only stylesheet: small, inline, no external fonts or images. */
import { headerThemeCss } from "./palette.js";

const BASE = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 -apple-system,"Segoe UI","Helvetica Neue",Arial,"PingFang SC","Noto Sans",sans-serif;
  color:#1f2329;background:#eff0f1}
a{color:#245bdb}
code{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f2f3f5;border-radius:4px;padding:0 4px}
.topbar{display:flex;align-items:center;gap:12px;padding:10px 20px;background:#fff;border-bottom:1px solid #dee0e3}
.topbar .brand{font-weight:600}
.topbar .spacer{flex:1}
.topbar nav a{margin-left:12px;text-decoration:none}
main{max-width:760px;margin:24px auto;padding:0 16px}
.panel-box{background:#fff;border:1px solid #dee0e3;border-radius:8px;padding:20px 24px}
h1{font-size:20px;margin:0 0 12px}
.muted{color:#646a73}
.small{font-size:12px}
table.list{width:100%;border-collapse:collapse}
table.list th,table.list td{text-align:left;padding:8px;border-bottom:1px solid #eff0f1}
`;

const CHAT = `
.chat{display:flex;gap:16px;max-width:1040px;margin:16px auto;padding:0 16px}
.chat aside{width:220px;flex:none}
.chat-main{flex:1;min-width:0}
.chat-main h1{margin:0}
.chat-main > p{margin:0 0 14px}
.chat aside a{display:block;padding:8px 10px;border-radius:6px;text-decoration:none;color:#1f2329}
.chat aside a.current{background:#e1eaff;font-weight:600}
.messages{flex:1;min-width:0;display:flex;flex-direction:column;gap:16px}
.message .meta{font-size:12px;color:#8f959e;margin:0 0 4px 2px}
.badge{display:inline-block;background:#fff3e8;color:#de7802;border-radius:4px;padding:0 6px;margin-left:6px}
.empty{padding:40px;text-align:center;color:#8f959e}
.toast{position:fixed;top:16px;left:50%;transform:translateX(-50%);background:#1f2329;color:#fff;
  padding:10px 18px;border-radius:8px;box-shadow:0 6px 24px #0003;z-index:10}
.toast[hidden]{display:none}
.toast.success{background:#2ea121}.toast.error{background:#d83931}.toast.warning{background:#de7802}
.plain-msg{background:#fff;border:1px solid #dee0e3;border-radius:8px;padding:10px 14px;white-space:pre-wrap;max-width:600px}
pre.raw{background:#fff;border:1px solid #dee0e3;border-radius:8px;padding:10px;overflow:auto;font-size:12px}
`;

const CARD = `
.card{background:#fff;border:1px solid #dee0e3;border-radius:8px;max-width:600px;overflow:hidden;
  box-shadow:0 1px 3px #1f232914}
.card-header{padding:12px 16px;border-bottom:1px solid #dee0e3}
.card-title{font-size:16px;font-weight:600}
.card-subtitle{font-size:13px;color:#646a73}
.card-body{padding:12px 16px;display:flex;flex-direction:column;gap:10px}
.card-body p{margin:0}
.md p{margin:0 0 6px}.md p:last-child{margin-bottom:0}
.md ul,.md ol{margin:0;padding-left:22px}
.md pre{background:#f2f3f5;padding:8px;border-radius:6px;overflow:auto;margin:0}
.md-h{font-weight:600;font-size:15px}
.md-at{color:#245bdb}
.md-tag{border:1px solid currentColor;border-radius:4px;padding:0 4px;font-size:12px}
.plain{white-space:pre-wrap}
.card-hr{border:0;border-top:1px solid #dee0e3;margin:2px 0;width:100%}
.columns{display:flex;gap:12px}
.column{min-width:0;display:flex;flex-direction:column;gap:8px}
.fields{display:flex;flex-wrap:wrap;gap:6px 12px;margin-top:4px}.field{flex:1 1 100%}.field.short{flex:1 1 45%}
.div-el{display:flex;gap:12px;align-items:center}.div-main{flex:1}
.note{font-size:12px;color:#646a73;display:flex;gap:6px;flex-wrap:wrap}
.img-placeholder,.unsupported{border:1px dashed #bbbfc4;border-radius:6px;padding:8px;color:#8f959e;font-size:12px}
.actions{display:flex;flex-wrap:wrap;gap:8px}
.btn{display:inline-flex;align-items:center;justify-content:center;min-height:32px;padding:4px 14px;border-radius:6px;
  border:1px solid #d0d3d6;background:#fff;color:#1f2329;font:inherit;text-decoration:none;cursor:pointer}
.btn:hover{background:#f2f3f5}
.btn:disabled{opacity:.5;cursor:not-allowed}
.btn-primary{border-color:#3370ff;color:#3370ff}
.btn-primary_filled,.btn-laser{background:#3370ff;border-color:#3370ff;color:#fff}
.btn-primary_filled:hover{background:#245bdb}
.btn-danger{border-color:#f54a45;color:#f54a45}
.btn-danger_filled{background:#f54a45;border-color:#f54a45;color:#fff}
.btn-text{border-color:transparent;color:#3370ff}
.btn-fill{flex:1 1 100%}
details.panel summary{cursor:pointer;font-weight:600}
`;

const FORMS = `
.scopes{margin:8px 0 16px;padding-left:20px}
.scopes li{margin:4px 0}
.field-row{margin:16px 0}
label{display:block;font-weight:600;margin-bottom:6px}
select,input[type=text]{font:inherit;padding:6px 8px;border:1px solid #d0d3d6;border-radius:6px;min-width:280px}
.buttons{display:flex;gap:12px;margin-top:20px}
.error{background:#fde2e2;color:#a6241d;border-radius:6px;padding:8px 12px;margin-bottom:12px}
.outcome{font-size:40px;line-height:1}
.outcome.ok{color:#2ea121}.outcome.bad{color:#d83931}
.user-code{font:600 22px ui-monospace,Menlo,Consolas,monospace;letter-spacing:2px}
`;

export const STYLES = [BASE, CHAT, CARD, headerThemeCss(), FORMS].join("\n");
