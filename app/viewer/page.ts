/**
 * The viewer page: the client (`sim/viewer/client/main.ts`) bundled with esbuild's JS API into one
 * inline script, a stylesheet, and, for the self-contained file, the model, the record index,
 * the blobs and the compact trace lines embedded as inert script elements (the client decodes
 * pages of records from them on demand, as the server would). Everything embedded is escaped so that no `</script>` (or
 * any `<`) inside a trace can end its element early: JSON text gets `<` as `\u003c`, which is the
 * same string once parsed, and the bundle gets `<\/script` inside its string literals.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { ViewModel } from './model.ts';
import type { RecordIndex } from './record-pages.ts';

const CLIENT_ENTRY = fileURLToPath(new URL('./client/main.ts', import.meta.url));

let bundleCache: Promise<string> | null = null;

/** The client bundle (built once per process). */
export function clientBundle(): Promise<string> {
  bundleCache ??= build({
    entryPoints: [CLIENT_ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
  }).then((r) => {
    const out = r.outputFiles[0];
    if (!out) throw new Error('esbuild produced no output for the viewer client');
    return escapeScript(out.text);
  });
  return bundleCache;
}

/**
 * Makes JavaScript safe inside an inline <script>: no "</script" or "<!--" survives. The
 * replacements are escapes that mean the same inside string, template and regular-expression
 * literals (with or without the u flag), the only places such text can occur in a bundle.
 */
export function escapeScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\x21--');
}

/** Makes JSON (or JSON Lines) text safe inside an inert <script> element. */
export function escapeJsonForHtml(json: string): string {
  return json.replace(/</g, '\\u003c');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What a self-contained page embeds: the model, the record index, the blobs and the compact record lines. */
export interface PageData {
  readonly model: ViewModel;
  readonly index: RecordIndex;
  readonly blobs: string;
  readonly text: string;
}

/** The HTML page; with `data` it is self-contained, without it the client fetches from the server. */
export async function renderPage(title: string, data: PageData | null): Promise<string> {
  const js = await clientBundle();
  const embedded = data
    ? `<script id="hm-model" type="application/json">${escapeJsonForHtml(JSON.stringify(data.model))}</script>\n<script id="hm-index" type="application/json">${escapeJsonForHtml(JSON.stringify(data.index))}</script>\n<script id="hm-blobs" type="application/x-ndjson">${escapeJsonForHtml(data.blobs)}</script>\n<script id="hm-trace" type="application/x-ndjson">${escapeJsonForHtml(data.text)}</script>\n`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · halfmoon viewer</title>
<style>${CSS}</style>
</head>
<body>
<div class="loading">Loading ${escapeHtml(title)}…</div>
${embedded}<script>${js}</script>
</body>
</html>
`;
}

const CSS = `
*{box-sizing:border-box}
html,body{margin:0;height:100%}
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#18181b;background:#fff;display:flex;flex-direction:column;overflow:hidden}
.loading{padding:2em;color:#71717a}
header{display:flex;gap:12px;align-items:center;padding:6px 12px;border-bottom:1px solid #e4e4e7;background:#fafafa;white-space:nowrap;overflow:hidden}
.brand{font-weight:700;color:#4338ca}
.title{font-weight:600;overflow:hidden;text-overflow:ellipsis}
.outcome{padding:1px 8px;border-radius:9px;font-size:12px;font-weight:600}
.outcome-bad{background:#fee2e2;color:#b91c1c}.outcome-ok{background:#dcfce7;color:#166534}
.warn{color:#b45309;cursor:help}
.file{margin-left:auto}
.muted{color:#71717a}.small{font-size:11px}.bad{color:#b91c1c}
.banner{padding:8px 12px;border-bottom:1px solid #e4e4e7}
.banner.bad{background:#fef2f2;border-left:5px solid #dc2626}
.banner.ok{background:#f0fdf4;border-left:5px solid #16a34a}
.banner-title{font-size:15px}
.banner-msg{font-family:ui-monospace,monospace;font-size:12px;margin:3px 0;max-height:4.5em;overflow:auto;word-break:break-word}
.banner-explain{margin:3px 0;color:#7f1d1d}
.banner-row{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin-top:3px}
.banner .replay code{background:#fff;border:1px solid #e4e4e7;padding:1px 5px;border-radius:4px}
button{font:inherit;font-size:12px;padding:2px 8px;border:1px solid #d4d4d8;background:#fff;border-radius:5px;cursor:pointer}
button:hover{background:#f4f4f5}
button.go{background:#dc2626;color:#fff;border-color:#b91c1c}
button.chip{border-radius:10px;background:#eef2ff;border-color:#c7d2fe}
button.copy{font-size:11px;padding:0 6px}
button.seg.on{background:#4338ca;color:#fff;border-color:#4338ca}
.toolbar{display:flex;flex-wrap:wrap;gap:10px;align-items:center;padding:5px 12px;border-bottom:1px solid #e4e4e7}
.toolbar .group{display:inline-flex;gap:3px;align-items:center}
.toolbar input{font:inherit;font-size:12px;padding:2px 6px;border:1px solid #d4d4d8;border-radius:5px}
.toolbar .goto{width:6em}
.keys{font-size:11px;cursor:help}
.dropdown{position:relative}
.dropdown summary{cursor:pointer;list-style:none;padding:2px 8px;border:1px solid #d4d4d8;border-radius:5px;font-size:12px}
.dropdown summary::after{content:" ▾"}
.dropdown .menu{position:absolute;z-index:20;background:#fff;border:1px solid #d4d4d8;border-radius:6px;padding:6px 10px;box-shadow:0 6px 20px rgba(0,0,0,.12);max-height:60vh;overflow:auto;min-width:180px}
.dropdown .menu label{display:block;white-space:nowrap;padding:1px 0}
main{flex:1;display:flex;min-height:0}
.diagram-wrap{flex:1;display:flex;flex-direction:column;min-width:0}
.lanes-head{display:flex;border-bottom:1px solid #e4e4e7;background:#fafafa;height:34px;flex:none;overflow:hidden}
.lane-gutter{font-size:11px;color:#71717a;padding:9px 6px;flex:none}
.lane-name{flex:none;text-align:center;border-top:3px solid;padding:1px 2px;overflow:hidden;white-space:nowrap;font-size:12px}
.lane-name span{display:block;font-size:10px;color:#71717a;line-height:1}
.canvas-box{flex:1;position:relative;min-height:0;display:flex}
canvas.diagram{display:block;cursor:grab;outline:none}
canvas.overview{display:block;cursor:pointer;border-left:1px solid #e4e4e7}
.tip{position:absolute;pointer-events:none;background:#18181b;color:#fff;font-size:11px;padding:3px 7px;border-radius:4px;max-width:320px;z-index:10}
.diagram-note{position:absolute;top:6px;right:30px;background:#fffbeb;border:1px solid #fde68a;color:#92400e;font-size:11px;padding:2px 8px;border-radius:4px}
.panel{width:min(480px,40%);flex:none;border-left:1px solid #e4e4e7;overflow:auto;padding:8px 12px 40px}
.panel h2{font-size:15px;margin:4px 0}
.panel h2 .role{font-weight:400;color:#52525b}
.panel h3{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:#71717a;margin:14px 0 4px}
.panel-head{display:flex;gap:8px;align-items:center}
.panel-head h2{flex:1}
.panel pre{background:#fafafa;border:1px solid #f0f0f3;padding:6px;font-size:11px;overflow:auto;max-height:40vh;margin:4px 0}
.panel pre.inline{max-height:12em}
.violation-box{background:#fef2f2;border:1px solid #fecaca;color:#7f1d1d;padding:6px 8px;border-radius:6px;margin:6px 0;word-break:break-word}
table.diff{border-collapse:collapse;width:100%;font-size:11px;font-family:ui-monospace,monospace}
table.diff th{text-align:left;font-weight:600;color:#71717a;border-bottom:1px solid #e4e4e7;padding:2px 4px}
table.diff td{padding:2px 4px;border-bottom:1px solid #f4f4f5;vertical-align:top;word-break:break-all}
table.diff td.path{color:#3730a3}
table.diff td.before{background:#fef2f2}
table.diff td.after{background:#f0fdf4}
tr.diff-added td.before,tr.diff-removed td.after{background:none;color:#a1a1aa}
ul.summary{margin:0;padding-left:18px}
ul.summary li.tone-change{color:#1e3a8a}
ul.summary li.tone-warn{color:#b91c1c;font-weight:600}
ul.summary li.tone-good{color:#166534}
ol.effects{margin:0;padding-left:22px;font-size:12px}
ol.effects li{margin:2px 0;word-break:break-word}
.eff-fatal{color:#b91c1c;font-weight:600}
a{color:#4338ca;text-decoration:none}a:hover{text-decoration:underline}
.ops{position:relative;border:1px solid #f0f0f3;padding:4px 0}
.op-row{position:relative;height:18px;font-size:11px}
.op-row.mine{background:#eef2ff}
.op-bar{position:absolute;top:4px;height:10px;background:#93c5fd;border-radius:3px;min-width:2px}
.op-bar.open{background:repeating-linear-gradient(90deg,#fca5a5 0 4px,#fee2e2 4px 8px)}
.op-label{position:relative;padding-left:4px;white-space:nowrap}
.ops-now{position:absolute;top:0;bottom:0;width:2px;background:#dc2626;z-index:2}
details.raw,details.json{margin-top:8px}
details summary{cursor:pointer;color:#52525b}
ul.facts{padding-left:18px}
li.mine{font-weight:600}
.status{flex:none;border-top:1px solid #e4e4e7;padding:3px 12px;font-size:11px;color:#52525b;background:#fafafa;white-space:nowrap;overflow:hidden}
`;
