/** The results pages' rules (a pro's page, past summaries, the team table), with their print layout. */
export const RESULTS_CSS = `
.lede{font-size:1.05rem}
.headline{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:12px;list-style:none;margin:0 0 12px;padding:0}
.headline .card{margin:0;display:flex;flex-direction:column;gap:2px}
.headline .label{font-weight:600;color:#4a5262}
.headline .big{font-size:1.7rem;line-height:1.2}
.headline .words{color:#3a4252}
.trend{margin:0 0 12px}
.chart{display:block;width:100%;height:auto;max-width:560px;background:#fff;border:1px solid #d5d9e0;border-radius:8px}
.chart .grid{stroke:#e2e5ea;stroke-width:1}
.chart .axis{fill:#3a4252;font-size:15px;font-family:system-ui,sans-serif}
.chart .line{fill:none;stroke:#1f5fbf;stroke-width:2.5}
.chart .range{stroke:#7d9fd6;stroke-width:4;stroke-linecap:round}
.chart .dot{fill:#1f5fbf;stroke:#fff;stroke-width:2}
.trend figcaption{font-size:.9rem;margin-top:4px}
details summary{cursor:pointer;font-weight:600;min-height:32px;padding:4px 0}
.tips li{margin:0 0 8px}
.trend-table th{overflow-wrap:normal}
.quote{margin:0 0 12px;padding:10px 14px;border-left:4px solid #7d9fd6;background:#fff}
.quote .who{font-weight:600;font-size:.9rem;margin:0 0 4px}
.quote .said{white-space:pre-line;margin:0;overflow-wrap:anywhere}
.campaigns,.summaries,.rows,.changes{padding-left:1.2rem}
.campaigns>li{margin:0 0 10px}
.change.up{color:#046c4e}
.change.down{color:#a3141b}
.email-text pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #d5d9e0;padding:12px;font-size:.85rem}
@media print{
  .no-print,nav,form,details{display:none}
  body,main,.card,.quote,.chart,table{background:none}
  h1{font-size:1.3rem}
  h2{font-size:1.05rem;margin:14px 0 6px}
  .headline{grid-template-columns:repeat(3,1fr)}
  .headline .big{font-size:1.3rem}
  .chart{max-width:15cm;border:0;break-inside:avoid}
  .quote{border-left-color:#999;padding:4px 10px;break-inside:avoid}
  a{color:inherit;text-decoration:none}
}
`;
