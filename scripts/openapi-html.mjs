// Renders an OpenAPI 3 document to one self-contained HTML page (inline CSS, no scripts, no
// external fetches): every operation with its summary, parameters, request body and responses
// (schemas shown as JSON with local $refs linked), then the component schemas.

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const anchor = (s) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function schemaHtml(schema) {
  const text = esc(JSON.stringify(schema, null, 2));
  // Link "$ref": "#/components/schemas/X" to the schema's section.
  return `<pre>${text.replace(/&quot;#\/components\/schemas\/([A-Za-z0-9_]+)&quot;/g, (_, n) => `<a href="#schema-${anchor(n)}">&quot;#/components/schemas/${n}&quot;</a>`)}</pre>`;
}

function contentHtml(content) {
  if (content === undefined) return '';
  return Object.entries(content)
    .map(([type, media]) => `<div class="media"><code>${esc(type)}</code>${media.schema === undefined ? '' : schemaHtml(media.schema)}</div>`)
    .join('');
}

function paramsHtml(params) {
  if (params.length === 0) return '';
  const rows = params
    .map((p) => `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${esc(JSON.stringify(p.schema ?? {}))}</code></td><td>${esc(p.description ?? '')}</td></tr>`)
    .join('');
  return `<table><thead><tr><th>name</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** @param {any} doc an OpenAPI 3 document; @param {{ auth?: (method: string, path: string) => string | undefined }} opts */
export function renderOpenapi(doc, opts = {}) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (op !== undefined) ops.push({ path, method, op, params: [...(item.parameters ?? []), ...(op.parameters ?? [])] });
    }
  }
  const toc = ops.map(({ path, method, op }) => `<li><a href="#${anchor(`${method} ${path}`)}"><code>${method.toUpperCase()} ${esc(path)}</code></a> ${esc(op.summary ?? '')}</li>`).join('');
  const body = ops
    .map(({ path, method, op, params }) => {
      const auth = opts.auth?.(method.toUpperCase(), path);
      const responses = Object.entries(op.responses ?? {})
        .map(([status, r]) => `<li><b>${esc(status)}</b> ${esc(r.description ?? '')}${contentHtml(r.content)}</li>`)
        .join('');
      return `<section id="${anchor(`${method} ${path}`)}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary ?? '')}${op.description === undefined ? '' : `</p><p>${esc(op.description)}`}</p>
${auth === undefined ? '' : `<p class="auth">Authorization: ${esc(auth)}</p>`}
${paramsHtml(params)}
${op.requestBody === undefined ? '' : `<h4>Request body</h4>${contentHtml(op.requestBody.content)}`}
<h4>Responses</h4><ul>${responses}</ul></section>`;
    })
    .join('\n');
  const schemas = Object.entries(doc.components?.schemas ?? {})
    .map(([name, s]) => `<section id="schema-${anchor(name)}"><h3>${esc(name)}</h3>${schemaHtml(s)}</section>`)
    .join('\n');
  const title = `${doc.info?.title ?? 'API'} ${doc.info?.version ?? ''}`.trim();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#1d1d1f}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f4f4f6;padding:.6em;overflow:auto;border-radius:4px}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
section{border-top:1px solid #e3e3e3;padding-top:.5em}.m{display:inline-block;min-width:4.5em;font-size:12px;color:#fff;border-radius:3px;padding:0 .4em;text-align:center}
.get{background:#2f6fb5}.post{background:#2e8b57}.put{background:#b57a2f}.patch{background:#8a5cb5}.delete{background:#b53a3a}.auth{color:#555}
</style></head><body>
<h1>${esc(title)}</h1>
<p>${esc(doc.info?.description ?? '')}</p>
<h2>Operations</h2><ul>${toc}</ul>
${body}
<h2>Schemas</h2>
${schemas}
</body></html>
`;
}
