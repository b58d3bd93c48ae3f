import type { SpanRecord } from './spanFile.js'

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
const KINDS = ['internal', 'server', 'client', 'producer', 'consumer']
const COLORS: Record<string, string> = { web: '#3b82f6', shipper: '#f59e0b' }

/** The spans of one trace in tree order (children after their parent, by start time), with depths. */
export function tree(spans: readonly SpanRecord[]): Array<{ span: SpanRecord; depth: number }> {
  const ids = new Set(spans.map((s) => s.spanId))
  const children = new Map<string | undefined, SpanRecord[]>()
  for (const s of spans) {
    const parent = s.parentSpanId !== undefined && ids.has(s.parentSpanId) ? s.parentSpanId : undefined
    children.set(parent, [...(children.get(parent) ?? []), s])
  }
  const out: Array<{ span: SpanRecord; depth: number }> = []
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.start - b.start)) {
      out.push({ span, depth })
      walk(span.spanId, depth + 1)
    }
  }
  walk(undefined, 0)
  return out
}

/** A page that draws one trace as a timeline: a row per span, indented by depth, coloured by process. */
export function timelinePage(traceId: string, spans: readonly SpanRecord[]): string {
  const rows = tree(spans)
  const t0 = Math.min(...spans.map((s) => s.start))
  const total = Math.max(...spans.map((s) => s.end)) - t0 || 1
  const services = [...new Set(spans.map((s) => s.service))]
  const body = rows
    .map(({ span, depth }) => {
      const left = ((span.start - t0) / total) * 100
      const width = Math.max(0.4, ((span.end - span.start) / total) * 100)
      const detail = ['messaging.destination.name', 'messaging.consumer.group.name', 'db.system.name', 'omniscient.lease.term', 'omniscient.append.group_size', 'http.response.status_code']
        .filter((k) => span.attributes[k] !== undefined)
        .map((k) => `${k.split('.').slice(-2).join('.')}=${String(span.attributes[k])}`)
        .join(' ')
      return `<div class="row"><div class="label" style="padding-left:${depth * 14 + 6}px"><b>${escape(span.name)}</b> <span class="kind">${KINDS[span.kind] ?? ''} · ${escape(span.service)}</span><div class="attrs">${escape(detail)}</div></div>
<div class="lane"><div class="bar" style="left:${left}%;width:${width}%;background:${COLORS[span.service] ?? '#64748b'}"></div><span class="ms" style="left:calc(${left + width}% + 4px)">${(span.end - span.start).toFixed(2)} ms</span></div></div>`
    })
    .join('\n')
  return `<!doctype html><html><head><meta charset="utf-8"><title>trace ${traceId}</title><style>
body{font:13px system-ui,sans-serif;margin:18px;color:#0f172a;background:#fff}
h1{font-size:16px;margin:0 0 4px} .sub{color:#475569;margin-bottom:12px}
.row{display:flex;border-top:1px solid #e2e8f0;min-height:38px;align-items:center}
.label{width:440px;flex:none;overflow:hidden;white-space:nowrap} .kind{color:#64748b;font-size:11px}
.attrs{color:#475569;font-size:11px;font-family:ui-monospace,monospace}
.lane{position:relative;flex:1;height:18px;margin-right:90px} .bar{position:absolute;height:14px;top:2px;border-radius:3px}
.ms{position:absolute;font-size:11px;color:#334155;white-space:nowrap;top:1px}
.legend span{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 12px;vertical-align:middle}
</style></head><body>
<h1>Trace ${traceId}</h1>
<div class="sub">${spans.length} spans from ${services.length} processes over ${total.toFixed(1)} ms
<span class="legend">${services.map((s) => `<span style="background:${COLORS[s] ?? '#64748b'}"></span>${escape(s)}`).join('')}</span></div>
${body}
</body></html>`
}
