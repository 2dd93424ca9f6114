// A feed's readings as an SVG line chart over a time window: the expected range as a band,
// readings outside it marked. Readings arrive at any rate; the chart draws at most once per
// animation frame, so a fast feed costs one path per frame, not one per reading.

import type { Reading } from './feeds';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 800;
const HEIGHT = 300;
const MARGIN = { left: 60, right: 10, top: 10, bottom: 30 };
/** Readings kept for drawing; older ones fall off (a minute at 100 readings/s, and more). */
const MAX_READINGS = 20_000;
/** Outside-the-range marks drawn at most (the newest). */
const MAX_MARKS = 500;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

export interface Band {
  min: number;
  max: number;
}

export class FeedChart {
  readonly element: SVGSVGElement;
  private readings: Reading[] = [];
  private pending = false;
  private readonly band: SVGRectElement;
  private readonly line: SVGPathElement;
  private readonly marks: SVGGElement;
  private readonly labels: SVGGElement;

  /** `windowMs`: in live mode, the span shown up to the newest reading. */
  constructor(
    private readonly expected: Band | null,
    private readonly unit: string,
    private windowMs: number,
  ) {
    this.element = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'feed-chart', role: 'img' });
    this.band = svg('rect', { class: 'expected-range' });
    this.line = svg('path', { class: 'readings', fill: 'none' });
    this.marks = svg('g', { class: 'outside' });
    this.labels = svg('g', { class: 'labels' });
    this.element.append(this.band, this.line, this.marks, this.labels);
    this.element.dataset.points = '0';
    this.element.dataset.outside = '0';
  }

  /** Replaces what is shown (a history range): `fromMs`..`toMs`. */
  show(readings: Reading[], fromMs: number, toMs: number): void {
    this.readings = readings.slice(-MAX_READINGS);
    this.fixed = { fromMs, toMs };
    this.schedule();
  }

  /** Adds new readings (live): the window follows the newest. */
  add(readings: Reading[]): void {
    if (!readings.length) return;
    this.fixed = null;
    this.readings.push(...readings);
    if (this.readings.length > MAX_READINGS) this.readings.splice(0, this.readings.length - MAX_READINGS);
    this.schedule();
  }

  private fixed: { fromMs: number; toMs: number } | null = null;

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  private draw(): void {
    const newest = this.readings.length ? this.readings[this.readings.length - 1].timestamp : Date.now();
    const { fromMs, toMs } = this.fixed ?? { fromMs: newest - this.windowMs, toMs: newest };
    const shown = this.readings.filter((r) => r.timestamp >= fromMs && r.timestamp <= toMs);
    const values = shown.map((r) => r.value);
    if (this.expected) values.push(this.expected.min, this.expected.max);
    let low = values.length ? Math.min(...values) : 0;
    let high = values.length ? Math.max(...values) : 1;
    if (high === low) [low, high] = [low - 1, high + 1];
    const pad = (high - low) * 0.05;
    [low, high] = [low - pad, high + pad];
    const x = (t: number) => MARGIN.left + ((t - fromMs) / Math.max(1, toMs - fromMs)) * (WIDTH - MARGIN.left - MARGIN.right);
    const y = (v: number) => HEIGHT - MARGIN.bottom - ((v - low) / (high - low)) * (HEIGHT - MARGIN.top - MARGIN.bottom);

    if (this.expected) {
      const top = y(this.expected.max);
      this.band.setAttribute('x', String(MARGIN.left));
      this.band.setAttribute('width', String(WIDTH - MARGIN.left - MARGIN.right));
      this.band.setAttribute('y', String(top));
      this.band.setAttribute('height', String(Math.max(0, y(this.expected.min) - top)));
    }
    this.line.setAttribute('d', shown.map((r, i) => `${i ? 'L' : 'M'}${x(r.timestamp).toFixed(1)},${y(r.value).toFixed(1)}`).join(''));
    const outside = shown.filter((r) => r.outside);
    this.marks.replaceChildren(
      ...outside.slice(-MAX_MARKS).map((r) => {
        const mark = svg('circle', { cx: x(r.timestamp).toFixed(1), cy: y(r.value).toFixed(1), r: 3 });
        mark.append(Object.assign(svg('title'), { textContent: `${r.text} ${this.unit} (#${r.sequence})` }));
        return mark;
      }),
    );
    const text = (content: string, attributes: Record<string, string | number>) => Object.assign(svg('text', attributes), { textContent: content });
    const time = (ms: number) => new Date(ms).toISOString().slice(11, 23);
    this.labels.replaceChildren(
      text(`${high.toFixed(2)} ${this.unit}`, { x: 2, y: MARGIN.top + 10 }),
      text(`${low.toFixed(2)} ${this.unit}`, { x: 2, y: HEIGHT - MARGIN.bottom }),
      text(time(fromMs), { x: MARGIN.left, y: HEIGHT - 8 }),
      text(time(toMs), { x: WIDTH - MARGIN.right, y: HEIGHT - 8, 'text-anchor': 'end' }),
    );
    this.element.dataset.points = String(shown.length);
    this.element.dataset.outside = String(outside.length);
    this.element.dataset.drawnAt = String(performance.now());
  }
}
