/** The sign-in area's rules: landing, sign-in pages, account, members (joined into /assets/console.css). */
export const SIGNIN_CSS = `
.lead{font-size:1.15rem;max-width:40rem}
a.button{display:inline-block;font-weight:600;color:#fff;background:#1f5fbf;border-radius:6px;padding:10px 18px;min-height:44px;text-decoration:none}
a.button:focus{outline:3px solid #0b2f66;outline-offset:2px}
.narrow{max-width:34rem}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:0 0 16px}
.facts dt{font-weight:600}
.facts dd{margin:0;overflow-wrap:anywhere}
.inline-form{margin:0 0 16px}
fieldset.field{border:0;padding:0;margin:0 0 16px}
fieldset.field legend{font-weight:600;padding:0;margin:0 0 4px}
label.choice{display:flex;gap:8px;align-items:flex-start;font-weight:400;margin:0 0 6px}
label.choice input{margin-top:5px;flex:none}
.role{overflow-wrap:normal}
.crumbs{margin:0 0 8px;color:#4a5262}
@media (max-width:480px){.facts{grid-template-columns:1fr}.facts dd{margin:0 0 8px}}
`;
