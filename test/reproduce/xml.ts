/** Test helper: a small XML well-formedness check for the SVG the reproduction writes. */

/** Well-formedness: every tag closes in order, attributes are quoted, one root <svg>. */
export function wellFormed(xml: string): string | null {
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+='[^'<]*'|\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let roots = 0;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    const between = xml.slice(last, m.index);
    if (between.includes('<') || between.includes('>')) return `stray angle bracket near offset ${last}`;
    if (/&(?!amp;|lt;|gt;|quot;|apos;)/.test(between)) return `unescaped & near offset ${last}`;
    last = re.lastIndex;
    const [, close, name, , self] = m;
    if (close) {
      if (stack.pop() !== name) return `</${name}> closes the wrong element`;
    } else if (!self) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
  }
  if (xml.slice(last).trim() !== '') return 'text after the root element';
  if (stack.length > 0) return `unclosed <${stack[stack.length - 1]}>`;
  return roots === 1 ? null : `${roots} root elements`;
}
