/** The HTML report's stylesheet, inlined into the page (nothing is fetched). */
export const HTML_STYLE = `
:root { --pass: #2e7d32; --fail: #c62828; --skip: #757575; --error: #6a1b9a; --line: #ddd; --muted: #666; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1b1b1b; background: #fafafa; }
header { padding: 10px 24px 8px; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 2px; font-size: 20px; }
header p { margin: 0; }
main { padding: 8px 24px 40px; }
.meta, small, .muted { color: var(--muted); }
.totals { margin-top: 2px; font-weight: 600; }
nav ul { list-style: none; margin: 6px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav a { color: inherit; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 3px; color: #fff; font-weight: 600; font-size: 12px; letter-spacing: .03em; vertical-align: 1px; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
.badge.skip { background: var(--skip); } .badge.error { background: var(--error); }
section.scenario { margin-top: 12px; }
section.scenario > h2 { margin: 0 0 2px; font-size: 18px; }
.summary { margin: 2px 0 10px; max-width: 110ch; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.variants td { white-space: nowrap; }
table.variants th[scope=row] { background: #f7f7f7; font-weight: 500; }
table.variants tr.sub th[scope=row] { padding-left: 22px; font-weight: 400; }
table.variants[data-variant] { display: inline-table; margin: 0 12px 12px 0; }
section.kernel-diff { background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: 8px 12px; margin-bottom: 16px; }
table.kernel-diff th[scope=row] { font-weight: 500; white-space: nowrap; }
ul.kernel-facts li { margin: 2px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(590px, 1fr)); gap: 14px; margin-top: 12px; }
article.variant { background: #fff; border: 1px solid var(--line); border-left: 5px solid var(--skip); border-radius: 4px; padding: 8px 12px 10px; min-width: 0; }
article.variant[data-verdict=pass] { border-left-color: var(--pass); }
article.variant[data-verdict=fail] { border-left-color: var(--fail); }
article.variant[data-verdict=error] { border-left-color: var(--error); }
article.variant h3 { margin: 0 0 2px; font-size: 16px; }
article.variant h4 { margin: 10px 0 4px; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #444; }
.reason { margin: 0 0 4px; overflow-wrap: anywhere; }
article.variant table { width: 100%; }
article.variant td code { overflow-wrap: anywhere; }
figure { margin: 0; }
svg.attempts { display: block; max-width: 100%; height: auto; font-size: 11px; }
svg.attempts .axis-title { fill: #555; }
svg.attempts .band-label { font-weight: 600; }
svg.attempts .empty { fill: #999; font-style: italic; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 2px 14px; margin: 2px 0 0 96px; padding: 0; font-size: 12px; }
ul.legend .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px; vertical-align: -1px; }
ul.legend .n { color: var(--muted); }
svg.timeline { display: block; max-width: 100%; height: auto; font-size: 11px; margin-top: 4px; }
svg.timeline .axis-title { fill: #555; }
svg.timeline .fault-label { font-weight: 600; }
ul.timeline-legend { margin-left: 56px; }
ul.legend .line { display: inline-block; width: 14px; height: 3px; margin-right: 4px; vertical-align: 3px; }
ul.legend .line.dashed { height: 0; border-top: 2px dashed; background: none; margin-left: 8px; }
.timeline-note { margin-left: 56px; }
ul.causes { margin: 0; padding-left: 18px; }
ul.causes li { margin-bottom: 4px; overflow-wrap: anywhere; }
.numbers { font-size: 12px; color: var(--muted); }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
tr.failed td { background: #fdecea; }
details { margin-top: 8px; }
summary { cursor: pointer; color: #333; }
.note { font-size: 12px; color: var(--muted); margin: 2px 0; }
`;
