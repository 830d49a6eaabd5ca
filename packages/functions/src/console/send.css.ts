/** Sending a round and a round's page (console/rounds.tsx). */
export const SEND_CSS = `
.steps{display:flex;flex-wrap:wrap;gap:4px 20px;list-style:none;margin:0 0 16px;padding:0;color:#4a5262}
.steps li{counter-increment:step}
.steps li::before{content:counter(step) ". "}
.steps li[aria-current=step]{font-weight:700;color:#1d2330}
fieldset.mapping{border:0;margin:0 0 16px;padding:0;min-width:0}
fieldset.mapping legend{font-weight:700;font-size:1.1rem;margin:0 0 8px;padding:0}
.map-row{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr) minmax(0,14rem);gap:4px 12px;align-items:center;padding:8px 0;border-bottom:1px solid #e2e5ea}
.map-row label,.map-row .hint{overflow-wrap:anywhere;margin:0}
.map-row .hint{color:#4a5262;font-size:.9rem}
.map-row select{width:100%}
@media (max-width:600px){.map-row{grid-template-columns:minmax(0,1fr)}}
.actions{display:flex;flex-wrap:wrap;align-items:center;gap:12px}
table.preview tr.skipped td:last-child{color:#a3141b;font-weight:600}
table.counts{max-width:24rem}
table.counts td{text-align:right;font-variant-numeric:tabular-nums}
h3{font-size:1.05rem;margin:16px 0 8px}
`;
