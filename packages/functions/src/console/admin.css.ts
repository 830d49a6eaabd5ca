/** The admin pages' rules (joined into /assets/console.css). */
export const ADMIN_CSS = `
.crumbs{margin:0 0 4px;font-size:.95rem}
.sections{padding-left:1.2rem}
.sections li{margin:0 0 10px}
.pager{display:flex;gap:16px}
fieldset.card legend{font-weight:700;padding:0 4px}
.field.check{display:flex;gap:8px;align-items:center}
.field.check input{width:24px;height:24px}
input.short{max-width:8rem}
textarea.secret{font-family:ui-monospace,Menlo,Consolas,monospace;min-height:0;word-break:break-all}
`;
