/**
 * The SVG plotting module: output is well-formed XML (checked by a small tokenizer that balances
 * tags and quotes), deterministic, escapes text, draws one marker per finite point, error bars
 * and bands where asked, bars with whiskers, and a legend entry per series; "nice" ticks cover the
 * data range with steps of 1, 2, 2.5 or 5 times a power of ten (a fast-check property).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeXml, niceTicks, renderFigure, type Figure } from '../../app/reproduce/svg.ts';
import { wellFormed } from './xml.ts';

const fig: Figure = {
  title: 'A <test> & "figure"',
  panels: [
    {
      xLabel: 'Read ratio',
      yLabel: 'Latency (ms)',
      x: { min: 0, max: 1, ticks: [0.1, 0.5, 0.9] },
      series: [
        { name: 'Boki', color: '#c00', marker: 'triangle', dash: 'dotted', points: [{ x: 0.1, y: 60, err: 2 }, { x: 0.5, y: 50, err: 1 }, { x: 0.9, y: 40 }] },
        { name: 'published', color: '#00c', marker: 'circle', hollow: true, points: [{ x: 0.1, y: 55 }, { x: 0.5, y: NaN }, { x: 0.9, y: 35 }] },
        { name: 'band', color: '#0c0', marker: 'none', band: true, points: [{ x: 0.1, y: 20, err: [15, 25] }, { x: 0.9, y: 22, err: [18, 30] }] },
      ],
      shades: [{ x0: 0.4, x1: 0.6, color: '#ff0' }],
      annotations: [{ x: 0.25, text: 'r < 0.5' }],
    },
    {
      xLabel: 'Operation',
      yLabel: 'ms',
      bars: { categories: ['Read', 'Write'], groups: [{ name: 'HM-R', color: '#333', values: [{ y: 2, err: 0.1, whisker: 3 }, { y: 6, whisker: 7 }] }, { name: 'HM-W', color: '#999', values: [{ y: 3 }, { y: 4 }] }] },
    },
  ],
  columns: 2,
  caption: 'caption & notes',
};

describe('renderFigure', () => {
  it('writes well-formed, deterministic SVG with escaped text', () => {
    const svg = renderFigure(fig);
    expect(wellFormed(svg)).toBeNull();
    expect(svg).toBe(renderFigure(fig));
    expect(svg.startsWith("<svg xmlns='http://www.w3.org/2000/svg'")).toBe(true);
    expect(svg).toContain('A &lt;test&gt; &amp; &quot;figure&quot;');
    expect(svg).toContain('r &lt; 0.5');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('draws a marker per finite point, error bars, hollow markers and a band', () => {
    const svg = renderFigure(fig);
    // Triangles: 3 points + 1 legend sample; the published circles: 2 finite points + legend.
    expect(svg.match(/<polygon points='[^']*' fill='#c00'/g)).toHaveLength(4);
    expect(svg.match(/<circle [^>]*fill='white' stroke='#00c'/g)).toHaveLength(3);
    // Error bars for the two Boki points with err > 0 (a vertical line and two caps each).
    expect(svg.match(/<path d='M[^']*' stroke='#c00' stroke-width='1.3'/g)).toHaveLength(2);
    expect(svg).toMatch(/<polygon points='[^']*' fill='#0c0' fill-opacity='0.2'/);
    expect(svg).toMatch(/fill='#ff0' fill-opacity='0.18'/);
  });

  it('draws grouped bars with whiskers and one legend entry per group', () => {
    const svg = renderFigure(fig);
    expect(svg.match(/<rect [^>]*fill='#333' stroke='#333' stroke-width='0.6'/g)).toHaveLength(3); // 2 bars + legend swatch
    expect(svg.match(/<rect [^>]*fill='#999' stroke='#333' stroke-width='0.6'/g)).toHaveLength(3);
    expect(svg.match(/stroke='#222' stroke-width='1.2'/g)).toHaveLength(2); // whiskers of HM-R
    for (const name of ['Boki', 'published', 'band', 'HM-R', 'HM-W']) expect(svg).toContain(`>${name}</text>`);
  });

  it('is checked by a well-formedness test that catches broken markup', () => {
    expect(wellFormed("<svg><g></svg>")).not.toBeNull();
    expect(wellFormed("<svg><text>a & b</text></svg>")).not.toBeNull();
    expect(wellFormed("<svg/><svg/>")).not.toBeNull();
    expect(wellFormed("<svg><text>a &amp; b</text></svg>")).toBeNull();
  });

  it('escapes all five XML specials', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});

describe('niceTicks', () => {
  it('covers the range with evenly spaced 1/2/2.5/5 × 10^k steps', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-3, max: 1e6, noNaN: true }), (lo, width) => {
        const hi = lo + width;
        const t = niceTicks(lo, hi);
        expect(t[0]!).toBeLessThanOrEqual(lo + 1e-9 * Math.abs(lo));
        expect(t[t.length - 1]!).toBeGreaterThanOrEqual(hi - 1e-9 * Math.abs(hi));
        const step = t[1]! - t[0]!;
        const mant = step / 10 ** Math.floor(Math.log10(step) + 1e-12);
        expect([1, 2, 2.5, 5, 10].some((m) => Math.abs(mant - m) < 1e-6)).toBe(true);
        for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBeCloseTo(step, 6);
        expect(t.length).toBeLessThanOrEqual(12);
      }),
      { seed: 7, numRuns: 300 },
    );
    expect(niceTicks(0, 62)).toEqual([0, 20, 40, 60, 80]);
  });
});
