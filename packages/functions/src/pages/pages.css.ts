/** Served as /assets/pages.css: the CSP allows stylesheets from this origin only, none inline. */
export const PAGES_CSS = `
*{box-sizing:border-box}
body{margin:0;font:17px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f5f6f8}
main{max-width:640px;margin:0 auto;padding:24px 16px 48px}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 12px}
p{margin:0 0 12px}
fieldset{border:1px solid #d5d9e0;border-radius:10px;background:#fff;margin:0 0 16px;padding:16px;min-width:0}
legend{float:left;width:100%;padding:0;margin:0 0 8px;font-weight:600}
legend+*{clear:both}
.required{font-weight:400;color:#4a5262}
.scale{display:grid;gap:8px}
.scale label{display:flex;align-items:center;gap:10px;min-height:44px;border:1px solid #8a93a3;border-radius:8px;padding:8px 12px;cursor:pointer;background:#fff;overflow-wrap:anywhere}
.scale input{margin:0;flex:none;width:20px;height:20px}
.scale label:has(input:checked){border-color:#1f5fbf;background:#e8f0fd;box-shadow:inset 0 0 0 1px #1f5fbf}
.scale label:focus-within{outline:3px solid #1f5fbf;outline-offset:2px}
.scale.numbers{grid-template-columns:repeat(6,minmax(0,1fr));gap:6px}
.scale.numbers label{flex-direction:column;justify-content:center;gap:4px;padding:6px 0;font-variant-numeric:tabular-nums}
.ends{display:flex;justify-content:space-between;gap:12px;font-size:.85rem;color:#4a5262;margin:8px 0 0}
.ends span:last-child{text-align:right}
textarea{width:100%;min-height:110px;font:inherit;padding:8px;border:1px solid #b9c0cc;border-radius:8px}
.check{display:flex;gap:10px;align-items:flex-start}
.check input{width:22px;height:22px;margin-top:2px}
button{font:inherit;font-weight:600;color:#fff;background:#1f5fbf;border:0;border-radius:8px;padding:12px 22px;min-height:48px;cursor:pointer;width:100%}
button:focus{outline:3px solid #0b2f66;outline-offset:2px}
form{margin:0 0 20px}
button+p{margin-top:10px}
.error{color:#a3141b;font-weight:600}
.errors{border:2px solid #a3141b;border-radius:10px;background:#fff4f4;padding:12px 16px;margin-bottom:16px}
.errors ul{margin:0;padding-left:20px}
.errors a{color:#a3141b}
textarea[aria-invalid=true]{border:2px solid #a3141b}
fieldset:has([aria-invalid=true]){border:2px solid #a3141b}
.note{font-size:.9rem;color:#596273}
.commitment{border-left:4px solid #1f5fbf;background:#f3f6fb;padding:10px 14px;border-radius:0 8px 8px 0}
@media (min-width:560px){button{width:auto}.scale.numbers{grid-template-columns:repeat(11,minmax(0,1fr))}}
@media (min-width:640px){.scale.agree{grid-template-columns:repeat(5,minmax(0,1fr))}.scale.agree label{flex-direction:column;justify-content:flex-start;gap:4px;text-align:center;padding:8px 4px}}
`;
