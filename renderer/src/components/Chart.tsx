import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** One line of a chart: its name, colour and the scale (axis) it is read on. */
export interface ChartSeries {
  label: string;
  color: string;
  scale?: string;
  /** How a value of this series reads in the legend and on its axis. */
  format?: (value: number) => string;
  /** Points instead of a line, without an axis (events such as a failed run, not a measure). */
  points?: boolean;
}

/**
 * A uPlot canvas chart sized to its container. `x` are epoch seconds; each series has a value (or null)
 * per x. A sparkline has no axes, legend or cursor. The data also sits in `data-points` for tests and
 * screen readers get `label`.
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
  const shape = JSON.stringify([sparkline, height, series.map((s) => [s.label, s.color, s.scale, s.points])]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // Points mark events (a failed run) on their own scale, which needs no axis of its own.
    const scales = [...new Set(series.filter((s) => !s.points).map((s) => s.scale ?? 'y'))];
    const formatOf = (scale: string) => series.find((s) => (s.scale ?? 'y') === scale)?.format;
    const options: uPlot.Options = {
      width: Math.max(el.clientWidth, 80),
      height,
      legend: { show: !sparkline, live: false },
      cursor: sparkline ? { show: false } : { points: { size: 6 } },
      padding: sparkline ? [2, 2, 2, 2] : [12, 8, 0, 0],
      scales: {
        x: { time: true, range: (_u, min, max) => span.current ?? [min, max] },
      },
      axes: sparkline
        ? [{ show: false }, { show: false }]
        : [
            { stroke: '#566171', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e3e6eb' } },
            ...scales.map((scale, n) => ({
              scale,
              side: n === 0 ? 3 : 1,
              size: 64,
              stroke: '#566171',
              grid: { show: n === 0, stroke: '#eef0f3' },
              ticks: { stroke: '#e3e6eb' },
              values: (_u: uPlot, ticks: number[]) => ticks.map((t) => formatOf(scale)?.(t) ?? String(t)),
            })),
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
