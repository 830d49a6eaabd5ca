import { ADMIN_CSS } from './admin.css';
import { RESULTS_CSS } from './results.css';
import { SEND_CSS } from './send.css';
import { SIGNIN_CSS } from './signin.css';
import { SIGNUP_CSS } from './signup.css';

/**
 * Served as /assets/console.css (the CSP allows stylesheets from this origin only). Each area of
 * the console keeps its own rules in its own module; this joins them.
 */
const BASE_CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f5f6f8}
a{color:#1a55ad}
a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #0b2f66;outline-offset:2px}
.skip{position:absolute;left:-9999px}
.skip:focus{left:8px;top:8px;background:#fff;padding:8px;z-index:1}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px;padding:10px 16px;background:#fff;border-bottom:1px solid #d5d9e0}
.brand{font-weight:700;font-size:1.15rem;text-decoration:none;color:#1d2330}
.top nav ul{display:flex;flex-wrap:wrap;gap:4px 16px;list-style:none;margin:0;padding:0}
.top nav a{display:inline-block;padding:6px 0;min-height:32px}
.top nav a[aria-current=page]{font-weight:700;color:#1d2330}
.signout{margin:0 0 0 auto;display:flex;align-items:center;gap:10px}
.who{color:#4a5262;overflow-wrap:anywhere}
main{max-width:960px;margin:0 auto;padding:24px 16px 48px}
h1{font-size:1.6rem;line-height:1.25;margin:0 0 16px}
h2{font-size:1.25rem;margin:28px 0 10px}
p{margin:0 0 12px}
label{font-weight:600}
input[type=text],input[type=email],input[type=number],input[type=file],select,textarea{font:inherit;width:100%;max-width:32rem;padding:8px;border:1px solid #8a93a3;border-radius:6px;background:#fff}
textarea{min-height:8rem}
.field{margin:0 0 16px}
.field .hint{font-weight:400;color:#4a5262;font-size:.9rem;margin:2px 0 4px}
.field .error{color:#a3141b;font-weight:600;margin:4px 0 0}
button{font:inherit;font-weight:600;color:#fff;background:#1f5fbf;border:0;border-radius:6px;padding:10px 18px;min-height:44px;cursor:pointer}
button.secondary{background:#fff;color:#1f5fbf;border:1px solid #1f5fbf}
button.danger{background:#a3141b}
button.link{background:none;color:#1a55ad;padding:0;min-height:0;text-decoration:underline;font-weight:400}
.notice{border-left:4px solid #1f5fbf;background:#fff;padding:12px 16px;margin:0 0 16px}
.notice.bad{border-color:#a3141b;background:#fff4f4}
.card{background:#fff;border:1px solid #d5d9e0;border-radius:10px;padding:16px;margin:0 0 16px}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:8px;border-bottom:1px solid #e2e5ea;vertical-align:top;overflow-wrap:anywhere}
th{font-weight:600}
.muted{color:#4a5262}
@media (max-width:640px){
  table.stack thead{display:none}
  table.stack tr{display:block;border-bottom:1px solid #e2e5ea;padding:6px 0}
  table.stack th,table.stack td{display:block;border:0;padding:2px 8px;overflow-wrap:break-word}
  table.stack td[data-label]::before{content:attr(data-label);display:block;font-size:.85rem;font-weight:600;color:#4a5262}
}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media print{.top,.skip,.no-print,form{display:none}body{background:#fff}main{max-width:none;padding:0}.card{border:0;padding:0}}
`;

export const CONSOLE_CSS = [BASE_CSS, SIGNIN_CSS, ADMIN_CSS, RESULTS_CSS, SEND_CSS, SIGNUP_CSS].join('\n');
