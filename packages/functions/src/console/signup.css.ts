/** Sign-up's rules: the landing page's second button, the sign-up form's hint under its checkbox, a new admin's first steps (joined into /assets/console.css). */
export const SIGNUP_CSS = `
a.button.secondary{color:#1f5fbf;background:#fff;border:1px solid #1f5fbf}
.field.check + .hint{margin:-10px 0 16px}
.first-steps{border-color:#1f5fbf}
.first-steps h2{margin-top:0}
.first-steps li{margin:0 0 8px}
`;
