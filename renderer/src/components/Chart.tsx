import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** What a value of a scale is: its axis gets ticks at round numbers of that unit. */
export type ChartUnit = 'bytes' | 'seconds' | 'ms';

/** One line of a chart: its name, colour and the scale (axis) it is read on. */
export interface ChartSeries {
  label: string;
  color: string;
  scale?: string;
  unit?: ChartUnit;
  /** How a value of this series reads in the legend and on its axis. */
  format?: (value: number) => string;
  /** Points instead of a line, without an axis (events such as a failed run, not a measure). */
  points?: boolean;
}

const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;
/** Time ticks at whole minutes, hours and days: never every 10 seconds. */
const TIME_INCRS = [
  MIN,
  2 * MIN,
  5 * MIN,
  10 * MIN,
  15 * MIN,
  30 * MIN,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
];
const steps = (bases: number[], scale: number) => bases.map((b) => b * scale);
/** Round steps of each unit: 1, 2, 5 and 10 s up to minutes and hours; 1, 2, 5 × 1024ⁿ bytes; 1, 2, 5 × 10ⁿ ms. */
const INCRS: Record<ChartUnit, number[]> = {
  seconds: [1, 2, 5, 10, 15, 30, ...TIME_INCRS],
  bytes: [0, 1, 2, 3, 4, 5].flatMap((p) => steps([1, 2, 5, 10, 20, 50, 100, 200, 500], 1024 ** p)),
  ms: [0, 1, 2, 3, 4, 5].flatMap((p) => steps([1, 2, 5], 10 ** p)),
};

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayOfMonth = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

/** x labels in the reader's locale: times of day, with the date under the first tick of each day; dates for day steps. */
function timeLabels(_u: uPlot, splits: number[], _axis: number, _space: number, incr: number): string[] {
  let lastDay = '';
  return splits.map((t) => {
    const d = new Date(t * 1000);
    const day = dayOfMonth.format(d);
    if (incr >= DAY) return day;
    const label = day !== lastDay ? `${timeOfDay.format(d)}\n${day}` : timeOfDay.format(d);
    lastDay = day;
    return label;
  });
}

/** A label equal to the one before says nothing: it is left blank. */
const distinct = (labels: string[]) => labels.map((l, i) => (i > 0 && l === labels[i - 1] ? '' : l));

/** The page's colours, so the axes follow the light or dark theme. */
const cssColor = (name: string, fallback: string) =>
  (typeof document === 'undefined' ? '' : getComputedStyle(document.documentElement).getPropertyValue(name).trim()) || fallback;

/**
 * A uPlot canvas chart sized to its container. `x` are epoch seconds; each series has a value (or null)
 * per x. Measures start at zero; ticks fall on round values of their unit and never repeat a label. A
 * sparkline has no axes, legend or cursor. The data also sits in `data-points` for tests and screen
 * readers get `label`.
 */
export function Chart({
  label,
  x,
  series,
  height,
  sparkline,
  xRange,
}: {
  label: string;
  x: number[];
  /** The span the x axis shows (the last 24 hours), whatever the data covers. */
  xRange?: [number, number];
  series: (ChartSeries & { values: (number | null)[] })[];
  height: number;
  sparkline?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // Read when uPlot ranges its x axis, so a moving window needs no rebuild. One point alone gets an
  // hour either side, rather than the years uPlot would pad it with.
  const only = x.length === 1 ? x[0] : undefined;
  const span = useRef(xRange);
  span.current = xRange ?? (only === undefined ? undefined : [only - 3600, only + 3600]);
  const data: uPlot.AlignedData = [x, ...series.map((s) => s.values)];
  // The chart is rebuilt when its shape changes, and only fed new data otherwise.
  const shape = JSON.stringify([sparkline, height, series.map((s) => [s.label, s.color, s.scale, s.points, s.unit])]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const text = cssColor('--text-2', '#566171');
    const grid = cssColor('--border', '#e3e6eb');
    // Points mark events (a failed run) on their own scale, which needs no axis of its own.
    const measured = series.filter((s) => !s.points);
    const scales = [...new Set(measured.map((s) => s.scale ?? 'y'))];
    const first = (scale: string) => measured.find((s) => (s.scale ?? 'y') === scale);
    const options: uPlot.Options = {
      width: Math.max(el.clientWidth, 80),
      height,
      legend: { show: !sparkline, live: false },
      cursor: sparkline ? { show: false } : { points: { size: 6 } },
      padding: sparkline ? [2, 2, 2, 2] : [12, 8, 0, 0],
      scales: {
        x: { time: true, range: (_u, min, max) => span.current ?? [min, max] },
        // A size or a duration is read against zero: a flat line near its top is a steady job.
        ...Object.fromEntries(
          scales.map((scale) => [scale, { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, max > 0 ? max * 1.15 : 1] }]),
        ),
      },
      axes: sparkline
        ? [{ show: false }, { show: false }]
        : [
            { stroke: text, grid: { stroke: grid }, ticks: { stroke: grid }, space: 70, incrs: TIME_INCRS, values: timeLabels, size: 44 },
            ...scales.map((scale, n) => {
              const s = first(scale);
              return {
                scale,
                side: n === 0 ? 3 : 1,
                size: 64,
                space: 28,
                stroke: text,
                grid: { show: n === 0, stroke: grid },
                ticks: { stroke: grid },
                ...(s?.unit ? { incrs: INCRS[s.unit] } : {}),
                values: (_u: uPlot, ticks: number[]) => distinct(ticks.map((t) => s?.format?.(t) ?? String(t))),
              };
            }),
          ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          scale: s.scale ?? 'y',
          stroke: s.color,
          width: sparkline ? 1.5 : 2,
          spanGaps: false,
          paths: s.points ? () => null : undefined,
          // A few values (one check so far) are dots, or a lone value would draw nothing.
          points: { show: s.points || ((u: uPlot) => u.data[0].length <= 48), size: s.points ? 7 : 5, fill: s.color, stroke: s.color },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : (s.format?.(v) ?? String(v))),
        })),
      ],
    };
    const chart = new uPlot(options, data, el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(el.clientWidth, 80), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- rebuilt on `shape`; data changes go through setData below
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `data` is rebuilt each render; its content is what matters
  }, [JSON.stringify(data)]);

  return <div ref={box} className={sparkline ? 'chart chart--spark' : 'chart'} role={sparkline ? 'img' : 'figure'} aria-label={label} data-points={x.length} />;
}
