/** Served as /assets/pages.css: the CSP allows stylesheets from this origin only, none inline. */
export const PAGES_CSS = `
*{box-sizing:border-box}
body{margin:0;font:17px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f5f6f8}
main{max-width:640px;margin:0 auto;padding:24px 16px 48px}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 12px}
p{margin:0 0 12px}
fieldset{border:1px solid #d5d9e0;border-radius:10px;background:#fff;margin:0 0 16px;padding:12px 16px 16px}
legend{font-weight:600;padding:0 4px}
.scale{display:flex;flex-wrap:wrap;gap:8px;margin-top:8px}
.scale label{flex:1 1 0;min-width:44px;min-height:44px;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:2px;border:1px solid #b9c0cc;border-radius:8px;padding:8px 4px;text-align:center;font-size:.85rem;cursor:pointer;background:#fff}
.scale input{margin:0}
.scale label:has(input:checked){border-color:#1f5fbf;background:#e8f0fd}
.scale label:focus-within{outline:3px solid #1f5fbf;outline-offset:2px}
.scale.wide label{min-width:44px;flex:0 1 auto;padding:8px 10px}
.ends{display:flex;justify-content:space-between;font-size:.8rem;color:#596273;margin-top:4px}
textarea{width:100%;min-height:110px;font:inherit;padding:8px;border:1px solid #b9c0cc;border-radius:8px}
.check{display:flex;gap:10px;align-items:flex-start}
.check input{width:22px;height:22px;margin-top:2px}
button{font:inherit;font-weight:600;color:#fff;background:#1f5fbf;border:0;border-radius:8px;padding:12px 22px;min-height:48px;cursor:pointer;width:100%}
button:focus{outline:3px solid #0b2f66;outline-offset:2px}
.error{color:#a3141b;font-weight:600}
.errors{border:2px solid #a3141b;border-radius:10px;background:#fff4f4;padding:12px 16px;margin-bottom:16px}
.note{font-size:.9rem;color:#596273}
.commitment{border-left:4px solid #1f5fbf;background:#f3f6fb;padding:10px 14px;border-radius:0 8px 8px 0}
@media (min-width:560px){button{width:auto}}
`;
