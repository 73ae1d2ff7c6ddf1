// Floodgate console: draws the charts whose data the server put in <script type="application/json">
// blocks, with uPlot (served by the same process). No framework, no network calls.
(() => {
  const charts = [];
  window.floodgateCharts = charts;
  // Times are shown in UTC, like everything else Floodgate stores and prints.
  const tzDate = (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');
  const legendTime = (_u, v) =>
    v == null ? '--' : new Date(v * 1000).toISOString().slice(0, 16).replace('T', ' ');
  // 24-hour UTC ticks; the date under the first tick and wherever the day changes.
  const timeTicks = (_u, splits) =>
    splits.map((s, i) => {
      const iso = new Date(s * 1000).toISOString();
      const day = iso.slice(5, 10);
      const newDay = i === 0 || new Date(splits[i - 1] * 1000).toISOString().slice(5, 10) !== day;
      return newDay ? `${iso.slice(11, 16)}\n${day}` : iso.slice(11, 16);
    });
  const severityColor = { critical: '#c0262d', error: '#d9531e', warning: '#d99a1e', info: '#3b7dd8' };

  // Detections as vertical lines at the minute they fired, coloured by severity.
  const markersPlugin = (markers) => ({
    hooks: {
      draw: [
        (u) => {
          const { ctx } = u;
          const top = u.bbox.top;
          const height = u.bbox.height;
          ctx.save();
          for (const m of markers) {
            const x = Math.round(u.valToPos(m.x, 'x', true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.strokeStyle = severityColor[m.severity] || '#555';
            ctx.lineWidth = 2 * devicePixelRatio;
            ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
          }
          ctx.restore();
        },
      ],
    },
  });

  function incidentChart(el, d) {
    const markerSeries = d.x.map(() => null);
    for (const m of d.markers) {
      const i = d.x.indexOf(m.x);
      if (i >= 0) markerSeries[i] = d.messages[i];
    }
    const opts = {
      width: Math.max(320, el.clientWidth),
      tzDate,
      height: 320,
      plugins: [markersPlugin(d.markers)],
      scales: { x: { time: true }, pct: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil(max || 0))] } },
      axes: [
        { values: timeTicks },
        { label: d.stepMs >= 600000 ? 'messages / 10 min' : 'messages / min' },
        { side: 1, scale: 'pct', label: '%', grid: { show: false } },
      ],
      series: [
        { label: 'UTC', value: legendTime },
        { label: 'baseline low', stroke: 'rgba(60,130,90,0.5)', width: 1 },
        { label: 'baseline', stroke: 'rgba(60,130,90,0.9)', width: 1, dash: [6, 4] },
        { label: 'baseline high', stroke: 'rgba(60,130,90,0.5)', width: 1 },
        { label: 'messages', stroke: '#1f4e9c', fill: 'rgba(31,78,156,0.10)', width: 2 },
        { label: 'opt-outs %', stroke: '#b5367a', scale: 'pct', width: 1.5 },
        { label: 'failures %', stroke: '#d98a1e', scale: 'pct', width: 1.5 },
        {
          label: 'detections',
          stroke: '#c0262d',
          fill: '#c0262d',
          paths: () => null,
          points: { show: true, size: 9, fill: '#c0262d' },
        },
      ],
      bands: [{ series: [3, 1], fill: 'rgba(60,130,90,0.14)' }],
    };
    const series = [
      d.x,
      d.baselineLow,
      d.baselineMid,
      d.baselineHigh,
      d.messages,
      d.optOutPct,
      d.failurePct,
      markerSeries,
    ];
    return new uPlot(opts, series, el);
  }

  function overviewChart(el, d) {
    const opts = {
      width: Math.max(320, el.clientWidth),
      tzDate,
      height: 220,
      scales: { x: { time: true } },
      axes: [{ values: timeTicks }, { label: 'events / s' }],
      series: [
        { label: 'UTC', value: legendTime },
        { label: 'events/s', stroke: '#1f4e9c', fill: 'rgba(31,78,156,0.10)', width: 2 },
      ],
    };
    return new uPlot(opts, [d.x, d.perSecond], el);
  }

  for (const el of document.querySelectorAll('.chart')) {
    const source = document.getElementById(`${el.id}-data`);
    if (!source || typeof uPlot === 'undefined') continue;
    const d = JSON.parse(source.textContent);
    const chart = el.dataset.kind === 'overview' ? overviewChart(el, d) : incidentChart(el, d);
    el.dataset.rendered = String(chart.data[0].length);
    charts.push(chart);
  }
  window.addEventListener('resize', () => {
    for (const chart of charts)
      chart.setSize({ width: Math.max(320, chart.root.parentElement.clientWidth), height: chart.height });
  });
})();
